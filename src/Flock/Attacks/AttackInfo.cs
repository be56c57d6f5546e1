namespace Flock.Attacks;

/// <summary>One parameter of an attack, for listing and logging.</summary>
/// <param name="Name">Key as written in experiment files (snake_case, e.g. <c>"noise_scale"</c>).</param>
/// <param name="Value">The value in this instance (a number, bool, string, or null for "automatic").</param>
/// <param name="Default">The default value (null for "automatic", explained in the description).</param>
/// <param name="Description">What it does and which values are allowed.</param>
public sealed record AttackParameter(string Name, object? Value, object? Default, string Description)
{
    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"{Name} = {Value ?? "auto"} (default {Default ?? "auto"}): {Description}");
}

/// <summary>What kind of behaviour an attack changes.</summary>
public enum AttackKind
{
    /// <summary>Replaces the vector the node sends (<see cref="IModelAttack"/>).</summary>
    Model,

    /// <summary>Changes the data the node trains on (<see cref="IDataPoisoning"/>).</summary>
    Data,

    /// <summary>One adversary behind several identities (<see cref="Sybil"/>).</summary>
    Sybil,
}

/// <summary>A registry-friendly description of an attack: name, kind, paper, one line, parameters with defaults.</summary>
/// <param name="Name">Registry name (e.g. <c>"alie"</c>).</param>
/// <param name="Kind">What the attack changes.</param>
/// <param name="Paper">The paper the attack comes from (title, authors, year).</param>
/// <param name="Description">One line on what it does.</param>
/// <param name="Parameters">Its parameters, with <see cref="AttackParameter.Value"/> equal to the default.</param>
public sealed record AttackInfo(string Name, AttackKind Kind, string Paper, string Description, IReadOnlyList<AttackParameter> Parameters);
