namespace Flock.Data;

/// <summary>
/// A data file or directory is missing, unreadable or malformed. The message is complete and meant
/// for users (which file, what is wrong, at which byte offset, expected versus actual, and for a
/// missing dataset which package to install), so a command-line tool can print it without a stack trace.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public DataFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a user-facing message and the underlying cause.</summary>
    public DataFormatException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The file the problem is in, when there is one.</summary>
    public string? FilePath { get; init; }

    /// <summary>The byte offset of the problem (in the decompressed stream for gzipped files), or -1.</summary>
    public long ByteOffset { get; init; } = -1;
}
