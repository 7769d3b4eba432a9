"""What a served run answers: its schema, and predictions for checked requests."""

from __future__ import annotations

from typing import Any

import numpy as np

from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.score.inference import model_outputs, non_finite_rows, probability_columns
from tabnet_cli.serve.requests import (
    RequestError,
    check_values,
    columns_of,
    parse_json,
    request_frame,
)


class Service:
    """A loaded run behind the HTTP routes; stateless, so threads may share it.

    Example:
        >>> service = Service(load_run("runs/diabetes"))  # doctest: +SKIP
        >>> service.predict(b'[{"age": 0.03, ...}]')["predictions"]  # doctest: +SKIP
        [151.2]
    """

    def __init__(self, run: LoadedRun):
        self.run = run
        self.columns = list(run.features.input_columns)
        self.numeric = {spec["name"] for spec in run.features.numeric_}

    def schema(self) -> dict[str, Any]:
        """The columns a request must hold, their types and categories, the task."""
        categories = {spec["name"]: spec["categories"] for spec in self.run.features.categorical_}
        classes = self.run.target.classes_
        return {
            "run": str(self.run.path),
            "task": self.run.task,
            "target": self.run.target_name,
            "columns": [
                {"name": name, "type": "number"}
                if name in self.numeric
                else {"name": name, "type": "category", "categories": list(categories[name])}
                for name in self.columns
            ],
            "classes": None if classes is None else [_plain(c) for c in classes],
        }

    def predict(self, body: bytes) -> dict[str, Any]:
        """Predictions in request order (and class probabilities for a classifier)."""
        values = columns_of(parse_json(body), self.columns)
        check_values(values, self.numeric)
        x, report = self.run.features.transform(request_frame(values, self.numeric))
        raw = model_outputs(self.run, x)
        bad = non_finite_rows(raw)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise RequestError(422, f"row {row}: the model's output overflowed; check its values")
        answer: dict[str, Any] = {
            "predictions": [_plain(v) for v in self.run.target.decode(raw).tolist()]
        }
        if self.run.task != "regression":
            names = probability_columns(self.run.target.classes_, self.run.target_name)
            answer["probabilities"] = [
                dict(zip(names, row, strict=True))
                for row in self.run.target.probabilities(raw).tolist()
            ]
        if report.message():
            answer["warning"] = report.message()
        return answer


def _plain(value: Any) -> Any:
    """JSON-ready Python values (NumPy scalars and whole floats as ``tabnet predict``
    writes them)."""
    if isinstance(value, np.generic):
        value = value.item()
    return value
