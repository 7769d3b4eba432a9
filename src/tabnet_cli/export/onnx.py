"""A run as one ONNX graph: the saved preprocessing and the network, so that any ONNX
runtime scores raw rows exactly as ``tabnet predict`` does.

Inputs: one per raw column the model reads, shaped [N, 1]: ``double`` for a numeric column
(NaN or an infinity is a missing value; double, because preprocessing computes in float64
and a float32 input would already round large values) and ``string`` for a category column
(the empty string is a missing value). Numeric columns are imputed with the training median (with a
0/1 indicator where training had gaps), scaled, and smoothly clipped when the run does,
with their quantile ranks beside them under ``--rank-inputs``;
category values are stripped of surrounding white space and one-hot encoded over the
stored categories, anything else going to the "other" slot (a missing value goes to the
"(missing)" category when training had one). Then the layer plan (``onnx_graph``):
periodic embeddings, per-input scale, Dense layers with batch normalisation folded into
them, every activation of ``config.py``; dropout is off at inference. A bagged ensemble
(``--folds K``) runs its K networks and averages their probabilities (classification) or
values (regression), as ``predict`` does; so does a network of K submodels
(``--submodels K``), over its submodels.

Outputs: ``prediction`` [N] (``double`` in the target's units for a regression; for a
classifier the class label as ``string``, as ``predict`` writes it) and, for classifiers,
``probabilities`` [N, K] (``double``, one column per class in the order of the
``classes`` metadata entry).

Standard ``ai.onnx`` operators only, opset ``OPSET`` (20: the first with
``RegexFullMatch``, which matches category values with their white space).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import TabnetError
from tabnet_cli.export.onnx_check import self_check
from tabnet_cli.export.onnx_graph import Graph, network
from tabnet_cli.io.outputs import open_output
from tabnet_cli.nn.ensemble import member_prefix
from tabnet_cli.nn.model import tensor_shapes
from tabnet_cli.prep.column_kinds import MISSING
from tabnet_cli.prep.scaling import normal_scores
from tabnet_cli.run.run_dir import WEIGHTS, LoadedRun, read_weights
from tabnet_cli.version import __version__

if TYPE_CHECKING:
    import onnx

    from tabnet_cli.prep.features import FeatureEncoder

OPSET = 20
_FLOAT, _DOUBLE, _INT64 = 1, 11, 7  # onnx.TensorProto.FLOAT, DOUBLE, INT64 (no import needed)
OUTPUTS = ("prediction", "probabilities")
NEEDS_EXTRA = "tabnet export needs the onnx extra: pip install 'tabnet-cli[onnx]'"
# Python's str.strip() white space (which preprocessing strips), as an RE2 class
_SPACE = "[" + "".join(f"\\x{{{c:x}}}" for c in range(0x3100) if chr(c).isspace()) + "]"


def require_onnx() -> None:
    """Refuses, in one line, when the optional ``onnx`` extra is not installed."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise TabnetError(NEEDS_EXTRA) from None


def category_pattern(category: str) -> str:
    """The RE2 pattern a raw value fully matches when it is ``category`` after stripping
    (every character escaped by code point, so any text is safe).

    Example:
        >>> category_pattern("a.b").replace(_SPACE, "S")
        'S*\\\\x{61}\\\\x{2e}\\\\x{62}S*'
    """
    escaped = "".join(f"\\x{{{ord(c):x}}}" for c in category)
    if category == MISSING:  # the empty string is a missing value, as an empty CSV cell
        return f"(?:{_SPACE}*{escaped}{_SPACE}*)?"
    if category == "":  # white space only; the empty string itself is missing
        return f"{_SPACE}+"
    return f"{_SPACE}*{escaped}{_SPACE}*"


def build_model(run: LoadedRun) -> onnx.ModelProto:
    """The ONNX model of a loaded run (checked with ``onnx.checker``).

    Example:
        >>> model = build_model(load_run("runs/diabetes"))  # doctest: +SKIP
        >>> [i.name for i in model.graph.input][:2]  # doctest: +SKIP
        ['age', 'sex']
    """
    import onnx  # onnx loads on first use, not with this module
    from onnx import TensorProto, helper  # onnx loads on first use, not with this module

    _refuse_name_clashes(run)
    graph, inputs, parts = Graph(), [], []
    numeric = run.features.numeric_
    for spec in numeric:
        inputs.append(helper.make_tensor_value_info(spec["name"], TensorProto.DOUBLE, ["N", 1]))
    if numeric:
        parts += _numeric_part(graph, run.features)
    for spec in run.features.categorical_:
        inputs.append(helper.make_tensor_value_info(spec["name"], TensorProto.STRING, ["N", 1]))
        parts.append(_categorical_part(graph, spec))
    x = parts[0] if len(parts) == 1 else graph.op("Concat", *parts, axis=1)
    raw = _raw_outputs(graph, run, x)
    outputs = _outputs(graph, run, raw)
    body = helper.make_graph(graph.nodes, "tabnet", inputs, outputs, graph.initializers)
    model = helper.make_model(
        body,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="tabnet",
        doc_string=f"tabnet run {run.path.name}: {run.task} model of {run.target_name!r}",
    )
    model.ir_version = 9  # what ONNX 1.15+ runtimes read; opset 20 needs no newer
    helper.set_model_props(model, _metadata(run))
    onnx.checker.check_model(model, full_check=True)
    return model


def _refuse_name_clashes(run: LoadedRun) -> None:
    for column in run.features.input_columns:
        if column in OUTPUTS or column.startswith("tabnet/"):
            raise TabnetError(
                f"column {column!r} has the name of an ONNX output or internal value; "
                "rename it in the data and retrain to export this model"
            )


def _metadata(run: LoadedRun) -> dict[str, str]:

    kinds = [{"name": c["name"], "type": "double"} for c in run.features.numeric_]
    kinds += [{"name": c["name"], "type": "string"} for c in run.features.categorical_]
    classes = run.target.classes_
    return {
        "tabnet_version": __version__,
        "task": run.task,
        "target": run.target_name,
        "inputs": json.dumps(kinds),
        "classes": json.dumps(None if classes is None else [str(c) for c in classes]),
    }


def _numeric_part(graph: Graph, features: FeatureEncoder) -> list[str]:
    """Imputed, scaled (and clipped) values [N, k], their ranks [N, k] with
    ``--rank-inputs``, and the missing indicators [N, m]."""
    specs = features.numeric_
    names = [spec["name"] for spec in specs]
    x = names[0] if len(names) == 1 else graph.op("Concat", *names, axis=1)
    missing = graph.op("Or", graph.op("IsNaN", x), graph.op("IsInf", x))

    def column(key: str) -> str:
        return graph.const([spec[key] for spec in specs], np.float64, key)

    imputed = graph.op("Where", missing, column("median"), x)
    if features.scale == "quantile":
        scaled = _ranks(graph, imputed, specs)
    else:
        scaled = graph.op("Div", graph.op("Sub", imputed, column("center")), column("spread"))
    if features.clip == "smooth":  # prep.scaling.smooth_clip, step by step
        low, high = graph.const(-1e15, np.float64), graph.const(1e15, np.float64)
        bounded = graph.op("Clip", scaled, low, high)
        third = graph.op("Div", bounded, graph.const(3.0, np.float64))
        one = graph.const(1.0, np.float64)
        root = graph.op("Sqrt", graph.op("Add", one, graph.op("Mul", third, third)))
        scaled = graph.op("Div", bounded, root)
    parts = [graph.op("Cast", scaled, to=_FLOAT)]
    if features.ranks:
        parts.append(graph.op("Cast", _ranks(graph, imputed, specs), to=_FLOAT))
    flagged = [i for i, spec in enumerate(specs) if spec["indicator"]]
    if flagged:
        indicators = graph.op("Cast", missing, to=_FLOAT)
        parts.append(graph.op("Gather", indicators, graph.const(flagged, np.int64), axis=1))
    return parts


def _ranks(graph: Graph, imputed: str, specs: list[dict]) -> str:
    """Every numeric column [N, k] through its quantiles onto normal scores."""
    ranks = [
        _quantile_normal(
            graph,
            graph.op("Gather", imputed, graph.const([i], np.int64), axis=1),
            spec["quantiles"],
        )
        for i, spec in enumerate(specs)
    ]
    return ranks[0] if len(ranks) == 1 else graph.op("Concat", *ranks, axis=1)


def _quantile_normal(graph: Graph, x: str, quantiles: list[float]) -> str:
    """``scaling.quantile_normal`` of one column [N, 1]: the first score plus, per
    segment between neighbouring quantiles, its rise times a ramp from 0 to 1 across it
    (a step of 1/2 at the value itself where two quantiles are equal)."""
    points = np.asarray(quantiles, dtype=np.float64)
    scores = normal_scores(len(points))
    low, width = points[:-1], np.diff(points)
    tie = width == 0
    ramp = graph.op(
        "Div",
        graph.op("Sub", x, graph.const(low, np.float64)),
        graph.const(np.where(tie, 1.0, width), np.float64),
    )
    ramp = graph.op("Clip", ramp, graph.const(0.0, np.float64), graph.const(1.0, np.float64))
    above = graph.op("Cast", graph.op("Greater", x, graph.const(low, np.float64)), to=_DOUBLE)
    at_or_above = graph.op(
        "Cast", graph.op("GreaterOrEqual", x, graph.const(low, np.float64)), to=_DOUBLE
    )
    step = graph.op("Mul", graph.op("Add", above, at_or_above), graph.const(0.5, np.float64))
    segments = graph.op("Where", graph.const(tie, np.bool_), step, ramp)
    rise = graph.op("MatMul", segments, graph.const(np.diff(scores)[:, None], np.float64))
    return graph.op("Add", rise, graph.const(scores[0], np.float64))


def _categorical_part(graph: Graph, spec: dict) -> str:
    """The one-hot block [N, K + 1] of a category column, "other" last."""
    slots = [
        graph.op("RegexFullMatch", spec["name"], pattern=category_pattern(category))
        for category in spec["categories"]
    ]
    matched = slots[0] if len(slots) == 1 else graph.op("Concat", *slots, axis=1)
    one_hot = graph.op("Cast", matched, to=_FLOAT)
    seen = graph.op("ReduceMax", one_hot, graph.const([1], np.int64), keepdims=1)
    other = graph.op("Sub", graph.const([1.0]), seen)
    return graph.op("Concat", one_hot, other, axis=1)


def _raw_outputs(graph: Graph, run: LoadedRun, x: str) -> str:
    """The network's raw outputs [N, n_outputs]; for a bagged ensemble, every member's,
    combined as ``ensemble.EnsembleMLP`` does (in float64)."""

    weights = _weights(run)
    if run.manifest.ensemble is None:
        return _one_network(graph, run, x, weights)
    members = range(1, run.manifest.ensemble.members + 1)
    outputs = []
    for i in members:
        mine = {
            k[len(member_prefix(i)) :]: v
            for k, v in weights.items()
            if k.startswith(member_prefix(i))
        }
        out = graph.op("Cast", _one_network(graph, run, x, mine), to=_DOUBLE)
        outputs.append(graph.op("Unsqueeze", out, graph.const([0], np.int64)))
    return _combine(graph, run.task, graph.op("Concat", *outputs, axis=0), len(members))


def _one_network(graph: Graph, run: LoadedRun, x: str, weights: dict[str, np.ndarray]) -> str:
    """One network's raw outputs [N, n_outputs]: its K submodels' combined (in float64)
    when it has several, as ``ensemble.SubmodelMean`` does."""
    out = network(graph, run.manifest.model, x, weights)
    submodels = run.manifest.model.arch.submodels
    if submodels == 1:
        return out
    by_submodel = graph.op("Cast", graph.op("Transpose", out, perm=[1, 0, 2]), to=_DOUBLE)
    return _combine(graph, run.task, by_submodel, submodels)


def _combine(graph: Graph, task: str, stacked: str, count: int) -> str:
    """The members' outputs [K, N, n] as one network's raw output [N, n]: the mean value,
    the logit of the mean probability, or the log of the mean class probabilities."""
    first = graph.const([0], np.int64)
    if task == "regression":
        return graph.op("ReduceMean", stacked, first, keepdims=0)

    def log_mean(log_values: str) -> str:  # log of the mean over members, in log space
        total = graph.op("ReduceLogSumExp", log_values, first, keepdims=0)
        return graph.op("Sub", total, graph.const(np.log(count), np.float64))

    if task == "binary":  # log p = -softplus(-z), log (1 - p) = -softplus(z)
        log_p = graph.op("Neg", _softplus(graph, graph.op("Neg", stacked)))
        log_q = graph.op("Neg", _softplus(graph, stacked))
        return graph.op("Sub", log_mean(log_p), log_mean(log_q))
    normalizer = graph.op("ReduceLogSumExp", stacked, graph.const([2], np.int64), keepdims=1)
    return log_mean(graph.op("Sub", stacked, normalizer))


def _softplus(graph: Graph, x: str) -> str:
    """log(1 + e^x) as max(x, 0) + log(1 + e^-|x|), which never overflows (onnxruntime
    has no float64 Softplus)."""
    tail = graph.op("Exp", graph.op("Neg", graph.op("Abs", x)))
    return graph.op(
        "Add",
        graph.op("Relu", x),
        graph.op("Log", graph.op("Add", tail, graph.const(1.0, np.float64))),
    )


def _weights(run: LoadedRun) -> dict[str, np.ndarray]:
    """The run's tensors as NumPy arrays (read and checked as ``load_run`` does); an
    ensemble's under their member prefixes."""

    shapes = tensor_shapes(run.manifest.model)
    if run.manifest.ensemble is not None:
        members = range(1, run.manifest.ensemble.members + 1)
        shapes = {member_prefix(i) + k: v for i in members for k, v in shapes.items()}
    return read_weights(run.path / WEIGHTS, shapes)


def _outputs(graph: Graph, run: LoadedRun, raw: str) -> list:
    """``prediction`` (and ``probabilities``) from the raw outputs, as ``targets.py``."""
    from onnx import TensorProto, helper  # onnx loads on first use, not with this module

    logits = graph.op("Cast", raw, to=_DOUBLE)
    target = run.target
    if run.task == "regression":
        scaled = graph.op("Mul", logits, graph.const(target.spread_, np.float64))
        value = graph.op("Add", scaled, graph.const(target.center_, np.float64))
        flat = graph.const([-1], np.int64)
        graph.nodes.append(helper.make_node("Reshape", [value, flat], ["prediction"]))
        return [helper.make_tensor_value_info("prediction", TensorProto.DOUBLE, ["N"])]
    if run.task == "binary":
        positive = graph.op("Sigmoid", logits)
        negative = graph.op("Sub", graph.const([1.0], np.float64), positive)
        graph.nodes.append(
            helper.make_node("Concat", [negative, positive], ["probabilities"], axis=1)
        )
        above = graph.op("Greater", logits, graph.const([0.0], np.float64))  # logit > 0
        flat = graph.const([-1], np.int64)
        index = graph.op("Reshape", graph.op("Cast", above, to=_INT64), flat)
    else:
        graph.nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], axis=1))
        index = graph.op("ArgMax", logits, axis=1, keepdims=0)
    labels = graph.const([str(c) for c in target.classes_], str, "classes")
    graph.nodes.append(helper.make_node("Gather", [labels, index], ["prediction"], axis=0))
    return [
        helper.make_tensor_value_info("prediction", TensorProto.STRING, ["N"]),
        helper.make_tensor_value_info(
            "probabilities", TensorProto.DOUBLE, ["N", len(target.classes_)]
        ),
    ]


def export_onnx(run: LoadedRun, path: Path, advice: str = "choose another --output") -> float:
    """Writes the ONNX file (as every result is written: atomically for a file, straight
    through a FIFO or device, through a symlink to its target), after checking it with
    onnxruntime against the NumPy pipeline of ``predict`` on rows made from the saved
    state (medians, spreads, every category, missing and unseen values); returns the
    largest difference.

    Example:
        >>> export_onnx(load_run("runs/diabetes"), Path("model.onnx"))  # doctest: +SKIP
        2.9e-07
    """

    require_onnx()
    if path.is_dir():
        raise TabnetError(f"-o {path} is a directory; give a file name such as model.onnx")
    payload = build_model(run).SerializeToString()
    difference = self_check(run, payload)
    with open_output(path, advice, binary=True) as handle:
        handle.write(payload)
    return difference
