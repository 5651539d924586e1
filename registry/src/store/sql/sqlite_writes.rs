//! SQLite's single writer: the queue writes wait in, the one connection they go through, and
//! the write-ahead log checkpointed off the request path.
//!
//! Left to itself, SQLite copies the log back into the database file inside whichever commit
//! takes the log past 1000 pages, so every fifteenth log-batch or so waits for a thousand page
//! writes and an fsync. Here no connection checkpoints on commit; a task does it a moment after
//! writes, and writes that come in quick succession share one checkpoint.

use super::dialect::SQLITE_CHECKPOINT;
use sqlx::AnyPool;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard, mpsc};

/// How long the checkpointer waits after a write, gathering the writes that follow it.
const SETTLE: Duration = Duration::from_millis(100);

pub(super) struct SqliteWrites {
    /// SQLite allows one writer at a time and answers a second one that upgrades from a read
    /// with SQLITE_BUSY at once; writes are queued here instead of failing.
    gate: Mutex<()>,
    /// The connection writes go through.
    writer: AnyPool,
    /// Absent for an in-memory database, which has no log.
    checkpoints: Option<mpsc::Sender<()>>,
}

impl SqliteWrites {
    /// For a database file, written through `writer`: starts its checkpointer on `pool`, which
    /// ends when the store is dropped.
    pub(super) fn for_file(writer: AnyPool, pool: AnyPool) -> SqliteWrites {
        let (wake, mut woken) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                if let Err(e) = sqlx::query(SQLITE_CHECKPOINT).execute(&pool).await {
                    tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
                }
            }
        });
        SqliteWrites { gate: Mutex::new(()), writer, checkpoints: Some(wake) }
    }

    /// For an in-memory database, whose one connection is `pool`'s.
    pub(super) fn in_memory(pool: AnyPool) -> SqliteWrites {
        SqliteWrites { gate: Mutex::new(()), writer: pool, checkpoints: None }
    }

    /// Waits for this writer's turn.
    pub(super) async fn turn(&self) -> Turn<'_> {
        Turn { _gate: self.gate.lock().await, writer: &self.writer, checkpoints: self.checkpoints.as_ref() }
    }
}

/// A writer's turn; when it ends, a checkpoint is due.
pub(super) struct Turn<'a> {
    _gate: MutexGuard<'a, ()>,
    writer: &'a AnyPool,
    checkpoints: Option<&'a mpsc::Sender<()>>,
}

impl Turn<'_> {
    pub(super) fn writer(&self) -> &AnyPool {
        self.writer
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // A full channel means a checkpoint is already due, which covers this write too.
        if let Some(wake) = self.checkpoints {
            let _ = wake.try_send(());
        }
    }
}
