using Flock.Tensors;

namespace Flock.Tests;

/// <summary>
/// Tests that change <see cref="KernelParallelism.MaxThreads"/> (a process-wide setting): they run
/// alone, after the parallel tests, so no other test changes it under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelThreadTests
{
    /// <summary>Collection name.</summary>
    public const string Name = "Kernel threads";

    /// <summary>Asserts two vectors (from a one-thread and a two-thread run) are equal bit for bit.</summary>
    public static void AssertBitIdentical(float[] a, float[] b, string what)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                Assert.Fail($"{what}: entry {i} is {a[i]:R} on one thread but {b[i]:R} on two");
    }
}
