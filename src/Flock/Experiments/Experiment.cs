using Flock.Data;
using Flock.Data.Partitioning;
using Flock.Experiments.Catalog;
using Flock.Experiments.Config;
using Flock.Models;
using Flock.Runtime.Simulation;
using Flock.Topology;

namespace Flock.Experiments;

/// <summary>A fully built experiment: data, model, protocol and scenario, ready to run (or resume).</summary>
public sealed class Experiment
{
    /// <summary>Experiment name (folder name under runs/).</summary>
    public required string Name { get; init; }

    /// <summary>The seed every random draw derives from.</summary>
    public required ulong Seed { get; init; }

    /// <summary>The file it came from.</summary>
    public required string SourceFile { get; init; }

    /// <summary>The parsed file; <see cref="ConfigSection.Resolved"/> has every value including defaults.</summary>
    public required ConfigSection Config { get; init; }

    /// <summary>Training and test sets.</summary>
    public required TrainTestSplit Data { get; init; }

    /// <summary>Each data-holding node's view of the training set.</summary>
    public required DatasetView[] Partitions { get; init; }

    /// <summary>Summary of the partition (label skew, sizes).</summary>
    public required PartitionSummary PartitionSummary { get; init; }

    /// <summary>The model.</summary>
    public required ILearner Learner { get; init; }

    /// <summary>The topology, when the protocol uses one.</summary>
    public ITopologySchedule? Topology { get; init; }

    /// <summary>The protocol setup (node factory and length).</summary>
    public required ProtocolSetup Protocol { get; init; }

    /// <summary>Simulation options (compute, links, faults, metrics, limits).</summary>
    public required SimulationOptions Options { get; init; }

    /// <summary>Checkpoint every this many rounds (0 = never).</summary>
    public required int CheckpointEvery { get; init; }

    /// <summary>Builds a fresh simulator for this experiment.</summary>
    public Simulator CreateSimulator() => new(Protocol.CreateNodes(), Options);
}
