using Flock.Bench;

// Flock's benchmarks: `bench/run.sh NAME [args]` (or `dotnet Flock.Bench.dll NAME [args]`).
// To add one, write a class with `public static int Run(string[] args)` in its own file and add a
// line below. Every benchmark prints human-readable lines and, as its LAST line, key=value pairs.
var benchmarks = new SortedDictionary<string, (string Description, Func<string[], int> Run)>
{
    ["gemm"] = ("512×512×512 sgemm, Flock vs single-threaded OpenBLAS (numpy), plus engine shapes", GemmBench.Run),
    ["mean"] = ("mean of 8 vectors of 10M floats vs memcpy bandwidth", MeanBench.Run),
    ["mlp"] = ("MLP 784-128-10, SGD, batch 32, one epoch of Fashion-MNIST vs PyTorch", MlpBench.Run),
    ["agg"] = ("Krum, median and NNM on 50 vectors of 1M floats vs memcpy bandwidth", AggBench.Run),
    ["cnn"] = ("LeNet-5, SGD, batch 32, training steps per second on Fashion-MNIST vs PyTorch", CnnBench.Run),
    ["sim"] = ("rounds of D-SGD on 100 MLP nodes (ring k=2, Metropolis–Hastings) through the simulator vs plain PyTorch, 2 cores each", SimBench.Run),
    ["compress"] = ("encode+decode throughput of every compressor on 10M floats vs memcpy", CompressBench.Run),
    ["robust"] = ("Byzantine robustness on Fashion-MNIST: D-SGD mean vs MoNNA and NNM+TM under sign flipping and (optimal) ALIE", RobustBench.Run),
    ["compproto"] = ("Fashion-MNIST, 16 nodes: dense SGD vs DGC, QSGD, count sketch, one-byte SPSA, CHOCO (accuracy, bytes/node/round)", CompressionProtocolsBench.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine(args.Length == 0 ? "Usage: Flock.Bench NAME [args]" : $"Unknown benchmark '{args[0]}'.");
    Console.Error.WriteLine("Benchmarks:");
    foreach (var (name, b) in benchmarks) Console.Error.WriteLine($"  {name,-8} {b.Description}");
    return 2;
}
return bench.Run(args[1..]);
