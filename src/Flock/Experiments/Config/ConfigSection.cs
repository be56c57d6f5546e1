using Tomlyn.Model;

namespace Flock.Experiments.Config;

/// <summary>
/// A table of an experiment file, read through declared <see cref="Param"/>s. Every key read is
/// remembered; after the experiment is built, <see cref="ThrowOnUnknownKeys"/> rejects every key
/// nobody read (a typo is never silently ignored), with a "did you mean" from the keys that were
/// expected there.
/// </summary>
public sealed class ConfigSection
{
    private readonly TomlTable _table;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly HashSet<string> _expected = new(StringComparer.Ordinal);
    private readonly List<ConfigSection> _all;
    private readonly TomlTable _resolved = new();
    private readonly Dictionary<string, ConfigSection> _children = new(StringComparer.Ordinal);

    /// <summary>Wraps a parsed TOML table as the root section of <paramref name="file"/>.</summary>
    public ConfigSection(TomlTable table, string file) : this(table, file, "", new List<ConfigSection>()) { }

    private ConfigSection(TomlTable table, string file, string path, List<ConfigSection> all)
    {
        _table = table;
        File = file;
        Path = path;
        _all = all;
        _all.Add(this);
    }

    /// <summary>The file the section came from (for messages).</summary>
    public string File { get; }

    /// <summary>Dotted path of the section ("" for the root, e.g. "protocol").</summary>
    public string Path { get; }

    /// <summary>The underlying table.</summary>
    public TomlTable Table => _table;

    /// <summary>Every value read so far, defaults included: what <c>config.resolved.toml</c> records.</summary>
    public TomlTable Resolved => _resolved;

    /// <summary>Records a value in <see cref="Resolved"/> (used for values read without a <see cref="Param"/>).</summary>
    public void Record(string key, object? value)
    {
        var v = ToToml(value);
        if (v is not null) _resolved[key] = v;
    }

    /// <summary>Converts a .NET value to the TOML model (int → long, arrays → TomlArray).</summary>
    public static object? ToToml(object? value) => value switch
    {
        null => null,
        int i => (long)i,
        float f => (double)f,
        ulong u => (long)u,
        string or bool or long or double or TomlTable or TomlArray or TomlTableArray => value,
        System.Collections.IEnumerable e => ToArray(e),
        _ => value.ToString(),
    };

    private static TomlArray ToArray(System.Collections.IEnumerable e)
    {
        var a = new TomlArray();
        foreach (var x in e) a.Add(ToToml(x));
        return a;
    }

    /// <summary>Full dotted key for messages.</summary>
    public string KeyPath(string key) => Path.Length == 0 ? key : Path + "." + key;

    /// <summary>Whether the key is present.</summary>
    public bool Has(string key) => _table.ContainsKey(key);

    /// <summary>Reads a parameter (its default when absent).</summary>
    /// <exception cref="ConfigException">Missing required key, wrong type or value not allowed.</exception>
    public T Get<T>(Param<T> p)
    {
        _expected.Add(p.Name);
        if (!_table.TryGetValue(p.Name, out var raw))
        {
            if (p.IsRequired)
                throw new ConfigException($"{File}: missing required key '{KeyPath(p.Name)}' ({p.TypeName}{(p.AllowedText.Length > 0 ? ", " + p.AllowedText : "")}): {p.Doc}");
            Record(p.Name, p.Default);
            return p.Default!;
        }
        _used.Add(p.Name);
        var value = p.Read(raw, KeyPath(p.Name), File);
        Record(p.Name, value);
        return value;
    }

    /// <summary>Marks keys as expected here without reading them (used for "did you mean" and by readers of raw values).</summary>
    public void Expect(params string[] keys)
    {
        foreach (var k in keys) _expected.Add(k);
    }

    /// <summary>Marks a key as read.</summary>
    public void MarkUsed(string key) { _expected.Add(key); _used.Add(key); }

    /// <summary>The sub-table <paramref name="key"/>, or an empty section when absent (unless required).</summary>
    /// <exception cref="ConfigException">The key is not a table, or is required and missing.</exception>
    public ConfigSection Section(string key, bool required = false)
    {
        _expected.Add(key);
        if (!_table.TryGetValue(key, out var raw))
        {
            if (required) throw new ConfigException($"{File}: missing required table [{KeyPath(key)}].");
            return Child(key, new TomlTable());
        }
        _used.Add(key);
        if (raw is not TomlTable t)
            throw new ConfigException($"{File}: '{KeyPath(key)}' must be a table ([{KeyPath(key)}]), not {Params.Format(raw)}.");
        return Child(key, t);
    }

    /// <summary>The array of tables <paramref name="key"/> ([[key]]), empty when absent.</summary>
    /// <exception cref="ConfigException">The key is not an array of tables.</exception>
    public IReadOnlyList<ConfigSection> TableArray(string key)
    {
        _expected.Add(key);
        if (!_table.TryGetValue(key, out var raw)) return Array.Empty<ConfigSection>();
        _used.Add(key);
        if (raw is TomlArray inline && inline.All(x => x is TomlTable))
        {
            var converted = new TomlTableArray();
            foreach (var x in inline) converted.Add((TomlTable)x!);
            raw = converted;
        }
        if (raw is TomlTableArray arr)
        {
            var resolvedArray = new TomlTableArray();
            _resolved[key] = resolvedArray;
            var list = new List<ConfigSection>();
            for (int i = 0; i < arr.Count; i++)
            {
                var c = new ConfigSection(arr[i], File, $"{KeyPath(key)}[{i}]", _all);
                resolvedArray.Add(c._resolved);
                list.Add(c);
            }
            return list;
        }
        throw new ConfigException($"{File}: '{KeyPath(key)}' must be an array of tables ([[{KeyPath(key)}]]).");
    }

    private ConfigSection Child(string key, TomlTable table)
    {
        if (_children.TryGetValue(key, out var existing)) return existing;
        var c = new ConfigSection(table, File, KeyPath(key), _all);
        _children[key] = c;
        _resolved[key] = c._resolved;
        return c;
    }

    /// <summary>Rejects every key of this file that nobody read, naming the file and the key, with a suggestion.</summary>
    /// <exception cref="ConfigException">An unknown key exists.</exception>
    public void ThrowOnUnknownKeys()
    {
        foreach (var s in _all)
            foreach (var key in s._table.Keys)
                if (!s._used.Contains(key) && !s._expected.Contains(key))
                {
                    string known = s._expected.Count > 0 ? $" Known keys here: {string.Join(", ", s._expected.Order())}." : "";
                    throw new ConfigException($"{s.File}: unknown key '{s.KeyPath(key)}'.{DidYouMean.Hint(key, s._expected)}{known}");
                }
    }
}
