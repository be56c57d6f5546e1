using Flock.Data;
using Flock.Tensors;

namespace Flock.Attacks;

/// <summary>
/// A data-poisoning attack: changes what a Byzantine node trains on. Built once per node from the
/// node's <see cref="DatasetView"/>; the node then trains honestly on the returned view. Shared
/// features are never copied unless the attack changes them (label flipping shares them; a
/// backdoor copies only the node's own examples). Implementations are stateless and thread-safe.
/// </summary>
public interface IDataPoisoning
{
    /// <summary>Registry name (e.g. <c>"label-flipping"</c>).</summary>
    string Name { get; }

    /// <summary>The parameters of this instance, with their defaults and docs.</summary>
    IReadOnlyList<AttackParameter> Parameters { get; }

    /// <summary>The poisoned view the Byzantine node trains on instead of <paramref name="view"/>.</summary>
    /// <param name="view">The node's honest data.</param>
    /// <param name="rng">The node's generator for this purpose (which examples to poison, ...).</param>
    /// <exception cref="ArgumentException">The dataset does not suit the attack (documented per attack).</exception>
    DatasetView Poison(DatasetView view, Rng rng);
}
