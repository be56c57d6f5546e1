using Flock.Experiments.Config;
using Flock.Optimizers;

namespace Flock.Experiments.Catalog;

/// <summary>Registered local optimizers (<c>[optimizer] name = ...</c>); every one accepts <c>max_grad_norm</c>.</summary>
public static class OptimizerCatalog
{
    private static readonly Param<double> LrSgd = Params.Double("learning_rate", 0.05, "learning rate η", min: 0);
    private static readonly Param<double> LrAdam = Params.Double("learning_rate", 1e-3, "learning rate η", min: 0);
    private static readonly Param<double> WdAdamW = Params.Double("weight_decay", 1e-2, "decoupled weight decay", min: 0);
    private static readonly Param<double> Wd = Params.Double("weight_decay", 0, "weight decay (coupled L2 for sgd/momentum/adam, decoupled for adamw)", min: 0);
    private static readonly Param<double> Momentum = Params.Double("momentum", 0.9, "momentum μ", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> Dampening = Params.Double("dampening", 0, "dampening of the momentum buffer", min: 0, max: 1);
    private static readonly Param<bool> Nesterov = Params.Bool("nesterov", false, "Nesterov momentum");
    private static readonly Param<double> Beta1 = Params.Double("beta1", 0.9, "first-moment decay β1", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> Beta2 = Params.Double("beta2", 0.999, "second-moment decay β2", min: 0, max: 1, maxExclusive: true);
    private static readonly Param<double> Eps = Params.Double("epsilon", 1e-8, "denominator ε", min: 0);
    private static readonly Param<bool> Amsgrad = Params.Bool("amsgrad", false, "AMSGrad variant");
    private static readonly Param<double> MaxNorm = Params.Double("max_grad_norm", 0, "clip the gradient's global L2 norm to this (0 = no clipping)", min: 0);

    private static IOptimizer Clip(ConfigSection s, IOptimizer o)
    {
        double c = s.Get(MaxNorm);
        return c > 0 ? new GradientNormClipping(o, (float)c) : o;
    }

    /// <summary>The registry.</summary>
    public static ComponentRegistry<int, IOptimizer> Registry { get; } = new ComponentRegistry<int, IOptimizer>("optimizer")
        .Add("sgd", "Stochastic gradient descent.", "standard", new Param[] { LrSgd, Wd, MaxNorm },
            (s, _) => Clip(s, new Sgd((float)s.Get(LrSgd), (float)s.Get(Wd))))
        .Add("momentum", "SGD with heavy-ball or Nesterov momentum (PyTorch semantics).", "Polyak, 1964; Sutskever et al., 2013",
            new Param[] { LrSgd, Momentum, Dampening, Nesterov, Wd, MaxNorm },
            (s, _) => Clip(s, new MomentumSgd((float)s.Get(LrSgd), (float)s.Get(Momentum), (float)s.Get(Dampening), s.Get(Nesterov), (float)s.Get(Wd))))
        .Add("adam", "Adam with bias correction.", "Kingma and Ba, \"Adam: A Method for Stochastic Optimization\", 2015",
            new Param[] { LrAdam, Beta1, Beta2, Eps, Wd, Amsgrad, MaxNorm },
            (s, _) => Clip(s, new Adam((float)s.Get(LrAdam), (float)s.Get(Beta1), (float)s.Get(Beta2), (float)s.Get(Eps), (float)s.Get(Wd), s.Get(Amsgrad))))
        .Add("adamw", "Adam with decoupled weight decay.", "Loshchilov and Hutter, \"Decoupled Weight Decay Regularization\", 2019",
            new Param[] { LrAdam, Beta1, Beta2, Eps, WdAdamW, Amsgrad, MaxNorm },
            (s, _) => Clip(s, new AdamW((float)s.Get(LrAdam), (float)s.Get(Beta1), (float)s.Get(Beta2), (float)s.Get(Eps),
                (float)s.Get(WdAdamW), s.Get(Amsgrad))));
}
