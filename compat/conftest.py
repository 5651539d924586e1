"""Fixtures for the compatibility suite: a fresh `pitwall server` per test module and backend.

The server under test is started as
    $PITWALL_BIN server --host 127.0.0.1 --port PORT --backend-store-uri URI --artifacts-destination DIR
on SQLite and on PostgreSQL (a throw-away database per server). Tests talk to it with the real
`mlflow` client and with `requests`.

Environment knobs (all optional):
- PITWALL_BIN: the binary (default $CARGO_TARGET_DIR/debug/pitwall, CARGO_TARGET_DIR defaulting
  to ~/.cache/pitwall/target).
- PITWALL_COMPAT_BACKENDS: comma list out of `sqlite,postgres` (default both).
- PITWALL_COMPAT_ARTIFACTS: comma list out of `local,s3` (default both): where the server keeps
  proxied artifacts. `s3` starts one moto server (`$PITWALL_VENV/bin/moto_server`) for the session
  on 127.0.0.1, gives each server a fresh bucket and runs it with `--artifacts-destination
  s3://BUCKET/artifacts` and MLFLOW_S3_ENDPOINT_URL / AWS_* set. Only modules marked `registry`
  run on `s3`; the others need no artifact store and run on `local` only.
- PITWALL_TEST_PG_URL: admin URL used to create and drop the per-server databases
  (default postgresql://postgres@127.0.0.1:5432/postgres).
- PITWALL_COMPAT_START_TIMEOUT: seconds to wait for GET /health (default 30).
- PITWALL_COMPAT_ORACLE=1: the binary is MLflow itself (see tools/mlflow-server-shim); tests
  marked `stricter` (where Pitwall must do better than MLflow, e.g. never a 5xx) are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

# Must be set before mlflow reads them: a server error fails fast instead of being retried for
# minutes, and a hung request does not hang the suite.
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import pytest  # noqa: E402
import requests  # noqa: E402

API = "/api/2.0/mlflow"
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
GENERATED_RUN_NAME_RE = re.compile(r"^[a-z]+-[a-z]+-\d+$")

ORACLE = os.environ.get("PITWALL_COMPAT_ORACLE") == "1"


def _target_dir() -> Path:
    return Path(
        os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "pitwall" / "target"
    )


def pitwall_bin() -> Path:
    # Absolute: servers start in their own temporary folder, where a relative PITWALL_BIN
    # (the README's `compat/tools/mlflow-server-shim`) would not be found.
    return Path(os.environ.get("PITWALL_BIN") or _target_dir() / "debug" / "pitwall").absolute()


def backends() -> list[str]:
    raw = os.environ.get("PITWALL_COMPAT_BACKENDS", "sqlite,postgres")
    return [b.strip() for b in raw.split(",") if b.strip()]


def artifact_stores() -> list[str]:
    raw = os.environ.get("PITWALL_COMPAT_ARTIFACTS", "local,s3")
    stores = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = set(stores) - {"local", "s3"}
    if unknown:
        raise ValueError(f"PITWALL_COMPAT_ARTIFACTS: unknown store(s) {sorted(unknown)}")
    return stores


def _venv() -> Path:
    return Path(os.environ.get("PITWALL_VENV") or Path.home() / ".cache" / "pitwall" / "venv")


S3_ACCESS_KEY = "pitwall-compat"
S3_SECRET_KEY = "pitwall-compat-secret"
S3_REGION = "us-east-1"


class MotoServer:
    """A moto S3 server on 127.0.0.1 for the session, with a boto3 client."""

    def __init__(self):
        exe = _venv() / "bin" / "moto_server"
        if not exe.exists():
            pytest.fail(f"{exe} not found: run scripts/setup-python.sh")
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(exe), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"moto_server exited at start-up with code {self.proc.returncode}")
            try:
                if requests.get(self.endpoint, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            _stop(self.proc)
            pytest.fail("moto_server did not answer within 30 s")
        import boto3

        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY, region_name=S3_REGION,
        )

    def new_bucket(self) -> str:
        name = f"pitwall-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def server_env(self) -> dict[str, str]:
        return {
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_REGION": S3_REGION,
        }


PG_ADMIN_URL = os.environ.get(
    "PITWALL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", PG_ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _pg_url_for(dbname: str) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


class Server:
    """A running server under test, with small helpers for raw REST calls."""

    def __init__(self, backend: str, url: str, store_uri: str, artifacts: Path, log: Path,
                 store: str = "local", moto: "MotoServer | None" = None, bucket: str | None = None):
        self.backend = backend
        self.url = url
        self.store_uri = store_uri
        # The local artifact folder (unused when the artifacts are on S3).
        self.artifacts = artifacts
        self.log = log
        # "local" or "s3"; with s3, the moto server and the bucket the artifacts go to.
        self.store = store
        self.moto = moto
        self.bucket = bucket
        self.http = requests.Session()

    def __repr__(self) -> str:  # shows up in pytest ids and failure messages
        return f"Server({self.backend} {self.store} {self.url})"

    def api_url(self, path: str) -> str:
        if path.startswith("/"):
            return self.url + path
        return f"{self.url}{API}/{path}"

    def get(self, path: str, params=None, **kw) -> requests.Response:
        return self.http.get(self.api_url(path), params=params, timeout=60, **kw)

    def post(self, path: str, json_body=None, **kw) -> requests.Response:
        if json_body is not None:
            kw["json"] = json_body
        return self.http.post(self.api_url(path), timeout=60, **kw)

    def stderr_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "<no server log>"

    # Convenience creators used by many tests -------------------------------------------
    def create_experiment(self, name: str | None = None, **extra) -> str:
        body = {"name": name or unique("exp"), **extra}
        r = self.post("experiments/create", body)
        assert r.status_code == 200, describe(r)
        return r.json()["experiment_id"]

    def create_run(self, experiment_id: str, **extra) -> dict:
        body = {"experiment_id": experiment_id, "start_time": now_ms(), **extra}
        r = self.post("runs/create", body)
        assert r.status_code == 200, describe(r)
        return r.json()["run"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def describe(r: requests.Response) -> str:
    """A failure message naming the request and the response, for the lead's bug list."""
    req = r.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:600].decode("utf-8", "replace")
    elif isinstance(body, str):
        body = body[:600]
    return (
        f"\n  request : {req.method} {req.url}\n  body    : {body}\n"
        f"  status  : {r.status_code}\n  response: {r.text[:1500]}"
    )


def assert_error(
    r: requests.Response,
    status: int,
    error_code: str,
    message: str | None = None,
    *,
    message_prefix: str | None = None,
    message_re: str | None = None,
) -> dict:
    """Asserts an MLflow error answer: status, JSON body, error_code and (when known) message."""
    assert r.status_code < 500, "server answered a 5xx to a client error:" + describe(r)
    assert r.status_code == status, f"expected HTTP {status}:" + describe(r)
    try:
        body = r.json()
    except ValueError:
        pytest.fail("error body is not JSON:" + describe(r))
    assert isinstance(body, dict), describe(r)
    assert body.get("error_code") == error_code, f"expected error_code {error_code}:" + describe(r)
    msg = body.get("message")
    assert isinstance(msg, str), describe(r)
    if message is not None:
        assert msg == message, f"expected message {message!r}:" + describe(r)
    if message_prefix is not None:
        assert msg.startswith(message_prefix), (
            f"expected message starting {message_prefix!r}:" + describe(r)
        )
    if message_re is not None:
        assert re.search(message_re, msg), f"expected message matching {message_re!r}:" + describe(r)
    return body


def _start_server(
    backend: str, tmp: Path, store: str = "local", moto: MotoServer | None = None
) -> tuple[subprocess.Popen, Server, str | None]:
    binary = pitwall_bin()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found: build it with `cargo build -p pitwall`")
    artifacts = tmp / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    dbname = None
    if backend == "sqlite":
        store_uri = f"sqlite:///{tmp}/mlflow.db"
    elif backend == "postgres":
        if shutil.which("psql") is None:
            pytest.fail("psql not found: PostgreSQL client tools are needed for the postgres backend")
        dbname = f"pitwall_compat_{uuid.uuid4().hex[:12]}"
        _psql(f'CREATE DATABASE "{dbname}"')
        store_uri = _pg_url_for(dbname)
    else:
        raise ValueError(f"unknown backend {backend}")

    port = _free_port()
    log = tmp / "server.log"
    url = f"http://127.0.0.1:{port}"
    bucket = None
    destination = str(artifacts)
    if store == "s3":
        bucket = moto.new_bucket()
        destination = f"s3://{bucket}/artifacts"
    cmd = [
        str(binary), "server",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--backend-store-uri", store_uri,
        "--artifacts-destination", destination,
    ]
    env = dict(os.environ)
    if store == "s3":
        env.update(moto.server_env())
    env.setdefault("RUST_LOG", "info")
    env.setdefault("RUST_BACKTRACE", "1")
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=tmp, env=env, start_new_session=True,
        )
    server = Server(backend, url, store_uri, artifacts, log, store, moto, bucket)
    deadline = time.monotonic() + float(os.environ.get("PITWALL_COMPAT_START_TIMEOUT", "30"))
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            r = requests.get(url + "/health", timeout=2)
            if r.status_code == 200 and r.text.strip() == "OK":
                return proc, server, dbname
            last = f"{r.status_code} {r.text[:200]!r}"
        except requests.RequestException as e:
            last = repr(e)
        time.sleep(0.2)
    _stop(proc)
    if dbname:
        _drop_db(dbname)
    pytest.fail(
        f"server did not become healthy ({' '.join(cmd)}); exit={proc.poll()} last={last}\n"
        f"--- server output ---\n{server.stderr_tail(120)}"
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _drop_db(dbname: str) -> None:
    try:
        _psql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    except subprocess.CalledProcessError:
        pass


def pytest_generate_tests(metafunc):
    """Each module runs once per backend; modules marked `registry` also once per artifact store;
    modules marked `once` (slow end-to-end loops whose server side the other modules already
    cover on every backend) only on the first backend and artifact store."""
    if "server" not in metafunc.fixturenames:
        return
    stores = artifact_stores()
    chosen_backends = backends()
    if metafunc.definition.get_closest_marker("registry") is None:
        stores = stores[:1]
    if metafunc.definition.get_closest_marker("once") is not None:
        stores, chosen_backends = stores[:1], chosen_backends[:1]
    params, ids = [], []
    for backend in chosen_backends:
        for store in stores:
            params.append((backend, store))
            ids.append(backend if store == "local" else f"{backend}-{store}")
    metafunc.parametrize("server", params, ids=ids, indirect=True, scope="module")


@pytest.fixture(scope="session")
def moto(request):
    """The session's S3 server, started on first use."""
    srv = MotoServer()
    yield srv
    _stop(srv.proc)


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """A fresh server for this module on one backend and artifact store."""
    backend, store = request.param
    moto = request.getfixturevalue("moto") if store == "s3" else None
    tmp = tmp_path_factory.mktemp(f"{backend}-{store}-{request.module.__name__}")
    proc, srv, dbname = _start_server(backend, tmp, store, moto)
    yield srv
    crashed = proc.poll()
    _stop(proc)
    if dbname:
        _drop_db(dbname)
    if crashed is not None:
        pytest.fail(f"server exited during the module (code {crashed}):\n{srv.stderr_tail(120)}")


@pytest.fixture(scope="module")
def tracking(server):
    """Points the real mlflow client at `server`; yields an MlflowClient."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", server.url)
    mlflow.set_tracking_uri(server.url)
    client = MlflowClient(tracking_uri=server.url)
    yield client
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mp.undo()


@pytest.fixture(autouse=True)
def _no_leftover_active_run():
    yield
    try:
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run()
    except Exception:  # the client may not be configured in a pure-REST module
        pass


def pytest_collection_modifyitems(config, items):
    if not ORACLE:
        return
    skip = pytest.mark.skip(reason="Pitwall is stricter than MLflow here (oracle run)")
    for item in items:
        if "stricter" in item.keywords:
            item.add_marker(skip)


def load_json(text: str):
    return json.loads(text)
