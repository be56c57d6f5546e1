namespace Flock.Bench;

internal static class MeanBench
{
    public static int Run(string[] args) { Console.WriteLine("todo"); return 1; }
}
