//! A real S3-compatible server for tests: `moto_server` from the project's Python venv, on
//! 127.0.0.1 at a free port, stopped when the handle is dropped.
//!
//! The venv is `$PITWALL_VENV` (default `$HOME/.cache/pitwall/venv`, installed from
//! `compat/requirements.txt`). When it cannot be started the test fails with a message saying
//! why: a storage test that silently skips proves nothing.
//!
//! moto honours `If-None-Match: *` on PUT (a second create answers 412), which delta-rs relies
//! on for safe commits, and supports multipart uploads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Credentials the server accepts (moto accepts any; these make requests well-formed).
pub const ACCESS_KEY_ID: &str = "pitwall-test";
pub const SECRET_ACCESS_KEY: &str = "pitwall-test-secret";
pub const REGION: &str = "us-east-1";

/// A running server; dropping it stops the process.
pub struct S3Server {
    child: Child,
    addr: SocketAddr,
}

impl S3Server {
    /// Starts a server and waits until it answers. Panics with the reason when it cannot.
    pub fn start() -> Self {
        let exe = crate::venv::venv().join("bin/moto_server");
        assert!(
            exe.is_file(),
            "S3 test server not found at {}: create the venv with \
             `python3 -m venv $HOME/.cache/pitwall/venv && $HOME/.cache/pitwall/venv/bin/pip \
             install -r compat/requirements.txt` (or set PITWALL_VENV)",
            exe.display()
        );
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free local port").port();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = Self { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.request("GET", "/").is_ok_and(|status| status == 200) {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("S3 test server {} exited at start-up: {status}", exe.display());
            }
            assert!(
                Instant::now() < deadline,
                "S3 test server {} did not answer on {} within 30 s",
                exe.display(),
                server.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub fn create_bucket(&self, name: &str) {
        let status = self.request("PUT", &format!("/{name}")).unwrap_or_else(|e| panic!("creating bucket {name}: {e}"));
        assert_eq!(status, 200, "creating bucket {name}: HTTP {status}");
    }

    /// One HTTP/1.1 request without a body; returns the status code.
    fn request(&self, method: &str, path: &str) -> std::io::Result<u16> {
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:.80}")))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
