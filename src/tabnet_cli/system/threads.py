"""How many CPU threads one training step should use.

PyTorch's default (one thread per core) is right for one big job alone on a machine and
wrong for everything else: a small step is dominated by the threads' hand-offs (at batch
64 a census-income step runs faster on one thread than on two), and several runs sharing
the cores oversubscribe them (three default runs on two cores took 3x as long as three
one-thread runs). So the count follows the work of a step and the cores that are free:

    threads = min(cores this process may use and nobody else is running on,
                  matrix work of a step / WORK_PER_THREAD), at least 1

``--threads N`` overrides it; the choice is recorded in metrics.json.
"""

from __future__ import annotations

import os

# Multiply-adds of a forward pass (batch x weights) per thread worth starting. On this
# project's 2-core machines, 3 x 256 units at batch 64 (about 10M) ran faster on 2 threads
# (bench/threads.py), and 2 x 256 at batch 64 (about 6M, census income) faster on 1.
WORK_PER_THREAD = 4e6


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. under taskset or a
    container's cpuset), not every CPU of the machine.

    Example:
        >>> usable_cpus() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def busy_elsewhere() -> int:
    """Processes running right now besides this one: the instantaneous runnable count in
    /proc/loadavg (the load averages lag by a minute, too late for runs started together).

    Example:
        >>> busy_elsewhere() >= 0
        True
    """
    try:
        with open("/proc/loadavg") as handle:
            running = int(handle.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(running - 1, 0)


def choose_threads(work_per_step: float, requested: int = 0) -> int:
    """The thread count for steps of ``work_per_step`` multiply-adds; ``requested`` > 0
    wins.

    Example:
        >>> choose_threads(5e6), choose_threads(5e6, requested=3)
        (1, 3)
    """
    if requested > 0:
        return requested
    free = max(usable_cpus() - busy_elsewhere(), 1)
    return int(max(1, min(free, work_per_step // WORK_PER_THREAD)))
