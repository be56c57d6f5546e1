using System.Diagnostics;
using Flock.Tensors;

namespace Flock.Bench;

/// <summary>
/// `gemm`: single-threaded sgemm, Flock's <see cref="Gemm.Multiply"/> against OpenBLAS (numpy's
/// matmul through bench/reference/blas_worker.py, which must run on the single-threaded
/// openblas-pthread library: bench/run.sh sets that up). The two are timed in alternating rounds in
/// the same run and compared by their median seconds per call. Last line:
/// <c>flock_vs_openblas=&lt;Flock GFLOP/s ÷ OpenBLAS GFLOP/s at 512³&gt; flock_gflops=&lt;x&gt; openblas_gflops=&lt;y&gt;</c>.
/// Args: <c>--no-reference</c> (Flock only), <c>--rounds N</c>, <c>--case MxNxK[:NN|NT|TN|TT]</c> (repeatable:
/// time only these shapes; the last line then reports the first of them).
/// </summary>
internal static class GemmBench
{
    private sealed record Case(string Id, bool TransA, bool TransB, int M, int N, int K, string Note)
    {
        public double Flops => 2.0 * M * N * K;
        public override string ToString() => $"{M}×{N}×{K} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";
    }

    public static int Run(string[] args)
    {
        bool reference = !args.Contains("--no-reference");
        int rounds = 15;
        int ri = Array.IndexOf(args, "--rounds");
        if (ri >= 0 && ri + 1 < args.Length) rounds = int.Parse(args[ri + 1], System.Globalization.CultureInfo.InvariantCulture);

        var main = new Case("main", false, false, 512, 512, 512, "headline");
        var cases = new List<Case>
        {
            main,
            new("nt512", false, true, 512, 512, 512, "transB"),
            new("tn512", true, false, 512, 512, 512, "transA"),
            new("fwd", false, true, 32, 128, 784, "MLP forward x·Wᵀ"),
            new("bwdx", false, false, 32, 784, 128, "MLP input gradient dY·W"),
            new("bwdw", true, false, 128, 784, 32, "MLP weight gradient dYᵀ·X"),
            new("head", false, true, 32, 10, 128, "MLP head forward"),
            new("conv", false, true, 32 * 576, 6, 25, "batched im2col conv forward"),
            new("convw", true, false, 6, 25, 32 * 576, "batched im2col conv dW"),
            new("c1f", false, false, 6, 576, 25, "per-example conv forward W·col"),
            new("c1w", false, true, 6, 25, 576, "per-example conv dW = dY·colᵀ"),
            new("c1x", true, false, 25, 576, 6, "per-example conv dcol = Wᵀ·dY"),
        };

        var custom = new List<Case>();
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] != "--case") continue;
            var parts = args[i + 1].Split(':');
            var dims = parts[0].Split('x', '×').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            string t = parts.Length > 1 ? parts[1].ToUpperInvariant() : "NN";
            custom.Add(new Case($"c{custom.Count}", t[0] == 'T', t[1] == 'T', dims[0], dims[1], dims[2], "custom"));
        }
        if (custom.Count > 0) { cases = custom; main = custom[0]; }

        Console.WriteLine($"Flock GEMM path: {Gemm.ActivePath}; rounds: {rounds}; reference: {(reference ? "numpy/OpenBLAS, 1 thread" : "none")}");
        using var worker = reference ? BlasWorker.Start() : null;
        if (worker is not null) Console.WriteLine($"reference: {worker.Banner}");

        double mainFlock = 0, mainRef = 0;
        foreach (var cs in cases)
        {
            var rng = new Rng(7);
            var a = new float[cs.M * cs.K];
            var b = new float[cs.K * cs.N];
            var c = new float[cs.M * cs.N];
            rng.FillGaussian(a);
            rng.FillGaussian(b);
            int lda = cs.TransA ? cs.M : cs.K, ldb = cs.TransB ? cs.K : cs.N;
            void Flock() => Gemm.Multiply(cs.TransA, cs.TransB, cs.M, cs.N, cs.K, 1f, a, lda, b, ldb, 0f, c, cs.N);

            double batch = cs == main ? 0.03 : 0.01;
            for (int i = 0; i < 3; i++) Flock();
            int reps = BenchUtil.RepsFor(Flock, batch);
            worker?.Setup(cs.Id, cs.TransA, cs.TransB, cs.M, cs.N, cs.K);
            int refReps = worker is null ? 0 : Math.Max(1, (int)(batch / Math.Max(worker.Time(cs.Id, 1), 1e-9)));
            worker?.Time(cs.Id, refReps);

            var tf = new List<double>();
            var tr = new List<double>();
            int caseRounds = cs == main ? rounds : Math.Max(3, rounds / 3);
            for (int r = 0; r < caseRounds; r++)
            {
                tf.Add(BenchUtil.TimePerCall(Flock, reps));
                if (worker is not null) tr.Add(worker.Time(cs.Id, refReps));
            }
            double best = tf.Min();
            double gf = cs.Flops / BenchUtil.Median(tf) / 1e9;
            double gr = worker is null ? double.NaN : cs.Flops / BenchUtil.Median(tr) / 1e9;
            Console.WriteLine($"{cs,-22} {cs.Note,-28} flock {BenchUtil.F(gf, 1),7} GFLOP/s ({BenchUtil.F(best * 1e6, 1)} µs best)" +
                (worker is null ? "" : $"   openblas {BenchUtil.F(gr, 1),7} GFLOP/s   ratio {BenchUtil.F(gf / gr, 2)}"));
            if (cs == main) { mainFlock = gf; mainRef = gr; }
        }
        Console.WriteLine("(small shapes: the numpy timing includes about 1 µs of Python call overhead)");
        Console.WriteLine(worker is null
            ? $"flock_gflops={BenchUtil.F(mainFlock, 1)}"
            : $"flock_vs_openblas={BenchUtil.F(mainFlock / mainRef)} flock_gflops={BenchUtil.F(mainFlock, 1)} openblas_gflops={BenchUtil.F(mainRef, 1)}");
        return 0;
    }

    /// <summary>The Python reference process (bench/reference/blas_worker.py), driven line by line.</summary>
    private sealed class BlasWorker : IDisposable
    {
        private readonly Process _p;

        private BlasWorker(Process p, string banner) { _p = p; Banner = banner; }

        public string Banner { get; }

        public static BlasWorker Start()
        {
            string python = Environment.GetEnvironmentVariable("FLOCK_PYTHON") ?? "/usr/bin/python3";
            string script = Path.Combine(BenchUtil.RepoRoot(), "bench", "reference", "blas_worker.py");
            var psi = new ProcessStartInfo(python, [script])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            // Force one thread even when not started from bench/run.sh.
            psi.Environment["OPENBLAS_NUM_THREADS"] = "1";
            psi.Environment["OMP_NUM_THREADS"] = "1";
            var p = Process.Start(psi) ?? throw new InvalidOperationException($"Cannot start {python}.");
            string banner = p.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The BLAS worker exited before it was ready.");
            if (!banner.Contains("threads=1 ") || !banner.Contains("libopenblas"))
                throw new InvalidOperationException($"The reference is not single-threaded OpenBLAS: {banner}");
            return new BlasWorker(p, banner);
        }

        public void Setup(string id, bool ta, bool tb, int m, int n, int k) =>
            Ask($"setup {id} {(ta ? 1 : 0)} {(tb ? 1 : 0)} {m} {n} {k}");

        public double Time(string id, int reps) =>
            double.Parse(Ask($"time {id} {reps}"), System.Globalization.CultureInfo.InvariantCulture);

        private string Ask(string command)
        {
            _p.StandardInput.WriteLine(command);
            _p.StandardInput.Flush();
            string reply = _p.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"The BLAS worker died on '{command}'.");
            if (reply.StartsWith("error", StringComparison.Ordinal)) throw new InvalidOperationException(reply);
            return reply;
        }

        public void Dispose()
        {
            try { _p.StandardInput.WriteLine("quit"); _p.StandardInput.Flush(); _p.WaitForExit(5000); }
            catch (IOException) { }
            if (!_p.HasExited) _p.Kill();
            _p.Dispose();
        }
    }
}
