"""The training loop's end states: NaN loss, Ctrl-C, and the run directory they leave."""

import json
from pathlib import Path

import pytest
import torch

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.batches import TensorRows
from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.fit.loop import fit
from tabnet_cli.jobs.train import train_run
from tabnet_cli.nn.model import build_mlp
from tabnet_cli.settings.config import ArchConfig, ModelConfig, RunConfig, TrainConfig


def data(n=64):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=gen)
    return x, x.sum(1)


class PoisonAfter(Callback):
    """Sets the weights to NaN at the end of a given epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, *, epoch, logs, **context):
        if epoch == self.epoch:
            with torch.no_grad():
                for p in self.model.parameters():
                    p.fill_(float("nan"))


class InterruptAt(Callback):
    """Raises KeyboardInterrupt (as Ctrl-C does) at a batch of a given epoch."""

    def __init__(self, epoch):
        self.epoch, self.current = epoch, 0

    def on_epoch_begin(self, *, epoch, **context):
        self.current = epoch

    def on_batch_end(self, *, step, running_logs, **context):
        if self.current == self.epoch and step == 2:
            raise KeyboardInterrupt


def test_nan_loss_stops_training_and_keeps_the_best_weights():
    model = build_mlp(ModelConfig(n_inputs=3, n_outputs=1, arch=ArchConfig(layers=(4,))))
    result = fit(
        model,
        TensorRows(data(), data()),
        TrainConfig(epochs=10, batch_size=16),
        "regression",
        callbacks=[PoisonAfter(3)],
    )
    assert result.stop_reason == "non_finite" and result.extra["epoch"] == 4
    assert result.epochs_run == 3
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_ctrl_c_stops_cleanly_with_best_weights():
    model = build_mlp(ModelConfig(n_inputs=3, n_outputs=1, arch=ArchConfig(layers=(4,))))
    result = fit(
        model,
        TensorRows(data(), data()),
        TrainConfig(epochs=10, batch_size=16),
        "regression",
        callbacks=[InterruptAt(3)],
    )
    assert result.stop_reason == "interrupted" and result.epochs_run == 2
    assert result.early_stopping.restored


@pytest.fixture(autouse=True)
def members_in_turn(monkeypatch):
    """The recipe's bagged members train in turn in these tests, so that a callback sees
    every batch (worker processes report epochs only: tests/test_member_processes.py)."""
    import tabnet_cli.jobs.ensemble as ensemble

    monkeypatch.setattr(ensemble, "member_processes", lambda *args: 1)


def _train(tmp_path: Path, csv: Path, callback, **overrides):
    config = RunConfig.from_options(
        {"target": "y", "layers": (4,), "epochs": 5, "batch_size": 16, **overrides}
    )
    return train_run(str(csv), config, tmp_path / "out", [callback])


def test_interrupted_run_is_saved_with_its_complete_epochs(tmp_path, regression_csv):
    summary = _train(tmp_path, regression_csv, InterruptAt(3))
    metrics = json.loads((summary.run_dir / "metrics.json").read_text())
    assert metrics["stop_reason"] == "interrupted" and metrics["epochs_run"] == 2
    assert len((summary.run_dir / "history.csv").read_text().splitlines()) == 3


def test_interrupt_before_the_first_epoch_writes_nothing(tmp_path, regression_csv):
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path, regression_csv, InterruptAt(1))
    assert list(tmp_path.iterdir()) == [regression_csv]


def test_nan_in_the_first_epoch_is_a_user_error_and_writes_nothing(tmp_path, regression_csv):
    with pytest.raises(TabnetError, match="became NaN or infinite in epoch 1"):
        _train(tmp_path, regression_csv, Callback(), lr=1e38, loss="mse")
    assert list(tmp_path.iterdir()) == [regression_csv]


class WeightsPerStep(Callback):
    """Records the weights the loop hands to callbacks after every step."""

    def __init__(self):
        self.steps = []

    def on_batch_end(self, *, step, running_logs, **context):
        self.steps.append({k: v.clone() for k, v in self.model.state_dict().items()})


def test_ema_keeps_and_validates_the_moving_average_of_the_weights():
    x, y = data(48)

    def run(ema):
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        seen = WeightsPerStep()
        config = TrainConfig(loss="mse", epochs=1, batch_size=16, lr=0.1, ema=ema)  # 3 steps
        result = fit(model, TensorRows((x, y), (x, y)), config, "regression", callbacks=[seen])
        return model, seen.steps, result

    _, steps, _ = run(0.0)  # the raw weights after steps 1, 2, 3
    model, averaged, result = run(0.75)
    expected = {k: v.clone() for k, v in steps[0].items()}  # the first step is copied
    for later in steps[1:]:
        expected = {k: 0.75 * expected[k] + 0.25 * later[k] for k in expected}
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[name])
        torch.testing.assert_close(averaged[-1][name], expected[name])  # callbacks see it
    with torch.no_grad():  # validation judged the average, not the last raw weights
        val_loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y).item()
    assert result.history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-5)
    last = (x @ steps[-1]["weight"].T).squeeze(1) + steps[-1]["bias"]
    assert val_loss != pytest.approx(torch.nn.functional.mse_loss(last, y).item(), rel=1e-3)


def test_ema_from_the_command_line_is_saved_with_the_run(cli, regression_csv, tmp_path):
    run = cli.train(regression_csv, "y", tmp_path / "run", "--layers 4 --epochs 2 --ema 0.9")
    assert json.loads((run / "model.json").read_text())["train_config"]["ema"] == 0.9
    assert cli("predict", run, regression_csv).exit_code == 0


def test_each_step_gets_its_scheduled_learning_rate(monkeypatch):
    from tabnet_cli.fit import loop
    from tabnet_cli.fit.optim import scheduled_lr

    applied = []
    monkeypatch.setattr(loop, "set_lr", lambda optimizer, lr: applied.append(lr))
    config = TrainConfig(epochs=3, batch_size=16, lr=0.1, schedule="cosine", warmup=0.25)
    torch.manual_seed(0)
    fit(torch.nn.Linear(3, 1), TensorRows(data(40), data(8)), config, "regression")
    total = 3 * 3  # 40 rows: 3 batches (16, 16, 8) an epoch
    assert applied == [scheduled_lr(config, step, total) for step in range(total)]
    applied.clear()
    constant = TrainConfig(epochs=2, batch_size=16, lr=0.1)
    fit(torch.nn.Linear(3, 1), TensorRows(data(40), data(8)), constant, "regression")
    assert applied == []  # a constant rate is the optimizer's own: no per-step work
