namespace Flock.Protocols;

/// <summary>Identifies a fired timer: the id returned by <see cref="INodeContext.SetTimer"/>, and the name and value given there.</summary>
/// <param name="Id">The timer's id (unique per run).</param>
/// <param name="Name">The protocol-defined name (e.g. <c>"round-timeout"</c>).</param>
/// <param name="Value">A protocol-defined value (e.g. the round the timeout belongs to).</param>
public readonly record struct TimerTag(long Id, string Name, long Value);
