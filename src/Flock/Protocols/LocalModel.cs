using Flock.Models;
using Flock.Optimizers;
using Flock.Tensors;

namespace Flock.Protocols;

/// <summary>
/// A node's trainable state: its flat parameters, its flat optimizer state and its optimizer step
/// counter — nothing else (no gradient buffers: those are per-thread scratch). While a
/// <see cref="TrainingJob"/> runs on it the model is locked: reading <see cref="Parameters"/> or
/// <see cref="OptimizerState"/> throws, because another thread is updating them.
/// </summary>
public sealed class LocalModel
{
    private readonly float[] _parameters;
    private readonly float[] _optimizerState;
    private long _step;
    private volatile bool _training;

    /// <summary>Creates a zero model of <paramref name="parameterCount"/> parameters and <paramref name="optimizerStateLength"/> optimizer-state floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length is negative.</exception>
    public LocalModel(int parameterCount, int optimizerStateLength)
    {
        if (parameterCount < 0) throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount, "Must be ≥ 0.");
        if (optimizerStateLength < 0) throw new ArgumentOutOfRangeException(nameof(optimizerStateLength), optimizerStateLength, "Must be ≥ 0.");
        _parameters = new float[parameterCount];
        _optimizerState = optimizerStateLength == 0 ? Array.Empty<float>() : new float[optimizerStateLength];
    }

    /// <summary>Creates a model sized for <paramref name="learner"/> and <paramref name="optimizer"/>, with parameters copied from <paramref name="initialParameters"/> (zeros if empty).</summary>
    /// <exception cref="ArgumentException"><paramref name="initialParameters"/> is neither empty nor of the learner's length.</exception>
    public static LocalModel Create(ILearner learner, IOptimizer optimizer, ReadOnlySpan<float> initialParameters = default)
    {
        int p = learner.Layout.Length;
        var m = new LocalModel(p, optimizer.StateLength(p));
        if (!initialParameters.IsEmpty)
        {
            learner.Layout.Validate(initialParameters, "initial parameters");
            initialParameters.CopyTo(m._parameters);
        }
        return m;
    }

    /// <summary>
    /// The initial parameters every node of an experiment starts from:
    /// <c>learner.InitializeParameters</c> with seed <c>Rng.DeriveSeed(seed, StableHash("init"))</c>.
    /// </summary>
    public static float[] InitialParameters(ILearner learner, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(learner);
        var p = new float[learner.Layout.Length];
        learner.InitializeParameters(p, Rng.DeriveSeed(seed, Rng.StableHash("init")));
        return p;
    }

    /// <summary>Number of parameters.</summary>
    public int ParameterCount => _parameters.Length;

    /// <summary>The flat parameters (owned by the node).</summary>
    /// <exception cref="InvalidOperationException">A training job is running on this model.</exception>
    public float[] Parameters { get { ThrowIfTraining(); return _parameters; } }

    /// <summary>The flat optimizer state (owned by the node; empty for stateless optimizers).</summary>
    /// <exception cref="InvalidOperationException">A training job is running on this model.</exception>
    public float[] OptimizerState { get { ThrowIfTraining(); return _optimizerState; } }

    /// <summary>Number of optimizer steps taken so far (the next step is <c>Step + 1</c>).</summary>
    /// <exception cref="InvalidOperationException">Set while a training job is running.</exception>
    public long Step
    {
        get => _step;
        set
        {
            ThrowIfTraining();
            if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "Step counter must be ≥ 0.");
            _step = value;
        }
    }

    /// <summary>True while a training job runs on this model.</summary>
    public bool IsTraining => _training;

    /// <summary>Clears the optimizer state and the step counter (a fresh optimizer).</summary>
    /// <exception cref="InvalidOperationException">A training job is running on this model.</exception>
    public void ResetOptimizer()
    {
        ThrowIfTraining();
        Array.Clear(_optimizerState);
        _step = 0;
    }

    internal float[] RawParameters => _parameters;
    internal float[] RawOptimizerState => _optimizerState;
    internal ref long RawStep => ref _step;

    internal void SetTraining(bool training)
    {
        if (training && _training) throw new InvalidOperationException("A training job is already running on this model.");
        _training = training;
    }

    private void ThrowIfTraining()
    {
        if (_training) throw new InvalidOperationException("The model is locked by a running training job; wait for OnTrainingFinished.");
    }

    /// <summary>
    /// Writes parameters, optimizer state and step counter. Hosts checkpoint only when no job is
    /// executing (a finished job whose completion is still queued is fine), so this does not check the lock.
    /// </summary>
    public void Write(StateWriter writer)
    {
        writer.WriteFloats(_parameters);
        writer.WriteFloats(_optimizerState);
        writer.Write(_step);
    }

    /// <summary>Reads what <see cref="Write"/> wrote into this model (same sizes).</summary>
    /// <exception cref="InvalidDataException">The sizes differ.</exception>
    public void Read(StateReader reader)
    {
        reader.ReadFloatsInto(_parameters, "parameters");
        reader.ReadFloatsInto(_optimizerState, "optimizer state");
        _step = reader.ReadInt64();
        _training = false;
    }
}
