using System.Text.Json;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersB;

/// <summary>
/// Reads the PyTorch goldens written by bench/reference/layers_b_golden.py and reproduces its
/// closed-form inputs and weights bit for bit.
/// </summary>
public static class Golden
{
    private static readonly Lazy<JsonDocument> Doc = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "layers-b", "layers_b_golden.json"))));

    public static JsonElement Root => Doc.Value.RootElement;

    public static IEnumerable<JsonElement> Cases(string group) => Root.GetProperty(group).EnumerateArray();

    public static JsonElement Case(string group, string name) => Cases(group).Single(c => c.GetProperty("name").GetString() == name);

    public static object[][] Names(string group) => Cases(group).Select(c => new object[] { c.GetProperty("name").GetString()! }).ToArray();

    /// <summary>((i·7919 + seed·104729 + 13) mod 65521 / 65521 − 0.5)·scale in double, then float.</summary>
    public static float[] Val(int n, int seed, double scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            long h = ((long)i * 7919 + (long)seed * 104729 + 13) % 65521;
            a[i] = (float)((h / 65521.0 - 0.5) * scale);
        }
        return a;
    }

    public static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    /// <summary>The script's init_params rule: tensor t (layout order) uses seed t + 1.</summary>
    public static void InitializeParameters(ParameterLayout layout, Span<float> p)
    {
        for (int t = 0; t < layout.Tensors.Count; t++)
        {
            var d = layout.Tensors[t];
            float[] v;
            if (d.Shape.Rank >= 2) v = Val(d.Length, t + 1, 2 * Math.Sqrt(3.0 / (d.Length / d.Shape[0])));
            else if (d.Name.EndsWith(".weight", StringComparison.Ordinal)) v = Val(d.Length, t + 1, 0.5).Select(x => 1 + x).ToArray();
            else v = Val(d.Length, t + 1, 0.2);
            v.CopyTo(d.Slice(p));
        }
    }

    /// <summary>Asserts |a − e| ≤ rtol·|e| + atol·scale element-wise, where scale is the largest |e|.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double rtol = 1e-4, double atol = 1e-5)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        double scale = 0;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        scale = Math.Max(scale, 1e-6);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            Assert.True(err <= rtol * Math.Abs(expected[i]) + atol * scale,
                $"{what}[{i}]: got {actual[i]}, expected {expected[i]} (|err| {err:g3}, scale {scale:g3})");
        }
    }
}
