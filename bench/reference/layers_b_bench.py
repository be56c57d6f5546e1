#!/usr/bin/env python3
"""PyTorch reference speed for the layers-b models: SGD training steps (forward, backward, update)
of LeNet-5 on 28x28x1 and the GroupNorm ResNet-8 on 32x32x3, batch 32, random data, one thread.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 bench/reference/layers_b_bench.py [lenet|resnet8] [repeats]

Prints the median steps/s over the repeats (the machine is shared: compare medians taken at the
same time as the Flock measurement).
"""
import os, statistics, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers_b_golden import LeNet5, ResNet  # same architectures as the goldens

torch.set_num_threads(1)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else 'lenet'
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    if which == 'lenet':
        model, shape, steps = LeNet5(1, 2), (32, 1, 28, 28), 200
    else:
        model, shape, steps = ResNet(3, 10, 1, 16, 2), (32, 3, 32, 32), 5
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(*shape), torch.randint(0, 10, (shape[0],))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(max(5, steps // 4)):
        step()
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - t))
    print(f'{which}: params {sum(p.numel() for p in model.parameters())}, steps/s median {statistics.median(rates):.1f} '
          f'[{", ".join(f"{r:.0f}" for r in sorted(rates))}]')


if __name__ == '__main__':
    main()
