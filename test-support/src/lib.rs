//! What the workspace's tests share: scratch databases on both store backends and tests
//! generated once per backend, a real S3-compatible server, the Python venv, the F1DB source
//! and (feature `lake`) lakes built from it.
//!
//! Nothing here depends on `pitwall-registry`: the registry's unit tests use this crate, and
//! a dependency back on the registry would link a second copy of it whose types do not match.

mod backend;
pub mod f1db;
#[cfg(feature = "lake")]
pub mod lake;
pub mod postgres;
pub mod s3;
pub mod sqlite;
pub mod venv;

pub use backend::{Backend, BackendFixture, ScratchDb, run_on};
pub use f1db::f1db;
#[cfg(feature = "lake")]
pub use lake::{full_lake, local_lake};
pub use postgres::ScratchPostgres;
pub use sqlite::ScratchSqlite;

/// Runs the future `make` returns on a runtime of its own, on a thread of its own: each test
/// has its own runtime, and a fixture shared between tests outlives them.
pub fn block_on<T: Send + 'static, F: Future<Output = T>>(make: impl FnOnce() -> F + Send + 'static) -> T {
    // The future is made on the thread that runs it: lake futures need not be Send.
    std::thread::spawn(move || tokio::runtime::Runtime::new().expect("a runtime").block_on(make()))
        .join()
        .expect("the fixture does not panic")
}
