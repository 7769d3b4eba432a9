"""Memory sizes: ``--memory-budget`` values, the memory available now, and their display."""

from __future__ import annotations

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
