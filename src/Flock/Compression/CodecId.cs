namespace Flock.Compression;

/// <summary>
/// The first byte of every compressed payload: which codec wrote it. Each compressor has its own
/// id, so a payload handed to the wrong decoder is rejected instead of being misread; the three
/// sparsifiers (<see cref="TopK"/>, <see cref="RandomK"/>, <see cref="DeepGradientCompression"/>)
/// share one body format under different ids. Values are part of the wire format: never renumber.
/// </summary>
public enum CodecId : byte
{
    /// <summary>Dense float32 vector (<see cref="Identity"/>).</summary>
    Identity = 1,

    /// <summary>Top-k sparsification (<see cref="TopK"/>).</summary>
    TopK = 2,

    /// <summary>Random-k sparsification (<see cref="RandomK"/>).</summary>
    RandomK = 3,

    /// <summary>Deep Gradient Compression (<see cref="DeepGradientCompression"/>).</summary>
    Dgc = 4,

    /// <summary>QSGD stochastic quantization (<see cref="Qsgd"/>).</summary>
    Qsgd = 5,

    /// <summary>Scaled sign, signSGD (<see cref="ScaledSign"/>).</summary>
    ScaledSign = 6,

    /// <summary>Randomized Quantization Mechanism (<see cref="RandomizedQuantization"/>).</summary>
    Rqm = 7,

    /// <summary>Count sketch (<see cref="CountSketch"/>).</summary>
    CountSketch = 8,

    /// <summary>Subsampled randomized Hadamard transform (<see cref="Srht"/>).</summary>
    Srht = 9,

    /// <summary>Block-diagonal subsampled randomized Hadamard transform (<see cref="Srht"/> with several blocks).</summary>
    SrhtBlocked = 10,

    /// <summary>Count sketch hashed block by block (<see cref="CountSketch"/> with several blocks).</summary>
    CountSketchBlocked = 11,
}
