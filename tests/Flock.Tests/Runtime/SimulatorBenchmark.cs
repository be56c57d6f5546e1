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
    /// round. Compares a simulated round with the bare kernels (the same training jobs in a
    /// Parallel.For plus the same mixing) to measure the simulator's overhead.
    /// </summary>
    [BenchFact]
    public void Dsgd_round_of_100_mlp_nodes()
    {
        const int n = 100, k = 10, b = 32, perNode = 64, rounds = 4;
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
            MaxRounds = rounds + 1,
            Link = new LinkModel(0.01, 1.25e8),
            Compute = new ComputeModel(0.01),
            Metrics = new MetricsOptions { EveryRounds = 0 },
        });
        var stamps = new List<double>();
        var clock = Stopwatch.StartNew();
        sim.Progress += _ => stamps.Add(clock.Elapsed.TotalSeconds);
        sim.Run();
        var st = sim.Statistics;
        // stamps[0] = round 0 (start), stamps[1] = end of the warm-up round 1.
        double simRound = (stamps[^1] - stamps[1]) / (stamps.Count - 2);

        // Bare kernels: the same jobs and the same mixing, no simulator.
        var models = Enumerable.Range(0, n).Select(_ => LocalModel.Create(learner, sgd, LocalModel.InitialParameters(learner, 1))).ToArray();
        var mix = new float[learner.Layout.Length];
        double kernelTotal = 0;
        for (int r = 0; r <= rounds; r++)
        {
            var t0 = Stopwatch.GetTimestamp();
            Parallel.For(0, n, i =>
            {
                var job = new TrainingJob(models[i], learner, sgd, data[i], k, b, r + 1);
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
            if (r > 0) kernelTotal += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        double kernelRound = kernelTotal / rounds;
        output.WriteLine($"cores {Environment.ProcessorCount}; simulated round {simRound * 1000:F1} ms; bare kernels {kernelRound * 1000:F1} ms; overhead {(simRound - kernelRound) / simRound:P1}");
        output.WriteLine($"loop statistics: {st}");
        output.WriteLine($"loop time outside callbacks and job waits: {(st.LoopSeconds - st.CallbackSeconds - st.JobWaitSeconds - st.EvaluationSeconds) / st.LoopSeconds:P1} of {st.LoopSeconds:F2} s");
    }
}
