//! The artifact proxy over HTTP, on a local folder and on a real S3 server (moto): round
//! trips, listings, deletes, content types, multipart uploads, interrupted uploads, and path
//! traversal refused without touching anything outside the root.

use crate::db::TestStore;
use crate::server;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use pitwall_registry::artifacts::{ArtifactPath, ArtifactRepo};
use pitwall_registry::config::S3Settings;
use pitwall_test_support::s3::{ACCESS_KEY_ID, REGION, S3Server, SECRET_ACCESS_KEY};
use pitwall_test_support::{Backend, BackendFixture, backend_tests};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tower::ServiceExt;

// Each test below runs once per backend, as `sqlite::name` and `postgres::name`.
backend_tests! {
    local_round_trip_listing_delete,
    s3_round_trip_listing_delete,
    local_large_round_trip,
    s3_large_round_trip,
    local_run_artifacts,
    s3_run_artifacts,
    local_destination_has_no_multipart_or_presigned,
    s3_multipart_create_upload_complete,
    s3_multipart_abort,
    local_cut_off_upload_leaves_nothing,
    s3_cut_off_upload_leaves_nothing,
    local_traversal_is_refused_and_touches_nothing,
    #[cfg(unix)]
    #[tokio::test]
    local_symlinks_out_of_the_root_are_not_followed,
    s3_traversal_is_refused_and_writes_nothing,
    proxy_answers_503_when_artifact_serving_is_off,
}

const PROXY: &str = "/api/2.0/mlflow-artifacts";

/// A server over one artifact store, and what must outlive it.
struct Harness {
    router: axum::Router,
    /// Local destination: `base/root` is the root; `base/outside` holds a sentinel file.
    base: Option<tempfile::TempDir>,
    s3: Option<(S3Server, String)>,
    _store: TestStore,
}

const SENTINEL: &str = "do not touch";

async fn harness_with(
    backend: Backend,
    repo: ArtifactRepo,
    base: Option<tempfile::TempDir>,
    s3: Option<(S3Server, String)>,
) -> Harness {
    let t = TestStore::open(backend).await;
    Harness { router: server::app(&t, repo, true), base, s3, _store: t }
}

async fn local(backend: Backend) -> Harness {
    let base = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(base.path().join("outside")).unwrap();
    std::fs::write(base.path().join("outside/secret.txt"), SENTINEL).unwrap();
    std::fs::write(base.path().join("secret.txt"), SENTINEL).unwrap();
    let repo = ArtifactRepo::local(base.path().join("root")).expect("local repo");
    harness_with(backend, repo, Some(base), None).await
}

fn s3_config(server: &S3Server) -> S3Settings {
    S3Settings {
        endpoint: Some(server.endpoint()),
        access_key_id: Some(ACCESS_KEY_ID.to_owned()),
        secret_access_key: Some(SECRET_ACCESS_KEY.to_owned()),
        session_token: None,
        region: Some(REGION.to_owned()),
    }
}

async fn s3(backend: Backend) -> Harness {
    let server = tokio::task::spawn_blocking(S3Server::start).await.unwrap();
    let bucket = "artifacts".to_owned();
    server.create_bucket(&bucket);
    // A key prefix, as `s3://bucket/prefix` configures it: nothing may land outside it.
    let repo = ArtifactRepo::open(&format!("s3://{bucket}/mlflow"), &s3_config(&server)).expect("s3 repo");
    harness_with(backend, repo, None, Some((server, bucket))).await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.bytes).into()))
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

impl Harness {
    async fn send(&self, method: &str, uri: &str, body: Body, content_type: Option<&str>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri).header("host", "artifacts.test");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = self.router.clone().oneshot(req.body(body).unwrap()).await.expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes().to_vec();
        Answer { status, headers, bytes }
    }

    async fn put(&self, path: &str, data: impl Into<Body>) -> Answer {
        self.send("PUT", &format!("{PROXY}/artifacts/{path}"), data.into(), Some("application/octet-stream")).await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send("GET", &format!("{PROXY}/artifacts/{path}"), Body::empty(), None).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send("DELETE", &format!("{PROXY}/artifacts/{path}"), Body::empty(), None).await
    }

    async fn list(&self, query: &str) -> Answer {
        self.send("GET", &format!("{PROXY}/artifacts{query}"), Body::empty(), None).await
    }

    async fn post(&self, uri: &str, body: Value) -> Answer {
        self.send("POST", uri, Body::from(body.to_string()), Some("application/json")).await
    }

    /// Every object in the bucket, whatever its prefix (S3 only).
    async fn bucket_keys(&self) -> Vec<String> {
        let (server, bucket) = self.s3.as_ref().expect("s3 harness");
        let whole = ArtifactRepo::open(&format!("s3://{bucket}"), &s3_config(server)).unwrap();
        use futures::TryStreamExt;
        let mut keys: Vec<String> = whole
            .object_store()
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .expect("list bucket");
        keys.sort();
        keys
    }

    /// Unfinished multipart uploads in the bucket (S3 only), read from moto's ListMultipartUploads.
    fn open_multipart_uploads(&self) -> usize {
        let (server, bucket) = self.s3.as_ref().expect("s3 harness");
        let addr = server.endpoint().trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(stream, "GET /{bucket}?uploads HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"), "{response:.300}");
        response.matches("<UploadId>").count()
    }
}

fn assert_invalid_path(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{what}: {}", a.json());
    assert_eq!(a.json()["error_code"], "INVALID_PARAMETER_VALUE", "{what}");
    assert_eq!(a.json()["message"], "Invalid path", "{what}");
}

/// Deterministic test bytes.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(seed as u32 % 31) as u8 ^ seed).collect()
}

// ---- round trips, listings, deletes, content types ------------------------------------------

async fn round_trip_listing_delete(h: &Harness) {
    let a = h.put("1/run1/artifacts/hello.txt", "hello").await;
    // MLflow's server answers an upload with an empty body (recorded in mlflow-reference).
    assert_eq!((a.status, a.bytes.as_slice()), (StatusCode::OK, &b""[..]));
    let a = h.get("1/run1/artifacts/hello.txt").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.bytes, b"hello");
    assert_eq!(a.header("content-type"), "text/plain");
    assert_eq!(a.header("content-disposition"), "attachment; filename=hello.txt");
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert_eq!(a.header("content-length"), "5");

    let binary = pattern(1000, 7);
    assert_eq!(h.put("1/run1/artifacts/dir/sub/model.pkl", binary.clone()).await.status, StatusCode::OK);
    assert_eq!(h.put("1/run1/artifacts/dir/plot.png", vec![0x89u8, b'P', b'N', b'G']).await.status, StatusCode::OK);
    assert_eq!(h.put("1/run1/artifacts/model/MLmodel", "flavors: {}").await.status, StatusCode::OK);
    assert_eq!(h.put("1/run1/artifacts/data.tar.gz", "x").await.status, StatusCode::OK);

    let a = h.get("1/run1/artifacts/dir/sub/model.pkl").await;
    assert_eq!(a.bytes, binary);
    assert_eq!(a.header("content-type"), "application/octet-stream");
    assert_eq!(h.get("1/run1/artifacts/dir/plot.png").await.header("content-type"), "image/png");
    assert_eq!(h.get("1/run1/artifacts/model/MLmodel").await.header("content-type"), "text/plain");
    assert_eq!(h.get("1/run1/artifacts/data.tar.gz").await.header("content-type"), "application/x-tar");

    // One directory, basenames, directories without a size, sorted.
    let a = h.list("?path=1/run1/artifacts").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        json!({"files": [
            {"path": "data.tar.gz", "is_dir": false, "file_size": 1},
            {"path": "dir", "is_dir": true},
            {"path": "hello.txt", "is_dir": false, "file_size": 5},
            {"path": "model", "is_dir": true},
        ]})
    );
    let a = h.list("?path=1/run1/artifacts/dir").await;
    assert_eq!(
        a.json(),
        json!({"files": [{"path": "plot.png", "is_dir": false, "file_size": 4}, {"path": "sub", "is_dir": true}]})
    );
    // The root, through the web UI's prefix too.
    let a = h.send("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts", Body::empty(), None).await;
    assert_eq!(a.json(), json!({"files": [{"path": "1", "is_dir": true}]}));
    // Missing directories and files list as empty.
    assert_eq!(h.list("?path=1/nothing").await.json(), json!({}));
    assert_eq!(h.list("?path=1/run1/artifacts/hello.txt").await.json(), json!({}));

    // Missing file: 404 with MLflow's body.
    let a = h.get("1/run1/artifacts/missing.txt").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["error_code"], "RESOURCE_DOES_NOT_EXIST");

    // Overwrite replaces.
    assert_eq!(h.put("1/run1/artifacts/hello.txt", "hello again").await.status, StatusCode::OK);
    assert_eq!(h.get("1/run1/artifacts/hello.txt").await.bytes, b"hello again");

    // Delete a file, then a whole directory; deleting what is gone is not an error.
    assert_eq!(h.delete("1/run1/artifacts/hello.txt").await.json(), json!({}));
    assert_eq!(h.get("1/run1/artifacts/hello.txt").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.delete("1/run1/artifacts/dir").await.status, StatusCode::OK);
    assert_eq!(h.get("1/run1/artifacts/dir/sub/model.pkl").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.list("?path=1/run1/artifacts/dir").await.json(), json!({}));
    assert_eq!(h.delete("1/run1/artifacts/dir").await.status, StatusCode::OK);
    let names: Vec<Value> = h.list("?path=1/run1/artifacts").await.json()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].clone())
        .collect();
    assert_eq!(names, vec![json!("data.tar.gz"), json!("model")]);
}

async fn local_round_trip_listing_delete(backend: Backend) {
    round_trip_listing_delete(&local(backend).await).await;
}

async fn s3_round_trip_listing_delete(backend: Backend) {
    let h = s3(backend).await;
    round_trip_listing_delete(&h).await;
    assert!(h.bucket_keys().await.iter().all(|k| k.starts_with("mlflow/")), "{:?}", h.bucket_keys().await);
}

async fn large_round_trip(h: &Harness) {
    // Larger than one part: goes through a multipart upload (S3) or a staged file (local).
    let data = pattern(20 * 1024 * 1024 + 123, 3);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        data.chunks(64 * 1024).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    let body = Body::from_stream(futures::stream::iter(chunks));
    assert_eq!(h.put("2/big/artifacts/blob.bin", body).await.status, StatusCode::OK);
    let a = h.get("2/big/artifacts/blob.bin").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-length"), data.len().to_string());
    assert!(a.bytes == data, "downloaded bytes differ");
    assert_eq!(
        h.list("?path=2/big/artifacts").await.json(),
        json!({"files": [{"path": "blob.bin", "is_dir": false, "file_size": data.len()}]})
    );
}

async fn local_large_round_trip(backend: Backend) {
    large_round_trip(&local(backend).await).await;
}

async fn s3_large_round_trip(backend: Backend) {
    large_round_trip(&s3(backend).await).await;
}

/// The tracking API's listing and the UI's `/get-artifact`, for a run's artifact root.
async fn run_artifacts(h: &Harness) {
    let a = h.post("/api/2.0/mlflow/experiments/create", json!({"name": "arts"})).await;
    let exp = a.json()["experiment_id"].as_str().unwrap().to_owned();
    let a = h.post("/api/2.0/mlflow/runs/create", json!({"experiment_id": exp})).await;
    let info = a.json()["run"]["info"].clone();
    let run_id = info["run_id"].as_str().unwrap().to_owned();
    let root = format!("{exp}/{run_id}/artifacts");
    assert_eq!(info["artifact_uri"], format!("mlflow-artifacts:/{root}"));
    h.put(&format!("{root}/metrics.json"), "{}").await;
    h.put(&format!("{root}/model/MLmodel"), "flavors: {}").await;
    h.put(&format!("{root}/model/data/weights.bin"), vec![1u8; 10]).await;

    let list = |q: String| async move {
        h.send("GET", &format!("/api/2.0/mlflow/artifacts/list?{q}"), Body::empty(), None).await
    };
    let a = list(format!("run_id={run_id}")).await;
    assert_eq!(
        a.json(),
        json!({"root_uri": format!("mlflow-artifacts:/{root}"), "files": [
            {"path": "metrics.json", "is_dir": false, "file_size": 2},
            {"path": "model", "is_dir": true},
        ]})
    );
    let a = list(format!("run_id={run_id}&path=model")).await;
    assert_eq!(
        a.json()["files"],
        json!([{"path": "model/MLmodel", "is_dir": false, "file_size": 11}, {"path": "model/data", "is_dir": true}])
    );
    let a = list(format!("run_id={run_id}&path=nothing")).await;
    assert_eq!(a.json(), json!({"root_uri": format!("mlflow-artifacts:/{root}")}));
    assert_invalid_path(&list(format!("run_id={run_id}&path=../../x")).await, "list ..");
    let a = list("path=model".to_owned()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = list("run_id=nosuchrun".to_owned()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    let a = h.send("GET", &format!("/get-artifact?run_id={run_id}&path=model/MLmodel"), Body::empty(), None).await;
    assert_eq!((a.status, a.bytes.as_slice()), (StatusCode::OK, b"flavors: {}".as_slice()));
    assert_eq!(a.header("content-disposition"), "attachment; filename=MLmodel");
    let a = h.send("GET", &format!("/get-artifact?run_id={run_id}&path=..%2F..%2F..%2Fx"), Body::empty(), None).await;
    assert_invalid_path(&a, "get-artifact ..");
    let a = h.send("GET", &format!("/get-artifact?run_id={run_id}"), Body::empty(), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

async fn local_run_artifacts(backend: Backend) {
    run_artifacts(&local(backend).await).await;
}

async fn s3_run_artifacts(backend: Backend) {
    run_artifacts(&s3(backend).await).await;
}

// ---- multipart ------------------------------------------------------------------------------

async fn local_destination_has_no_multipart_or_presigned(backend: Backend) {
    let h = local(backend).await;
    let a = h.send("GET", "/api/3.0/mlflow/server-info", Body::empty(), None).await;
    assert_eq!(a.json()["multipart_uploads_enabled"], false);
    let a = h.post(&format!("{PROXY}/mpu/create/1/r/artifacts"), json!({"path": "/tmp/big.bin", "num_parts": 2})).await;
    assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(a.json()["error_code"], "NOT_IMPLEMENTED");
    assert_eq!(a.json()["message"], "Multipart upload is not supported for the current artifact repository");
    for op in ["complete", "abort"] {
        let body = json!({"path": "/tmp/big.bin", "upload_id": "x", "parts": [{"part_number": 1, "etag": "e"}]});
        let a = h.post(&format!("{PROXY}/mpu/{op}/1/r/artifacts"), body).await;
        assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED, "{op}");
    }
    h.put("1/r/artifacts/f.txt", "x").await;
    let a = h.send("GET", &format!("{PROXY}/presigned/1/r/artifacts/f.txt"), Body::empty(), None).await;
    assert_eq!(a.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(a.json()["message"], "Multipart download is not supported for the current artifact repository");
    // The body is still checked first, as MLflow does.
    let a = h.post(&format!("{PROXY}/mpu/create/1/r/artifacts"), json!({})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_invalid_path(&h.post(&format!("{PROXY}/mpu/create/../x"), json!({"path": "a"})).await, "mpu ..");
}

/// The request path and query of a part URL handed out by `mpu/create`.
fn local_part_uri(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    assert_eq!(u.host_str(), Some("artifacts.test"), "part URLs point back at the server the client reached");
    format!("{}?{}", u.path(), u.query().unwrap())
}

async fn s3_multipart_create_upload_complete(backend: Backend) {
    let h = s3(backend).await;
    let a = h.send("GET", "/api/3.0/mlflow/server-info", Body::empty(), None).await;
    assert_eq!(a.json()["multipart_uploads_enabled"], true);
    let a = h
        .post(&format!("{PROXY}/mpu/create/5/r/artifacts/model"), json!({"path": "/home/u/big.bin", "num_parts": 2}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let created = a.json();
    let upload_id = created["upload_id"].as_str().unwrap().to_owned();
    let creds = created["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 2);
    assert_eq!(creds[0]["part_number"], 1);
    // S3 wants every part but the last to be at least 5 MiB.
    let parts = [pattern(5 * 1024 * 1024 + 17, 1), pattern(1000, 2)];
    let mut reported = Vec::new();
    for (cred, data) in creds.iter().zip(&parts) {
        let uri = local_part_uri(cred["url"].as_str().unwrap());
        let a = h.send("PUT", &uri, Body::from(data.clone()), None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json());
        let etag = a.header("etag").to_owned();
        assert!(!etag.is_empty());
        reported.push(json!({"part_number": cred["part_number"], "etag": etag, "url": cred["url"]}));
    }
    // Not visible before completion.
    assert_eq!(h.get("5/r/artifacts/model/big.bin").await.status, StatusCode::NOT_FOUND);
    let body = json!({"path": "/home/u/big.bin", "upload_id": upload_id, "parts": reported});
    let a = h.post(&format!("{PROXY}/mpu/complete/5/r/artifacts/model"), body).await;
    assert_eq!((a.status, a.json()), (StatusCode::OK, json!({})));
    let a = h.get("5/r/artifacts/model/big.bin").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.bytes == [parts[0].clone(), parts[1].clone()].concat());
    assert_eq!(h.open_multipart_uploads(), 0);

    // Presigned download on S3: a URL that reads the object straight from the bucket.
    let a = h.send("GET", &format!("{PROXY}/presigned/5/r/artifacts/model/big.bin"), Body::empty(), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    assert_eq!(a.json()["file_size"], parts[0].len() + parts[1].len());
    assert!(a.json()["url"].as_str().unwrap().contains("X-Amz-Signature="));
}

async fn s3_multipart_abort(backend: Backend) {
    let h = s3(backend).await;
    let a = h
        .post(&format!("{PROXY}/mpu/create/5/r/artifacts"), json!({"path": "c:\\data\\gone.bin", "num_parts": 1}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json());
    let upload_id = a.json()["upload_id"].as_str().unwrap().to_owned();
    let uri = local_part_uri(a.json()["credentials"][0]["url"].as_str().unwrap());
    assert!(uri.contains("/5/r/artifacts/gone.bin?"), "{uri}");
    assert_eq!(h.send("PUT", &uri, Body::from(pattern(1000, 4)), None).await.status, StatusCode::OK);
    assert_eq!(h.open_multipart_uploads(), 1);
    let body = json!({"path": "c:\\data\\gone.bin", "upload_id": upload_id});
    let a = h.post(&format!("{PROXY}/mpu/abort/5/r/artifacts"), body).await;
    assert_eq!((a.status, a.json()), (StatusCode::OK, json!({})));
    assert_eq!(h.open_multipart_uploads(), 0);
    assert_eq!(h.get("5/r/artifacts/gone.bin").await.status, StatusCode::NOT_FOUND);
    assert!(h.bucket_keys().await.is_empty());
    // Completing with gaps in the part numbers is the client's error.
    let body = json!({"path": "x.bin", "upload_id": "u", "parts": [{"part_number": 2, "etag": "e"}]});
    assert_eq!(h.post(&format!("{PROXY}/mpu/complete/5/r"), body).await.status, StatusCode::BAD_REQUEST);
}

// ---- interrupted uploads --------------------------------------------------------------------

/// Serves the harness on a real socket, sends a PUT whose body stops short of its
/// Content-Length and closes the connection.
async fn cut_off_upload(h: &Harness, path: &str, declared: usize, sent: usize) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = h.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let data = pattern(sent, 9);
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "PUT {PROXY}/artifacts/{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\n\
             Content-Length: {declared}\r\n\r\n"
        )
        .unwrap();
        s.write_all(&data).unwrap();
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        s.shutdown(std::net::Shutdown::Both).unwrap();
    })
    .await
    .unwrap();
    // Give the server time to see the end of the connection and clean up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.abort();
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
        }
    }
    out
}

async fn local_cut_off_upload_leaves_nothing(backend: Backend) {
    let h = local(backend).await;
    cut_off_upload(&h, "1/r/artifacts/small.bin", 100_000, 1000).await;
    cut_off_upload(&h, "1/r/artifacts/large.bin", 40 * 1024 * 1024, 12 * 1024 * 1024).await;
    assert_eq!(h.get("1/r/artifacts/small.bin").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("1/r/artifacts/large.bin").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.list("?path=1/r/artifacts").await.json(), json!({}));
    let root = h.base.as_ref().unwrap().path().join("root");
    assert_eq!(files_under(&root), Vec::<PathBuf>::new(), "staged files are removed");
    // A complete upload on the same path still works.
    assert_eq!(h.put("1/r/artifacts/large.bin", "ok").await.status, StatusCode::OK);
}

async fn s3_cut_off_upload_leaves_nothing(backend: Backend) {
    let h = s3(backend).await;
    cut_off_upload(&h, "1/r/artifacts/small.bin", 100_000, 1000).await;
    cut_off_upload(&h, "1/r/artifacts/large.bin", 40 * 1024 * 1024, 12 * 1024 * 1024).await;
    assert_eq!(h.get("1/r/artifacts/large.bin").await.status, StatusCode::NOT_FOUND);
    assert!(h.bucket_keys().await.is_empty(), "{:?}", h.bucket_keys().await);
    assert_eq!(h.open_multipart_uploads(), 0, "the multipart upload was aborted");
}

// ---- path traversal -------------------------------------------------------------------------

/// Path forms (as they appear in a URL) that must be refused wherever a path is accepted.
const TRAVERSALS: &[&str] = &[
    "../secret.txt",
    "../outside/secret.txt",
    "a/../../outside/secret.txt",
    "a/b/../../../secret.txt",
    "..%2Foutside%2Fsecret.txt",
    "%2e%2e/outside/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "%252e%252e/outside/secret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "..%252Fsecret.txt",
    "..%5Coutside%5Csecret.txt",
    "a%5C..%5C..%5Csecret.txt",
    "%2Fetc%2Fpasswd",
    "%2F%2Fhost%2Fshare%2Fx",
    "C:%5CWindows%5Cwin.ini",
    "c:secret.txt",
    "file:%2F%2F%2Fetc%2Fpasswd",
    "x%23y",
    "a%00b",
    "a%0Ab",
    "%EF%BC%8E%EF%BC%8E/outside/secret.txt",
    "..%EF%BC%8Foutside%EF%BC%8Fsecret.txt",
    "a%E2%88%95..%E2%88%95..%E2%88%95secret.txt",
    "%E2%80%A5/secret.txt",
    "..%EF%BC%BCsecret.txt",
    "..%20/secret.txt",
    ".../secret.txt",
    "%2e%2e%5csecret.txt",
];

/// A snapshot of every file outside the artifact root (path → bytes).
fn outside_snapshot(base: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(base)
        .into_iter()
        .filter(|p| !p.starts_with(base.join("root")))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

async fn traversal_refused_everywhere(h: &Harness) {
    for form in TRAVERSALS {
        assert_invalid_path(&h.get(form).await, &format!("GET {form}"));
        assert_invalid_path(&h.put(form, "pwned").await, &format!("PUT {form}"));
        assert_invalid_path(&h.delete(form).await, &format!("DELETE {form}"));
        assert_invalid_path(&h.list(&format!("?path={form}")).await, &format!("list {form}"));
        let uri = format!("{PROXY}/presigned/{form}");
        assert_invalid_path(&h.send("GET", &uri, Body::empty(), None).await, &format!("presigned {form}"));
        let a = h.post(&format!("{PROXY}/mpu/create/{form}"), json!({"path": "x.bin", "num_parts": 1})).await;
        assert_invalid_path(&a, &format!("mpu/create {form}"));
    }
    // A path starting with a slash in the URL itself.
    assert_invalid_path(&h.get("/etc/passwd").await, "GET //etc/passwd");
    assert_invalid_path(&h.put("/tmp/pwned", "x").await, "PUT //tmp/pwned");
}

async fn local_traversal_is_refused_and_touches_nothing(backend: Backend) {
    let h = local(backend).await;
    let base = h.base.as_ref().unwrap().path().to_path_buf();
    h.put("1/r/artifacts/ok.txt", "fine").await;
    let before = outside_snapshot(&base);
    traversal_refused_everywhere(&h).await;
    assert_eq!(outside_snapshot(&base), before, "nothing outside the root changed");
    assert_eq!(std::fs::read_to_string(base.join("outside/secret.txt")).unwrap(), SENTINEL);
    assert_eq!(h.get("1/r/artifacts/ok.txt").await.bytes, b"fine");
    // Nothing was created inside the root either.
    let root = base.join("root");
    assert_eq!(files_under(&root), vec![root.join("1/r/artifacts/ok.txt")]);
}

#[cfg(unix)]
async fn local_symlinks_out_of_the_root_are_not_followed(backend: Backend) {
    let h = local(backend).await;
    let base = h.base.as_ref().unwrap().path().to_path_buf();
    let root = base.join("root");
    std::os::unix::fs::symlink(base.join("outside"), root.join("dirlink")).unwrap();
    std::os::unix::fs::symlink(base.join("outside/secret.txt"), root.join("filelink")).unwrap();
    std::os::unix::fs::symlink(base.join("nowhere"), root.join("dangling")).unwrap();
    // A symlink that stays inside the root is fine.
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::write(root.join("real/a.txt"), "inside").unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("inlink")).unwrap();
    let before = outside_snapshot(&base);

    assert_invalid_path(&h.get("dirlink/secret.txt").await, "GET through dir link");
    assert_invalid_path(&h.get("filelink").await, "GET file link");
    assert_invalid_path(&h.put("dirlink/new.txt", "pwned").await, "PUT through dir link");
    assert_invalid_path(&h.put("dirlink/sub/new.txt", "pwned").await, "PUT below dir link");
    assert_invalid_path(&h.put("filelink", "pwned").await, "PUT over file link");
    assert_invalid_path(&h.put("dangling/x.txt", "pwned").await, "PUT through dangling link");
    assert_invalid_path(&h.delete("dirlink/secret.txt").await, "DELETE through dir link");
    assert_invalid_path(&h.delete("dirlink").await, "DELETE dir link");
    assert_invalid_path(&h.list("?path=dirlink").await, "list dir link");
    assert_eq!(outside_snapshot(&base), before, "nothing outside the root changed");
    assert!(!base.join("outside/new.txt").exists() && !base.join("nowhere").exists());

    assert_eq!(h.get("inlink/a.txt").await.bytes, b"inside");
}

async fn s3_traversal_is_refused_and_writes_nothing(backend: Backend) {
    let h = s3(backend).await;
    h.put("1/r/artifacts/ok.txt", "fine").await;
    traversal_refused_everywhere(&h).await;
    assert_eq!(h.bucket_keys().await, vec!["mlflow/1/r/artifacts/ok.txt".to_owned()]);
}

#[test]
fn traversal_forms_are_at_least_25() {
    assert!(TRAVERSALS.len() >= 25);
    // Each decodes to something the path checker refuses on its own, too.
    for form in TRAVERSALS {
        let once = url::form_urlencoded::parse(format!("p={form}").as_bytes()).next().unwrap().1.into_owned();
        assert!(ArtifactPath::parse(&once).is_err(), "{form}");
    }
}

async fn proxy_answers_503_when_artifact_serving_is_off(backend: Backend) {
    let t = TestStore::open(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let router = server::app(&t, ArtifactRepo::local(dir.path()).unwrap(), false);
    let h = Harness { router, base: None, s3: None, _store: t };
    let a = h.put("1/r/artifacts/x.txt", "x").await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&a.bytes).contains("--no-serve-artifacts"));
    assert_eq!(h.get("1/r/artifacts/x.txt").await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!dir.path().join("1").exists(), "nothing was written");
}
