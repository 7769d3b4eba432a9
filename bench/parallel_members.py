"""Why bagged members train in forked processes: K small networks (the recipe's member
step, batch 32, 3 x 256 units) trained in turn on one thread, in turn on two threads,
in two Python threads, and in two forked processes, in the same run.

Usage:
  python bench/parallel_members.py [--steps 1500] [--batch 32] [--inputs 176]

Prints the four wall times and the speed-ups against one thread in turn.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import torch


def member(steps: int, batch: int, inputs: int, seed: int = 0) -> None:
    """One member's training steps on random rows (AdamW, MSE), as the recipe's step."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1024, inputs, generator=generator)
    y = torch.randn(1024, 1, generator=generator)
    layers, width = [], inputs
    for _ in range(3):
        layers += [torch.nn.Linear(width, 256), torch.nn.ReLU()]
        width = 256
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=True)
    for _ in range(steps):
        rows = torch.randint(0, 1024, (batch,), generator=generator)
        loss = torch.nn.functional.mse_loss(model(x[rows]), y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=176)
    args = parser.parse_args()
    job = (args.steps, args.batch, args.inputs)
    torch.set_num_threads(1)
    member(50, args.batch, args.inputs)  # warm-up

    def in_turn() -> None:
        member(*job)
        member(*job)

    def python_threads() -> None:
        threads = [threading.Thread(target=member, args=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def forked() -> None:
        children = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                member(*job)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)

    one = timed(in_turn)
    threads = timed(python_threads)
    processes = timed(forked)
    torch.set_num_threads(2)
    two = timed(in_turn)
    print(f"in turn, 1 thread {one:.2f} s; in turn, 2 threads {two:.2f} s ({one / two:.2f}x); "
          f"2 Python threads {threads:.2f} s ({one / threads:.2f}x); "
          f"2 forked processes {processes:.2f} s ({one / processes:.2f}x)")


if __name__ == "__main__":
    main()
