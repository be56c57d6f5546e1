using Flock.Tensors;

namespace Flock.Models.Engine;

/// <summary>
/// Per-thread activation memory for running a <see cref="Network"/>: the gathered input batch,
/// labels/targets, outputs, output gradient and every layer's scratch. Reused across nodes and
/// steps; grows when a larger batch arrives, never shrinks. Not thread-safe: one per thread.
/// </summary>
public sealed class Workspace
{
    private int _capacity;
    private Network? _network;
    private int _scratchBatch = -1;
    private int _scratchLength;

    /// <summary>Gathered inputs (capacity × input size).</summary>
    public float[] Input { get; private set; } = Array.Empty<float>();

    /// <summary>Gathered class labels.</summary>
    public int[] Labels { get; private set; } = Array.Empty<int>();

    /// <summary>Gathered regression targets.</summary>
    public float[] Targets { get; private set; } = Array.Empty<float>();

    /// <summary>Network outputs.</summary>
    public float[] Output { get; private set; } = Array.Empty<float>();

    /// <summary>dLoss/dOutput, written by the loss.</summary>
    public float[] OutputGradient { get; private set; } = Array.Empty<float>();

    /// <summary>Scratch for the root layer.</summary>
    public float[] Scratch { get; private set; } = Array.Empty<float>();

    /// <summary>Example-order positions buffer (for batch index lists).</summary>
    public int[] Positions { get; private set; } = Array.Empty<int>();

    /// <summary>This thread's generator for passes that were given no random source (reset before each use).</summary>
    public Rng FixedRandom { get; } = new(0);

    /// <summary>Flags and random source of the current pass.</summary>
    public LayerContext Context { get; } = new();

    /// <summary>Makes sure buffers fit <paramref name="batch"/> examples of <paramref name="network"/>.</summary>
    public void EnsureFor(Network network, int batch, int targetDim = 0)
    {
        if (batch <= 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "Batch size must be positive.");
        if (!ReferenceEquals(network, _network) || batch > _capacity || Targets.Length < batch * targetDim)
        {
            if (!ReferenceEquals(network, _network)) _capacity = 0;
            _network = network;
            int cap = Math.Max(batch, _capacity);
            Input = Grow(Input, cap * network.InputShape.Size);
            Output = Grow(Output, cap * network.OutputShape.Size);
            OutputGradient = Grow(OutputGradient, cap * network.OutputShape.Size);
            Labels = Labels.Length >= cap ? Labels : new int[cap];
            Positions = Positions.Length >= cap ? Positions : new int[cap];
            Targets = Grow(Targets, cap * Math.Max(targetDim, 1));
            _capacity = cap;
            _scratchBatch = -1;
        }
    }

    /// <summary>The root scratch for a given batch size.</summary>
    public Span<float> ScratchFor(int batch)
    {
        if (_network is null) throw new InvalidOperationException("Workspace not prepared; call EnsureFor first.");
        if (batch != _scratchBatch)
        {
            _scratchLength = _network.Root.ScratchLength(batch);
            Scratch = Grow(Scratch, _scratchLength);
            _scratchBatch = batch;
        }
        return Scratch.AsSpan(0, _scratchLength);
    }

    private static float[] Grow(float[] a, int n) => a.Length >= n ? a : new float[n];
}
