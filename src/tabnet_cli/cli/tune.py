"""``tabnet tune``: a hyperparameter search (optuna) with the train options as the base;
the best setting retrained as a run (its path on stdout), the trials on stderr."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tabnet_cli.cli import options as opts
from tabnet_cli.cli.app import INTERRUPTED, command, stderr_console
from tabnet_cli.cli.train import train

Trials = Annotated[
    int, typer.Option(min=0, metavar="N", help="Trials to run (0: retrain the best).")
]
Timeout = Annotated[
    float | None, typer.Option(min=0, metavar="S", help="Stop starting trials after S seconds.")
]
Storage = Annotated[
    str | None,
    typer.Option(metavar="URL", help="Study database, e.g. sqlite:///study.db (resumable)."),
]
StudyName = Annotated[
    str | None, typer.Option(metavar="NAME", help="Study name [default: tabnet-<file>-<target>].")
]
Space = Annotated[
    str | None,
    typer.Option(metavar="FILE", help="TOML file overriding parameters of the search space."),
]


@command()
@opts.with_options_of(train, drop=("plot", "folds"))
def tune(
    trials: Trials = 20,
    timeout: Timeout = None,
    storage: Storage = None,
    study_name: StudyName = None,
    space: Space = None,
    nproc: opts.TrainOnlyNproc = 1,
    log_format: opts.TrainOnlyLogFormat = "text",
    **options: Any,
) -> None:
    """Search layers, dropout, lr, weight decay, batch size and recipe pieces with optuna.

    Every trial trains on one prepared data set with early stopping and pruning; the
    best setting is retrained as a normal run. Takes the options of tabnet train but
    --folds, --nproc, --log-format and --plot; the table is held in memory
    (--memory-budget).

    Example: tabnet tune ion.csv --target Class --trials 30 --storage sqlite:///ion.db
    """
    # not at start-up: tabnet --help stays light
    from tabnet_cli.jobs.search_space import read_space

    # not at start-up: tabnet --help stays light
    from tabnet_cli.jobs.tune import TuneSettings, require_optuna

    # not at start-up: tabnet --help stays light
    from tabnet_cli.jobs.tune import tune as run_search

    opts.refuse_train_only("tune", nproc, log_format)
    require_optuna()  # before reading anything: say how to install it
    source, config = opts.command_config(options, options["ctx"])
    settings = TuneSettings(trials, read_space(space), timeout, storage, study_name)
    console, verbose = stderr_console(), options["verbose"]

    def notify(message: str) -> None:
        if verbose:
            console.file.write(f"{message}\n")

    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.progress import KerasProgress

    progress = [KerasProgress(console, verbose)]
    try:
        result = run_search(source, config, settings, options["out"], notify, progress)
    except KeyboardInterrupt:
        console.file.write("Interrupted; the finished trials are kept in the study.\n")
        raise typer.Exit(INTERRUPTED) from None
    _print_trials(console, result)
    if result.interrupted:
        console.file.write(
            f"Interrupted; {len(result.trials)} trial(s) are in study {result.study_name!r}. "
            "Run again to go on, or with --trials 0 to retrain the best.\n"
        )
        raise typer.Exit(INTERRUPTED)
    console.file.write(f"Best trial {result.best['trial']} retrained: {result.run_dir}\n")
    print(result.run_dir)


def _print_trials(console, result) -> None:
    from tabnet_cli.report.tables import trials_table  # not at start-up: tabnet --help stays light

    console.print(trials_table(result.trials, f"study {result.study_name} ({result.direction})"))
