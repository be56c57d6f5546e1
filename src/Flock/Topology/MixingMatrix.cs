namespace Flock.Topology;

/// <summary>What a node does with the weight of neighbours whose model did not arrive.</summary>
public enum MissingNeighborPolicy
{
    /// <summary>
    /// Add the missing neighbours' weights to the node's self weight (default). If the failure is
    /// symmetric (neither end of a link received from the other), the matrix actually applied is
    /// still symmetric and doubly stochastic — it is the Metropolis–Hastings-style matrix of the
    /// surviving links with the original edge weights — so the network average is preserved.
    /// </summary>
    MoveToSelf,

    /// <summary>
    /// Divide the present weights (self included) by their sum, so the row sums to 1. The row
    /// stays stochastic but the matrix is no longer doubly stochastic: the average drifts.
    /// </summary>
    RenormalizeRow,
}

/// <summary>
/// A sparse symmetric mixing (gossip) matrix W over a <see cref="Graph"/>: for every node a self
/// weight W_ii and one weight per neighbour, aligned with <see cref="Graph.Neighbors"/>; all other
/// entries are 0. One gossip step is <c>x_i ← W_ii·x_i + Σ_j W_ij·x_j</c>. Immutable and
/// shareable; weights are kept in double precision.
/// </summary>
public sealed class MixingMatrix
{
    private readonly double[] _self;
    private readonly double[] _neighbor;

    private MixingMatrix(Graph graph, double[] self, double[] neighbor, string kind)
    {
        Graph = graph;
        _self = self;
        _neighbor = neighbor;
        Kind = kind;
    }

    /// <summary>
    /// Metropolis–Hastings weights (L. Xiao and S. Boyd, "Fast linear iterations for distributed
    /// averaging", 2004; S. Boyd, P. Diaconis and L. Xiao, "Fastest mixing Markov chain on a
    /// graph", 2004): <c>W_ij = 1 / (1 + max(deg_i, deg_j))</c> on every edge, the rest of each
    /// row on the diagonal. Symmetric and doubly stochastic for any graph, and needs only the
    /// neighbours' degrees.
    /// </summary>
    public static MixingMatrix MetropolisHastings(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var offsets = graph.Offsets;
        var self = new double[graph.NodeCount];
        var w = new double[graph.Targets.Length];
        for (int i = 0; i < graph.NodeCount; i++)
            self[i] = MetropolisHastingsRow(graph, i, w.AsSpan(offsets[i], offsets[i + 1] - offsets[i]));
        return new MixingMatrix(graph, self, w, "metropolis-hastings");
    }

    /// <summary>
    /// Row <paramref name="node"/> of <see cref="MetropolisHastings"/>(<paramref name="graph"/>)
    /// without building the matrix: writes W_ij for j = <see cref="Graph.Neighbors"/>(node)[k] into
    /// <paramref name="weights"/>[k] and returns W_ii. Bit-identical to the matrix's row; costs
    /// O(degree) and does not allocate (a node of a time-varying graph computes its own row each round).
    /// </summary>
    /// <param name="graph">The graph.</param>
    /// <param name="node">The row's node.</param>
    /// <param name="weights">Output, one weight per neighbour of <paramref name="node"/>.</param>
    /// <returns>The self weight W_ii.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is not as long as the node's degree.</exception>
    public static double MetropolisHastingsRow(Graph graph, int node, Span<double> weights)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if ((uint)node >= (uint)graph.NodeCount) throw new ArgumentOutOfRangeException(nameof(node), node, $"Invalid node {node}; must be in [0, {graph.NodeCount}).");
        var offsets = graph.Offsets;
        var targets = graph.Targets;
        int di = offsets[node + 1] - offsets[node];
        if (weights.Length != di) throw new ArgumentException($"Node {node} has {di} neighbours but the output holds {weights.Length} weights.", nameof(weights));
        double sum = 0;
        for (int k = 0; k < di; k++)
        {
            int j = targets[offsets[node] + k];
            int dj = offsets[j + 1] - offsets[j];
            weights[k] = 1.0 / (1 + Math.Max(di, dj));
            sum += weights[k];
        }
        return 1 - sum;
    }

    /// <summary>
    /// Uniform weights on a regular graph of degree d: <c>W_ij = 1/(d + 1)</c> on edges and on
    /// the diagonal (the complete graph gives <c>W = J/n</c>, exact averaging in one step).
    /// </summary>
    /// <exception cref="ArgumentException">The graph is not regular.</exception>
    public static MixingMatrix Uniform(Graph graph)
    {
        if (!graph.IsRegular)
            throw new ArgumentException($"Uniform mixing weights need a regular graph, but degrees range from {graph.Degrees.Min} to {graph.Degrees.Max}; use Metropolis–Hastings (or max-degree) weights.", nameof(graph));
        double v = 1.0 / (graph.Degrees.Max + 1);
        var self = new double[graph.NodeCount];
        Array.Fill(self, v);
        var w = new double[graph.Targets.Length];
        Array.Fill(w, v);
        return new MixingMatrix(graph, self, w, "uniform");
    }

    /// <summary>
    /// Maximum-degree weights: <c>W_ij = 1/(1 + d_max)</c> on every edge, the rest on the
    /// diagonal. Symmetric and doubly stochastic; equals <see cref="Uniform"/> on regular graphs.
    /// </summary>
    public static MixingMatrix MaxDegree(Graph graph)
    {
        double v = 1.0 / (graph.Degrees.Max + 1);
        var self = new double[graph.NodeCount];
        for (int i = 0; i < graph.NodeCount; i++) self[i] = 1 - v * graph.Degree(i);
        var w = new double[graph.Targets.Length];
        Array.Fill(w, v);
        return new MixingMatrix(graph, self, w, "max-degree");
    }

    /// <summary>The graph whose edges carry the off-diagonal weights.</summary>
    public Graph Graph { get; }

    /// <summary>How the weights were chosen (<c>"metropolis-hastings"</c>, <c>"uniform"</c>, <c>"max-degree"</c>).</summary>
    public string Kind { get; }

    /// <summary>Matrix size n.</summary>
    public int NodeCount => Graph.NodeCount;

    /// <summary>W_ii.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    public double SelfWeight(int node)
    {
        if ((uint)node >= (uint)NodeCount) throw new ArgumentOutOfRangeException(nameof(node), node, $"Invalid node {node}; must be in [0, {NodeCount}).");
        return _self[node];
    }

    /// <summary>W_ij for j = <see cref="Graph.Neighbors"/>(<paramref name="node"/>)[k], in the same order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="node"/> is outside [0, n).</exception>
    public ReadOnlySpan<double> NeighborWeights(int node)
    {
        int count = Graph.Degree(node);
        return _neighbor.AsSpan(Graph.Offsets[node], count);
    }

    /// <summary>Entry W_ij (0 when i ≠ j are not adjacent).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, n).</exception>
    public double this[int i, int j]
    {
        get
        {
            if ((uint)i >= (uint)NodeCount) throw new ArgumentOutOfRangeException(nameof(i), i, $"Invalid node {i}; must be in [0, {NodeCount}).");
            if ((uint)j >= (uint)NodeCount) throw new ArgumentOutOfRangeException(nameof(j), j, $"Invalid node {j}; must be in [0, {NodeCount}).");
            if (i == j) return _self[i];
            int k = Graph.IndexOfNeighbor(i, j);
            return k < 0 ? 0 : NeighborWeights(i)[k];
        }
    }

    /// <summary>
    /// The weights node <paramref name="node"/> uses when only some neighbours' models arrived.
    /// Writes W_ij for present neighbours and 0 for missing ones into <paramref name="weights"/>
    /// (aligned with <see cref="Graph.Neighbors"/>) and returns the self weight, following
    /// <paramref name="policy"/>: <see cref="MissingNeighborPolicy.MoveToSelf"/> (default) adds the
    /// missing weight to W_ii; <see cref="MissingNeighborPolicy.RenormalizeRow"/> scales the present
    /// weights and W_ii to sum to 1. Either way self + Σ weights = 1. Allocation-free.
    /// </summary>
    /// <param name="node">The receiving node.</param>
    /// <param name="arrived">One flag per neighbour, aligned with <see cref="Graph.Neighbors"/>.</param>
    /// <param name="weights">Output, one weight per neighbour.</param>
    /// <param name="policy">What to do with the missing weight.</param>
    /// <exception cref="ArgumentException">A span length differs from the node's degree.</exception>
    public double WeightsForPresent(int node, ReadOnlySpan<bool> arrived, Span<double> weights, MissingNeighborPolicy policy = MissingNeighborPolicy.MoveToSelf)
    {
        var w = NeighborWeights(node);
        if (arrived.Length != w.Length || weights.Length != w.Length)
            throw new ArgumentException($"Node {node} has {w.Length} neighbours but got {arrived.Length} arrival flags and {weights.Length} output weights.");
        double self = _self[node], missing = 0;
        for (int k = 0; k < w.Length; k++)
        {
            if (arrived[k]) weights[k] = w[k];
            else { weights[k] = 0; missing += w[k]; }
        }
        if (policy == MissingNeighborPolicy.MoveToSelf) return self + missing;
        if (!(1.0 - missing > 0)) return 1.0; // nothing left but a zero self weight: keep the own model
        double scale = 1.0 / (1.0 - missing);
        for (int k = 0; k < weights.Length; k++) weights[k] *= scale;
        return self * scale;
    }

    /// <summary>y = W·x (one synchronous gossip step on scalars).</summary>
    /// <exception cref="ArgumentException">A length differs from n, or x and y overlap.</exception>
    public void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.Length != NodeCount || y.Length != NodeCount)
            throw new ArgumentException($"W·x needs vectors of length {NodeCount}; got x of {x.Length} and y of {y.Length}.");
        if (x.Overlaps(y)) throw new ArgumentException("W·x cannot be computed in place; x and y overlap.");
        var offsets = Graph.Offsets;
        var targets = Graph.Targets;
        for (int i = 0; i < NodeCount; i++)
        {
            double s = _self[i] * x[i];
            for (int k = offsets[i]; k < offsets[i + 1]; k++) s += _neighbor[k] * x[targets[k]];
            y[i] = s;
        }
    }

    /// <summary>The dense n × n matrix, row-major.</summary>
    public double[] ToDense()
    {
        int n = NodeCount;
        var d = new double[(long)n * n];
        var offsets = Graph.Offsets;
        var targets = Graph.Targets;
        for (int i = 0; i < n; i++)
        {
            d[(long)i * n + i] = _self[i];
            for (int k = offsets[i]; k < offsets[i + 1]; k++) d[(long)i * n + targets[k]] = _neighbor[k];
        }
        return d;
    }

    /// <summary>True when W_ij = W_ji within <paramref name="tolerance"/> for every edge.</summary>
    public bool IsSymmetric(double tolerance = 1e-12)
    {
        var offsets = Graph.Offsets;
        var targets = Graph.Targets;
        for (int i = 0; i < NodeCount; i++)
            for (int k = offsets[i]; k < offsets[i + 1]; k++)
            {
                int j = targets[k];
                if (j < i) continue;
                double back = NeighborWeights(j)[Graph.IndexOfNeighbor(j, i)];
                if (Math.Abs(_neighbor[k] - back) > tolerance) return false;
            }
        return true;
    }

    /// <summary>True when all entries are ≥ 0 and every row and column sums to 1 within <paramref name="tolerance"/>.</summary>
    public bool IsDoublyStochastic(double tolerance = 1e-12)
    {
        int n = NodeCount;
        var col = new double[n];
        var offsets = Graph.Offsets;
        var targets = Graph.Targets;
        for (int i = 0; i < n; i++)
        {
            if (_self[i] < -tolerance) return false;
            double row = _self[i];
            col[i] += _self[i];
            for (int k = offsets[i]; k < offsets[i + 1]; k++)
            {
                if (_neighbor[k] < -tolerance) return false;
                row += _neighbor[k];
                col[targets[k]] += _neighbor[k];
            }
            if (Math.Abs(row - 1) > tolerance) return false;
        }
        foreach (double c in col) if (Math.Abs(c - 1) > tolerance) return false;
        return true;
    }
}
