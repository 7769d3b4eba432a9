"""Progress output, snapshot-tested with a StringIO console and a fake clock."""

import io
import re

from rich.console import Console

from tabnet_cli.report.progress import KerasProgress, format_bar


class FakeClock:
    """Time moves only when the test says so."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_epochs(progress, epochs=2, steps=5, step_seconds=0.017):
    progress.on_train_begin(epochs=epochs, steps_per_epoch=steps)
    for epoch in range(1, epochs + 1):
        progress.on_epoch_begin(epoch=epoch)
        for step in range(1, steps + 1):
            progress.clock.now += step_seconds
            progress.on_batch_end(step=step, running_logs=lambda: {"loss": 0.5})
        progress.on_epoch_end(epoch=epoch, logs={"loss": 0.1141, "val_loss": 0.1096})
    progress.on_train_end()


def test_plain_output_is_one_line_per_epoch_without_control_characters():
    out = io.StringIO()
    run_epochs(KerasProgress(Console(file=out), verbose=1, clock=FakeClock()))
    assert out.getvalue() == (
        "Epoch 1/2 - 0s - 17ms/step - loss: 0.1141 - val_loss: 0.1096\n"
        "Epoch 2/2 - 0s - 17ms/step - loss: 0.1141 - val_loss: 0.1096\n"
    )


def test_verbose_two_is_plain_even_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    run_epochs(KerasProgress(console, verbose=2, clock=FakeClock()), epochs=1)
    assert out.getvalue() == "Epoch 1/1 - 0s - 17ms/step - loss: 0.1141 - val_loss: 0.1096\n"


def test_verbose_zero_prints_nothing():
    out = io.StringIO()
    run_epochs(KerasProgress(Console(file=out, force_terminal=True), verbose=0, clock=FakeClock()))
    assert out.getvalue() == ""


def test_terminal_bar_has_the_keras_shape():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    run_epochs(KerasProgress(console, verbose=1, clock=FakeClock()), steps=5, step_seconds=0.06)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor movements
    assert "Epoch 1/2" in screen and "Epoch 2/2" in screen
    final = "5/5 [==============================] - 0s 60ms/step - loss: 0.1141 - val_loss: 0.1096"
    assert screen.count(final) >= 2
    # a redraw happened mid-epoch, with an ETA and the running loss
    assert re.search(r"\d/5 \[=+>\.+\] - ETA: \ds - loss: 0\.5000", screen)


def test_bar_shapes():
    assert format_bar(0, 5) == "0/5 [..............................]"
    assert format_bar(3, 5) == "3/5 [=================>............]"
    assert format_bar(12, 120) == " 12/120 [==>...........................]"
