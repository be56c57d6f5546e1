using System.Diagnostics;
using Flock.Aggregation;
using Flock.Data;
using Flock.Models.Zoo;
using Flock.Optimizers;
using Flock.Protocols;
using Flock.Runtime.Simulation;
using Flock.Tensors;
using Xunit.Abstractions;
using static Flock.Tests.Runtime.SimTestSupport;

namespace Flock.Tests.Runtime;

/// <summary>A fact that runs only when the environment variable FLOCK_BENCH is 1 (benchmarks are not part of the suite).</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    /// <summary>Skips unless FLOCK_BENCH=1.</summary>
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FLOCK_BENCH") != "1") Skip = "Benchmark: set FLOCK_BENCH=1 to run.";
    }
}

public class SimulatorBenchmark(ITestOutputHelper output)
{
    /// <summary>
    /// 100 MLP 784-128-10 nodes, D-SGD on a ring with 4 neighbours, 10 local steps of batch 32 per
    /// round. Each simulated round is paired with the same work done by bare kernels (the training
    /// jobs in a Parallel.For, then the same mixing), interleaved so machine load affects both alike.
    /// </summary>
    [BenchFact]
    public void Dsgd_round_of_100_mlp_nodes()
    {
        const int n = 100, k = 10, b = 32, perNode = 64, rounds = 5;
        var learner = Mlp.CreateClassifier(new TensorShape(784), new[] { 128 }, 10);
        var rng = new Rng(1);
        var x = new float[n * perNode * 784];
        rng.FillUniform(x, 0, 1);
        var y = Enumerable.Range(0, n * perNode).Select(i => i % 10).ToArray();
        var all = Dataset.Classification("synthetic", x, new TensorShape(784), y, 10);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range(i * perNode, perNode).ToArray())).ToArray();
        var (nb, w, self) = Ring(n, 2);
        var sgd = new Sgd(0.01f);

        var nodes = DSgd.CreateNodes(learner, sgd, data, nb, w, self, new DSgdOptions { LocalSteps = k, BatchSize = b }, 1);
        var sim = new Simulator(nodes, new SimulationOptions
        {
            Link = new LinkModel(0.01, 1.25e8),
            Compute = new ComputeModel(0.01),
            Metrics = new MetricsOptions { EveryRounds = 0 },
        });
        CancellationTokenSource? cts = null;
        sim.Progress += _ => cts!.Cancel();
        void SimRound()
        {
            cts = new CancellationTokenSource();
            sim.Run(cts.Token);
        }

        var models = Enumerable.Range(0, n).Select(_ => LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1))).ToArray();
        var mix = new float[learner.Layout.Length];
        void BareRound(int r)
        {
            Parallel.For(0, n, i =>
            {
                var job = new TrainingJob(models[i], learner, sgd, data[i], k, b, r);
                job.Begin();
                job.Execute(1, i);
                job.End();
            });
            var snaps = models.Select(m => (ReadOnlyMemory<float>)m.Parameters.ToArray()).ToArray();
            for (int i = 0; i < n; i++)
            {
                var inputs = nb[i].Append(i).Select(j => snaps[j]).ToArray();
                var weights = w[i].Append(self[i]).Select(v => (float)v).ToArray();
                Mean.Instance.Aggregate(inputs, weights, mix);
                mix.CopyTo(models[i].Parameters, 0);
            }
        }

        var proc = Process.GetCurrentProcess();
        (double Wall, double Cpu) Measure(Action a)
        {
            proc.Refresh();
            var cpu0 = proc.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            a();
            proc.Refresh();
            return (Stopwatch.GetElapsedTime(t0).TotalSeconds, (proc.TotalProcessorTime - cpu0).TotalSeconds);
        }

        SimRound(); // round 0 (start)
        SimRound(); // warm-up round 1
        BareRound(1);
        double simWall = 0, simCpu = 0, bareWall = 0, bareCpu = 0;
        for (int r = 2; r < 2 + rounds; r++)
        {
            var s1 = Measure(SimRound);
            var b1 = Measure(() => BareRound(r));
            simWall += s1.Wall; simCpu += s1.Cpu; bareWall += b1.Wall; bareCpu += b1.Cpu;
            output.WriteLine($"round {r}: simulated {s1.Wall * 1000:F0} ms wall / {s1.Cpu * 1000:F0} ms CPU; bare {b1.Wall * 1000:F0} ms wall / {b1.Cpu * 1000:F0} ms CPU");
        }
        var st = sim.Statistics;
        output.WriteLine($"cores {Environment.ProcessorCount}; per round: simulated {simWall / rounds * 1000:F0} ms wall, {simCpu / rounds * 1000:F0} ms CPU; bare kernels {bareWall / rounds * 1000:F0} ms wall, {bareCpu / rounds * 1000:F0} ms CPU");
        output.WriteLine($"overhead: wall {(simWall - bareWall) / simWall:P1}, CPU {(simCpu - bareCpu) / simCpu:P1}");
        output.WriteLine($"loop statistics: {st}");
        output.WriteLine($"loop wall outside callbacks, job waits and evaluation: {(st.LoopSeconds - st.CallbackSeconds - st.JobWaitSeconds - st.EvaluationSeconds) / st.LoopSeconds:P2} of {st.LoopSeconds:F2} s");
    }

    /// <summary>Peak memory per node for D-SGD with MLP 784-128-10 nodes (one round of one step).</summary>
    [BenchFact]
    public void Memory_per_mlp_node()
    {
        const int n = 2000;
        var learner = Mlp.CreateClassifier(new TensorShape(784), new[] { 128 }, 10);
        int p = learner.Layout.Length;
        var rng = new Rng(1);
        var x = new float[4000 * 784];
        rng.FillUniform(x, 0, 1);
        var all = Dataset.Classification("synthetic", x, new TensorShape(784), Enumerable.Range(0, 4000).Select(i => i % 10).ToArray(), 10);
        var data = Enumerable.Range(0, n).Select(i => new DatasetView(all, Enumerable.Range((i * 16) % 4000, 16).ToArray())).ToArray();
        var (nb, w, self) = Ring(n, 2);
        GC.Collect();
        long baseline = GC.GetTotalMemory(true);
        var proc = Process.GetCurrentProcess();
        proc.Refresh();
        long ws0 = proc.WorkingSet64;
        var nodes = DSgd.CreateNodes(learner, new Sgd(0.01f), data, nb, w, self, new DSgdOptions { LocalSteps = 1, BatchSize = 4, Rounds = 2 }, 1);
        var sim = new Simulator(nodes, new SimulationOptions { Link = new LinkModel(0.01), Compute = new ComputeModel(0.01) });
        long built = GC.GetTotalMemory(true) - baseline;
        long peakManaged = 0;
        sim.Progress += _ => peakManaged = Math.Max(peakManaged, GC.GetTotalMemory(false) - baseline);
        var t0 = Stopwatch.GetTimestamp();
        sim.Run();
        double secs = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        proc.Refresh();
        output.WriteLine($"{n} nodes of {p} parameters ({4.0 * p / 1024:F0} KiB): built {built / (double)n / 1024:F0} KiB/node; " +
            $"peak managed during the run {peakManaged / (double)n / 1024:F0} KiB/node; peak working set growth {(proc.PeakWorkingSet64 - ws0) / (double)n / 1024:F0} KiB/node; 2 rounds in {secs:F1} s");
        output.WriteLine($"extrapolated to 10,000 nodes: {Math.Max(peakManaged, proc.PeakWorkingSet64 - ws0) / (double)n * 10000 / (1L << 30):F1} GiB");
        GC.KeepAlive(sim);
    }
}
