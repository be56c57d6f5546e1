using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flock.Attacks;

/// <summary>
/// Model replacement (update boosting): the attacker scales its update so that, after averaging
/// with the others, the global model is (approximately) replaced by its backdoored one:
/// <c>θ_sent = θ_global + γ·(θ_local − θ_global)</c>, with γ = n/η for n participants and a global
/// learning rate η. From "How To Backdoor Federated Learning" (Bagdasaryan, Veit, Hua, Estrin &amp;
/// Shmatikov, AISTATS 2020).
/// </summary>
public static class ModelReplacement
{
    /// <summary>The boost γ = n/η that replaces the global model under FedAvg with n participants and global learning rate η.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="participants"/> &lt; 1 or <paramref name="globalLearningRate"/> not finite and positive.</exception>
    public static float BoostFactor(int participants, float globalLearningRate = 1f)
    {
        AttackCheck.AtLeast(participants, 1, nameof(participants), "number of participants");
        AttackCheck.Positive(globalLearningRate, nameof(globalLearningRate), "global learning rate");
        return participants / globalLearningRate;
    }

    /// <summary>
    /// <c>output = global + γ·(local − global)</c> (SIMD, unfused: the same rounding on every path). <paramref name="output"/> may be
    /// <paramref name="local"/> or <paramref name="global"/> itself (element-wise).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is not finite.</exception>
    public static void Scale(ReadOnlySpan<float> global, ReadOnlySpan<float> local, float gamma, Span<float> output)
    {
        AttackCheck.Finite(gamma, nameof(gamma), "boost factor");
        if (local.Length != global.Length) throw new ArgumentException($"The local model has {local.Length} elements but the global one has {global.Length}.", nameof(local));
        if (output.Length != global.Length) throw new ArgumentException($"The output has {output.Length} elements but the global model has {global.Length}.", nameof(output));
        int n = output.Length, i = 0;
        ref float g = ref MemoryMarshal.GetReference(global);
        ref float l = ref MemoryMarshal.GetReference(local);
        ref float o = ref MemoryMarshal.GetReference(output);
        if (Vector256.IsHardwareAccelerated)
        {
            var vg = Vector256.Create(gamma);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var gv = Vector256.LoadUnsafe(ref g, (nuint)i);
                (gv + vg * (Vector256.LoadUnsafe(ref l, (nuint)i) - gv)).StoreUnsafe(ref o, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float gi = Unsafe.Add(ref g, i);
            Unsafe.Add(ref o, i) = gi + gamma * (Unsafe.Add(ref l, i) - gi);
        }
    }

    /// <summary>Scales an update in place: <c>Δ ← γ·Δ</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is not finite.</exception>
    public static void ScaleUpdate(Span<float> update, float gamma)
    {
        AttackCheck.Finite(gamma, nameof(gamma), "boost factor");
        TensorPrimitives.Multiply(update, gamma, update);
    }
}
