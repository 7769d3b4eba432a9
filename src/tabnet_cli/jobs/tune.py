"""``tabnet tune``: a hyperparameter search with optuna over one prepared data set.

The file is read, split and preprocessed once; every trial trains on that ``Prepared``
with early stopping, and a :class:`PruningCallback` reports the monitored value each
epoch so optuna's median pruner stops unpromising trials early. A study kept in a
database (``--storage sqlite:///study.db``) resumes when the same command runs again:
its trials accumulate. Ctrl-C stops the search; the finished trials stay. At the end
the best setting is trained again as a normal run directory.

optuna is an optional dependency (the ``tune`` extra): it is imported only here, only
when a search runs.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.callbacks import Callback, is_maximised
from tabnet_cli.io.sources import display_name
from tabnet_cli.jobs.search_space import Param, recipe_values, suggest, trial_config
from tabnet_cli.jobs.train import refuse_streaming, train_run
from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
from tabnet_cli.run.save import check_savable
from tabnet_cli.settings.config import RunConfig
from tabnet_cli.settings.recipes import resolve_data, resolve_training

TRIAL_PATIENCE = 20  # early stopping of each trial, unless --patience says otherwise
MISSING_EXTRA = "tabnet tune needs the tune extra: pip install 'tabnet-cli[tune]'"


def require_optuna() -> Any:
    """The optuna module, or the one-line error that says how to install it."""
    try:
        import optuna  # optuna loads on first use, not with this module
    except ImportError:
        raise TabnetError(MISSING_EXTRA) from None
    return optuna


class PruningCallback(Callback):
    """Reports ``monitor`` to the optuna trial after each epoch and stops training when
    the pruner says the trial is behind (``pruned`` tells the objective).

    Example:
        >>> class Trial:
        ...     def report(self, value, step): self.last = (value, step)
        ...     def should_prune(self): return True
        >>> callback = PruningCallback(Trial(), "val_loss")
        >>> callback.on_epoch_end(epoch=3, logs={"val_loss": 0.5})
        >>> callback.pruned, callback.stop_training
        (True, True)
    """

    def __init__(self, trial: Any, monitor: str):
        self.trial, self.monitor, self.pruned = trial, monitor, False

    def on_epoch_end(self, *, epoch: int, logs: dict[str, float], **context: Any) -> None:
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            self.pruned = self.stop_training = True


@dataclass
class TuneSettings:
    """How to search: trials, time limit, where the study lives, the space."""

    trials: int
    space: dict[str, Param]
    timeout: float | None = None
    storage: str | None = None
    study_name: str | None = None


@dataclass
class TuneResult:
    """The study's trials (all, resumed ones included) and the retrained best run."""

    study_name: str
    direction: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    run_dir: Path | None = None
    interrupted: bool = False


def tune(
    source: str,
    config: RunConfig,
    settings: TuneSettings,
    out_dir: Path | None = None,
    notify: Callable[[str], None] = lambda message: None,
    callbacks: Sequence[Callback] = (),
) -> TuneResult:
    """Runs (or resumes) the study, then retrains its best trial as a run directory.

    Example:
        >>> from tabnet_cli.jobs.search_space import read_space
        >>> tune("sample_data/diabetes.csv", RunConfig.from_options({"target": "progression"}),
        ...      TuneSettings(trials=5, space=read_space(None)))  # doctest: +SKIP
    """
    optuna = require_optuna()
    if out_dir is not None and out_dir.exists():
        raise TabnetError(f"{out_dir} already exists; choose another --out or remove it")
    # numpy loads on first use, not with this module

    base = _base_config(config)
    refuse_streaming(source, base, "tabnet tune")
    prepared, defaults, fingerprint = _prepare_once(source, base, notify)
    study = _study(optuna, source, base, settings, recipe_values(defaults, settings.space))
    claim_study(study, study_identity(fingerprint, base, prepared.task))
    objective = _objective(optuna, prepared, base, settings.space)
    result = TuneResult(study.study_name, study.direction.name.lower())
    try:
        study.optimize(
            objective,
            n_trials=settings.trials,
            timeout=settings.timeout,
            callbacks=[lambda study, trial: notify(describe_trial(trial))],
        )
    except KeyboardInterrupt:
        result.interrupted = True
    result.trials = [trial_row(t) for t in study.trials]
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise TabnetError(f"no trial of study {study.study_name!r} completed; nothing to retrain")
    result.best = trial_row(study.best_trial)
    if not result.interrupted:
        # numpy loads on first use, not with this module

        best_config = trial_config(base, study.best_trial.params)
        # the data's notes were given before the trials: not twice
        result.run_dir = train_run(source, best_config, out_dir, callbacks).run_dir
    return result


def _base_config(config: RunConfig) -> RunConfig:
    """The options' config for trials: one holdout split (no ensemble), early stopping."""

    config = resolve_data(replace(config, data=replace(config.data, folds=1)))
    if "patience" not in config.explicit:
        config = replace(
            config,
            train=replace(config.train, patience=TRIAL_PATIENCE),
            explicit=tuple(sorted({*config.explicit, "patience"})),
        )
    return config


def _prepare_once(source: str, config: RunConfig, notify):
    # numpy, torch loads on first use, not with this module
    from tabnet_cli.fit.train import model_config_for, resolve

    # numpy loads on first use, not with this module

    table = read_source(source, config.data)
    fingerprint = table.sha256 or frame_digest(table.frame)
    split = holdout_split(table, config.data, config.train.seed)
    prepared = prepare(table, split, config.data, config.train.loss)
    resolved = resolve_training(config, prepared.provenance.train_rows, prepared.task)
    # a bad --monitor or --class-weight, a run that could not be saved: before any trial
    train_config = resolve(resolved.train, prepared)
    model_config = model_config_for(prepared, resolved.arch)
    check_savable(source, prepared, model_config, train_config, resolved)
    for message in prepared.notices:
        notify(message)
    return prepared, resolved, fingerprint


def frame_digest(frame) -> str:
    """A sha256 of a table's column names and values (a folder, a glob or stdin, which
    have no one file to hash).

    Example:
        >>> import pandas as pd
        >>> frame_digest(pd.DataFrame({"a": [1]})) == frame_digest(pd.DataFrame({"b": [1]}))
        False
    """

    import pandas as pd  # pandas loads on first use, not with this module

    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def study_identity(fingerprint: str, config: RunConfig, task: str) -> dict[str, str]:
    """What a study's trials are about: their values compare only on the same data,
    target, task and monitored quantity."""
    return {
        "data": fingerprint,
        "target": config.data.target,
        "task": task,
        "monitor": config.train.monitor,
    }


def claim_study(study: Any, identity: dict[str, str]) -> None:
    """Records ``identity`` in a new study (an optuna user attribute); a stored study
    made for other data, another target, task or monitor is refused, not mixed in."""
    recorded = study.user_attrs.get("tabnet")
    if recorded is None:  # a new study, or one from a tabnet that did not record it
        study.set_user_attr("tabnet", identity)
        return
    if not isinstance(recorded, dict):
        recorded = {}
    differences = [
        f"{key} {_shown(key, recorded.get(key))}, not {_shown(key, value)}"
        for key, value in identity.items()
        if recorded.get(key) != value
    ]
    if differences:
        raise TabnetError(
            f"study {study.study_name!r} was made for other trials "
            f"({'; '.join(differences)}); give --study-name NAME to start another study"
        )


def _shown(key: str, value: Any) -> str:
    if key == "data" and isinstance(value, str):
        return f"sha256 {value[:12]}..."
    return repr(value)


def redact(text: str, url: str) -> str:
    """``text`` without the password of the storage ``url`` (in the URL itself or in an
    error message that quotes it).

    Example:
        >>> url = "postgresql://bob:s3cret@db.example/optuna"
        >>> redact(url, url), redact("login s3cret refused", url)
        ('postgresql://bob:***@db.example/optuna', 'login *** refused')
    """

    found = re.search(r"//[^/@:]*:([^/@]+)@", url)
    return text if found is None else text.replace(found.group(1), "***")


def _study(optuna, source: str, config: RunConfig, settings: TuneSettings, start: dict):
    """Creates the study, or loads it from the storage; seeds its sampler so that a
    resumed study does not draw its first trials again. A new study tries ``start``
    (the recipe's setting) first, so the best is never worse than it on validation."""

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # one line per trial is ours
    stem = Path(display_name(source)).name.split(".")[0] or "data"
    name = settings.study_name or f"tabnet-{stem}-{config.data.target}"
    direction = "maximize" if is_maximised(config.train.monitor) else "minimize"
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    try:
        study = optuna.create_study(
            storage=settings.storage,
            study_name=name,
            direction=direction,
            pruner=pruner,
            load_if_exists=True,
        )
    except Exception as exc:  # optuna and SQLAlchemy raise many kinds for a bad URL
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        storage = str(settings.storage)
        raise TabnetError(
            f"--storage {redact(storage, storage)}: cannot open the study "
            f"({redact(first, storage)})"
        ) from None
    seed = (config.train.seed + len(study.trials)) % 2**32
    study.sampler = optuna.samplers.TPESampler(seed=seed)
    if not study.trials and start:
        study.enqueue_trial(start)
    return study


def _objective(optuna, prepared, base: RunConfig, space: dict[str, Param]):
    # numpy, torch loads on first use, not with this module
    from tabnet_cli.fit.train import resolve, train

    def objective(trial) -> float:
        config = trial_config(base, suggest(trial, space))
        config = resolve_training(config, prepared.provenance.train_rows, prepared.task)
        pruning = PruningCallback(trial, config.train.monitor)
        try:
            fitted = train(prepared, config.arch, resolve(config.train, prepared), [pruning])
        except TabnetError as exc:  # a loss that diverged at once: this trial failed
            trial.set_user_attr("error", str(exc))
            return math.nan
        if fitted.result.stop_reason == "interrupted":
            raise KeyboardInterrupt
        trial.set_user_attr("epochs", fitted.result.epochs_run)
        if pruning.pruned:
            raise optuna.TrialPruned()
        best = fitted.result.early_stopping.best
        return math.nan if best is None else best

    return objective


def trial_row(trial: Any) -> dict[str, Any]:
    """A trial as one row of the table: number, state, value, epochs, parameters."""
    return {
        "trial": trial.number,
        "state": trial.state.name.lower(),
        "value": trial.value,
        "epochs": trial.user_attrs.get("epochs"),
        "params": dict(trial.params),
    }


def describe_trial(trial: Any) -> str:
    """The line printed when a trial ends.

    Example:
        >>> from types import SimpleNamespace as N
        >>> describe_trial(N(number=3, state=N(name="PRUNED"), value=None,
        ...     user_attrs={"epochs": 12}, params={}))
        'trial 3: pruned after 12 epochs'
    """
    row = trial_row(trial)
    epochs = f" after {row['epochs']} epochs" if row["epochs"] else ""
    if row["state"] == "complete":
        return f"trial {row['trial']}: {row['value']:.6g}{epochs}"
    return f"trial {row['trial']}: {row['state']}{epochs}"
