using System.Globalization;
using System.Text;

namespace Flock.Experiments.Results;

/// <summary>
/// Names of the <c>metrics.csv</c> columns that plots and summaries use (the full list is
/// <see cref="Flock.Runtime.Simulation.MetricsRow.Columns"/>). Only <see cref="WallSeconds"/> may
/// differ between two runs with the same configuration and seed.
/// </summary>
public static class MetricColumns
{
    /// <summary>Global round (round-based protocols).</summary>
    public const string Round = "round";
    /// <summary>Virtual (simulated) seconds since the start.</summary>
    public const string VirtualSeconds = "virtual_time";
    /// <summary>Real seconds since the start; the only non-reproducible column.</summary>
    public const string WallSeconds = "wall_seconds";
    /// <summary>Test accuracy (global model, or mean over evaluated nodes).</summary>
    public const string TestAccuracy = "accuracy_mean";
    /// <summary>Total bytes sent so far.</summary>
    public const string BytesSent = "bytes_sent";
}

/// <summary>A metrics table read back from <c>metrics.csv</c> (for plots, sweeps and resume checks).</summary>
public sealed class MetricsTable
{
    /// <summary>Creates a table.</summary>
    public MetricsTable(string[] columns, List<double[]> rows)
    {
        Columns = columns;
        Rows = rows;
    }

    /// <summary>Column names.</summary>
    public string[] Columns { get; }

    /// <summary>Rows of values (NaN where a cell was empty).</summary>
    public List<double[]> Rows { get; }

    /// <summary>The values of one column.</summary>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public double[] Column(string name)
    {
        int i = Array.IndexOf(Columns, name);
        if (i < 0) throw new KeyNotFoundException($"metrics.csv has no column '{name}'; columns: {string.Join(", ", Columns)}");
        return Rows.Select(r => r[i]).ToArray();
    }

    /// <summary>Whether the column exists.</summary>
    public bool Has(string name) => Array.IndexOf(Columns, name) >= 0;

    /// <summary>Reads a metrics CSV file.</summary>
    /// <exception cref="InvalidDataException">Missing file or malformed content.</exception>
    public static MetricsTable Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"No metrics file at {path}.");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new InvalidDataException($"{path} is empty.");
        var cols = lines[0].Split(',');
        var rows = new List<double[]>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var cells = lines[i].Split(',');
            if (cells.Length != cols.Length) throw new InvalidDataException($"{path}:{i + 1}: {cells.Length} cells, header has {cols.Length}.");
            rows.Add(cells.Select(c => c.Length == 0 ? double.NaN : double.Parse(c, CultureInfo.InvariantCulture)).ToArray());
        }
        return new MetricsTable(cols, rows);
    }
}

/// <summary>Appends metric rows to a CSV file, flushing each row so an interrupted run keeps what it did.</summary>
public sealed class MetricsWriter : IDisposable
{
    private readonly StreamWriter _w;
    private readonly string[] _columns;

    /// <summary>Creates (or, when <paramref name="append"/>, continues) a CSV with the given columns.</summary>
    public MetricsWriter(string path, IReadOnlyList<string> columns, bool append = false)
    {
        _columns = columns.ToArray();
        bool writeHeader = !append || !File.Exists(path) || new FileInfo(path).Length == 0;
        _w = new StreamWriter(path, append, new UTF8Encoding(false));
        if (writeHeader) { _w.WriteLine(string.Join(',', _columns)); _w.Flush(); }
    }

    /// <summary>Column names.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>Writes one row; missing columns are left empty.</summary>
    public void Write(IReadOnlyDictionary<string, double> values)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _columns.Length; i++)
        {
            if (i > 0) sb.Append(',');
            if (values.TryGetValue(_columns[i], out var v) && !double.IsNaN(v)) sb.Append(FormatValue(v));
        }
        _w.WriteLine(sb.ToString());
        _w.Flush();
    }

    /// <summary>Round-trip formatting (integers without a decimal point).</summary>
    public static string FormatValue(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose() => _w.Dispose();
}
