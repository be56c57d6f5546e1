using System.Globalization;

namespace Flock.Experiments.Config;

/// <summary>
/// A documented configuration parameter of a component: name, type, default, allowed range and a
/// one-line description. Declared once; the component's factory reads it with
/// <see cref="ConfigSection.Get{T}(Param{T})"/> and <c>flock list</c> prints it.
/// </summary>
public abstract class Param
{
    private protected Param(string name, string doc, bool required)
    {
        Name = name;
        Doc = doc;
        IsRequired = required;
    }

    /// <summary>Key in the TOML section.</summary>
    public string Name { get; }

    /// <summary>One-line description.</summary>
    public string Doc { get; }

    /// <summary>True when the key must be given (no default).</summary>
    public bool IsRequired { get; }

    /// <summary>TOML type as shown to users ("integer", "float", "string", "boolean", "integer array", ...).</summary>
    public abstract string TypeName { get; }

    /// <summary>The default as TOML text ("(required)" when required).</summary>
    public abstract string DefaultText { get; }

    /// <summary>What values are allowed, in words (e.g. "> 0", "one of: a, b").</summary>
    public abstract string AllowedText { get; }

    internal abstract object? ReadBoxed(object raw, string where, string file);
}

/// <summary>A typed parameter; build with the factory methods of <see cref="Params"/>.</summary>
/// <typeparam name="T">int, double, string, bool, int[], double[] or string[].</typeparam>
public sealed class Param<T> : Param
{
    private readonly Func<object, object?> _convert;
    private readonly Func<T, bool> _isValid;

    internal Param(string name, T? defaultValue, string doc, bool required, string typeName, string allowed,
        Func<object, object?> convert, Func<T, bool> isValid) : base(name, doc, required)
    {
        Default = defaultValue;
        TypeName = typeName;
        AllowedText = allowed;
        _convert = convert;
        _isValid = isValid;
    }

    /// <summary>Default value (meaningless when required).</summary>
    public T? Default { get; }

    /// <inheritdoc />
    public override string TypeName { get; }

    /// <inheritdoc />
    public override string AllowedText { get; }

    /// <inheritdoc />
    public override string DefaultText => IsRequired ? "(required)" : Params.Format(Default);

    /// <summary>Converts and validates a raw TOML value; throws <see cref="ConfigException"/> naming the key.</summary>
    /// <exception cref="ConfigException">Wrong type or not allowed.</exception>
    public T Read(object raw, string where, string file)
    {
        object? boxed = _convert(raw);
        if (boxed is not T v)
            throw new ConfigException($"{file}: '{where}' = {Params.Format(raw)} has the wrong type: expected {TypeName}" + (AllowedText.Length > 0 ? $" ({AllowedText})." : "."));
        if (!_isValid(v))
            throw new ConfigException($"{file}: '{where}' = {Params.Format(v)} is not allowed: must be {AllowedText}.");
        return v;
    }

    internal override object? ReadBoxed(object raw, string where, string file) => Read(raw, where, file);

    /// <summary>Checks a value given in code (not from a file) against the same rule.</summary>
    public bool IsValid(T value) => _isValid(value);
}

/// <summary>Factory methods for <see cref="Param{T}"/>.</summary>
public static class Params
{
    /// <summary>An integer parameter in [min, max].</summary>
    public static Param<int> Int(string name, int? defaultValue, string doc, int min = int.MinValue, int max = int.MaxValue) =>
        new(name, defaultValue ?? 0, doc, defaultValue is null, "integer", RangeText(min, max),
            raw => raw is long l && l >= int.MinValue && l <= int.MaxValue ? (object)(int)l : null, v => v >= min && v <= max);

    /// <summary>A long integer parameter in [min, max].</summary>
    public static Param<long> Long(string name, long? defaultValue, string doc, long min = long.MinValue, long max = long.MaxValue) =>
        new(name, defaultValue ?? 0, doc, defaultValue is null, "integer", RangeText(min, max),
            raw => raw is long l ? (object)l : null, v => v >= min && v <= max);

    /// <summary>A float parameter in a range (inclusive unless told otherwise). Integers are accepted.</summary>
    public static Param<double> Double(string name, double? defaultValue, string doc, double min = double.NegativeInfinity, double max = double.PositiveInfinity,
        bool minExclusive = false, bool maxExclusive = false) =>
        new(name, defaultValue ?? 0, doc, defaultValue is null, "float", RangeText(min, max, minExclusive, maxExclusive),
            raw => raw switch { double d => (object)d, long l => (double)l, _ => null },
            v => !double.IsNaN(v) && (minExclusive ? v > min : v >= min) && (maxExclusive ? v < max : v <= max));

    /// <summary>A string parameter, optionally restricted to a set of values.</summary>
    public static Param<string> String(string name, string? defaultValue, string doc, params string[] allowed) =>
        new(name, defaultValue, doc, defaultValue is null, "string", allowed.Length > 0 ? "one of: " + string.Join(", ", allowed) : "",
            raw => raw as string, v => allowed.Length == 0 || allowed.Contains(v));

    /// <summary>A boolean parameter.</summary>
    public static Param<bool> Bool(string name, bool defaultValue, string doc) =>
        new(name, defaultValue, doc, false, "boolean", "true or false", raw => raw is bool b ? (object)b : null, _ => true);

    /// <summary>An integer array parameter whose elements lie in [min, max].</summary>
    public static Param<int[]> IntArray(string name, int[]? defaultValue, string doc, int min = int.MinValue, int max = int.MaxValue, bool allowEmpty = true) =>
        new(name, defaultValue, doc, defaultValue is null, "integer array", "elements " + RangeText(min, max) + (allowEmpty ? "" : ", not empty"),
            raw => raw is IEnumerable<object?> e && e.All(x => x is long l && l >= int.MinValue && l <= int.MaxValue) ? e.Select(x => (int)(long)x!).ToArray() : null,
            v => (allowEmpty || v.Length > 0) && v.All(x => x >= min && x <= max));

    /// <summary>A float array parameter whose elements lie in [min, max].</summary>
    public static Param<double[]> DoubleArray(string name, double[]? defaultValue, string doc, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        new(name, defaultValue, doc, defaultValue is null, "float array", "elements " + RangeText(min, max),
            raw => raw is IEnumerable<object?> e && e.All(x => x is double or long) ? e.Select(x => x is long l ? l : (double)x!).ToArray() : null,
            v => v.All(x => x >= min && x <= max));

    /// <summary>A string array parameter.</summary>
    public static Param<string[]> StringArray(string name, string[]? defaultValue, string doc) =>
        new(name, defaultValue, doc, defaultValue is null, "string array", "",
            raw => raw is IEnumerable<object?> e && raw is not string && e.All(x => x is string) ? e.Select(x => (string)x!).ToArray() : null, _ => true);

    private static string RangeText(double min, double max, bool minEx = false, bool maxEx = false)
    {
        bool lo = !double.IsNegativeInfinity(min) && min != int.MinValue && min != long.MinValue;
        bool hi = !double.IsPositiveInfinity(max) && max != int.MaxValue && max != long.MaxValue;
        string l = (minEx ? "> " : "≥ ") + Format(min), h = (maxEx ? "< " : "≤ ") + Format(max);
        return lo && hi ? $"{l} and {h}" : lo ? l : hi ? h : "any value";
    }

    /// <summary>Formats a value as TOML-like text for messages and listings.</summary>
    public static string Format(object? v) => v switch
    {
        null => "(none)",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        _ => v.ToString() ?? "",
    };
}
