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

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabnet_cli.errors import TabnetError

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
    import torch.distributed as dist  # not at start-up: tabnet --help stays light

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def stop() -> None:
    import torch.distributed as dist  # not at start-up: tabnet --help stays light

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
    """Means over this rank's ``rows`` turned into means over every rank's rows (a rank
    without rows, whose means are NaN, adds nothing)."""
    import torch  # not at start-up: tabnet --help stays light
    import torch.distributed as dist  # not at start-up: tabnet --help stays light

    sums = means.double() * rows if rows else torch.zeros_like(means, dtype=torch.float64)
    packed = torch.cat([sums, means.new_tensor([rows], dtype=torch.float64)])
    dist.all_reduce(packed)
    return (packed[:-1] / packed[-1]).to(means.dtype)


def check_same(digest: str, what: str, device: torch.device) -> None:
    """Refuses to go on unless every rank holds the same ``digest`` (a hex SHA-256) of
    ``what`` (compared on ``device``, NCCL's GPU or gloo's CPU): ranks that would train on
    different data or encoders must not average their gradients. Every rank raises the
    same error, so none waits for another.
    """
    import torch  # not at start-up: tabnet --help stays light
    import torch.distributed as dist  # not at start-up: tabnet --help stays light

    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.int64, device=device)
    low, high = mine.clone(), mine.clone()
    dist.all_reduce(low, dist.ReduceOp.MIN)
    dist.all_reduce(high, dist.ReduceOp.MAX)
    if not torch.equal(low, high):
        raise TabnetError(
            f"the {dist.get_world_size()} processes prepared different {what}: the data "
            "changed while they read it, or a node reads other files; give every node the "
            "same DATA and train again"
        )


def reports() -> bool:
    """Whether this process speaks to the user: alone, or rank 0 of a data-parallel run
    (the other ranks meet the same errors and interrupts, and stay silent).

    Example:
        >>> reports()
        True
    """
    return os.environ.get("RANK", "0") == "0"


def reports_interrupts() -> bool:
    """Whether this process says it was interrupted: not a rank of ``tabnet --nproc``,
    whose launcher says it once (torchrun also stops every rank when one fails, and the
    failure is what the user must see).

    Example:
        >>> reports_interrupts()
        True
    """
    return reports() and ERRORS not in os.environ


ERRORS = "TABNET_RANK_ERRORS"  # a folder where each rank leaves its user error for launch
USER_ERROR = 2  # the exit code of a user error (cli.app's)


def check_devices(device: str, nproc: int) -> None:
    """``--device`` fits ``nproc`` processes: one GPU each (``auto`` with GPUs), or CPUs.

    Example:
        >>> check_devices("cpu", 4)
    """
    if device == "cpu":
        return
    import torch  # not at start-up: tabnet --help stays light

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device == "cuda" and not gpus:
        raise TabnetError("--device cuda asked for, but no CUDA GPU is available; use --device cpu")
    if 0 < gpus < nproc:
        raise TabnetError(
            f"--nproc {nproc} gives each process a GPU of its own and this machine has "
            f"{gpus}; give --nproc {gpus} or fewer, or --device cpu"
        )


def record_error(message: str) -> None:
    """Leaves a rank's user error where :func:`launch` finds it (only rank 0 prints)."""
    rank, folder = current(), os.environ.get(ERRORS)
    if rank is None or not folder or not os.path.isdir(folder):
        return
    with open(os.path.join(folder, f"rank-{rank.rank}"), "w", encoding="utf-8") as handle:
        handle.write(message)


@contextmanager
def errors_recorded() -> Iterator[None]:
    """A user error in this rank is recorded for the launcher, then raised as usual."""
    try:
        yield
    except TabnetError as exc:
        record_error(str(exc))
        raise


def launch(nproc: int, argv: list[str]) -> int:
    """Runs this same command under torchrun with ``nproc`` local ranks; the exit code.

    ``argv`` is the command line without ``--nproc``. torchrun is PyTorch's own launcher,
    run in this process so that its notes and its report of a failed rank (a traceback)
    are not shown: a rank's user error is its one ``Error:`` line (rank 0 prints it; one
    only another rank met is raised here) and exit code 2, a Ctrl-C is a Ctrl-C.
    """

    # not at start-up: tabnet --help stays light
    from torch.distributed.elastic.multiprocessing.api import SignalException

    # not at start-up: tabnet --help stays light
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run  # not at start-up: tabnet --help stays light

    args = parse_args(["--standalone", f"--nproc-per-node={nproc}", "-m", "tabnet_cli"])
    # the command's own options are set aside, not parsed: argparse reads any option in
    # the line as one of torchrun's, and --monitor is taken for --monitor-interval
    args.training_script_args = list(argv)
    with (
        tempfile.TemporaryDirectory(prefix="tabnet-ranks-") as errors,
        _environment({ERRORS: errors}, {"OMP_NUM_THREADS": "1"}),  # torchrun's, unsaid
        _quiet_torchrun(),
    ):
        try:
            run(args)
        except ChildFailedError as exc:
            return failure_code([f.exitcode for f in exc.failures.values()], errors)
        except SignalException:
            raise KeyboardInterrupt from None
    return 0


def failure_code(codes: list[int], errors: str) -> int:
    """The exit code of a failed launch: 2 for a user error (raised here when rank 0,
    which prints, did not meet it), else the first rank's code (a crash prints its own
    traceback).

    Example:
        >>> failure_code([-15, 1], "/nonexistent")
        1
    """
    found = {}
    if os.path.isdir(errors):
        for name in os.listdir(errors):
            with open(os.path.join(errors, name), encoding="utf-8") as handle:
                found[int(name.removeprefix("rank-"))] = handle.read()
    if 0 in found:
        return USER_ERROR  # rank 0 printed it
    if found:
        raise TabnetError(found[min(found)])
    return next((code for code in codes if code > 0), 1)


@contextmanager
def _environment(values: dict[str, str], defaults: dict[str, str]) -> Iterator[None]:
    """``values`` (and ``defaults`` where unset) in ``os.environ`` for the ranks, then
    the environment as it was."""
    saved = dict(os.environ)
    os.environ.update(values)
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _quiet_torchrun() -> Iterator[None]:
    """torchrun's own log lines (its start notes, "sending SIGTERM", "failed") silenced
    for the launch; the ranks speak for themselves."""

    names = [n for n in logging.root.manager.loggerDict if n.startswith("torch.distributed")]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
