"""What a streamed run may hold, sized from ``--memory-budget`` (per process).

The budget bounds every place that holds rows while training; each is sized from it:

- **reading**: one chunk of ``chunk_rows`` rows as pyarrow and pandas hold it, its kept
  rows and their encoding (``READ_COPIES`` times its size in pandas), plus the raw bytes
  of the parquet row group (or CSV blocks) it comes from;
- **the batch**: its encoded rows, and what the training step keeps per row for the
  backward pass (``step_bytes``, measured on the network; 0 on a GPU, whose memory is
  not the budget's);
- **the shuffle buffer**: ``fill`` encoded rows, two copies of them while the chunks
  held are joined into one array (batches gather their rows from it: no permuted copy);
  it must hold at least one batch;
- **the validation cache**: this process's validation rows, encoded, kept after the
  first epoch when they fit in a quarter of the budget (else read again each epoch);
- **the outputs** held for the epoch's metrics.

Validation uses what training used: its batches are as large as the shuffle buffer and
the batch allowed, up to ``VALID_BATCH_ROWS``. What the budget does not cover is the
fixed cost of a run: the interpreter, PyTorch, pandas and pyarrow, the network's weights
and optimizer state (bench/README.md measures it). A batch that cannot fit is refused
before training, with the largest batch that fits and the budget this one needs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from tabnet_cli.errors import TabnetError
from tabnet_cli.system.memory import CHUNK_ROWS, READ_COPIES, chunk_rows, format_size

SHUFFLE_COPIES = 2  # the held chunks and their concatenation
STEP_COPIES = 3  # saved activations, their gradients and the temporaries of the backward
VALID_BATCH_ROWS = 8192
CACHE_SHARE, METRIC_SHARE = 4, 32  # at most 1/4 and 1/32 of the budget


@dataclass(frozen=True)
class StreamSizes:
    """How many rows each holder of a streamed run takes."""

    chunk_rows: int  # rows read and encoded at a time
    fill: int  # rows the shuffle buffer gathers before handing out batches
    cache_rows: int  # validation rows kept in memory after the first epoch (0: none)
    valid_batch: int  # rows per validation forward pass
    metric_rows: int  # rows of outputs the epoch's metrics hold before summarising


@dataclass(frozen=True)
class RowCosts:
    """Bytes per row in each form a streamed run holds rows."""

    encoded: int  # the model's inputs and the target, float32
    raw: int  # a row as read, in pandas
    step: int  # what a training step keeps per row of its batch (0 on a GPU)
    outputs: int  # the outputs and target the metrics hold
    group: int = 0  # raw bytes of the largest unit read at once (a parquet row group)


def stream_sizes(
    budget: int, batch: int, costs: RowCosts, valid_rows: int, world: int = 1
) -> StreamSizes:
    """The sizes of a streamed run's holders in ``budget`` bytes, for batches of
    ``batch`` rows and this process's ``valid_rows`` (one of ``world``); refuses a batch
    that does not fit.

    Example:
        >>> costs = RowCosts(encoded=84, raw=84, step=18_000, outputs=8, group=11 << 20)
        >>> sizes = stream_sizes(256 << 20, 4096, costs, 400_000)
        >>> sizes.chunk_rows, sizes.fill >= 4096, sizes.cache_rows, sizes.valid_batch
        (65536, True, 400000, 8192)
    """
    chunk = chunk_rows(budget, costs.raw)
    read = costs.group + chunk * READ_COPIES * costs.raw
    metric_rows = max(batch, min(CHUNK_ROWS, budget // METRIC_SHARE // costs.outputs))
    fixed = read + metric_rows * costs.outputs
    per_batch_row = costs.encoded + costs.step + SHUFFLE_COPIES * costs.encoded
    spare = budget - fixed - batch * per_batch_row
    if spare < 0:
        raise _refused(budget, batch, fixed, per_batch_row, world)
    cache_rows = min(valid_rows, budget // CACHE_SHARE // costs.encoded)
    cache_rows = min(cache_rows, spare // 2 // costs.encoded)
    spare -= cache_rows * costs.encoded
    fill = batch + spare // (SHUFFLE_COPIES * costs.encoded)
    # validation: the batch's and the buffer's memory are free then
    valid_batch = (budget - fixed - cache_rows * costs.encoded) // (costs.encoded + costs.step)
    valid_batch = min(max(valid_batch, 1), VALID_BATCH_ROWS)
    return StreamSizes(chunk, fill, cache_rows, valid_batch, metric_rows)


def _refused(budget: int, batch: int, fixed: int, per_row: int, world: int) -> TabnetError:
    """The refusal of a batch that does not fit, with a batch that does (``--batch-size``
    is the batch of all ``world`` processes together) and the budget this one needs."""
    fits = max((budget - fixed) // per_row, 0) * world
    needed = fixed + batch * per_row
    each = " per process" if world > 1 else ""
    advice = f"lower --batch-size to {fits:,} or less, or " if fits else ""
    return TabnetError(
        f"a batch of {batch:,} rows{each} needs about {format_size(batch * per_row)} to train "
        f"streamed (its rows, the network's activations and the shuffle buffer) and reading "
        f"{format_size(fixed)} more, over the --memory-budget of {format_size(budget)}{each}; "
        f"{advice}raise --memory-budget to {format_size(needed * 1.1)}"
    )


def step_bytes(model: nn.Module, inputs: int, device: torch.device) -> int:
    """Bytes a training step holds per row of its batch: what autograd saves for the
    backward pass (measured on a copy of ``model``, which stays as it was, random state
    included), times ``STEP_COPIES``; 0 on a GPU.

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 8), nn.ReLU())  # saves 3 inputs and 8 outputs
        >>> step_bytes(net, 3, torch.device("cpu")) == STEP_COPIES * 4 * (3 + 8)
        True
    """
    if device.type != "cpu":
        return 0
    rows, saved = 8, {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved[(tensor.data_ptr(), tensor.numel())] = tensor.numel() * tensor.element_size()
        return tensor

    probe = copy.deepcopy(model).train()
    weights = {p.data_ptr() for p in probe.parameters()}
    with torch.random.fork_rng(devices=[]), torch.autograd.graph.saved_tensors_hooks(pack, _same):
        probe(torch.zeros(rows, inputs))
    held = sum(size for (pointer, _), size in saved.items() if pointer not in weights)
    return STEP_COPIES * -(-held // rows)


def _same(tensor: torch.Tensor) -> torch.Tensor:
    return tensor
