using Flock.Tensors;

namespace Flock.Data.Partitioning;

/// <summary>
/// Pathological non-IID partitioning by label shards (McMahan et al., "Communication-Efficient Learning of
/// Deep Networks from Decentralized Data", 2017): the examples are sorted by label (randomly within a
/// label), cut into nodes × k contiguous shards of equal size (±1), and each node gets k shards, so about
/// k classes. When every class's count is a multiple of the shard size, each shard holds a single class.
/// <para>With <see cref="DistinctClasses"/> (default) the shards are dealt at random and then swapped
/// between nodes until no node holds two shards of the same (majority) class, so with k ≤ number of classes
/// and class counts divisible by the shard size every node gets exactly k classes. The repair is a bounded
/// random search: if it cannot remove every duplicate (impossible or unlucky inputs), the remaining ones are
/// kept. Without it, shards are dealt purely at random as in McMahan et al., and a node may get fewer
/// than k classes.</para>
/// </summary>
public sealed class ShardPartitioner : IPartitioner
{
    /// <summary>Creates the partitioner.</summary>
    /// <param name="shardsPerNode">Shards per node k ≥ 1 (McMahan et al. use 2).</param>
    /// <param name="distinctClasses">Avoid giving a node two shards of the same class.</param>
    /// <exception cref="ArgumentException"><paramref name="shardsPerNode"/> is below 1.</exception>
    public ShardPartitioner(int shardsPerNode = 2, bool distinctClasses = true)
    {
        if (shardsPerNode < 1) throw new ArgumentException($"Invalid number of shards per node: {shardsPerNode}; must be ≥ 1.", nameof(shardsPerNode));
        ShardsPerNode = shardsPerNode;
        DistinctClasses = distinctClasses;
    }

    /// <summary>Shards per node k.</summary>
    public int ShardsPerNode { get; }

    /// <summary>Whether shards are re-dealt so a node's shards have distinct classes.</summary>
    public bool DistinctClasses { get; }

    /// <inheritdoc />
    public string Description => $"shards(k={ShardsPerNode}{(DistinctClasses ? "" : ", random-deal")})";

    /// <inheritdoc />
    public DatasetView[] Partition(DatasetView source, int nodes, ulong seed)
    {
        PartitionHelpers.CheckNodes(source, nodes);
        int k = ShardsPerNode;
        long shardsL = (long)nodes * k;
        if (shardsL > source.Count)
            throw new ArgumentException($"Cannot cut {source.Count} examples of '{source.Dataset.Name}' into {nodes} nodes × {k} shards = {shardsL} shards; need at most one shard per example.", nameof(nodes));
        int shards = (int)shardsL;
        var labels = PartitionHelpers.Labels(source, "shard");
        var rng = Rng.Derive(seed, 0, 0, "partition/shards");

        // Sort by label, random within a label: shuffle each class group, then concatenate.
        var byClass = PartitionHelpers.ByClass(source, labels);
        var sorted = new int[source.Count];
        int pos = 0;
        foreach (var g in byClass)
        {
            rng.Shuffle(g.AsSpan());
            g.CopyTo(sorted, pos);
            pos += g.Length;
        }

        // Shard s covers sorted[start[s] .. start[s+1]).
        var start = new int[shards + 1];
        int q = source.Count / shards, r = source.Count % shards;
        for (int s = 0; s < shards; s++) start[s + 1] = start[s] + q + (s < r ? 1 : 0);
        var shardLabel = new int[shards];
        var counts = new int[source.Dataset.NumClasses];
        for (int s = 0; s < shards; s++)
        {
            Array.Clear(counts);
            for (int t = start[s]; t < start[s + 1]; t++) counts[labels[sorted[t]]]++;
            int best = 0;
            for (int c = 1; c < counts.Length; c++) if (counts[c] > counts[best]) best = c;
            shardLabel[s] = best;
        }

        var deal = Enumerable.Range(0, shards).ToArray();
        rng.Shuffle(deal.AsSpan());
        if (DistinctClasses && k > 1) Repair(deal, shardLabel, nodes, k, rng);

        var views = new DatasetView[nodes];
        for (int i = 0; i < nodes; i++)
        {
            var idx = new List<int>();
            for (int t = 0; t < k; t++)
            {
                int s = deal[i * k + t];
                idx.AddRange(sorted.AsSpan(start[s], start[s + 1] - start[s]));
            }
            var arr = idx.ToArray();
            Array.Sort(arr);
            views[i] = new DatasetView(source.Dataset, arr);
        }
        return views;
    }

    /// <summary>Swaps shards between nodes until no node holds two shards of the same class (bounded random search).</summary>
    private static void Repair(int[] deal, int[] shardLabel, int nodes, int k, Rng rng)
    {
        int shards = deal.Length;
        long budget = 200L * shards + 1000;
        bool HasLabelExcept(int node, int exceptSlot, int label)
        {
            for (int t = 0; t < k; t++)
                if (t != exceptSlot && shardLabel[deal[node * k + t]] == label) return true;
            return false;
        }
        // Conflicting slots: a slot whose label also appears in an earlier slot of the same node.
        var conflicts = new List<int>();
        void Collect()
        {
            conflicts.Clear();
            for (int i = 0; i < nodes; i++)
                for (int t = 1; t < k; t++)
                {
                    int l = shardLabel[deal[i * k + t]];
                    for (int u = 0; u < t; u++)
                        if (shardLabel[deal[i * k + u]] == l) { conflicts.Add(i * k + t); break; }
                }
        }
        Collect();
        while (conflicts.Count > 0 && budget > 0)
        {
            int slot = conflicts[rng.NextInt(conflicts.Count)];
            int a = slot / k, ta = slot % k;
            int la = shardLabel[deal[slot]];
            bool swapped = false;
            for (int tries = 0; tries < 4 * shards && budget > 0; tries++, budget--)
            {
                int other = rng.NextInt(shards);
                int b = other / k, tb = other % k;
                if (b == a) continue;
                int lb = shardLabel[deal[other]];
                if (lb == la || HasLabelExcept(a, ta, lb) || HasLabelExcept(b, tb, la)) continue;
                (deal[slot], deal[other]) = (deal[other], deal[slot]);
                swapped = true;
                break;
            }
            if (!swapped) return;
            Collect();
        }
    }
}
