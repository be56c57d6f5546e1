using Flock.Cli.Commands;
using Spectre.Console.Cli;

namespace Flock.Cli;

/// <summary>Entry point of the <c>flock</c> command.</summary>
public static class Program
{
    /// <summary>Runs the CLI; exit code 0 on success, 2 on bad input, 1 on internal failure, 130 when interrupted.</summary>
    public static int Main(string[] args)
    {
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.SetApplicationName("flock");
            c.AddCommand<RunCommand>("run").WithDescription("Run an experiment file on the simulator.")
                .WithExample("run", "experiments/quickstart.toml").WithExample("run", "experiments/fedavg.toml", "--set", "protocol.rounds=5");
            c.AddCommand<SweepCommand>("sweep").WithDescription("Run every combination of a grid of values and compare them.")
                .WithExample("sweep", "experiments/dsgd-topologies.toml", "--grid", "topology.name=ring,torus,complete");
            c.AddCommand<ListCommand>("list").WithDescription("List every registered component with its parameters, defaults and paper.");
            c.AddCommand<PlotCommand>("plot").WithDescription("Overlay the accuracy curves of one or more runs (PNG).");
            c.PropagateExceptions();
        });
        return ErrorReporting.Run(() => app.Run(args));
    }
}
