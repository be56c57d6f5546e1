using Flock.Attacks;
using Flock.Tensors;
using static Flock.Tests.Attacks.AttackTestSupport;

namespace Flock.Tests.Attacks;

public sealed class AttackerSelectionTests
{
    [Fact]
    public void Count_from_fraction()
    {
        Assert.Equal(5, AttackerSelection.CountFromFraction(26, 0.2));
        Assert.Equal(3, AttackerSelection.CountFromFraction(10, 0.3));   // 0.3·10 = 3.0000000000000004
        Assert.Equal(29, AttackerSelection.CountFromFraction(100, 0.29)); // 0.29·100 = 28.999999999999996
        Assert.Equal(0, AttackerSelection.CountFromFraction(10, 0));
        Assert.Equal(10, AttackerSelection.CountFromFraction(10, 1));
        Assert.Equal(2, AttackerSelection.CountFromFraction(7, 0.4));     // ⌊2.8⌋
        Throws<ArgumentOutOfRangeException>(() => AttackerSelection.CountFromFraction(10, 1.2), "Invalid Byzantine fraction: 1.2; must be in [0, 1].");
    }

    [Fact]
    public void Random_is_deterministic_distinct_sorted_and_uniform()
    {
        var a = AttackerSelection.Random(26, 5, new Rng(42));
        Assert.Equal(a, AttackerSelection.Random(26, 5, new Rng(42)));
        Assert.Equal(5, a.Distinct().Count());
        Assert.Equal(a.Order(), a);
        Assert.All(a, id => Assert.InRange(id, 0, 25));
        Assert.NotEqual(a, AttackerSelection.Random(26, 5, new Rng(43)));
        Assert.Equal(Enumerable.Range(0, 26), AttackerSelection.Random(26, 26, new Rng(1)));
        Assert.Empty(AttackerSelection.Random(26, 0, new Rng(1)));
        // Each node is picked with probability 5/26: 4,000 draws give ≈ 769 ± 25 per node.
        var counts = new int[26];
        var rng = new Rng(7);
        for (int t = 0; t < 4000; t++) foreach (int id in AttackerSelection.Random(26, 5, rng)) counts[id]++;
        Assert.All(counts, c => Assert.InRange(c, 769 - 5 * 25, 769 + 5 * 25));
    }

    [Fact]
    public void Hubs_are_the_highest_degree_nodes()
    {
        int[] degrees = [1, 5, 2, 5, 3, 0, 4];
        Assert.Equal(new[] { 1, 3 }, AttackerSelection.Hubs(degrees, 2));
        Assert.Equal(new[] { 1, 3, 6 }, AttackerSelection.Hubs(degrees, 3));
        Assert.Equal(new[] { 1, 3, 4, 6 }, AttackerSelection.Hubs(degrees, 4, new Rng(9)));
        // A star on 0 plus a path 1–2–3–4: degrees 4, 2, 3, 3, 2 (as neighbour lists).
        int[][] neighbours = [[1, 2, 3, 4], [0, 2], [0, 1, 3], [0, 2, 4], [0, 3]];
        Assert.Equal(new[] { 0, 2, 3 }, AttackerSelection.Hubs(neighbours, 3));
        Assert.Equal(new[] { 0 }, AttackerSelection.Select(AttackerPlacement.Hubs, 5, 1, new Rng(1), [4, 2, 3, 3, 2]));
    }

    [Fact]
    public void Hub_ties_are_broken_by_id_or_deterministically_at_random()
    {
        var ring = Enumerable.Repeat(2, 10).ToArray();
        Assert.Equal(new[] { 0, 1, 2 }, AttackerSelection.Hubs(ring, 3));
        var a = AttackerSelection.Hubs(ring, 3, new Rng(5));
        Assert.Equal(a, AttackerSelection.Hubs(ring, 3, new Rng(5)));
        var seen = new HashSet<string>();
        for (ulong s = 0; s < 20; s++) seen.Add(string.Join(",", AttackerSelection.Hubs(ring, 3, new Rng(s))));
        Assert.True(seen.Count > 10, $"only {seen.Count} distinct tie-breaks");
        // Ties only at the cut: the unique maximum is always chosen.
        int[] degrees = [1, 1, 9, 1, 1];
        for (ulong s = 0; s < 10; s++) Assert.Contains(2, AttackerSelection.Hubs(degrees, 2, new Rng(s)));
    }

    [Fact]
    public void Mask_and_validation()
    {
        Assert.Equal(new[] { false, true, false, true }, AttackerSelection.Mask(4, [1, 3]));
        Throws<ArgumentOutOfRangeException>(() => AttackerSelection.Mask(4, [4]), "Invalid node id 4; must be in [0, 4).");
        Throws<ArgumentOutOfRangeException>(() => AttackerSelection.Random(5, 6, new Rng(1)), "Invalid number of Byzantine nodes: 6; must be in [0, n = 5].");
        Throws<ArgumentOutOfRangeException>(() => AttackerSelection.Hubs([1, -1], 1), "Invalid degree -1 of node 1; must be ≥ 0.");
        Throws<ArgumentException>(() => AttackerSelection.Select(AttackerPlacement.Hubs, 5, 1, new Rng(1), [1, 2]), "Hub placement needs the degrees of all 5 nodes; got 2.");
        Throws<ArgumentException>(() => AttackerSelection.Hubs(new int[][] { [1], null! }, 1), "The neighbour list of node 1 is null.");
    }
}
