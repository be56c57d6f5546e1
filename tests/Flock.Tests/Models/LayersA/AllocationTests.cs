using Flock.Models.Engine;
using Flock.Models.Layers;
using Flock.Tensors;

namespace Flock.Tests.Models.LayersA;

public class AllocationTests
{
    [Fact]
    public void Forward_and_backward_allocate_nothing()
    {
        const int batch = 8;
        Layer[] layers = [new Flatten(), new LeakyReLU(), new Tanh(), new Sigmoid(), new GELU(), new Dropout(0.3f), new LayerNorm(1), new Embedding(10, 6)];
        foreach (var layer in layers)
        {
            var builder = new ParameterLayoutBuilder();
            layer.Build(new TensorShape(3, 10), builder);
            var layout = builder.Build();
            var p = new float[layout.Length];
            layer.InitializeParameters(p, new Rng(1));
            var x = new float[batch * 30];
            for (int i = 0; i < x.Length; i++) x[i] = i % 10;   // valid token ids for the embedding too
            var y = new float[batch * layer.OutputShape.Size];
            var dy = new float[y.Length];
            var dx = new float[x.Length];
            var dp = new float[p.Length];
            var scratch = new float[layer.ScratchLength(batch)];
            var ctx = new LayerContext { Training = true, Random = new Rng(2) };
            void Run()
            {
                layer.Forward(new ForwardArgs(p, x, y, scratch, batch, ctx));
                layer.Backward(new BackwardArgs(p, x, y, dy, dx, dp, scratch, batch, ctx));
            }
            Run();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < 10; k++) Run();
            Assert.True(GC.GetAllocatedBytesForCurrentThread() == before, $"{layer.GetType().Name} allocated {GC.GetAllocatedBytesForCurrentThread() - before} bytes");
        }
    }
}
