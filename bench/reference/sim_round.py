"""PyTorch reference for `bench/run.sh sim`: decentralized SGD rounds of 100 MLP 784-128-10 nodes
(IID shards of Fashion-MNIST, 600 examples each), every node 10 local SGD steps (lr 0.05, batch 32)
then Metropolis-Hastings averaging with its 4 ring neighbours (k = 2 each side: all weights 1/5).

Plain PyTorch, no simulator: the 100 models live as rows of one shared flat tensor; `workers`
processes (one thread each) train their share of the nodes by copying a row into a torch module,
stepping, and copying it back, then each averages its share of rows into a second shared tensor.
With workers = 2 it uses both cores, like Flock's parallel simulator.
Usage: sim_round.py [seed] [rounds] [workers]. Prints `pytorch_seconds_per_round=<s>`."""
import multiprocessing as mp
import sys
import time

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

import fashion_mnist

NODES, STEPS, BATCH, LR, K = 100, 10, 32, 0.05, 2


def make_model():
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def worker(w, workers, seed, rounds, xs, ys, shards, bufs, barrier, times):
    torch.set_num_threads(1)
    torch.manual_seed(seed * 1000 + w)
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    mine = range(w, NODES, workers)
    gen = torch.Generator().manual_seed(seed * 7 + w)
    for r in range(rounds + 1):  # round 0 warms up
        barrier.wait()
        start = time.perf_counter()
        src, dst = bufs[r % 2], bufs[(r + 1) % 2]
        for i in mine:
            vector_to_parameters(src[i], model.parameters())
            shard = shards[i]
            for _ in range(STEPS):
                idx = shard[torch.randint(0, shard.shape[0], (BATCH,), generator=gen)]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(xs[idx]), ys[idx]).backward()
                opt.step()
            src[i].copy_(parameters_to_vector(model.parameters()))
        barrier.wait()  # every model of the round is trained
        for i in mine:
            acc = src[i].clone()
            for d in range(1, K + 1):
                acc += src[(i + d) % NODES]
                acc += src[(i - d) % NODES]
            dst[i].copy_(acc.mul_(1.0 / (2 * K + 1)))
        barrier.wait()
        if w == 0 and r > 0:
            times.append(time.perf_counter() - start)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.manual_seed(seed)
    x, y, _, _ = fashion_mnist.load()
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    shards = torch.randperm(xs.shape[0]).view(NODES, -1)
    init = parameters_to_vector(make_model().parameters()).detach()
    bufs = [init.repeat(NODES, 1).share_memory_() for _ in range(2)]
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(workers)
    manager = ctx.Manager()
    times = manager.list()
    procs = [ctx.Process(target=worker, args=(w, workers, seed, rounds, xs, ys, shards, bufs, barrier, times)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"worker failed with {p.exitcode}")
    t = sorted(times)
    print(f"pytorch_seconds_per_round={t[len(t) // 2]:.4f}")


if __name__ == "__main__":
    main()
