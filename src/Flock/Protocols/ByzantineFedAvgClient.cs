using Flock.Data;
using Flock.Models;
using Flock.Optimizers;

namespace Flock.Protocols;

/// <summary>
/// A Byzantine <see cref="FedAvg"/> client (see <see cref="ByzantineSetup"/>): it trains honestly
/// from the global model (on its poisoned data, if any), deposits its honest update with the shared
/// <see cref="ByzantineAdversary"/>, and replies with a crafted model instead of its trained one
/// (update space by default: <c>θ_global + crafted Δ</c>). Attacks that read honest vectors craft
/// from the colluders' pooled honest updates of the round, once every colluder sampled in the round
/// has deposited (or at the collusion timeout, see <see cref="ByzantineSetup"/>) — a client never
/// sees other clients' updates. The reply carries the client's true sample count. Built by
/// <see cref="FedAvg.CreateNodes"/>.
/// </summary>
public sealed class ByzantineFedAvgClient : INodeBehavior
{
    /// <summary>Name of the crafting timer.</summary>
    public const string CraftTimer = "fedavg/craft";

    private readonly ILearner _learner;
    private readonly IOptimizer _optimizer;
    private readonly DatasetView _data;
    private readonly FedAvgOptions _options;
    private readonly ByzantineRole _role;
    private LocalModel? _model;
    private bool _training;
    private bool _crafting;
    private long _round;
    private int _server = -1;
    private long _timer = -1;
    private Message? _pending;
    private int _pendingFrom = -1;

    internal ByzantineFedAvgClient(ILearner learner, IOptimizer optimizer, DatasetView data, FedAvgOptions options, ByzantineRole role)
    {
        _learner = learner ?? throw new ArgumentNullException(nameof(learner));
        _optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _role = role ?? throw new ArgumentNullException(nameof(role));
        if (options.LocalSteps > 0 && data.Count == 0) throw new ArgumentException("A FedAvg client with local steps needs data; its view is empty.", nameof(data));
        if (!options.ResetClientOptimizer) _model = LocalModel.Create(learner, optimizer);
    }

    /// <summary>The data this client trains on (poisoned when the setup has a data poisoning).</summary>
    public DatasetView Data => _data;

    /// <inheritdoc />
    public bool ReportsRounds => false;

    /// <inheritdoc />
    public ReadOnlyMemory<float> EvaluationModel => ReadOnlyMemory<float>.Empty;

    /// <inheritdoc />
    public void OnStart(INodeContext context) { }

    /// <inheritdoc />
    public void OnMessage(INodeContext context, int from, Message message)
    {
        if (message.Kind != FedAvg.ModelKind || message.Model.Length != _learner.Layout.Length || message.Round < _round) return;
        if (_training || _crafting)
        {
            if (_pending is null || message.Round > _pending.Round) { _pending = message; _pendingFrom = from; }
            return;
        }
        Train(context, from, message);
    }

    private void Train(INodeContext context, int from, Message message)
    {
        _model ??= LocalModel.Create(_learner, _optimizer);
        message.Model.Span.CopyTo(_model.Parameters);
        if (_options.ResetClientOptimizer) _model.ResetOptimizer();
        _role.BeginRound(context, message.Round, message.Model.Span);
        _server = from;
        _round = message.Round;
        _training = true;
        context.StartTraining(new TrainingJob(_model, _learner, _optimizer, _data, _options.LocalSteps, _options.BatchSize, message.Round));
    }

    /// <inheritdoc />
    public void OnTrainingFinished(INodeContext context, TrainingResult result)
    {
        _training = false;
        if (TrainPending(context)) return;
        _role.Trained(context, _round, _model!.Parameters, _options.RoundTimeout);
        _crafting = true;
        TryCraft(context);
    }

    private void TryCraft(INodeContext context)
    {
        double delay = _role.CraftDelay(context.Now, _round, honestReady: true);
        if (delay < 0) CraftAndSend(context);
        else _timer = context.SetTimer(delay, CraftTimer, _round);
    }

    private bool TrainPending(INodeContext context)
    {
        if (_pending is not { } next) return false;
        _pending = null;
        Train(context, _pendingFrom, next);
        return true;
    }

    private void CraftAndSend(INodeContext context)
    {
        _timer = -1;
        _crafting = false;
        var v = new float[_model!.ParameterCount];
        _role.Craft(context, _round, _model.Parameters, [], -1, v);
        context.Send(_server, new Message(FedAvg.UpdateKind, _round, v, new double[] { _data.Count }));
        if (_options.ResetClientOptimizer) _model = null;
        TrainPending(context);
    }

    /// <inheritdoc />
    public void OnTimer(INodeContext context, TimerTag timer)
    {
        if (timer.Name == CraftTimer && _crafting && timer.Value == _round) { _timer = -1; TryCraft(context); }
    }

    /// <summary>A job lost at the crash is dropped (a pending model is trained now); a pending craft happens at once.</summary>
    public void OnRecover(INodeContext context)
    {
        if (_crafting) { CraftAndSend(context); return; }
        _training = false;
        if (_options.ResetClientOptimizer) _model = null;
        TrainPending(context);
    }

    /// <inheritdoc />
    public void WriteState(StateWriter writer)
    {
        writer.Write(_model is not null);
        _model?.Write(writer);
        writer.Write(_training);
        writer.Write(_crafting);
        writer.Write(_round);
        writer.Write(_server);
        writer.Write(_timer);
        writer.WriteMessage(_pending);
        writer.Write(_pendingFrom);
        _role.WriteState(writer);
    }

    /// <inheritdoc />
    public void ReadState(StateReader reader)
    {
        if (reader.ReadBoolean())
        {
            _model ??= LocalModel.Create(_learner, _optimizer);
            _model.Read(reader);
        }
        else _model = null;
        _training = reader.ReadBoolean();
        _crafting = reader.ReadBoolean();
        _round = reader.ReadInt64();
        _server = reader.ReadInt32();
        _timer = reader.ReadInt64();
        _pending = reader.ReadMessage();
        _pendingFrom = reader.ReadInt32();
        _role.ReadState(reader);
    }
}
