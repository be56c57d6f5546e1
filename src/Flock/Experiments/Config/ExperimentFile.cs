using Tomlyn;
using Tomlyn.Model;

namespace Flock.Experiments.Config;

/// <summary>Reads an experiment TOML file and applies <c>--set key.path=value</c> overrides.</summary>
public static class ExperimentFile
{
    /// <summary>Parses TOML text into a table.</summary>
    /// <exception cref="ConfigException">The text is not valid TOML (the message has the line).</exception>
    public static TomlTable Parse(string text, string file)
    {
        try
        {
            return TomlSerializer.Deserialize<TomlTable>(text) ?? new TomlTable();
        }
        catch (TomlException ex)
        {
            throw new ConfigException($"{file}: not valid TOML: {ex.Message}", ex);
        }
    }

    /// <summary>Loads <paramref name="path"/> and applies the overrides in order.</summary>
    /// <exception cref="ConfigException">Missing file, invalid TOML or a bad override.</exception>
    public static ConfigSection Load(string path, IEnumerable<string>? overrides = null, IEnumerable<KeyValuePair<string, object>>? assignments = null)
    {
        if (!System.IO.File.Exists(path)) throw new ConfigException($"Experiment file not found: {path}");
        var table = Parse(System.IO.File.ReadAllText(path), path);
        foreach (var (k, v) in assignments ?? Array.Empty<KeyValuePair<string, object>>()) Assign(table, k, v, $"{k} (sweep)");
        foreach (var o in overrides ?? Array.Empty<string>()) ApplyOverride(table, o);
        return new ConfigSection(table, path);
    }

    /// <summary>The <c>[sweep]</c> axes of a file: dotted key → the values to try (any TOML values, tables included).</summary>
    /// <exception cref="ConfigException">A sweep entry is not a non-empty array.</exception>
    public static List<(string Key, object[] Values)> SweepAxes(string path)
    {
        if (!System.IO.File.Exists(path)) throw new ConfigException($"Experiment file not found: {path}");
        var table = Parse(System.IO.File.ReadAllText(path), path);
        var axes = new List<(string, object[])>();
        if (!table.TryGetValue("sweep", out var raw)) return axes;
        if (raw is not TomlTable sweep) throw new ConfigException($"{path}: 'sweep' must be a table of key = [values].");
        foreach (var (key, value) in sweep)
        {
            object[] values = value switch
            {
                TomlArray a => a.Select(x => x!).ToArray(),
                TomlTableArray ta => ta.Cast<object>().ToArray(),
                _ => throw new ConfigException($"{path}: 'sweep.{key}' must be an array of the values to try, e.g. [0.01, 0.1]."),
            };
            if (values.Length == 0) throw new ConfigException($"{path}: 'sweep.{key}' is empty.");
            axes.Add((key, values));
        }
        return axes;
    }

    /// <summary>Parses a value written as TOML (<c>0.1</c>, <c>[1, 2]</c>, <c>{ name = "ring" }</c>); bare words become strings.</summary>
    public static object ParseValueText(string text) => ParseValue(text);

    /// <summary>
    /// Applies one override "a.b.c=value". The value is read as a TOML value (<c>0.1</c>, <c>true</c>,
    /// <c>[1, 2]</c>, <c>"text"</c>); anything that does not parse as TOML is taken as a string.
    /// </summary>
    /// <exception cref="ConfigException">Malformed override or a path through a non-table.</exception>
    public static void ApplyOverride(TomlTable root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException($"--set '{assignment}': expected key=value, e.g. protocol.rounds=20.");
        string key = assignment[..eq].Trim();
        string valueText = assignment[(eq + 1)..].Trim();
        Assign(root, key, ParseValue(valueText), assignment);
    }

    /// <summary>Sets the dotted <paramref name="key"/> to <paramref name="value"/>, creating tables on the way.</summary>
    /// <exception cref="ConfigException">Empty segment, or a path through a non-table.</exception>
    public static void Assign(TomlTable root, string key, object value, string assignment)
    {
        if (key == ".")
        {
            if (value is not TomlTable patch) throw new ConfigException($"'{assignment}': the sweep key \".\" takes tables, merged into the whole file.");
            Merge(root, patch);
            return;
        }
        var parts = key.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new ConfigException($"--set '{assignment}': empty segment in key '{key}'.");
        var t = root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (!t.TryGetValue(parts[i], out var next))
            {
                var created = new TomlTable();
                t[parts[i]] = created;
                t = created;
            }
            else if (next is TomlTable nt) t = nt;
            else throw new ConfigException($"--set '{assignment}': '{string.Join('.', parts[..(i + 1)])}' is a value, not a table.");
        }
        t[parts[^1]] = value;
    }

    /// <summary>Deep-merges <paramref name="patch"/> into <paramref name="target"/>: tables merge, other values replace.</summary>
    public static void Merge(TomlTable target, TomlTable patch)
    {
        foreach (var (k, v) in patch)
        {
            if (v is TomlTable pt && target.TryGetValue(k, out var existing) && existing is TomlTable tt) Merge(tt, pt);
            else target[k] = v!;
        }
    }

    private static object ParseValue(string text)
    {
        try
        {
            var t = TomlSerializer.Deserialize<TomlTable>("v = " + text);
            if (t is not null && t.TryGetValue("v", out var v) && v is not null) return v;
        }
        catch (TomlException) { }
        return text;
    }
}
