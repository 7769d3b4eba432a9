"""EarlyStopping and History, fed scripted values: no training needed."""

import math

import pytest
import torch

from tabnet_cli.fit.callbacks import EarlyStopping, History


def feed(stopper, values, monitor="val_loss"):
    for epoch, value in enumerate(values, start=1):
        stopper.on_epoch_end(epoch=epoch, logs={monitor: value})
        if stopper.stop_training:
            return epoch
    return None


def test_improvement_must_exceed_min_delta():
    stopper = EarlyStopping(min_delta=0.001, patience=3)
    # 0.9995 improves by less than min_delta: not an improvement, best stays at epoch 1
    stopped = feed(stopper, [1.0, 0.9995, 0.998, 0.9985, 0.9979])
    assert (stopper.best_epoch, stopper.best) == (3, 0.998)
    assert stopped is None and stopper.wait == 2


def test_stops_after_patience_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    assert feed(stopper, [1.0, 0.5, 0.6, 0.7, 0.1]) == 4
    assert stopper.stopped_epoch == 4 and stopper.best_epoch == 2


def test_warm_up_epochs_spend_no_patience_but_keep_their_best():
    # the lesson-6 case: a flat loss (ln 2) while the learning rate warms up
    flat = [0.6931, 0.6930, 0.6931, 0.6929, 0.6931, 0.6930]
    stopper = EarlyStopping(min_delta=0.001, patience=2, start_from_epoch=5)
    assert feed(stopper, flat[:5]) is None and stopper.wait == 0
    assert stopper.best_epoch == 1  # kept from the warm-up, to restore if nothing beats it
    assert feed(EarlyStopping(min_delta=0.001, patience=2), flat) == 3  # without: stops
    stopper = EarlyStopping(min_delta=0.001, patience=2, start_from_epoch=5)
    assert feed(stopper, flat + [0.69, 0.5, 0.6, 0.6]) == 10


def test_patience_zero_never_stops_but_tracks_the_best():
    stopper = EarlyStopping(patience=0)
    assert feed(stopper, [1.0, 0.5] + [0.9] * 50) is None
    assert stopper.best_epoch == 2


def test_accuracy_is_maximised():
    stopper = EarlyStopping(monitor="val_accuracy", patience=2, min_delta=0.01)
    assert feed(stopper, [0.5, 0.8, 0.805, 0.79], monitor="val_accuracy") == 4
    assert stopper.best_epoch == 2


def test_non_finite_values_never_improve():
    stopper = EarlyStopping(patience=5)
    feed(stopper, [1.0, math.nan, math.inf, 0.9])
    assert stopper.best_epoch == 4


def test_restore_best_weights_puts_back_the_best_epoch():
    model = torch.nn.Linear(2, 1)
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    stopper.set_model(model)
    with torch.no_grad():
        model.weight.fill_(1.0)
    stopper.on_epoch_end(epoch=1, logs={"val_loss": 0.1})
    with torch.no_grad():
        model.weight.fill_(5.0)
    stopper.on_epoch_end(epoch=2, logs={"val_loss": 0.2})
    stopper.on_train_end()
    assert stopper.restored
    assert torch.equal(model.weight, torch.ones_like(model.weight))


def test_missing_monitor_is_reported():
    with pytest.raises(KeyError, match="val_auc"):
        EarlyStopping(monitor="val_auc").on_epoch_end(epoch=1, logs={"val_loss": 1.0})


def test_history_collects_columns():
    history = History()
    history.on_epoch_end(epoch=1, logs={"loss": 1.0, "val_loss": 2.0})
    history.on_epoch_end(epoch=2, logs={"loss": 0.5, "val_loss": 1.5})
    assert history.epochs == [1, 2]
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
