namespace Flock.Runtime.Simulation;

/// <summary>What happens to a node at a scheduled time.</summary>
public enum NodeFaultKind
{
    /// <summary>The node crashes: its timers are cancelled, messages to it are lost, its running job's callback is lost.</summary>
    Crash,

    /// <summary>A crashed node comes back with its last state (<c>OnRecover</c>).</summary>
    Recover,

    /// <summary>The node leaves for good.</summary>
    Leave,

    /// <summary>The node joins late: it is absent until then and starts (<c>OnStart</c>) at this time.</summary>
    Join,
}

/// <summary>A scheduled node event.</summary>
/// <param name="Time">Virtual time in seconds.</param>
/// <param name="Node">The node.</param>
/// <param name="Kind">What happens.</param>
public readonly record struct NodeFault(double Time, int Node, NodeFaultKind Kind);

/// <summary>The link between two nodes is down (both directions) for messages sent in [<paramref name="From"/>, <paramref name="Until"/>).</summary>
/// <param name="NodeA">One end.</param>
/// <param name="NodeB">The other end.</param>
/// <param name="From">Start of the outage (virtual seconds).</param>
/// <param name="Until">End of the outage (exclusive; infinity for permanent).</param>
public readonly record struct LinkFailure(int NodeA, int NodeB, double From, double Until);

/// <summary>
/// Random crashes: each listed node (all if null) crashes after exponential(<see cref="RatePerSecond"/>)
/// up-times and stays down for exponential downtimes of mean <see cref="MeanDowntimeSeconds"/>; the
/// k-th crash and downtime of node i are drawn from <c>Rng.Derive(seed, i, k, "crash" / "downtime")</c>.
/// </summary>
/// <param name="RatePerSecond">Crash rate per node per virtual second (&gt; 0).</param>
/// <param name="MeanDowntimeSeconds">Mean downtime (&gt; 0).</param>
/// <param name="Nodes">The nodes that may crash (null: all).</param>
public sealed record RandomCrashes(double RatePerSecond, double MeanDowntimeSeconds, IReadOnlyList<int>? Nodes = null);

/// <summary>Failures as scenario inputs: scheduled node events, link outages and random crashes.</summary>
public sealed class FaultSchedule
{
    /// <summary>No failures.</summary>
    public static FaultSchedule None { get; } = new();

    /// <summary>Scheduled crashes, recoveries, departures and late joins (at most one join per node).</summary>
    public IReadOnlyList<NodeFault> NodeFaults { get; init; } = Array.Empty<NodeFault>();

    /// <summary>Link outages.</summary>
    public IReadOnlyList<LinkFailure> LinkFailures { get; init; } = Array.Empty<LinkFailure>();

    /// <summary>Random crashes, or null.</summary>
    public RandomCrashes? RandomCrashes { get; init; }
}
