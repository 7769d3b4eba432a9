"""``tabnet serve``: answers equal to ``tabnet predict``, one-line 4xx errors for bad
requests, concurrency, slow clients and a clean stop."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from tabnet_cli.run.run_dir import load_run
from tabnet_cli.serve.server import make_server
from tabnet_cli.serve.service import Service


@pytest.fixture
def binary_run(cli, binary_csv, tmp_path):
    return cli.train(binary_csv, "label", tmp_path / "run", "--layers 8 --epochs 2")


@pytest.fixture
def served(binary_run):
    server = make_server(Service(load_run(binary_run)), port=0, max_bytes=4096)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def request(server, method: str, path: str, body: bytes | None = None, headers=None):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


def post(server, payload) -> tuple[int, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return request(server, "POST", "/predict", body, {"Content-Type": "application/json"})


def test_health_and_schema(served, binary_run):
    assert request(served, "GET", "/health") == (200, {"status": "ok"})
    status, schema = request(served, "GET", "/schema")
    assert status == 200 and schema["task"] == "binary" and schema["target"] == "label"
    assert schema["classes"] == ["bad", "good"]
    kinds = {column["name"]: column["type"] for column in schema["columns"]}
    assert kinds == {"f1": "number", "f2": "number", "f3": "number", "f4": "number",
                     "colour": "category"}  # fmt: skip
    assert sorted(schema["columns"][-1]["categories"]) == ["green", "red"]


def test_answers_equal_tabnet_predict_for_records_and_columns(served, binary_run, binary_csv, cli):
    rows = pd.read_csv(binary_csv).drop(columns="label").head(25)
    rows.loc[3, "f2"] = None  # a missing value travels as null
    rows.loc[4, "colour"] = "purple"  # an unseen category
    data = binary_csv.parent / "rows.csv"
    rows.to_csv(data, index=False)
    result = cli("predict", binary_run, data, "--proba")
    assert result.exit_code == 0, result.stderr
    expected = pd.read_csv(io.StringIO(result.stdout))
    plain = rows.astype(object).where(rows.notna(), None)  # NaN travels as null
    status, answer = post(served, plain.to_dict(orient="records"))
    assert status == 200, answer
    assert answer["predictions"] == expected["label"].tolist()
    for name in ("bad", "good"):
        served_p = [p[name] for p in answer["probabilities"]]
        assert served_p == pytest.approx(expected[name].tolist(), rel=1e-12, abs=1e-15)
    assert "unseen" in answer["warning"]
    status, by_columns = post(served, plain.to_dict(orient="list"))
    assert status == 200 and by_columns == answer


def test_regression_answers_equal_tabnet_predict(cli, regression_csv, tmp_path):
    run = cli.train(regression_csv, "y", tmp_path / "reg", "--layers 4 --epochs 2")
    rows = pd.read_csv(regression_csv).drop(columns="y").head(10)
    answer = Service(load_run(run)).predict(json.dumps(rows.to_dict(orient="records")).encode())
    rows.to_csv(tmp_path / "rows.csv", index=False)
    result = cli("predict", run, tmp_path / "rows.csv")
    expected = pd.read_csv(io.StringIO(result.stdout))["y"].tolist()
    assert answer["predictions"] == pytest.approx(expected, rel=1e-12)
    assert "probabilities" not in answer


GOOD = {"f1": 0.1, "f2": 0.2, "f3": 0.3, "f4": 0.4, "colour": "red"}
BAD_REQUESTS = {
    "not json": (b"{oops", 400, "not valid JSON"),
    "not utf-8": (b'["\xff"]', 400, "UTF-8"),
    "NaN": (b'[{"f1": NaN}]', 400, "NaN"),
    "Infinity": (b'{"f1": [Infinity]}', 400, "Infinity"),
    "a number": (b"3", 422, "list of records"),
    "no rows": (b"[]", 422, "no rows"),
    "row not an object": (json.dumps([GOOD, [1, 2]]).encode(), 422, "row 2 is not an object"),
    "missing column": (json.dumps([GOOD, {**GOOD, "f3": 1}] + [{"f1": 1}]).encode(), 422,
                       "row 3 has no column 'f2'"),
    "text in a number column": (json.dumps([GOOD, {**GOOD, "f4": "4.5"}]).encode(), 422,
                                "row 2, column 'f4': expected a number or null"),
    "boolean": (json.dumps([{**GOOD, "f1": True}]).encode(), 422, "row 1, column 'f1'"),
    "huge number": (b'[{"f1": 1e999, "f2": 0, "f3": 0, "f4": 0, "colour": "red"}]', 422,
                    "row 1, column 'f1': expected a number or null, got Infinity"),
    "object as category": (json.dumps([{**GOOD, "colour": {"a": 1}}]).encode(), 422,
                           "row 1, column 'colour': expected text, a number or null"),
    "column missing": (json.dumps({k: [v] for k, v in GOOD.items() if k != "f1"}).encode(),
                       422, "no column 'f1'"),
    "column not a list": (json.dumps({**{k: [v] for k, v in GOOD.items()}, "f1": 3}).encode(),
                          422, "column 'f1' is not a list"),
    "uneven columns": (json.dumps({**{k: [v] for k, v in GOOD.items()}, "f1": [1, 2]}).encode(),
                       422, "different lengths"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD_REQUESTS))
def test_a_bad_request_gets_one_line_4xx(served, kind):
    body, status, fragment = BAD_REQUESTS[kind]
    got, answer = post(served, body)
    assert (got, list(answer)) == (status, ["error"])
    assert fragment in answer["error"] and "\n" not in answer["error"]


def test_routes_methods_size_and_length(served):
    assert request(served, "GET", "/nowhere")[0] == 404
    assert request(served, "GET", "/predict")[0] == 405
    assert request(served, "POST", "/schema", b"{}")[0] == 405
    status, answer = post(served, json.dumps([GOOD] * 100).encode())
    assert status == 413 and "--max-request-bytes" in answer["error"]
    connection = http.client.HTTPConnection(*served.server_address[:2], timeout=10)
    connection.putrequest("POST", "/predict")
    connection.endheaders()  # no Content-Length
    assert connection.getresponse().status == 411
    connection.close()
    assert post(served, [GOOD])[0] == 200  # and it still serves


def test_concurrent_clients_get_their_own_answers(served):
    rows = [{**GOOD, "f1": float(i) / 10} for i in range(20)]
    expected = post(served, rows)[1]["predictions"]
    answers, errors = [], []

    def client(index: int) -> None:
        try:
            for _ in range(5):
                status, answer = post(served, rows[index:] + rows[:index])
                assert status == 200
                answers.append(answer["predictions"] == expected[index:] + expected[:index])
        except Exception as exc:  # collected: an assert in a thread would go unseen
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and answers == [True] * 40


def test_a_slow_client_does_not_block_others(served):
    slow = socket.create_connection(served.server_address[:2], timeout=10)
    slow.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 500\r\n\r\n[{")  # then silence
    started = time.perf_counter()
    assert request(served, "GET", "/health")[0] == 200
    assert time.perf_counter() - started < 5
    slow.close()


def test_serving_imports_no_torch(binary_run):
    code = (
        "import sys; from tabnet_cli.run.run_dir import load_run; "
        "from tabnet_cli.serve.service import Service; from tabnet_cli.serve.server import "
        f"make_server; s = Service(load_run({str(binary_run)!r})); "
        's.predict(b\'[{"f1": 0, "f2": 0, "f3": 0, "f4": 0, "colour": "red"}]\'); '
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tabnet_serve_starts_answers_and_stops_on_sigterm(binary_run):
    command = [sys.executable, "-m", "tabnet_cli", "serve", str(binary_run), "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert line.startswith(f"serving {binary_run} (binary, target 'label') on http://")
        host, port = line.split("http://")[1].split(" ")[0].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr.read() == "stopped\n"
    finally:
        process.kill()


def test_a_port_in_use_is_one_line(cli, binary_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", binary_run, "--port", port)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port} (")
    assert result.stderr.count("\n") == 1


def test_serve_refuses_a_missing_run(cli, tmp_path):
    result = cli("serve", tmp_path / "nothing")
    assert result.exit_code == 2 and "no such run directory" in result.stderr
    assert os.environ.get("TABNET_NEVER_SET") is None  # the runner leaves the env alone
