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
}
