using System.Collections.ObjectModel;

namespace Flock.Tensors;

/// <summary>One named tensor inside a flat parameter vector.</summary>
/// <param name="Name">Unique name, e.g. <c>"fc1.weight"</c>.</param>
/// <param name="Shape">The tensor's shape (row-major).</param>
/// <param name="Offset">Index of its first element in the flat vector.</param>
public sealed record ParameterTensor(string Name, TensorShape Shape, int Offset)
{
    /// <summary>Number of elements.</summary>
    public int Length => Shape.Size;

    /// <summary>This tensor's slice of a flat vector.</summary>
    public Span<float> Slice(Span<float> flat) => flat.Slice(Offset, Length);

    /// <summary>This tensor's slice of a read-only flat vector.</summary>
    public ReadOnlySpan<float> Slice(ReadOnlySpan<float> flat) => flat.Slice(Offset, Length);
}

/// <summary>
/// Describes how a model's parameters are laid out in one contiguous <c>float</c> vector: the name,
/// shape and offset of every tensor. Immutable; build it with <see cref="ParameterLayoutBuilder"/>.
/// Aggregators, compressors and privacy mechanisms only see the flat vector; per-tensor methods
/// (SGD-SaI, FRUGAL, vanishing-variance correction) use the layout.
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterTensor> _byName;

    internal ParameterLayout(List<ParameterTensor> tensors)
    {
        Tensors = new ReadOnlyCollection<ParameterTensor>(tensors.ToArray());
        _byName = tensors.ToDictionary(t => t.Name);
        Length = tensors.Count == 0 ? 0 : tensors[^1].Offset + tensors[^1].Length;
    }

    /// <summary>The tensors in offset order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }

    /// <summary>Total number of parameters (length of the flat vector).</summary>
    public int Length { get; }

    /// <summary>Looks a tensor up by name.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public ParameterTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"No parameter tensor named '{name}'. Known: {string.Join(", ", _byName.Keys)}");

    /// <summary>Checks that a flat vector has this layout's length.</summary>
    /// <exception cref="ArgumentException">The length differs.</exception>
    public void Validate(ReadOnlySpan<float> flat, string what = "parameters")
    {
        if (flat.Length != Length)
            throw new ArgumentException($"The {what} vector has {flat.Length} elements but the layout needs {Length}.");
    }
}

/// <summary>Builds a <see cref="ParameterLayout"/> by appending tensors in order.</summary>
public sealed class ParameterLayoutBuilder
{
    private readonly List<ParameterTensor> _tensors = new();
    private readonly HashSet<string> _names = new();
    private int _next;

    /// <summary>Number of parameters reserved so far.</summary>
    public int Length => _next;

    /// <summary>Reserves a tensor and returns its descriptor (with its offset).</summary>
    /// <exception cref="ArgumentException">The name is already used.</exception>
    public ParameterTensor Add(string name, params int[] shape)
    {
        if (!_names.Add(name)) throw new ArgumentException($"Duplicate parameter tensor name '{name}'.", nameof(name));
        var t = new ParameterTensor(name, new TensorShape(shape), _next);
        _next = checked(_next + t.Length);
        _tensors.Add(t);
        return t;
    }

    /// <summary>Freezes the layout.</summary>
    public ParameterLayout Build() => new(_tensors);
}
