using Flock.Tensors;

namespace Flock.Optimizers;

/// <summary>
/// A local optimizer as a pure kernel over flat vectors. It keeps no per-node state of its own:
/// the node owns the parameters and a flat optimizer-state vector (<see cref="StateLength"/>
/// floats, zero-initialized), and passes its 1-based step counter. One optimizer instance (its
/// hyper-parameters and, for per-tensor methods, the layout) serves every node and thread.
/// </summary>
/// <remarks>
/// <para>
/// <b>Shape of an implementation.</b> The math lives in a public static, allocation-free SIMD
/// kernel over spans (e.g. <see cref="Adam.Update"/>), like PyTorch's functional optimizers; the
/// class is a thin shell that validates its hyper-parameters once, slices the flat state vector
/// and calls the kernel. Every class also has a static <c>Describe()</c> returning an
/// <see cref="OptimizerInfo"/> (registry name, paper, hyper-parameters with defaults and docs)
/// for <c>flock list</c>, and exposes its current values in <see cref="HyperParameters"/>.
/// </para>
/// <para>
/// <b>Rounding.</b> The kernels perform PyTorch's CPU operations in PyTorch's order, with fused
/// multiply-adds exactly where PyTorch's kernels use them (add-with-alpha, <c>addcmul</c>), so the
/// same float32 hyper-parameters give bit-identical trajectories to PyTorch 1.13 for SGD, momentum,
/// Adam and AdamW (see tests/Flock.Tests/Optimizers/GoldenTrajectoryTests.cs). PyTorch computes
/// <c>1 − β</c> and <c>βᵗ</c> from double hyper-parameters; Flock stores floats, so decimal values
/// such as β1 = 0.9 differ from PyTorch by a few ulps per step.
/// </para>
/// <para>
/// <b>Step counter and fresh state.</b> Step 1 means "the state is all zeros": optimizers whose
/// first step differs (momentum's <c>buf = g</c>, Adam's bias correction) rely on it. A node that
/// resets its optimizer state must also reset its step counter.
/// </para>
/// <para>
/// <b>Learning-rate schedules.</b> <see cref="LearningRate"/> is the base rate. A schedule
/// (<see cref="Schedules.ILearningRateSchedule"/>) computes the effective rate for a round and the
/// caller passes it to <see cref="Step(Span{float}, Span{float}, Span{float}, long, float)"/>;
/// nothing is allocated. Decoupled weight decay (AdamW) uses the effective rate, as in PyTorch.
/// </para>
/// <para>
/// <b>Per-tensor optimizers</b> (SGD-SaI's per-tensor scale, blockwise FRUGAL, layer-wise trust
/// ratios) take the model's <see cref="ParameterLayout"/> as a constructor argument; the registry
/// always has the learner's layout when it builds an optimizer, so an optimizer factory has the
/// shape <c>(hyper-parameters, layout) → IOptimizer</c> and element-wise optimizers ignore the
/// layout. <see cref="StateLength"/> checks that the parameter count matches the layout, and
/// per-tensor state (e.g. SGD-SaI's frozen scales, FRUGAL's current block mask) lives in the same
/// flat state vector after the element-wise part, so the node still owns all state. Randomized
/// choices (FRUGAL's subspace) are derived with <see cref="Rng.Derive"/> from a seed
/// hyper-parameter and the step counter, never drawn from a shared generator.
/// </para>
/// <para>
/// <b>Methods that need extra gradient evaluations</b> (SAM and its federated variants FedSpeed,
/// DFedSAM; also any line search) do not fit <c>Step</c>, which only sees one gradient. The plan is
/// a separate interface, <c>IGradientEvaluatingOptimizer : IOptimizer</c>, with
/// <c>Step(parameters, gradient, state, step, learningRate, IGradientOracle oracle)</c>, where
/// <c>IGradientOracle.Evaluate(ReadOnlySpan&lt;float&gt; at, Span&lt;float&gt; gradient)</c>
/// recomputes the loss and gradient on the <i>same</i> mini-batch at another point (the training
/// loop implements it over its learner, batch and workspace, as a reusable object so nothing is
/// allocated per step). The perturbed point is built in a scratch slice of the optimizer's state
/// (counted in <see cref="StateLength"/>), and SAM wraps a base <see cref="IOptimizer"/> for the
/// actual update. Training loops test for that interface; the plain <c>Step</c> of such an
/// optimizer throws <see cref="InvalidOperationException"/> rather than silently degrading.
/// </para>
/// </remarks>
public interface IOptimizer
{
    /// <summary>Name in the registry (e.g. "sgd", "adam").</summary>
    string Name { get; }

    /// <summary>The base learning rate η (the rate used by the <c>Step</c> overload without one).</summary>
    float LearningRate { get; }

    /// <summary>The hyper-parameters of this instance: name, current value, default, documentation.</summary>
    IReadOnlyList<HyperParameter> HyperParameters { get; }

    /// <summary>Floats of state per node for a model of <paramref name="parameterCount"/> parameters (0 for plain SGD).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parameterCount"/> is negative (or, for per-tensor optimizers, differs from the layout).</exception>
    int StateLength(int parameterCount);

    /// <summary>
    /// Applies step <paramref name="step"/> (1-based) with the base <see cref="LearningRate"/> to
    /// <paramref name="parameters"/> using <paramref name="gradient"/>, updating
    /// <paramref name="state"/>. The gradient buffer may be modified (clipping is applied in place).
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree with each other or with <see cref="StateLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1.</exception>
    void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step);

    /// <summary>
    /// As <see cref="Step(Span{float}, Span{float}, Span{float}, long)"/> but with the effective
    /// learning rate <paramref name="learningRate"/> of this step (e.g. from a schedule) instead
    /// of the base rate. Allocation-free.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree with each other or with <see cref="StateLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1, or <paramref name="learningRate"/> is negative or not finite.</exception>
    void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step, float learningRate);
}
