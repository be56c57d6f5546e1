using Flock.Topology;
using Flock.Topology.Generators;

namespace Flock.Tests.Topology;

public class EdgeListFileTests
{
    private static Graph Parse(string text, int? n = null) => EdgeListFile.Parse(new StringReader(text), "g.txt", n);

    [Fact]
    public void Parses_edges_comments_and_blank_lines()
    {
        var g = Parse("# a path\n0 1\n\n  1\t2   # trailing comment\n2 3\n");
        Assert.Equal(4, g.NodeCount);
        Assert.Equal(new[] { (0, 1), (1, 2), (2, 3) }, g.Edges().ToArray());
        var wider = Parse("0 1\n1 2\n", 5);
        Assert.Equal(5, wider.NodeCount);
        Assert.Equal(3, wider.ComponentCount);
    }

    [Theory]
    [InlineData("0 1\n1 2 3\n", "g.txt:2:", "'1 2 3'")]
    [InlineData("0 1\n# c\n1 x\n", "g.txt:3:", "'x' in '1 x'")]
    [InlineData("-1 2\n", "g.txt:1:", "'-1'")]
    [InlineData("0 1\n\n4 4\n", "g.txt:3:", "self loop '4 4'")]
    [InlineData("0 1\n1 2\n2 1\n", "g.txt:3:", "of line 2")]
    [InlineData("0 1\n", "g.txt:1:", "")]
    public void Rejects_bad_lines_with_file_line_and_text(string text, string where, string what)
    {
        int? n = text == "0 1\n" ? 1 : null;
        var e = Assert.Throws<FormatException>(() => Parse(text, n));
        Assert.StartsWith(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void Rejects_out_of_range_ids_and_empty_files()
    {
        var e = Assert.Throws<FormatException>(() => Parse("0 1\n1 7\n", 5));
        Assert.Equal("g.txt:2: node 7 in '1 7' is outside [0, 5) for a graph of 5 nodes.", e.Message);
        var empty = Assert.Throws<FormatException>(() => Parse("# nothing\n\n"));
        Assert.Contains("no edges", empty.Message);
        Assert.Equal(3, Parse("# nothing\n", 3).NodeCount);
    }

    [Fact]
    public void Reads_files_and_names_them_in_errors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "flock-topology-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string good = Path.Combine(dir, "ring.txt");
            var ring = new Ring(2).Generate(9, 0);
            using (var w = File.CreateText(good)) EdgeListFile.Write(ring, w);
            Assert.Equal(ring, EdgeListFile.Read(good));
            Assert.Equal(ring, new FromFile(good).Generate(9, 0));

            string bad = Path.Combine(dir, "bad.txt");
            File.WriteAllText(bad, "0 1\n1 two\n");
            var e = Assert.Throws<FormatException>(() => EdgeListFile.Read(bad));
            Assert.StartsWith(bad + ":2:", e.Message);

            var missing = Assert.Throws<FileNotFoundException>(() => EdgeListFile.Read(Path.Combine(dir, "none.txt")));
            Assert.Contains("none.txt", missing.Message);

            // 9 nodes in the file but the experiment has 10: node 9 is isolated.
            var iso = Assert.Throws<InvalidOperationException>(() => new FromFile(good).Generate(10, 0));
            Assert.Contains("2 connected components", iso.Message);
            Assert.Contains("Isolated nodes include 9", iso.Message);
            Assert.Equal(10, new FromFile(good, requireConnected: false).Generate(10, 0).NodeCount);
            var count = Assert.Throws<ArgumentOutOfRangeException>(() => new FromFile(good, nodes: 9).Generate(10, 0));
            Assert.Contains("nodes = 9", count.Message);
            Assert.Throws<FormatException>(() => new FromFile(good).Generate(8, 0)); // id 8 out of range
        }
        finally { Directory.Delete(dir, true); }
    }
}
