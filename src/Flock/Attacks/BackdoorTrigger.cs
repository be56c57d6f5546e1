namespace Flock.Attacks;

/// <summary>Image corner where a <see cref="BackdoorTrigger"/> is stamped.</summary>
public enum TriggerCorner
{
    /// <summary>Top-left corner (row 0, column 0).</summary>
    TopLeft,

    /// <summary>Top-right corner.</summary>
    TopRight,

    /// <summary>Bottom-left corner.</summary>
    BottomLeft,

    /// <summary>Bottom-right corner (BadNets' choice).</summary>
    BottomRight,
}

/// <summary>
/// A square trigger patch: <see cref="Size"/>×<see cref="Size"/> pixels set to <see cref="Value"/>
/// (white for images scaled to [0, 1]) at a corner of <see cref="Height"/>×<see cref="Width"/>
/// images, <see cref="Margin"/> pixels in from the edges, in every channel (examples are
/// channels-first, C×H×W, with C = feature size / (H·W); a flat 784-vector is one 28×28 channel).
/// The pixel-pattern trigger of "BadNets: Identifying Vulnerabilities in the Machine Learning Model
/// Supply Chain" (Gu, Dolan-Gavitt &amp; Garg, 2017).
/// </summary>
public sealed record BackdoorTrigger
{
    /// <summary>Creates a trigger.</summary>
    /// <param name="size">Side of the square in pixels (≥ 1).</param>
    /// <param name="corner">Which corner.</param>
    /// <param name="value">Pixel value written (finite; 1 is white for [0, 1] images; for standardized images use (1 − mean)/std).</param>
    /// <param name="height">Image height (≥ 1).</param>
    /// <param name="width">Image width (≥ 1).</param>
    /// <param name="margin">Distance in pixels from the corner's edges (≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range, or the patch does not fit in the image.</exception>
    public BackdoorTrigger(int size = 4, TriggerCorner corner = TriggerCorner.BottomRight, float value = 1f, int height = 28, int width = 28, int margin = 1)
    {
        Size = AttackCheck.AtLeast(size, 1, nameof(size), "trigger size");
        if (!Enum.IsDefined(corner)) throw new ArgumentOutOfRangeException(nameof(corner), corner, $"Invalid trigger corner: {corner}; must be one of: {string.Join(", ", Enum.GetNames<TriggerCorner>())}.");
        Corner = corner;
        Value = AttackCheck.Finite(value, nameof(value), "trigger value");
        Height = AttackCheck.AtLeast(height, 1, nameof(height), "image height");
        Width = AttackCheck.AtLeast(width, 1, nameof(width), "image width");
        Margin = AttackCheck.AtLeast(margin, 0, nameof(margin), "trigger margin");
        if (size + margin > height || size + margin > width)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A trigger of size {size} with margin {margin} does not fit in {height}×{width} images.");
        Top = corner is TriggerCorner.TopLeft or TriggerCorner.TopRight ? margin : height - margin - size;
        Left = corner is TriggerCorner.TopLeft or TriggerCorner.BottomLeft ? margin : width - margin - size;
    }

    /// <summary>Side of the square in pixels.</summary>
    public int Size { get; }

    /// <summary>The corner.</summary>
    public TriggerCorner Corner { get; }

    /// <summary>The pixel value written.</summary>
    public float Value { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Distance from the edges.</summary>
    public int Margin { get; }

    /// <summary>First row of the patch.</summary>
    public int Top { get; }

    /// <summary>First column of the patch.</summary>
    public int Left { get; }

    /// <summary>Number of channels of examples with <paramref name="featureSize"/> features.</summary>
    /// <exception cref="ArgumentException"><paramref name="featureSize"/> is not a positive multiple of H·W.</exception>
    public int Channels(int featureSize)
    {
        int plane = Height * Width;
        if (featureSize <= 0 || featureSize % plane != 0)
            throw new ArgumentException($"Examples of {featureSize} features are not C×{Height}×{Width} images; set the trigger's height and width to the image shape.", nameof(featureSize));
        return featureSize / plane;
    }

    /// <summary>Whether flat feature index <paramref name="feature"/> (of a C×H×W example) lies in the patch.</summary>
    public bool Covers(int feature)
    {
        int inPlane = feature % (Height * Width);
        int row = inPlane / Width, col = inPlane % Width;
        return row >= Top && row < Top + Size && col >= Left && col < Left + Size;
    }

    /// <summary>Stamps the trigger on one example (C×H×W, channels-first) in place.</summary>
    /// <exception cref="ArgumentException">The example's length is not a positive multiple of H·W.</exception>
    public void Stamp(Span<float> example)
    {
        int channels = Channels(example.Length), plane = Height * Width;
        for (int c = 0; c < channels; c++)
            for (int r = Top; r < Top + Size; r++)
                example.Slice(c * plane + r * Width + Left, Size).Fill(Value);
    }
}
