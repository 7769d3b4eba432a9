"""Throughput and latency of `tabnet serve` against in-process prediction of the same rows.

Trains a small run on sample_data/diabetes.csv (plain recipe, 256,256), starts the server
in a subprocess on a free local port, and sends requests of 1 and 1000 rows from 1 and 8
concurrent clients (keep-alive connections). The reference is the same service's
`predict` called in this process on the same request bodies (JSON parsing, checks,
preprocessing and the NumPy forward pass: everything but HTTP).

Usage:
  python bench/serve.py [--requests 200] [--seconds-cap 20]

Prints rows/s and p50/p99 latency per case, and the ratio to in-process rows/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "sample_data" / "diabetes.csv"


def train(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "tabnet_cli", "train", str(DATA), "--target",
                    "progression", "--recipe", "plain", "--layers", "256,256", "--epochs", "3",
                    "--verbose", "0", "--out", str(out)], check=True, capture_output=True)
    return out


def bodies(rows: int, count: int) -> list[bytes]:
    frame = pd.read_csv(DATA).drop(columns="progression")
    records = frame.to_dict(orient="records")
    return [json.dumps([records[(i * rows + j) % len(records)] for j in range(rows)]).encode()
            for i in range(count)]


def start_server(run: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen([sys.executable, "-m", "tabnet_cli", "serve", str(run), "--port",
                                "0"], stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    host, port = line.split("http://")[1].split(" ")[0].rsplit(":", 1)
    return process, host, int(port)


def client(host: str, port: int, requests: list[bytes], latencies: list[float]) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    for body in requests:
        started = time.perf_counter()
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"status {response.status}")
        latencies.append(time.perf_counter() - started)
    connection.close()


def http_case(host: str, port: int, rows: int, clients: int, count: int) -> dict:
    work = bodies(rows, count)
    shares = [work[i::clients] for i in range(clients)]
    latencies: list[float] = []
    threads = [threading.Thread(target=client, args=(host, port, share, latencies))
               for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return summary(rows * count / seconds, latencies)


def in_process_case(run: Path, rows: int, count: int) -> dict:
    from tabnet_cli.run.run_dir import load_run
    from tabnet_cli.serve.service import Service

    service = Service(load_run(run))
    latencies = []
    started = time.perf_counter()
    for body in bodies(rows, count):
        begun = time.perf_counter()
        service.predict(body)
        latencies.append(time.perf_counter() - begun)
    return summary(rows * count / (time.perf_counter() - started), latencies)


def summary(rows_per_second: float, latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"rows_s": rows_per_second, "p50_ms": statistics.median(ordered) * 1e3,
            "p99_ms": p99 * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = train(Path(tmp) / "run")
        process, host, port = start_server(run)
        try:
            print(f"{'case':<28}{'rows/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'vs in-process':>15}")
            for rows in (1, 1000):
                count = args.requests if rows == 1 else max(args.requests // 10, 20)
                reference = in_process_case(run, rows, count)
                line(f"in-process, {rows} row(s)", reference, reference)
                for clients in (1, 8):
                    figures = http_case(host, port, rows, clients, count)
                    line(f"HTTP, {rows} row(s), {clients} client(s)", figures, reference)
        finally:
            process.terminate()
            process.wait(timeout=20)


def line(name: str, figures: dict, reference: dict) -> None:
    print(f"{name:<28}{figures['rows_s']:>12,.0f}{figures['p50_ms']:>9.2f}"
          f"{figures['p99_ms']:>9.2f}{figures['rows_s'] / reference['rows_s']:>14.2f}x",
          flush=True)


if __name__ == "__main__":
    main()
