namespace Flock.Optimizers;

/// <summary>One hyper-parameter of a component, for listing and logging.</summary>
/// <param name="Name">Key as written in experiment files (snake_case, e.g. <c>"weight_decay"</c>).</param>
/// <param name="Value">The value in this instance (a <see cref="float"/>, <see cref="int"/>, <see cref="long"/> or <see cref="bool"/>).</param>
/// <param name="Default">The default value.</param>
/// <param name="Description">What it does and which values are allowed.</param>
public sealed record HyperParameter(string Name, object Value, object Default, string Description)
{
    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"{Name} = {Value} (default {Default}): {Description}");
}

/// <summary>A registry-friendly description of an optimizer (or schedule): name, paper and hyper-parameters with their defaults.</summary>
/// <param name="Name">Registry name (e.g. <c>"adam"</c>).</param>
/// <param name="Paper">The paper the method comes from (title, authors, year).</param>
/// <param name="HyperParameters">The hyper-parameters, with <see cref="HyperParameter.Value"/> equal to the default.</param>
public sealed record OptimizerInfo(string Name, string Paper, IReadOnlyList<HyperParameter> HyperParameters);
