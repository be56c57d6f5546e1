namespace Flock.Topology;

/// <summary>
/// Builds a graph for a given number of nodes. Generators are immutable (their parameters are
/// validated in the constructor) and deterministic: the same node count and seed always give the
/// same graph, whatever the machine. Every built-in generator returns a connected graph or throws.
/// </summary>
public interface ITopologyGenerator
{
    /// <summary>Registered name (e.g. <c>"ring"</c>, <c>"erdos-renyi"</c>).</summary>
    string Name { get; }

    /// <summary>True when the graph depends on the seed (so resampling it every round makes sense).</summary>
    bool IsRandom { get; }

    /// <summary>
    /// Builds the graph on <paramref name="nodeCount"/> nodes. Random generators draw from
    /// <c>new Rng(seed)</c>; derive the seed with <see cref="Flock.Tensors.Rng.DeriveSeed"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The node count is impossible for this generator's parameters.</exception>
    /// <exception cref="InvalidOperationException">A random generator could not produce a connected graph within its attempt budget.</exception>
    Graph Generate(int nodeCount, ulong seed);
}
