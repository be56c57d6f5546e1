using Flock.Models.Engine;

namespace Flock.Tests.Models.LayersB;

public class Im2ColTests
{
    private static float[] NaivePack(ConvGeometry g, float[] x)
    {
        var col = new float[g.PatchSize * g.OutputPositions];
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        for (int j = 0; j < g.KernelW; j++, row++)
        for (int y = 0; y < g.OutH; y++)
        for (int t = 0; t < g.OutW; t++)
        {
            int ih = y * g.StrideH - g.PadH + i, iw = t * g.StrideW - g.PadW + j;
            bool inside = ih >= 0 && ih < g.Height && iw >= 0 && iw < g.Width;
            col[row * g.OutputPositions + y * g.OutW + t] = inside ? x[(c * g.Height + ih) * g.Width + iw] : 0;
        }
        return col;
    }

    private static double[] NaiveUnpack(ConvGeometry g, float[] col)
    {
        var dx = new double[g.InputSize];
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        for (int i = 0; i < g.KernelH; i++)
        for (int j = 0; j < g.KernelW; j++, row++)
        for (int y = 0; y < g.OutH; y++)
        for (int t = 0; t < g.OutW; t++)
        {
            int ih = y * g.StrideH - g.PadH + i, iw = t * g.StrideW - g.PadW + j;
            if (ih >= 0 && ih < g.Height && iw >= 0 && iw < g.Width)
                dx[(c * g.Height + ih) * g.Width + iw] += col[row * g.OutputPositions + y * g.OutW + t];
        }
        return dx;
    }

    public static object[][] Geometries => new object[][]
    {
        // C, H, W, kh, kw, sh, sw, ph, pw
        new object[] { 1, 28, 28, 5, 5, 1, 1, 2, 2 },
        new object[] { 6, 14, 14, 5, 5, 1, 1, 0, 0 },
        new object[] { 2, 40, 37, 3, 3, 1, 1, 1, 1 },
        new object[] { 3, 40, 70, 3, 3, 2, 2, 1, 1 },
        new object[] { 2, 33, 65, 1, 1, 2, 2, 0, 0 },
        new object[] { 2, 11, 50, 3, 2, 3, 3, 2, 1 },
        new object[] { 1, 5, 5, 5, 5, 1, 1, 0, 0 },
        new object[] { 2, 9, 20, 4, 3, 2, 1, 3, 0 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Pack_matches_the_definition_and_Unpack_is_its_adjoint(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        foreach (int ldcExtra in new[] { 0, Im2Col.RowOverrun, 37 })
            PackAndUnpack(c, h, w, kh, kw, sh, sw, ph, pw, ldcExtra);
    }

    private static void PackAndUnpack(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int ldcExtra)
    {
        var g = new ConvGeometry(c, h, w, kh, kw, sh, sw, ph, pw);
        var x = LayerHarness.Random(g.InputSize, 1);
        var padded = new float[Im2Col.PaddedLength(g)];
        int ldc = g.OutputPositions + ldcExtra;
        var col = new float[Im2Col.ColumnLength(g, ldc)];
        Array.Fill(padded, float.NaN);
        Array.Fill(col, float.NaN);
        Im2Col.Pack(g, x, padded, col, ldc);
        var expected = NaivePack(g, x);
        for (int r0 = 0; r0 < g.PatchSize; r0++)
            Assert.Equal(expected.AsSpan(r0 * g.OutputPositions, g.OutputPositions).ToArray(), col.AsSpan(r0 * ldc, g.OutputPositions).ToArray());

        // <Pack(x), r> = <x, Unpack(r)> for every x and r, and Unpack sums exactly what Pack copied.
        var r = LayerHarness.Random(Im2Col.ColumnLength(g, ldc), 2);
        var dense = new float[expected.Length];
        for (int i = 0; i < r.Length; i++)
        {
            int r0 = i / ldc, q = i % ldc;
            if (r0 < g.PatchSize && q < g.OutputPositions) dense[r0 * g.OutputPositions + q] = r[i];
            else r[i] = float.NaN; // gaps and slack must be ignored
        }
        var dx = new float[g.InputSize];
        Array.Fill(dx, float.NaN);
        Array.Fill(padded, float.NaN);
        Im2Col.Unpack(g, r, ldc, padded, dx);
        var naive = NaiveUnpack(g, dense);
        for (int e = 0; e < g.InputSize; e++)
            Assert.True(Math.Abs(naive[e] - dx[e]) <= 1e-5 * (1 + Math.Abs(naive[e])), $"dx[{e}] = {dx[e]}, expected {naive[e]}");
        double lhs = 0, rhs = 0;
        for (int q = 0; q < expected.Length; q++) lhs += (double)expected[q] * dense[q];
        for (int e = 0; e < g.InputSize; e++) rhs += (double)x[e] * dx[e];
        Assert.Equal(lhs, rhs, 1e-4 * (1 + Math.Abs(lhs)));
    }

    [Fact]
    public void Geometry_validates_and_computes_output_size()
    {
        var g = new ConvGeometry(3, 32, 30, 3, 3, 2, 2, 1, 1);
        Assert.Equal(16, g.OutH);
        Assert.Equal(15, g.OutW);
        Assert.Equal(27, g.PatchSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvGeometry(1, 4, 4, 5, 5, 1, 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvGeometry(1, 4, 4, 3, 3, 0, 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvGeometry(1, 4, 4, 3, 3, 1, 1, -1, 0));
        Assert.Throws<ArgumentException>(() => Im2Col.Pack(g, new float[10], new float[Im2Col.PaddedLength(g)], new float[Im2Col.ColumnLength(g, g.OutputPositions)], g.OutputPositions));
        Assert.Throws<ArgumentException>(() => Im2Col.Pack(g, new float[g.InputSize], new float[Im2Col.PaddedLength(g)], new float[Im2Col.ColumnLength(g, 300)], 200));
    }
}
