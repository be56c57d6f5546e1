namespace Flock.Topology.Generators;

/// <summary>
/// Two-dimensional torus (a rows × cols grid with wrap-around): node <c>r·cols + c</c> is linked
/// to its four grid neighbours <c>(r ± 1, c)</c> and <c>(r, c ± 1)</c> modulo the sides, so every
/// degree is 4. Both sides must be ≥ 3 (a side of 2 would make the two wrap-around neighbours
/// coincide). With neither side given, n is split as the most nearly square factorisation.
/// Deterministic.
/// </summary>
public sealed class Torus : ITopologyGenerator
{
    /// <summary>Creates a torus generator; 0 for a side means "derive it from n".</summary>
    /// <param name="rows">Rows (≥ 3), or 0.</param>
    /// <param name="cols">Columns (≥ 3), or 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A side is negative, 1 or 2.</exception>
    public Torus(int rows = 0, int cols = 0)
    {
        Rows = CheckSide(rows, nameof(rows));
        Cols = CheckSide(cols, nameof(cols));
    }

    private static int CheckSide(int side, string name)
    {
        if (side != 0 && side < 3)
            throw new ArgumentOutOfRangeException(name, side, $"Invalid torus {name}: {side}; must be ≥ 3, or 0 to derive it from the node count.");
        return side;
    }

    /// <summary>Rows, or 0 when derived from n.</summary>
    public int Rows { get; }

    /// <summary>Columns, or 0 when derived from n.</summary>
    public int Cols { get; }

    /// <inheritdoc />
    public string Name => "torus";

    /// <inheritdoc />
    public bool IsRandom => false;

    /// <summary>The registered name and parameters, e.g. for a resolved configuration.</summary>
    public override string ToString() => $"torus(rows={Rows}, cols={Cols})";

    /// <summary>The (rows, cols) used for <paramref name="nodeCount"/> nodes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n cannot be split into sides ≥ 3 matching the given ones.</exception>
    public (int Rows, int Cols) Shape(int nodeCount)
    {
        if (Rows > 0 && Cols > 0)
        {
            if ((long)Rows * Cols != nodeCount)
                throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for a {Rows}×{Cols} torus: {nodeCount}; must be rows·cols = {(long)Rows * Cols}.");
            return (Rows, Cols);
        }
        if (Rows > 0 || Cols > 0)
        {
            int given = Math.Max(Rows, Cols);
            string which = Rows > 0 ? "rows" : "cols";
            if (nodeCount % given != 0 || nodeCount / given < 3)
                throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, $"Invalid node count for a torus with {which}={given}: {nodeCount}; must be a multiple of {given} that is ≥ {3 * given}.");
            return Rows > 0 ? (Rows, nodeCount / Rows) : (nodeCount / Cols, Cols);
        }
        int best = 0;
        for (int r = 3; (long)r * r <= nodeCount; r++)
            if (nodeCount % r == 0) best = r;
        if (best == 0)
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount,
                $"Invalid node count for torus: {nodeCount} cannot be written as rows×cols with both sides ≥ 3 (it is prime, twice a prime, or < 9); use e.g. {NearestValid(nodeCount)} nodes, or another topology.");
        return (best, nodeCount / best);
    }

    private static string NearestValid(int n)
    {
        static bool Ok(int m) { for (int r = 3; r * r <= m; r++) if (m % r == 0) return true; return false; }
        int lo = Math.Max(9, n), hi = Math.Max(9, n);
        while (lo > 9 && !Ok(lo)) lo--;
        while (!Ok(hi)) hi++;
        if (n < 9) return "9";
        return lo == hi || !Ok(lo) ? $"{hi}" : $"{lo} or {hi}";
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">n cannot be split into sides ≥ 3 (matching the given ones).</exception>
    public Graph Generate(int nodeCount, ulong seed)
    {
        var (rows, cols) = Shape(nodeCount);
        var edges = new (int, int)[2 * nodeCount];
        int e = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int i = r * cols + c;
                edges[e++] = (i, r * cols + (c + 1) % cols);
                edges[e++] = (i, (r + 1) % rows * cols + c);
            }
        return Graph.FromEdges(nodeCount, edges.AsSpan());
    }
}
