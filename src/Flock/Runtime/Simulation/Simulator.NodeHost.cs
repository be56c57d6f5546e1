using Flock.Protocols;
using Flock.Tensors;

namespace Flock.Runtime.Simulation;

public sealed partial class Simulator
{
    /// <summary>One node's host state and its <see cref="INodeContext"/>.</summary>
    private sealed class NodeHost(Simulator sim, int id, double speedFactor, bool isReporter) : INodeContext
    {
        public int Id { get; } = id;
        public double SpeedFactor { get; } = speedFactor;
        public bool IsReporter { get; } = isReporter;
        public bool IsEvaluated;
        public bool Started, Up, Left;
        public bool Tracked; // counted by the global-round tracker (up, or about to start at time 0)
        public long Incarnation;
        public long LastReported = -1;
        public long BytesSent, MessagesSent;
        public SimEvent? BusyEvent;
        public float[]? PreJobSnapshot;

        public int NodeId => Id;

        public double Now => sim._now;

        private void CheckActive()
        {
            if (!ReferenceEquals(sim._active, this))
                throw new InvalidOperationException($"Node {Id}'s context was used outside one of its own callbacks.");
        }

        public Rng DeriveRng(string purpose, long round)
        {
            ArgumentNullException.ThrowIfNull(purpose);
            if (round < 0) throw new ArgumentOutOfRangeException(nameof(round), round, $"Invalid round for a random stream: {round}; must be ≥ 0.");
            return Rng.Derive(sim._seed, (ulong)Id, (ulong)round, purpose);
        }

        public void Send(int to, Message message)
        {
            CheckActive();
            ArgumentNullException.ThrowIfNull(message);
            if ((uint)to >= (uint)sim._nodes.Length) throw new ArgumentOutOfRangeException(nameof(to), to, $"No node {to}; there are {sim._nodes.Length}.");
            long size = message.SizeBytes;
            long counter = MessagesSent;
            BytesSent += size;
            MessagesSent++;
            sim._bytesSent += size;
            sim._messagesSent++;
            var link = sim._options.Link;
            if (sim.LinkDown(Id, to, sim._now)
                || (link.DropProbability > 0 && Rng.Derive(sim._seed, (ulong)Id, (ulong)counter, "drop").NextDouble() < link.DropProbability))
            {
                sim._messagesLost++;
                return;
            }
            sim.Schedule(sim._now + link.TransferSeconds(size), new SimEvent(EventKind.Deliver, to) { From = Id, Message = message });
        }

        public long SetTimer(double delay, string name, long value = 0)
        {
            CheckActive();
            ArgumentNullException.ThrowIfNull(name);
            if (!(delay >= 0) || !double.IsFinite(delay)) throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Invalid timer delay: {delay} s; must be finite and ≥ 0.");
            long timerId = ++sim._timerIds;
            sim._pendingTimers.Add(timerId, Id);
            sim.Schedule(sim._now + delay, new SimEvent(EventKind.Timer, Id) { Incarnation = Incarnation, Timer = new TimerTag(timerId, name, value) });
            return timerId;
        }

        public void AddAggregationTime(long stopwatchTicks) => sim._aggregationTicks += stopwatchTicks;

        public void CancelTimer(long timerId)
        {
            CheckActive();
            if (sim._pendingTimers.TryGetValue(timerId, out int owner) && owner == Id) sim._pendingTimers.Remove(timerId);
        }

        public void StartTraining(TrainingJob job)
        {
            CheckActive();
            ArgumentNullException.ThrowIfNull(job);
            if (BusyEvent is not null) throw new InvalidOperationException($"Node {Id} already runs a training job; one at a time.");
            double cost = sim._options.Compute.JobSeconds(job, SpeedFactor);
            if (!(cost >= 0) || !double.IsFinite(cost)) throw new InvalidOperationException($"The compute model gave job cost {cost} s; must be finite and ≥ 0.");
            job.Begin();
            double period = sim._options.Metrics.EverySeconds;
            if (IsEvaluated && period > 0)
            {
                double nextTick = Math.Ceiling(sim._now / period) * period;
                if (nextTick <= sim._now + cost && nextTick <= sim._options.MaxTime)
                {
                    job.RunPrologue(); // the evaluation sees the model the steps start from
                    PreJobSnapshot = job.Model.RawParameters.ToArray();
                }
            }
            ulong seed = sim._seed;
            int nodeId = Id;
            var ev = new SimEvent(EventKind.TrainingDone, Id)
            {
                Incarnation = Incarnation,
                Job = job,
                Task = Task.Run(() => job.Execute(seed, nodeId)),
            };
            BusyEvent = ev;
            sim._jobsStarted++;
            sim.Schedule(sim._now + cost, ev);
        }

        public void CompleteRound(long round, bool succeeded = true)
        {
            CheckActive();
            if (!IsReporter) throw new InvalidOperationException($"Node {Id}'s behaviour does not report rounds (ReportsRounds is false).");
            if (BusyEvent is not null) throw new InvalidOperationException($"Node {Id} reported round {round} while training; report a round before starting the next job.");
            if (round < 0 || round <= LastReported)
                throw new ArgumentOutOfRangeException(nameof(round), round, $"Node {Id} reported round {round} after round {LastReported}; rounds must increase.");
            if (!succeeded) sim._failedRounds++;
            sim.OnRoundReported(this, round);
        }
    }
}
