using System.Diagnostics;

namespace Flock.Bench;

/// <summary>Runs a PyTorch reference script from bench/reference with Debian's python3 and single-threaded OpenBLAS.</summary>
internal static class PythonReference
{
    /// <summary>Runs the script and returns its key=value pairs from the last output line.</summary>
    /// <exception cref="InvalidOperationException">The script failed.</exception>
    public static Dictionary<string, string> Run(string script, params string[] args)
    {
        string dir = Path.Combine(BenchUtil.RepoRoot(), "bench", "reference");
        var psi = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/openblas-pthread";
        psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
        psi.Environment["OMP_NUM_THREADS"] = "1";
        psi.Environment["MKL_NUM_THREADS"] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Cannot start /usr/bin/python3.");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode}):\n{stderr.Result}");
        var last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return last.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    }
}
