using System.ComponentModel;
using Flock.Experiments.Catalog;
using Flock.Experiments.Config;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Flock.Cli.Commands;

/// <summary><c>flock list [KIND]</c>: every registered component with its parameters, defaults and paper.</summary>
public sealed class ListCommand : Command<ListCommand.Settings>
{
    /// <summary>Arguments of <c>flock list</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>Only this kind.</summary>
        [CommandArgument(0, "[KIND]")]
        [Description("Only this kind (dataset, partition, model, optimizer, topology, aggregator, pre-aggregator, protocol, attack, compressor).")]
        public string? Kind { get; init; }
    }

    /// <summary>Every registered component, by kind (the section it goes in).</summary>
    public static IEnumerable<(string Section, ComponentInfo Info)> All() =>
        DatasetCatalog.Registry.Components.Select(c => ("[data]", c))
            .Concat(PartitionCatalog.Registry.Components.Select(c => ("[partition]", c)))
            .Concat(ModelCatalog.Registry.Components.Select(c => ("[model]", c)))
            .Concat(OptimizerCatalog.Registry.Components.Select(c => ("[optimizer]", c)))
            .Concat(TopologyCatalog.Components.Select(c => ("[topology]", c)))
            .Concat(AggregatorCatalog.Rules.Components.Select(c => ("[aggregator]", c)))
            .Concat(AggregatorCatalog.PreAggregators.Components.Select(c => ("[aggregator]", c)))
            .Concat(ProtocolCatalog.Registry.Components.Select(c => ("[protocol]", c)))
            .Concat(AttackConfig.Registry.Components.Select(c => ("[attack]", c)))
            .Concat(CompressorCatalog.Registry.Components.Select(c => ("[compression]", c)));

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var items = All().ToList();
        var kinds = items.Select(i => i.Info.Kind).Distinct().ToList();
        if (settings.Kind is not null && !kinds.Contains(settings.Kind))
            throw new ConfigException($"Unknown kind '{settings.Kind}'.{DidYouMean.Hint(settings.Kind, kinds)} Kinds: {string.Join(", ", kinds)}.");
        foreach (var (section, info) in items.Where(i => settings.Kind is null || i.Info.Kind == settings.Kind))
        {
            AnsiConsole.MarkupLine($"[bold cyan]{Markup.Escape(info.Name)}[/] [grey]({Markup.Escape(info.Kind)}, {Markup.Escape(section)} name = \"{Markup.Escape(info.Name)}\")[/]");
            AnsiConsole.MarkupLine("  " + Markup.Escape(info.Description));
            if (info.Reference != "standard") AnsiConsole.MarkupLine("  [grey]" + Markup.Escape(info.Reference) + "[/]");
            if (info.Parameters.Count > 0)
            {
                var t = new Table().Border(TableBorder.Simple).AddColumns("key", "type", "default", "allowed", "meaning");
                foreach (var p in info.Parameters)
                    t.AddRow(Markup.Escape(p.Name), Markup.Escape(p.TypeName), Markup.Escape(p.DefaultText), Markup.Escape(p.AllowedText), Markup.Escape(p.Doc));
                AnsiConsole.Write(new Padder(t).PadLeft(2).PadTop(0).PadBottom(0));
            }
            AnsiConsole.WriteLine();
        }
        return 0;
    }
}
