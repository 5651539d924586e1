"""Tracking-server benchmark: Pitwall against MLflow's own server, same machine, same client.

Measures what users wait on:
  * log-batch of 1000 metrics (the client's log_metrics), p50/p95 over repeated calls, and the
    batches per second 8 clients get together;
  * search-runs with a metric filter and an order_by over a large experiment (seeded straight
    into each server's own schema, so seeding time is not measured);
  * the user's path (--user-runs): runs created through the API (create-run, then log-batch
    with a metric and a param), searched at once, before any ANALYZE; on PostgreSQL with
    autovacuum off and on (--autovacuum).

Usage: python bench/tracking/bench.py [--runs 100000] [--batches 200] [--servers pitwall,mlflow]
       [--backends sqlite,postgres] [--user-runs 10000] [--autovacuum off,on]
       [--sqlite-sync full,normal] [--skip seeded]
Needs: the venv of compat/requirements.txt, PostgreSQL on 127.0.0.1:5432 (trust), and
the release build of the server (see pitwall_cmd).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager

import requests

PG_BASE = os.environ.get("PITWALL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pitwall_cmd(port: int, store_uri: str, art: str) -> list[str]:
    """The release build of the server: `tracking_server` (the registry alone, which builds in
    minutes) unless PITWALL_BIN names a `pitwall` binary."""
    if os.environ.get("PITWALL_BIN"):
        return [os.environ["PITWALL_BIN"], "server", "--host", "127.0.0.1", "--port", str(port),
                "--backend-store-uri", store_uri, "--artifacts-destination", art]
    target = os.environ.get("PITWALL_BENCH_TARGET_DIR", os.path.expanduser("~/.cache/pitwall/target-bench"))
    exe = os.path.join(target, "release", "examples", "tracking_server")
    if not os.path.exists(exe):
        sys.exit("build it first: CARGO_TARGET_DIR=~/.cache/pitwall/target-bench "
                 "cargo build --release -p pitwall-registry --example tracking_server")
    return [exe, str(port), store_uri]


def psql(sql: str, db_url: str = PG_BASE) -> str:
    return subprocess.run(["psql", db_url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout


@contextmanager
def backend_uri(kind: str, tmp: str):
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/bench.db", None
        return
    name = f"pitwall_bench_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {name}")
    try:
        yield PG_BASE.rsplit("/", 1)[0] + "/" + name, name
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def server(kind: str, store_uri: str, tmp: str):
    port = free_port()
    art = os.path.join(tmp, "artifacts")
    if kind == "pitwall":
        cmd = pitwall_cmd(port, store_uri, art)
        env = dict(os.environ, PITWALL_LOG="warn")
    else:
        uri = store_uri.replace("postgresql://", "postgresql+psycopg2://")
        cmd = [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server", "--host", "127.0.0.1",
               "--port", str(port), "--backend-store-uri", uri, "--artifacts-destination", art,
               "--workers", "2"]
        env = dict(os.environ, MLFLOW_LOGGING_LEVEL="WARNING")
    log = open(os.path.join(tmp, f"{kind}.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                sys.exit(f"{kind} server exited; see {log.name}")
            time.sleep(0.3)
        else:
            sys.exit(f"{kind} server did not start; see {log.name}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def api(s: requests.Session, url: str, path: str, body: dict) -> dict:
    r = s.post(f"{url}/api/2.0/mlflow/{path}", json=body, timeout=300)
    r.raise_for_status()
    return r.json()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def bench_log_batch(url: str, batches: int) -> dict:
    s = requests.Session()
    exp = api(s, url, "experiments/create", {"name": f"logbatch-{uuid.uuid4().hex[:6]}"})["experiment_id"]
    run = api(s, url, "runs/create", {"experiment_id": exp, "start_time": 1})["run"]["info"]["run_id"]
    times = []
    for b in range(batches + 10):
        metrics = [{"key": f"m{i % 50}", "value": random.random(), "timestamp": 1_700_000_000_000 + b,
                    "step": b * 1000 + i} for i in range(1000)]
        # Encoded before the clock starts: the figure is the server's, not Python's json.
        body = json.dumps({"run_id": run, "metrics": metrics}).encode()
        t0 = time.perf_counter()
        r = s.post(f"{url}/api/2.0/mlflow/runs/log-batch", data=body,
                   headers={"Content-Type": "application/json"}, timeout=300)
        r.raise_for_status()
        if b >= 10:  # warm-up
            times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95)}


def bench_log_batch_clients(url: str, clients: int, batches_each: int) -> dict:
    """Batches per second that `clients` concurrent clients get, each logging to its own run."""
    from concurrent.futures import ThreadPoolExecutor

    s = requests.Session()
    exp = api(s, url, "experiments/create", {"name": f"clients-{uuid.uuid4().hex[:6]}"})["experiment_id"]
    runs = [api(s, url, "runs/create", {"experiment_id": exp, "start_time": 1})["run"]["info"]["run_id"]
            for _ in range(clients)]
    bodies = [[json.dumps({"run_id": run, "metrics": [
        {"key": f"m{i % 50}", "value": random.random(), "timestamp": 1_700_000_000_000 + b, "step": b * 1000 + i}
        for i in range(1000)]}).encode() for b in range(batches_each)] for run in runs]

    def client(mine: list[bytes]) -> None:
        cs = requests.Session()
        for body in mine:
            cs.post(f"{url}/api/2.0/mlflow/runs/log-batch", data=body,
                    headers={"Content-Type": "application/json"}, timeout=300).raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, bodies))
    elapsed = time.perf_counter() - t0
    return {"batches_per_s": clients * batches_each / elapsed}


def create_runs_through_api(url: str, exp_id: str, n: int, clients: int = 8) -> None:
    """What a user's training jobs do: create a run, then log a metric and a param."""
    from concurrent.futures import ThreadPoolExecutor

    def client(k: int) -> None:
        cs = requests.Session()
        rng = random.Random(k)
        for i in range(k, n, clients):
            run = api(cs, url, "runs/create", {"experiment_id": exp_id, "start_time": 1_700_000_000_000 + i,
                                              "run_name": f"run-{i}"})["run"]["info"]["run_id"]
            api(cs, url, "runs/log-batch", {"run_id": run,
                                            "metrics": [{"key": "m", "value": rng.random(), "timestamp": 1, "step": 0}],
                                            "params": [{"key": "p", "value": str(i % 7)}]})

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))


def bench_user_search(url: str, exp_id: str, reps: int, budget_s: float = 120) -> dict:
    """The search a user runs right after creating the runs: no statistics may exist yet."""
    s = requests.Session()
    body = {"experiment_ids": [exp_id], "filter": "metrics.m > 0.5", "order_by": ["metrics.m DESC"],
            "max_results": 100}
    times = []
    started = time.time()
    for _ in range(reps):
        t0 = time.perf_counter()
        r = api(s, url, "runs/search", body)
        times.append((time.perf_counter() - t0) * 1000)
        if time.time() - started > budget_s:
            break
    assert len(r.get("runs", [])) == 100, "search returned fewer runs than asked"
    return {"first_ms": times[0], "p50_ms": statistics.median(times), "p95_ms": pct(times, 95), "n": len(times)}


@contextmanager
def autovacuum(setting: str | None):
    """Sets the cluster's autovacuum for the block (ALTER SYSTEM), then puts it back."""
    if setting is None:
        yield
        return
    before, source = psql("SELECT setting || '|' || source FROM pg_settings WHERE name = 'autovacuum'").strip().split("|")
    psql(f"ALTER SYSTEM SET autovacuum = {setting}")
    psql("SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        yield
    finally:
        if source == "configuration file" or source == "default":
            psql("ALTER SYSTEM RESET autovacuum")
        else:
            psql(f"ALTER SYSTEM SET autovacuum = {before}")
        psql("SELECT pg_reload_conf()")


def seed_runs(kind: str, store_uri: str, db_name: str | None, exp_id: int, n: int) -> None:
    """Seeds n runs with params, tags and latest metrics straight into the server's tables."""
    rows = []
    rng = random.Random(7)
    for i in range(n):
        rows.append((uuid.uuid4().hex, f"run-{i}", 1_700_000_000_000 + i, rng.random(), rng.random()))
    if db_name is None:
        path = store_uri.split("sqlite:///", 1)[1]
        con = sqlite3.connect(path)
        insert_all_sqlite(con, kind, exp_id, rows)
        con.commit()
        con.close()
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            for r in rows:
                f.write(",".join(map(str, r)) + "\n")
            csv_path = f.name
        db_url = PG_BASE.rsplit("/", 1)[0] + "/" + db_name
        script = f"""
CREATE TEMP TABLE seed (id text, name text, t bigint, acc float8, loss float8);
\\copy seed FROM '{csv_path}' CSV
{seed_sql(kind, exp_id, nan_literal="false" if kind == "mlflow" else "0")}
"""
        subprocess.run(["psql", db_url, "-v", "ON_ERROR_STOP=1", "-q"], input=script, text=True, check=True)
        os.unlink(csv_path)


def seed_sql(kind: str, exp_id: int, nan_literal: str = "0", sqlite: bool = False) -> str:
    """MLflow's PostgreSQL schema types is_nan as boolean; everywhere else it is an integer.
    Pitwall keeps history in chunks of big-endian (step, timestamp, value) triples: PostgreSQL's
    int8send/float8send write them, and on SQLite the `chunk` function registered below."""
    if kind == "pitwall":
        pack = ("chunk(0, t, {v})" if sqlite else "int8send(0::bigint) || int8send(t) || float8send({v})")
        history = "\n".join(
            f"INSERT INTO metric_chunks (run_uuid, key, min_step, max_step, min_timestamp, max_timestamp, data) "
            f"SELECT id, '{key}', 0, 0, t, t, {pack.format(v=key)} FROM seed;" for key in ("acc", "loss"))
        runs = (f"INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri) "
                f"SELECT id, {exp_id}, name, 'bench', 'FINISHED', t, t + 1, 'active', 'mlflow-artifacts:/{exp_id}/' || id || '/artifacts' FROM seed;")
    else:
        history = "\n".join(
            f"INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
            f"SELECT id, '{key}', {key}, t, 0, {nan_literal} FROM seed;" for key in ("acc", "loss"))
        runs = (f"INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, "
                f"source_version, lifecycle_stage, artifact_uri, experiment_id) SELECT id, name, 'LOCAL', '', '', 'bench', 'FINISHED', t, t + 1, '', "
                f"'active', 'mlflow-artifacts:/{exp_id}/' || id || '/artifacts', {exp_id} FROM seed;")
    return runs + f"""
INSERT INTO params (run_uuid, key, value) SELECT id, 'model', CASE WHEN acc > 0.5 THEN 'tree' ELSE 'linear' END FROM seed;
INSERT INTO tags (run_uuid, key, value) SELECT id, 'mlflow.runName', name FROM seed;
INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) SELECT id, 'acc', acc, t, 0, {nan_literal} FROM seed;
INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) SELECT id, 'loss', loss, t, 0, {nan_literal} FROM seed;
{history}
ANALYZE;
"""


def insert_all_sqlite(con, kind: str, exp_id: int, rows) -> None:
    con.execute("CREATE TEMP TABLE seed (id text, name text, t bigint, acc real, loss real)")
    con.executemany("INSERT INTO seed VALUES (?, ?, ?, ?, ?)", rows)
    con.create_function("chunk", 3, lambda step, t, v: struct.pack(">qqd", step, t, v), deterministic=True)
    con.executescript(seed_sql(kind, exp_id, sqlite=True))


def bench_search(url: str, exp_id: str, max_results: int, reps: int) -> dict:
    s = requests.Session()
    body = {"experiment_ids": [exp_id], "filter": "metrics.acc > 0.5 AND params.model = 'tree'",
            "order_by": ["metrics.acc DESC"], "max_results": max_results}
    times = []
    for i in range(reps + 3):
        t0 = time.perf_counter()
        r = api(s, url, "runs/search", body)
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    assert len(r.get("runs", [])) == max_results, "search returned fewer runs than asked"
    return {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95)}


def with_sync(uri: str, sync: str) -> str:
    """A SQLite URI with its commit setting (`full`: acknowledged once on disk, the default)."""
    return uri if not uri.startswith("sqlite") or sync == "full" else f"{uri}?synchronous={sync}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--servers", default="pitwall,mlflow")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--clients", type=int, default=8, help="concurrent log-batch clients (0 skips)")
    ap.add_argument("--user-runs", type=int, default=0, help="runs created through the API, then searched")
    ap.add_argument("--autovacuum", default="off,on", help="PostgreSQL settings for the user's path")
    ap.add_argument("--sqlite-sync", default="full", help="SQLite commit settings to compare (full,normal)")
    ap.add_argument("--skip", default="", help="comma list: seeded (the seeded search), logbatch")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    results: dict[tuple[str, str], dict] = {}
    configs = []
    for backend in args.backends.split(","):
        for sync in (args.sqlite_sync.split(",") if backend == "sqlite" else ["-"]):
            for kind in args.servers.split(","):
                if kind == "mlflow" and sync not in ("-", "full"):
                    continue
                configs.append((backend, sync, kind))
    for backend, sync, kind in configs:
        label = backend if sync in ("-", "full") else f"{backend}/{sync}"
        tmp = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        try:
            res: dict = {}
            if "logbatch" not in skip or "seeded" not in skip:
                with backend_uri(backend, tmp) as (uri, db_name):
                    with server(kind, with_sync(uri, sync), tmp) as url:
                        if "logbatch" not in skip:
                            res["log_batch_1000"] = bench_log_batch(url, args.batches)
                            if args.clients:
                                res["log_batch_clients"] = bench_log_batch_clients(url, args.clients, 20)
                        if "seeded" not in skip:
                            s = requests.Session()
                            exp = api(s, url, "experiments/create", {"name": "search-bench"})["experiment_id"]
                            t0 = time.time()
                            seed_runs(kind, uri, db_name, int(exp), args.runs)
                            print(f"  seeded {args.runs} runs for {kind}/{backend} in {time.time() - t0:.1f}s", flush=True)
                            for mr in (100, 1000):
                                res[f"search_{mr}"] = bench_search(url, exp, mr, args.reps)
            if args.user_runs:
                for av in (args.autovacuum.split(",") if backend == "postgres" else [None]):
                    with autovacuum(av), backend_uri(backend, tmp + f"/user-{av}") as (uri, _):
                        os.makedirs(tmp + f"/user-{av}", exist_ok=True)
                        with server(kind, with_sync(uri, sync), tmp) as url:
                            s = requests.Session()
                            exp = api(s, url, "experiments/create", {"name": "user-path"})["experiment_id"]
                            t0 = time.time()
                            create_runs_through_api(url, exp, args.user_runs)
                            print(f"  created {args.user_runs} runs through the API for {kind}/{backend} "
                                  f"in {time.time() - t0:.1f}s", flush=True)
                            key = "user_search_100" + (f"_autovacuum_{av}" if av else "")
                            res[key] = bench_user_search(url, exp, args.reps)
            results[(kind, label)] = res
            print(f"{kind:8s} {label:14s} {json.dumps(res)}", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\nmedian latency, ms (lower is better), or batches/s (higher is better); ratio = mlflow / pitwall")
    labels = list(dict.fromkeys(label for (_, label) in results))
    for label in labels:
        p, m = results.get(("pitwall", label), {}), results.get(("mlflow", label), {})
        for key in dict.fromkeys(list(p) + list(m)):
            field = "batches_per_s" if key == "log_batch_clients" else "p50_ms"
            pv = p[key][field] if key in p else float("nan")
            mv = m[key][field] if key in m else float("nan")
            ratio = pv / mv if field == "batches_per_s" else mv / pv
            print(f"{label:14s} {key:34s} pitwall {pv:9.2f}  mlflow {mv:9.2f}  ratio {ratio:7.1f}x")


if __name__ == "__main__":
    main()
