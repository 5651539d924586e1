//! Artifact proxy throughput: the same bytes uploaded and downloaded through the tracking
//! server's `/api/2.0/mlflow-artifacts/artifacts/<path>` and straight to the store with
//! object_store, and the server's peak memory while it moves them. See README.md.
//!
//! `cargo bench -p pitwall-registry --bench artifacts -- --server PATH [--size-mb N] [--destination DEST]`

use bytes::Bytes;
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path as StorePath;
use object_store::{GetResultPayload, ObjectStoreExt};
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_registry::config::S3Settings;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The bytes sent, repeated: large enough that generating them costs nothing per byte.
const BLOCK: usize = 8 * 1024 * 1024;
const MIB: f64 = 1024.0 * 1024.0;
/// Each measurement is repeated this many times; the best is reported.
const ROUNDS: usize = 3;

struct Args {
    server: String,
    size: u64,
    destination: Option<String>,
}

fn args() -> Args {
    let mut server = None;
    let mut size_mb = 1024u64;
    let mut destination = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--server" => server = it.next(),
            "--size-mb" => size_mb = it.next().and_then(|v| v.parse().ok()).expect("--size-mb N"),
            "--destination" => destination = it.next(),
            // cargo bench passes --bench; anything else is a mistake.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    let server = server.expect(
        "--server PATH: the release build of the tracking_server example \
         (cargo build --release -p pitwall-registry --example tracking_server)",
    );
    Args { server, size: size_mb * 1024 * 1024, destination }
}

fn block() -> Bytes {
    Bytes::from((0..BLOCK).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1]).collect::<Vec<u8>>())
}

/// `size` bytes as a sequence of (shared) chunks.
fn chunks(size: u64, block: &Bytes) -> impl Iterator<Item = Bytes> + '_ {
    let full = size / BLOCK as u64;
    let rest = (size % BLOCK as u64) as usize;
    (0..full).map(move |_| block.clone()).chain((rest > 0).then(|| block.slice(..rest)))
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(bin: &str, destination: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let db = format!("sqlite:///{}/mlflow.db", dir.path().display());
    let child = Command::new(bin)
        .args([&port.to_string(), &db, destination])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "server did not listen within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, port, _dir: dir }
}

/// Reads a response head; returns (status, content-length).
async fn read_head(r: &mut BufReader<TcpStream>) -> (u16, Option<u64>) {
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = None;
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok();
        }
    }
    (status, length)
}

async fn proxy_upload(port: u16, path: &str, size: u64, block: &Bytes) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.set_nodelay(true).unwrap();
    let head = format!(
        "PUT /api/2.0/mlflow-artifacts/artifacts/{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for c in chunks(size, block) {
        s.write_all(&c).await.unwrap();
    }
    let mut r = BufReader::new(s);
    let (status, _) = read_head(&mut r).await;
    assert_eq!(status, 200, "upload answered {status}");
    start.elapsed()
}

async fn proxy_download(port: u16, path: &str, size: u64) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "GET /api/2.0/mlflow-artifacts/artifacts/{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut r = BufReader::with_capacity(1 << 20, s);
    let (status, length) = read_head(&mut r).await;
    assert_eq!((status, length), (200, Some(size)), "download head");
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    assert_eq!(got, size, "downloaded bytes");
    start.elapsed()
}

/// The same upload with object_store alone: the part size and concurrency the proxy uses.
async fn direct_upload(repo: &ArtifactRepo, path: &StorePath, size: u64, block: &Bytes) -> Duration {
    let start = Instant::now();
    let mut w = BufWriter::with_capacity(repo.object_store(), path.clone(), 8 * 1024 * 1024).with_max_concurrency(4);
    for c in chunks(size, block) {
        w.put(c).await.unwrap();
    }
    tokio::io::AsyncWriteExt::shutdown(&mut w).await.unwrap();
    start.elapsed()
}

/// The same download with object_store alone, as its own API hands it out: the payload's
/// byte stream (`into_stream`).
async fn direct_download_stream(repo: &ArtifactRepo, path: &StorePath, size: u64) -> Duration {
    let start = Instant::now();
    let mut s = repo.object_store().get(path).await.unwrap().into_stream();
    let mut got = 0u64;
    while let Some(c) = s.next().await {
        got += c.unwrap().len() as u64;
    }
    assert_eq!(got, size);
    start.elapsed()
}

/// The fastest read of the same object: a local file read in 1 MiB chunks into one reused
/// buffer (no allocation, no copy out), or the store's byte stream on S3.
async fn direct_download_reads(repo: &ArtifactRepo, path: &StorePath, size: u64) -> Duration {
    let start = Instant::now();
    let result = repo.object_store().get(path).await.unwrap();
    let mut got = 0u64;
    match result.payload {
        GetResultPayload::File(file, _) => {
            let mut f = tokio::fs::File::from_std(file);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got += n as u64;
            }
        }
        GetResultPayload::Stream(mut s) => {
            while let Some(c) = s.next().await {
                got += c.unwrap().len() as u64;
            }
        }
    }
    assert_eq!(got, size);
    start.elapsed()
}

/// The floor under any network proxy on this machine: `size` bytes from memory through one
/// loopback TCP connection, with no HTTP and no storage at either end.
async fn loopback_tcp(size: u64, block: &Bytes) -> Duration {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let chunks: Vec<Bytes> = chunks(size, block).collect();
    let sender = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        for c in chunks {
            s.write_all(&c).await.unwrap();
        }
    });
    let start = Instant::now();
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    while got < size {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "loopback closed early");
        got += n as u64;
    }
    let elapsed = start.elapsed();
    sender.await.unwrap();
    elapsed
}

fn rate(size: u64, d: Duration) -> f64 {
    size as f64 / MIB / d.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = args();
    let local_dir = tempfile::tempdir().unwrap();
    let destination =
        args.destination.clone().unwrap_or_else(|| local_dir.path().join("artifacts").display().to_string());
    let repo = ArtifactRepo::open(&destination, &S3Settings::from_env()).expect("artifact destination");
    let block = block();
    println!("destination: {}   size: {} MiB", repo.destination(), args.size / 1024 / 1024);

    let direct_path = repo.location(&ap("bench/direct/blob.bin")).unwrap();
    let server = start_server(&args.server, &destination).await;
    let pid = server.child.id();
    let idle_hwm = vm_hwm_kib(pid);
    // Rounds alternate direct and proxy so that neither always meets a cold or a dirty page
    // cache first; the best time of each is kept.
    let best = |a: Option<Duration>, b: Duration| Some(a.map_or(b, |a| a.min(b)));
    let (mut up_direct, mut up_proxy, mut down_stream, mut down_reads, mut down_proxy, mut tcp) =
        (None, None, None, None, None, None);
    let mut after_upload_hwm = 0;
    for _ in 0..ROUNDS {
        up_direct = best(up_direct, direct_upload(&repo, &direct_path, args.size, &block).await);
        down_stream = best(down_stream, direct_download_stream(&repo, &direct_path, args.size).await);
        down_reads = best(down_reads, direct_download_reads(&repo, &direct_path, args.size).await);
        up_proxy = best(up_proxy, proxy_upload(server.port, "bench/proxy/blob.bin", args.size, &block).await);
        after_upload_hwm = after_upload_hwm.max(vm_hwm_kib(pid));
        down_proxy = best(down_proxy, proxy_download(server.port, "bench/proxy/blob.bin", args.size).await);
        tcp = best(tcp, loopback_tcp(args.size, &block).await);
    }
    let after_download_hwm = vm_hwm_kib(pid);
    let mib_s = |d: Option<Duration>| rate(args.size, d.expect("measured"));
    let (up_direct, up_proxy) = (mib_s(up_direct), mib_s(up_proxy));
    let (down_stream, down_reads, down_proxy, tcp) =
        (mib_s(down_stream), mib_s(down_reads), mib_s(down_proxy), mib_s(tcp));

    println!("{:<44} {:>10} {:>8}", "", "MiB/s", "proxy");
    let row = |name: &str, base: f64, proxy: f64| {
        println!("{name:<44} {base:>10.1} {:>7.0}%", 100.0 * proxy / base);
    };
    println!("{:<44} {up_proxy:>10.1}", "upload through the proxy");
    row("upload straight to the store (BufWriter)", up_direct, up_proxy);
    println!("{:<44} {down_proxy:>10.1}", "download through the proxy");
    row("download with object_store (into_stream)", down_stream, down_proxy);
    row("download, 1 MiB reads into one buffer", down_reads, down_proxy);
    row("loopback TCP from memory (no HTTP, no store)", tcp, down_proxy);
    println!(
        "server peak RSS (VmHWM): idle {} MiB, after the uploads {} MiB, after the downloads {} MiB",
        idle_hwm / 1024,
        after_upload_hwm / 1024,
        after_download_hwm / 1024
    );
    let cleanup = [direct_path, repo.location(&ap("bench/proxy/blob.bin")).unwrap()];
    for p in cleanup {
        let _ = repo.object_store().delete(&p).await;
    }
}

fn ap(p: &str) -> pitwall_registry::artifacts::ArtifactPath {
    pitwall_registry::artifacts::ArtifactPath::parse(p).expect("valid path")
}
