namespace Flock.Experiments.Results;

/// <summary>Creates result folders without ever overwriting an earlier run.</summary>
public static class RunDirectory
{
    /// <summary>
    /// Creates <c>{root}/{name}/{yyyyMMdd-HHmmss}</c> (a suffix <c>-2</c>, <c>-3</c>… if that exists), or
    /// <paramref name="explicitDir"/> when given, which must not exist or be empty.
    /// </summary>
    /// <exception cref="IOException">The explicit folder already holds files.</exception>
    public static string Create(string root, string name, string? explicitDir, DateTime now)
    {
        if (explicitDir is not null)
        {
            if (Directory.Exists(explicitDir) && Directory.EnumerateFileSystemEntries(explicitDir).Any())
                throw new IOException($"Output folder {explicitDir} already holds files; Flock never overwrites a run. Choose another --out, or resume it with --resume {explicitDir}.");
            Directory.CreateDirectory(explicitDir);
            return explicitDir;
        }
        string baseDir = Path.Combine(root, Sanitize(name), now.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
        string dir = baseDir;
        for (int i = 2; Directory.Exists(dir); i++) dir = $"{baseDir}-{i}";
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Sanitize(string name)
    {
        var bad = Path.GetInvalidFileNameChars();
        var s = new string(name.Select(c => bad.Contains(c) || c == ' ' ? '_' : c).ToArray());
        return s.Length == 0 ? "run" : s;
    }
}
