"""Streamed data-parallel training: how an epoch's blocks divide among the ranks (every
row once, equal step counts on uneven shares), the check that every rank prepared the
same data, the refusal of a batch the budget cannot hold, and whole runs under torchrun
(two local processes, and two "nodes" on this machine)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_user_error, streaming_budget
from hypothesis import given, settings
from hypothesis import strategies as st

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.shares import batch_bounds, epoch_order, epoch_steps, rank_share
from tabnet_cli.fit.streamed_batches import StreamedRows, shuffled_batches
from tabnet_cli.prep.streamed import prepare_streamed
from tabnet_cli.settings.config import DataConfig
from tabnet_cli.system.distributed import Rank

GROUPS = (1500, 700, 300)  # uneven row groups: 3 blocks cannot split evenly over 2 ranks


@pytest.fixture
def uneven_parquet(tmp_path: Path) -> Path:
    """2500 rows in three row groups of different sizes; y depends on a and b."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    rows = sum(GROUPS)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = 2 * x[:, 0] - x[:, 1] + 0.05 * rng.normal(size=rows)
    path = tmp_path / "uneven.parquet"
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pq.ParquetWriter(path, table.schema) as writer:
        start = 0
        for size in GROUPS:
            writer.write_table(table.slice(start, size))
            start += size
    return path


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=8),
    st.integers(1, 5),
    st.integers(0, 2**16),
    st.integers(1, 30),
)
def test_every_row_goes_to_one_rank_and_every_rank_takes_the_same_steps(counts, world, seed, batch):
    order = epoch_order(len(counts), seed, epoch=1)
    assert sorted(order) == list(range(len(counts)))
    shares = [rank_share(counts, order, rank, world) for rank in range(world)]
    rows = [(block, row) for share in shares for block, a, b in share for row in range(a, b)]
    assert sorted(rows) == [(block, row) for block, n in enumerate(counts) for row in range(n)]
    sizes = [sum(b - a for _, a, b in share) for share in shares]
    assert max(sizes) - min(sizes) <= 1  # shares differ by one row at most
    total = sum(counts)
    if total < world:
        return  # refused before training (batch_source): nothing to share
    steps = epoch_steps(total, world, batch)
    for size in sizes:
        bounds = batch_bounds(size, batch, steps)
        lengths = np.diff(bounds)
        assert len(lengths) == steps  # the same number of steps on every rank
        assert lengths.min() >= 1 and lengths.max() <= batch + 1  # none empty
    assert steps == -(-(total // world) // batch)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=6),
    st.integers(1, 20),
    st.integers(1, 90),
    st.integers(0, 2**16),
    st.booleans(),
)
def test_the_shuffle_buffer_hands_out_exactly_the_steps_asked(
    chunk_sizes, batch, fill, seed, one_more
):
    rows = sum(chunk_sizes)
    fewest = rows - 1 if one_more and rows > 1 else rows  # another rank's share
    steps = -(-fewest // batch)
    ids = np.arange(rows)
    cuts = np.cumsum([0, *chunk_sizes])
    chunks = [
        (ids[a:b, None].astype(np.float32), ids[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)
    ]
    generator = torch.Generator().manual_seed(seed)
    batches = list(shuffled_batches(chunks, batch, fill, generator, steps))
    assert len(batches) == steps
    assert all(len(y) == batch for _, y in batches[:-1])
    assert 1 <= len(batches[-1][1]) <= batch + 1  # the last takes a rank's one row more
    assert np.array_equal(np.sort(np.concatenate([y for _, y in batches])), ids)


def test_two_ranks_read_every_row_once_per_epoch_in_as_many_steps(uneven_parquet):
    config = DataConfig(target="y", memory_budget="4MiB")
    prepared = prepare_streamed(str(uneven_parquet), config, seed=0)
    ranks = [StreamedRows(prepared, torch.device("cpu"), 64, Rank(r, 2, r)) for r in (0, 1)]
    for _ in range(3):  # epochs: blocks in a new order each time, shared differently
        epoch = [list(rank.train_batches(64, torch.Generator().manual_seed(0))) for rank in ranks]
        assert len(epoch[0]) == len(epoch[1]) == ranks[0].epoch_steps(64)  # nobody waits
        targets = torch.cat([y for batches in epoch for _, y in batches])
        assert len(targets) == prepared.provenance.train_rows
        assert len(targets.unique()) == len(targets)  # each row once (targets are distinct)
    valid = torch.cat([y for rank in ranks for _, y in rank.valid_batches()])
    assert len(valid) == len(valid.unique()) == prepared.provenance.validation_rows
    alone = StreamedRows(prepared, torch.device("cpu"), 64)
    assert torch.equal(valid, torch.cat([y for _, y in alone.valid_batches()]))


def test_ranks_that_prepared_the_same_data_agree_on_its_digest(uneven_parquet):
    config = DataConfig(target="y", memory_budget="4MiB")
    one, two = (prepare_streamed(str(uneven_parquet), config, seed=0) for _ in range(2))
    assert one.digest() == two.digest()
    other = prepare_streamed(str(uneven_parquet), DataConfig(target="c", memory_budget="4MiB"), 0)
    assert other.digest() != one.digest()


def _check_digest(rank: int, port: int, digests: list[str], errors) -> None:
    import torch.distributed as dist

    from tabnet_cli.system.distributed import check_same

    store = dist.TCPStore("127.0.0.1", port, 2, rank == 0)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=2)
    try:
        check_same(digests[rank], "data and encoders", torch.device("cpu"))
        errors.put((rank, None))
    except TabnetError as exc:
        errors.put((rank, str(exc)))
    finally:
        dist.destroy_process_group()


def test_ranks_with_different_data_both_refuse_to_train():
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    errors = context.Queue()
    digests = ["00" * 32, "00" * 31 + "01"]
    port = _free_port()
    processes = [
        context.Process(target=_check_digest, args=(rank, port, digests, errors)) for rank in (0, 1)
    ]
    for process in processes:
        process.start()
    found = dict(errors.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert sorted(found) == [0, 1]
    assert all("processes prepared different data and encoders" in e for e in found.values())


def test_a_batch_the_budget_cannot_hold_is_refused_before_training(cli, uneven_parquet, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {uneven_parquet} --target y --memory-budget 200KiB --batch-size 4096 "
        f"--recipe plain --layers 8 --out {out}"
    )
    assert_user_error(result, "a batch of 4,096 rows needs about")
    assert "; lower --batch-size to " in result.stderr
    assert "or less, or raise --memory-budget to" in result.stderr
    assert not out.exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _train_command(data: Path, out: Path) -> list[str]:
    return [
        "-m", "tabnet_cli", "train", str(data), "--target", "y", "--recipe", "plain",
        "--layers", "8", "--epochs", "3", "--batch-size", "64", "--verbose", "0",
        *streaming_budget(data).split(), "--out", str(out),
    ]  # fmt: skip


def _check_streamed_run(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml", "history.csv", "metrics.json", "model.json", "model.safetensors",
    ]  # fmt: skip
    assert json.loads((out / "model.json").read_text())["data"]["streamed"] is True
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["val_loss"].iloc[-1] < history["val_loss"].iloc[0]


def test_two_processes_train_one_streamed_run(uneven_parquet, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, *_train_command(uneven_parquet, out), "--nproc", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{out}\n"
    _check_streamed_run(out)


def _readme_node_flags() -> list[list[str]]:
    """torchrun's flags in the README's two-node example, one list per node."""
    from conftest import REPO

    lines = (REPO / "README.md").read_text().splitlines()
    commands = [line.split(" -m ")[0] for line in lines if line.startswith("torchrun --nnodes")]
    return [[flag for flag in command.split()[1:] if flag != "\\"] for command in commands]


def test_two_nodes_on_this_machine_train_one_streamed_run(uneven_parquet, tmp_path):
    """The README's multi-node example, two "nodes" of one process each on this machine:
    the command a user types on two machines, with node 0's address as the endpoint."""
    out, port = tmp_path / "run", _free_port()
    flags = _readme_node_flags()
    assert [f[f.index("--node-rank") + 1] for f in flags] == ["0", "1"]
    nodes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                *[flag.replace(":29500", f":{port}") for flag in node_flags],
                *_train_command(uneven_parquet, out),
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        for node_flags in flags
    ]
    outputs = [node.communicate(timeout=180) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    assert [stdout for stdout, _ in outputs] == [f"{out}\n", ""]  # global rank 0 writes
    _check_streamed_run(out)
