namespace Flock.Compression;

/// <summary>Whose randomness a sketch matrix is drawn from in a round.</summary>
public enum SketchSeedScope
{
    /// <summary>A fresh matrix per node and round: seed derived from (seed, node, round).</summary>
    PerNode = 0,

    /// <summary>
    /// One matrix per round shared by all nodes: seed derived from (seed, round), so sketches of
    /// different nodes can be summed before de-sketching (R is linear).
    /// </summary>
    Shared = 1,
}
