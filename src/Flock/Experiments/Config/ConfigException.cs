namespace Flock.Experiments.Config;

/// <summary>
/// A problem with an experiment file or a command-line override: names the file, the key, the bad
/// value and what is allowed. The CLI prints its message (no stack trace) and exits with code 2.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates a configuration error.</summary>
    public ConfigException(string message) : base(message) { }

    /// <summary>Creates a configuration error wrapping a cause.</summary>
    public ConfigException(string message, Exception inner) : base(message, inner) { }
}
