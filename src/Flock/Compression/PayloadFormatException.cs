namespace Flock.Compression;

/// <summary>
/// A compressed payload is malformed, truncated, written by another codec or inconsistent with
/// the receiver (wrong dimension). The message names the codec, the field, and the expected
/// versus the actual value. A decoder that throws it has not written anything into its output.
/// </summary>
public sealed class PayloadFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="codec">The codec whose decoder rejected the payload (e.g. <c>"top-k"</c>).</param>
    /// <param name="field">The payload field that is wrong (e.g. <c>"count"</c>, <c>"index 3"</c>).</param>
    /// <param name="problem">What is wrong, with the expected and the actual value.</param>
    public PayloadFormatException(string codec, string field, string problem)
        : base($"Invalid {codec} payload, field '{field}': {problem}")
    {
        Codec = codec;
        Field = field;
    }

    /// <summary>The codec whose decoder rejected the payload.</summary>
    public string Codec { get; }

    /// <summary>The payload field that is wrong.</summary>
    public string Field { get; }
}
