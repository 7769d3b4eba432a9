"""One training step of the DDP benchmark's network, alone and in lockstep: where the
2-process speed-up of `bench/ddp_scale.py` goes.

Usage:
    python bench/ddp_step.py [--steps 400]

The network of bench/ddp_scale.py (20 -> 256 -> 256 -> 1, Adam, MSE) at the per-rank batch
(512 rows), 1 thread per process; median milliseconds per step (forward, backward,
optimizer) after 50 warm-up steps, for:

- ``solo``: one process alone;
- ``two solos``: two independent processes at once (nothing exchanged): what running
  together costs each of them on this machine;
- ``ddp``: two ranks under DistributedDataParallel (gloo), as `tabnet train --nproc 2`;
- ``ddp bucket view``: the same with ``gradient_as_bucket_view`` and ``static_graph``;
- ``flat all-reduce``: no DDP hooks: one all-reduce of the flattened gradients after the
  backward pass (no overlap with it, no gloo thread competing with the backward).

A lockstep step costs the slower rank's step plus the all-reduce, whatever the wrapper.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

BATCH, WARM_UP = 512, 50


def network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1)
    )


def step_times(model: nn.Module, steps: int, after_backward=None) -> float:
    """Median ms per step of ``model`` on a fixed random batch."""
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.randn(BATCH, 20), torch.randn(BATCH)
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        loss = ((model(x).squeeze(-1) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        if after_backward is not None:
            after_backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times[WARM_UP:])


def flat_all_reduce(params: list[torch.Tensor]):
    def reduce() -> None:
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        offset = 0
        for p in params:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    return reduce


def rank_worker(rank: int, port: int, mode: str, steps: int, results) -> None:
    torch.set_num_threads(1)
    store = dist.TCPStore("127.0.0.1", port, 2, rank == 0)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=2)
    model, hook = network(), None
    if mode == "ddp":
        model = DistributedDataParallel(model)
    elif mode == "ddp bucket view":
        model = DistributedDataParallel(model, gradient_as_bucket_view=True, static_graph=True)
    else:
        hook = flat_all_reduce(list(model.parameters()))
    results.put(step_times(model, steps, hook))
    dist.destroy_process_group()


def solo_worker(steps: int, results) -> None:
    torch.set_num_threads(1)
    results.put(step_times(network(), steps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    context = mp.get_context("spawn")
    print(f"ms per step at batch {BATCH}, 1 thread per process (median of {args.steps - WARM_UP})")
    for mode in ("solo", "two solos", "ddp", "ddp bucket view", "flat all-reduce"):
        results = context.Queue()
        if mode in ("solo", "two solos"):
            workers = [
                context.Process(target=solo_worker, args=(args.steps, results))
                for _ in range(1 if mode == "solo" else 2)
            ]
        else:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            workers = [
                context.Process(target=rank_worker, args=(r, port, mode, args.steps, results))
                for r in (0, 1)
            ]
        for worker in workers:
            worker.start()
        found = sorted(results.get(timeout=600) for _ in workers)
        for worker in workers:
            worker.join()
        print(f"  {mode:<16} " + "  ".join(f"{ms:6.2f}" for ms in found), flush=True)


if __name__ == "__main__":
    main()
