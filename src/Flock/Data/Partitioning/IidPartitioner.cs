using Flock.Tensors;

namespace Flock.Data.Partitioning;

/// <summary>
/// IID partitioning: the examples are shuffled and dealt into node shares whose sizes differ by at most
/// one (the first <c>count mod nodes</c> nodes get one more). Works for classification and regression.
/// </summary>
public sealed class IidPartitioner : IPartitioner
{
    /// <inheritdoc />
    public string Description => "iid";

    /// <inheritdoc />
    public DatasetView[] Partition(DatasetView source, int nodes, ulong seed)
    {
        PartitionHelpers.CheckNodes(source, nodes);
        var idx = (int[])source.Indices.Clone();
        Rng.Derive(seed, 0, 0, "partition/iid").Shuffle(idx.AsSpan());
        var views = new DatasetView[nodes];
        int q = idx.Length / nodes, r = idx.Length % nodes, start = 0;
        for (int i = 0; i < nodes; i++)
        {
            int len = q + (i < r ? 1 : 0);
            var part = idx.AsSpan(start, len).ToArray();
            Array.Sort(part);
            views[i] = new DatasetView(source.Dataset, part);
            start += len;
        }
        return views;
    }
}
