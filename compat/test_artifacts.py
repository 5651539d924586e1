"""The artifact proxy through the real client, on a local folder and on S3 (marked `registry`).

log_artifact / log_artifacts / list_artifacts / download_artifacts with nested directories and a
50 MB file, multipart uploads when server-info advertises them, and path traversal over raw
HTTP (which `requests` would normalise, hence `http.client`).
"""

from __future__ import annotations

import filecmp
import hashlib
import http.client
import os
import urllib.parse
from pathlib import Path

import mlflow
import pytest

from conftest import assert_error, describe, unique

pytestmark = pytest.mark.registry

PROXY = "/api/2.0/mlflow-artifacts"


def _write_tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.json").write_text('{"b": 1}')
    (root / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(70_000))
    return root


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _trees_equal(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_trees_equal(a / d, b / d) for d in cmp.common_dirs)


def _list(run, path: str):
    """Lists through the run's `mlflow-artifacts:` repository (paths relative to the run's root).
    (`MlflowClient.list_artifacts(run_id, path)` also searches logged models in MLflow 3.)"""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    return get_artifact_repository(run.info.artifact_uri).list_artifacts(path)


def _download(run, path: str, dst: Path) -> str:
    """Downloads through the run's `mlflow-artifacts:` URI, i.e. through the proxy. (With
    `run_id=` the MLflow 3 client first searches logged models, which is another area's endpoint.)"""
    return mlflow.artifacts.download_artifacts(artifact_uri=f"{run.info.artifact_uri}/{path}", dst_path=str(dst))


def test_log_list_download_nested(server, tracking, tmp_path):
    tree = _write_tree(tmp_path / "tree")
    mlflow.set_experiment(unique("artifacts-nested"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tree), artifact_path="outputs")
        mlflow.log_artifact(str(tree / "a.txt"))
    run_id = run.info.run_id

    top = tracking.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [("a.txt", False), ("outputs", True)]
    outputs = _list(run, "outputs")
    assert [(f.path, f.is_dir, f.file_size) for f in outputs] == [
        ("outputs/a.txt", False, 6),
        ("outputs/sub", True, None),
    ]
    deeper = _list(run, "outputs/sub/deeper")
    assert [(f.path, f.file_size) for f in deeper] == [("outputs/sub/deeper/c.bin", 70_000)]
    assert _list(run, "nothing-here") == []

    out = _download(run, "outputs", tmp_path / "dl")
    assert _trees_equal(tree, Path(out))
    one = _download(run, "outputs/sub/b.json", tmp_path / "one")
    assert Path(one).read_text() == '{"b": 1}'

    # The tracking API's listing, as the web UI reads it.
    r = server.get("artifacts/list", params={"run_id": run_id, "path": "outputs/sub"})
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert body["root_uri"] == run.info.artifact_uri
    assert body["files"] == [
        {"path": "outputs/sub/b.json", "is_dir": False, "file_size": 8},
        {"path": "outputs/sub/deeper", "is_dir": True},
    ]
    r = server.get("/get-artifact", params={"run_id": run_id, "path": "outputs/sub/b.json"})
    assert r.status_code == 200 and r.content == b'{"b": 1}', describe(r)
    assert r.headers["Content-Disposition"] == "attachment; filename=b.json"

    if server.store == "s3":
        keys = server.moto.keys(server.bucket)
        assert f"artifacts/{run.info.experiment_id}/{run_id}/artifacts/outputs/sub/deeper/c.bin" in keys, keys
        assert all(k.startswith("artifacts/") for k in keys), keys
    else:
        assert (server.artifacts / run.info.experiment_id / run_id / "artifacts" / "outputs" / "a.txt").is_file()


def test_large_file_round_trip(server, tracking, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(50):
            f.write(os.urandom(1 << 20))
    mlflow.set_experiment(unique("artifacts-large"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), artifact_path="data")
    [info] = _list(run, "data")
    assert (info.path, info.file_size) == ("data/big.bin", 50 << 20)
    out = _download(run, "data/big.bin", tmp_path / "dl")
    assert _sha256(Path(out)) == _sha256(big)


def test_multipart_upload_when_advertised(server, tracking, tmp_path, monkeypatch):
    info = server.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is (server.store == "s3")
    # Small thresholds so that a 12 MiB file goes up in three parts (S3 needs >= 5 MiB parts).
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1 << 20))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 << 20))
    f = tmp_path / "parts.bin"
    f.write_bytes(os.urandom(12 << 20))
    mlflow.set_experiment(unique("artifacts-mpu"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(f))
    out = _download(run, "parts.bin", tmp_path / "dl")
    assert _sha256(Path(out)) == _sha256(f)
    if server.store == "s3":
        key = f"artifacts/{run.info.experiment_id}/{run.info.run_id}/artifacts/parts.bin"
        etag = server.moto.client.head_object(Bucket=server.bucket, Key=key)["ETag"]
        # An S3 object assembled from parts has the ETag "<md5 of the part md5s>-<part count>".
        assert etag.strip('"').endswith("-3"), etag
        uploads = server.moto.client.list_multipart_uploads(Bucket=server.bucket).get("Uploads", [])
        assert uploads == [], uploads
    else:
        # Local destination: multipart answers 501, which makes the client fall back to one PUT.
        r = server.post(f"{PROXY}/mpu/create/x", {"path": "/tmp/x.bin", "num_parts": 1})
        assert r.status_code == 501, describe(r)
        assert r.json()["error_code"] == "NOT_IMPLEMENTED", describe(r)
        assert r.json()["message"] == "Multipart upload is not supported for the current artifact repository"


def test_raw_put_get_delete_and_content_types(server):
    base = f"{PROXY}/artifacts/raw-{unique('t')}"
    cases = {
        "notes.txt": "text/plain",
        "MLmodel": "text/plain",
        "conda.yaml": "text/plain",
        "plot.png": "image/png",
        "page.html": "text/html",
        "model.pkl": "application/octet-stream",
    }
    for name, mime in cases.items():
        r = server.http.put(server.url + f"{base}/d/{name}", data=b"payload", timeout=60)
        # MLflow's server answers an upload with an empty body (as the 3.18 recordings show).
        assert r.status_code == 200 and r.content == b"", describe(r)
        r = server.http.get(server.url + f"{base}/d/{name}", timeout=60)
        assert r.status_code == 200 and r.content == b"payload", describe(r)
        assert r.headers["Content-Type"] == mime, (name, r.headers)
        assert r.headers["Content-Disposition"] == f"attachment; filename={name}"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = server.http.get(server.url + f"{PROXY}/artifacts", params={"path": base.split("/artifacts/", 1)[1] + "/d"})
    assert sorted(f["path"] for f in r.json()["files"]) == sorted(cases), describe(r)
    r = server.http.delete(server.url + f"{base}/d", timeout=60)
    assert r.status_code == 200, describe(r)
    r = server.http.get(server.url + f"{base}/d/notes.txt", timeout=60)
    assert_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    r = server.http.get(server.url + f"{PROXY}/artifacts", params={"path": base.split("/artifacts/", 1)[1]})
    assert r.json() == {}, describe(r)


TRAVERSALS = [
    "../secret.txt",
    "../../secret.txt",
    "a/../../secret.txt",
    "..%2Fsecret.txt",
    "%2e%2e/secret.txt",
    "%252e%252e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "..%5Csecret.txt",
    "%2Fetc%2Fpasswd",
    "C:%5Cwin.ini",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "x%23y",
    "a%00b",
    "%EF%BC%8E%EF%BC%8E/secret.txt",
    "a%E2%88%95..%E2%88%95secret.txt",
]


def _raw(server, method: str, target: str, body: bytes | None = None):
    """One request with the target sent exactly as written."""
    u = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _outside_snapshot(server) -> dict[str, bytes]:
    """Every file of the server's working directory outside its artifact folder, but the
    database and the log, which the server itself writes."""
    root = server.artifacts.parent
    snap = {}
    for p in root.rglob("*"):
        if p.is_file() and server.artifacts not in p.parents and not p.name.startswith(("mlflow.db", "server.log")):
            snap[str(p.relative_to(root))] = p.read_bytes()
    return snap


def test_path_traversal_is_refused(server):
    sentinel = server.artifacts.parent / "secret.txt"
    sentinel.write_text("do not touch")
    before = _outside_snapshot(server)
    keys_before = server.moto.keys(server.bucket) if server.store == "s3" else None
    for form in TRAVERSALS:
        for method, target, body in [
            ("GET", f"{PROXY}/artifacts/{form}", None),
            ("PUT", f"{PROXY}/artifacts/{form}", b"pwned"),
            ("DELETE", f"{PROXY}/artifacts/{form}", None),
            ("GET", f"{PROXY}/artifacts?path={form}", None),
            ("GET", f"/ajax-api/2.0/mlflow-artifacts/artifacts/{form}", None),
        ]:
            status, content = _raw(server, method, target, body)
            assert status == 400, (method, target, status, content[:300])
            assert b'"INVALID_PARAMETER_VALUE"' in content and b'"Invalid path"' in content, (target, content)
    assert _outside_snapshot(server) == before
    assert sentinel.read_text() == "do not touch"
    if server.store == "s3":
        assert server.moto.keys(server.bucket) == keys_before
