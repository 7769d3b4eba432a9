"""Memory sizes: ``--memory-budget`` values, the memory available now, and their display."""

from __future__ import annotations

import contextlib
import os
import re

UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "k": 2**10,
    "m": 2**20,
    "g": 2**30,
    "t": 2**40,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
AUTO_SHARE = 0.5  # --memory-budget auto: half of the memory available when training starts
FALLBACK_BUDGET = 2 * 2**30  # when the system does not say what is available
# a streamed run reads CHUNK_ROWS rows at a time, fewer when READ_COPIES of them (arrow,
# pandas, the rows kept, their encoding) would take more than 1/READ_SHARE of the budget
CHUNK_ROWS, MIN_CHUNK_ROWS, READ_COPIES, READ_SHARE = 65536, 64, 4, 8


def parse_size(text: str) -> int:
    """Bytes of a size such as ``256MiB``, ``1.5G``, ``500MB`` or ``1048576``
    (K/M/G and KiB/MiB/GiB are powers of 1024, KB/MB/GB of 1000). ValueError otherwise.

    Example:
        >>> parse_size("256MiB"), parse_size("1.5g"), parse_size("500 MB")
        (268435456, 1610612736, 500000000)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(f"{text!r} is not a size; write e.g. 256MiB, 2GiB or 500MB")
    size = int(float(match.group(1)) * UNITS[match.group(2).lower()])
    if size <= 0:
        raise ValueError(f"{text!r} is not a positive size")
    return size


def format_size(size: float) -> str:
    """A byte count for people.

    Example:
        >>> format_size(268435456), format_size(1536), format_size(3 * 2**30)
        ('256 MiB', '1.5 KiB', '3.0 GiB')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if unit == "MiB" else f"{value:.1f} {unit}"
    return f"{size:.0f} B"


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``), or None when the system
    does not say."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_budget(setting: str) -> int:
    """The budget in bytes of a ``--memory-budget`` setting (``auto`` or a size).

    Example:
        >>> memory_budget("64MiB")
        67108864
    """
    if setting != "auto":
        return parse_size(setting)
    available = available_memory()
    return int(available * AUTO_SHARE) if available else FALLBACK_BUDGET


def chunk_rows(budget: int, row_bytes: int) -> int:
    """Rows a streamed run reads at a time within ``budget`` bytes, for rows of
    ``row_bytes`` bytes as pandas holds them.

    Example:
        >>> chunk_rows(256 * 2**20, 84), chunk_rows(2**20, 84)
        (65536, 390)
    """
    fits = budget // READ_SHARE // (READ_COPIES * max(row_bytes, 1))
    return min(max(fits, MIN_CHUNK_ROWS), CHUNK_ROWS)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 << 10  # a column of a 65536-row chunk (256 KiB) gets its own mapping


def release_freed_memory() -> None:
    """Makes the memory of freed large arrays go back to the system at once, so that a
    streamed run's resident memory follows what it holds. glibc's malloc gives blocks of
    128 KiB and more their own mappings (by default that threshold grows to 32 MiB as
    such blocks are freed, after which freed arrays stay in the heap), and pyarrow allocates
    through malloc instead of mimalloc, which keeps what is freed for later. No-op where
    glibc is not the C library.

    Example:
        >>> release_freed_memory()
    """
    import ctypes  # only a streamed run changes the allocators

    with contextlib.suppress(OSError, AttributeError):  # another C library: its own policy
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    pa.set_memory_pool(pa.system_memory_pool())


def trim_freed_memory() -> None:
    """Hands the free pages of malloc's heaps back to the system (glibc's ``malloc_trim``):
    what a pass over the data freed in the middle of a heap stays resident otherwise.
    No-op where glibc is not the C library.

    Example:
        >>> trim_freed_memory()
    """
    import ctypes  # only a streamed run trims the heaps

    with contextlib.suppress(OSError, AttributeError):  # another C library: its own policy
        ctypes.CDLL("libc.so.6").malloc_trim(0)
