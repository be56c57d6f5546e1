using Flock.Tensors;

namespace Flock.Optimizers;

/// <summary>
/// A local optimizer as a pure kernel over flat vectors. It keeps no per-node state of its own:
/// the node owns the parameters and a flat optimizer-state vector (<see cref="StateLength"/>
/// floats, zero-initialized), and passes its 1-based step counter. One optimizer instance (its
/// hyper-parameters and the layout) serves every node and thread.
/// </summary>
public interface IOptimizer
{
    /// <summary>Name in the registry (e.g. "sgd", "adam").</summary>
    string Name { get; }

    /// <summary>Floats of state per node for a model of <paramref name="parameterCount"/> parameters (0 for plain SGD).</summary>
    int StateLength(int parameterCount);

    /// <summary>
    /// Applies step <paramref name="step"/> (1-based) to <paramref name="parameters"/> using
    /// <paramref name="gradient"/>, updating <paramref name="state"/>. The gradient buffer may be
    /// modified (clipping, weight decay are applied in place).
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree with <see cref="StateLength"/>.</exception>
    void Step(Span<float> parameters, Span<float> gradient, Span<float> state, long step);
}
