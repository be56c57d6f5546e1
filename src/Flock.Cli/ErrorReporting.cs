using Flock.Experiments.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Flock.Cli;

/// <summary>Turns expected failures (bad input) into one clear message and exit code 2, without a stack trace.</summary>
public static class ErrorReporting
{
    /// <summary>Runs <paramref name="body"/> and maps exceptions to exit codes.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            AnsiConsole.MarkupLine("[red]error:[/] " + Markup.Escape(ex.Message));
            return 2;
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]interrupted[/]");
            return 130;
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("FLOCK_DEBUG") != "1")
        {
            // Not the user's input: a failure inside Flock. One line, the trace on request.
            var inner = ex is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : ex;
            AnsiConsole.MarkupLine($"[red]internal error:[/] {Markup.Escape(inner.GetType().Name)}: {Markup.Escape(inner.Message)}");
            AnsiConsole.MarkupLine("[grey]Run again with FLOCK_DEBUG=1 for the stack trace, and please report it.[/]");
            return 1;
        }
    }

    /// <summary>Exceptions caused by the user's input rather than a bug.</summary>
    public static bool IsUserError(Exception ex) => ex is ConfigException or CommandParseException or CommandRuntimeException
        or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException
        || ex.GetType().Name is "DataFormatException" or "DataNotFoundException";
}
