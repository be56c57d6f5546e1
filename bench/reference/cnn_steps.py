"""PyTorch reference for `bench/run.sh cnn`: LeNet-5 (the same architecture as Flock's
Models/Zoo/LeNet5.cs, conv1 padding 2) on Fashion-MNIST 28x28, SGD lr 0.01, batch 32, one thread.
Runs a warm-up, then times `steps` training steps (batch gathering, forward, backward, update) on
shuffled batches. Usage: cnn_steps.py [seed] [steps]. Prints
`pytorch_steps_per_second=<x> pytorch_seconds=<time>`."""
import sys
import time

import torch
import torch.nn.functional as F

import fashion_mnist
from layers_b_golden import LeNet5

torch.set_num_threads(1)
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 400
torch.manual_seed(seed)
x_train, y_train, _, _ = fashion_mnist.load()
xt = torch.from_numpy(x_train).reshape(-1, 1, 28, 28)
yt = torch.from_numpy(y_train)
model = LeNet5(1, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
perm = torch.randperm(xt.shape[0])
batch = 32


def step(i):
    idx = perm[(i * batch) % (xt.shape[0] - batch):][:batch]
    xb, yb = xt[idx], yt[idx]
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(xb), yb).backward()
    opt.step()


for i in range(50):
    step(i)
start = time.perf_counter()
for i in range(steps):
    step(i)
seconds = time.perf_counter() - start
print(f"pytorch_steps_per_second={steps / seconds:.2f} pytorch_seconds={seconds:.4f}")
