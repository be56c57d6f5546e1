namespace Flock.Tensors;

/// <summary>
/// The shape of one example's tensor (batch dimension excluded): <c>[features]</c> for dense data,
/// <c>[channels, height, width]</c> for images, <c>[sequence]</c> for token ids.
/// </summary>
public readonly record struct TensorShape
{
    private readonly int[] _dims;

    /// <summary>Creates a shape from its dimensions; each must be positive.</summary>
    /// <exception cref="ArgumentException">A dimension is zero or negative, or none is given.</exception>
    public TensorShape(params int[] dims)
    {
        if (dims is null || dims.Length == 0) throw new ArgumentException("A shape needs at least one dimension.", nameof(dims));
        foreach (int d in dims)
            if (d <= 0) throw new ArgumentException($"Invalid shape dimension: {d} in [{string.Join(", ", dims)}]; every dimension must be positive.", nameof(dims));
        _dims = (int[])dims.Clone();
    }

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>Dimension <paramref name="i"/>.</summary>
    public int this[int i] => _dims[i];

    /// <summary>Number of elements (product of dimensions).</summary>
    public int Size
    {
        get
        {
            long s = 1;
            foreach (int d in _dims) s *= d;
            return checked((int)s);
        }
    }

    /// <inheritdoc />
    public bool Equals(TensorShape other) => _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => "[" + string.Join("x", _dims) + "]";
}
