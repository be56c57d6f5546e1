namespace Flock.Runtime.Simulation;

/// <summary>
/// Message transport: a message of s bytes arrives <c>latency + s / bandwidth</c> seconds after it
/// is sent, unless it is dropped (probability <see cref="DropProbability"/>, drawn per message from
/// <c>Rng.Derive(seed, sender, sender's message counter, "drop")</c>). Links are independent: there
/// is no queueing or congestion between messages.
/// </summary>
public sealed class LinkModel
{
    /// <summary>Instant, lossless links.</summary>
    public static LinkModel Ideal { get; } = new();

    /// <summary>Creates a link model.</summary>
    /// <param name="latencySeconds">One-way latency (≥ 0).</param>
    /// <param name="bandwidthBytesPerSecond">Bandwidth (&gt; 0; infinity for none).</param>
    /// <param name="dropProbability">Probability that a message is lost (in [0, 1]).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public LinkModel(double latencySeconds = 0, double bandwidthBytesPerSecond = double.PositiveInfinity, double dropProbability = 0)
    {
        if (!(latencySeconds >= 0) || !double.IsFinite(latencySeconds))
            throw new ArgumentOutOfRangeException(nameof(latencySeconds), latencySeconds, $"Invalid latency: {latencySeconds} s; must be finite and ≥ 0.");
        if (!(bandwidthBytesPerSecond > 0))
            throw new ArgumentOutOfRangeException(nameof(bandwidthBytesPerSecond), bandwidthBytesPerSecond, $"Invalid bandwidth: {bandwidthBytesPerSecond} B/s; must be > 0 (infinity for unlimited).");
        if (!(dropProbability >= 0 && dropProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropProbability), dropProbability, $"Invalid drop probability: {dropProbability}; must be in [0, 1].");
        LatencySeconds = latencySeconds;
        BandwidthBytesPerSecond = bandwidthBytesPerSecond;
        DropProbability = dropProbability;
    }

    /// <summary>One-way latency in seconds.</summary>
    public double LatencySeconds { get; }

    /// <summary>Bandwidth in bytes per second.</summary>
    public double BandwidthBytesPerSecond { get; }

    /// <summary>Probability that a message is dropped.</summary>
    public double DropProbability { get; }

    /// <summary>Seconds between sending and receiving a message of <paramref name="sizeBytes"/> bytes.</summary>
    public double TransferSeconds(long sizeBytes) => LatencySeconds + sizeBytes / BandwidthBytesPerSecond;
}
