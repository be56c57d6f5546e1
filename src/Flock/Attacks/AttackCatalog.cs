namespace Flock.Attacks;

/// <summary>Every attack of this layer with its registry description, for <c>flock list</c> and the experiment registry.</summary>
public static class AttackCatalog
{
    /// <summary>The descriptions, model attacks first.</summary>
    public static IReadOnlyList<AttackInfo> All { get; } =
    [
        SignFlipping.Describe(),
        GaussianAttack.Describe(),
        InnerProductManipulation.Describe(),
        ALittleIsEnough.Describe(),
        Mimic.Describe(),
        OptimalALittleIsEnough.Describe(),
        OptimalInnerProductManipulation.Describe(),
        Sybil.Describe(),
        LabelFlipping.Describe(),
        Backdoor.Describe(),
    ];
}
