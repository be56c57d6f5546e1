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
    }

    /// <summary>Exceptions caused by the user's input rather than a bug.</summary>
    public static bool IsUserError(Exception ex) => ex is ConfigException or CommandParseException or CommandRuntimeException
        or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException
        || ex.GetType().Name is "DataFormatException" or "DataNotFoundException";
}
