"""Data-parallel training with PyTorch's DistributedDataParallel, under ``torchrun``.

Each process (rank) reads the data and prepares it exactly as a single process would (same
seed, same split, same encoders fitted on the same training rows), then trains on its
shard of the rows: every ``world``-th row from its rank on. DDP averages the gradients;
the epoch's metrics are summed over the ranks, so every rank sees the same logs and early
stopping decides the same on all of them. Only rank 0 prints and writes the run.

``torchrun --standalone --nproc-per-node 2 -m tabnet_cli train ...`` starts two ranks on
one machine; ``tabnet train ... --nproc 2`` does the same for you. Several machines use
torchrun's usual rendezvous options (``--nnodes``, ``--node-rank``, ``--rdzv-endpoint``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class Rank:
    """This process's place among ``world`` training processes."""

    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def current() -> Rank | None:
    """The rank torchrun gave this process (``RANK``/``WORLD_SIZE``), or None alone.

    Example:
        >>> current() is None or current().world > 1
        True
    """
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        return None
    return Rank(rank, world, local) if world > 1 else None


def start(rank: Rank, device: torch.device) -> None:
    """Joins the process group: NCCL between GPUs, gloo on CPUs."""
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def stop() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def shard(rows: np.ndarray, rank: Rank) -> np.ndarray:
    """This rank's rows: every ``world``-th one from its rank on.

    Example:
        >>> import numpy as np
        >>> shard(np.arange(10), Rank(1, 3, 1)).tolist()
        [1, 4, 7]
    """
    return rows[rank.rank :: rank.world]


def reduce_means(means: torch.Tensor, rows: int) -> torch.Tensor:
    """Means over this rank's ``rows`` turned into means over every rank's rows."""
    import torch
    import torch.distributed as dist

    packed = torch.cat([means.double() * rows, means.new_tensor([rows], dtype=torch.float64)])
    dist.all_reduce(packed)
    return (packed[:-1] / packed[-1]).to(means.dtype)


def launch(nproc: int, argv: list[str]) -> int:
    """Runs this same command under torchrun with ``nproc`` local ranks; the exit code.

    ``argv`` is the command line without ``--nproc``. torchrun is PyTorch's own launcher,
    so everything it offers (restarts, rendezvous) works the same.
    """
    import subprocess

    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        f"--nproc-per-node={nproc}", "-m", "tabnet_cli", *argv,
    ]  # fmt: skip
    return subprocess.call(command)
