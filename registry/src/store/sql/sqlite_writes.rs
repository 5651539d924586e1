//! SQLite's single writer: the queue writes wait in, the one connection they go through, the
//! flush that makes a commit durable before it is acknowledged, and the write-ahead log
//! checkpointed off the request path.
//!
//! Left to itself, SQLite copies the log back into the database file inside whichever commit
//! takes the log past 1000 pages, so every fifteenth log-batch or so waits for a thousand page
//! writes and an fsync. Here no connection checkpoints on commit; a task does it a moment after
//! writes, and writes that come in quick succession share one checkpoint.
//!
//! Durability: with `synchronous = FULL` SQLite would flush the log inside each commit, while
//! the writer holds its turn, so writers queued behind it could never share a flush. Instead
//! the connections run `synchronous = NORMAL` (the commit is in the log, in the OS's cache) and
//! a committed writer gives up its turn, then waits for a flush of the log that began after its
//! commit. One flush runs at a time; the writers that committed while it ran are all covered by
//! the next one (group commit).

use super::dialect::SQLITE_CHECKPOINT;
use sqlx::AnyPool;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Absent for an in-memory database, and when the store was opened with
    /// `synchronous=normal` (acknowledged before the flush).
    log_flush: Option<LogFlush>,
}

impl SqliteWrites {
    /// For the database file `path`, written through `writer`: starts its checkpointer on
    /// `pool`, which ends when the store is dropped. With `durable`, a commit is acknowledged
    /// only once the log holding it is flushed.
    pub(super) fn for_file(writer: AnyPool, pool: AnyPool, path: &Path, durable: bool) -> SqliteWrites {
        let (wake, mut woken) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                if let Err(e) = sqlx::query(SQLITE_CHECKPOINT).execute(&pool).await {
                    tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
                }
            }
        });
        let log_flush = durable.then(|| LogFlush::new(path));
        SqliteWrites { gate: Mutex::new(()), writer, checkpoints: Some(wake), log_flush }
    }

    /// For an in-memory database, whose one connection is `pool`'s.
    pub(super) fn in_memory(pool: AnyPool) -> SqliteWrites {
        SqliteWrites { gate: Mutex::new(()), writer: pool, checkpoints: None, log_flush: None }
    }

    /// Waits for this writer's turn.
    pub(super) async fn turn(&self) -> Turn<'_> {
        Turn {
            _gate: self.gate.lock().await,
            writer: &self.writer,
            checkpoints: self.checkpoints.as_ref(),
            log_flush: self.log_flush.as_ref(),
        }
    }

    /// Whether a commit is acknowledged only once it is on disk.
    pub(super) fn durable(&self) -> bool {
        self.log_flush.is_some()
    }

    /// Flushes of the log so far (each covers every commit made before it began).
    pub(super) fn flushes(&self) -> u64 {
        self.log_flush.as_ref().map_or(0, |f| f.flushes.load(Ordering::Relaxed))
    }
}

/// A writer's turn; when it ends, a checkpoint is due.
pub(super) struct Turn<'a> {
    _gate: MutexGuard<'a, ()>,
    writer: &'a AnyPool,
    checkpoints: Option<&'a mpsc::Sender<()>>,
    log_flush: Option<&'a LogFlush>,
}

impl Turn<'_> {
    pub(super) fn writer(&self) -> &AnyPool {
        self.writer
    }

    /// Ends the turn of a writer that has committed, and waits until its commit is on disk.
    pub(super) async fn committed(self) -> std::io::Result<()> {
        // Taken before the turn ends, so tickets follow the order of the commits.
        let pending = self.log_flush.map(|f| (f, f.ticket()));
        drop(self);
        match pending {
            Some((flush, ticket)) => flush.wait_for(ticket).await,
            None => Ok(()),
        }
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

/// Flushes of the write-ahead log shared by the commits that wait for them.
struct LogFlush {
    /// `<database>-wal`, which SQLite keeps while the store's writer connection is open.
    log: PathBuf,
    /// Tickets handed to commits, in commit order.
    committed: AtomicU64,
    /// Every ticket up to this one is on disk.
    flushed: AtomicU64,
    /// Held by the one writer whose flush is running; holds the inode of the log file last
    /// flushed (when SQLite makes a new one, its directory entry is flushed too).
    leader: Mutex<Option<u64>>,
    flushes: AtomicU64,
}

impl LogFlush {
    fn new(database: &Path) -> LogFlush {
        let mut log = database.as_os_str().to_owned();
        log.push("-wal");
        LogFlush {
            log: PathBuf::from(log),
            committed: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            leader: Mutex::new(None),
            flushes: AtomicU64::new(0),
        }
    }

    fn ticket(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    async fn wait_for(&self, ticket: u64) -> std::io::Result<()> {
        if self.flushed.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        let mut last_inode = self.leader.lock().await;
        // The flush that ran while this writer waited may have covered it.
        if self.flushed.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        // Every commit holding a ticket up to here has written its frames to the log.
        let covered = self.committed.load(Ordering::SeqCst);
        let log = self.log.clone();
        let known = *last_inode;
        *last_inode =
            Some(tokio::task::spawn_blocking(move || flush_file(&log, known)).await.map_err(std::io::Error::other)??);
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.flushed.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }
}

/// Flushes `path`'s data, and its directory's entries when the file is not the one last
/// flushed (`known` inode); returns the file's inode.
fn flush_file(path: &Path, known: Option<u64>) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::File::open(path)?;
    file.sync_data()?;
    let inode = file.metadata()?.ino();
    if known != Some(inode)
        && let Some(dir) = path.parent()
    {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(inode)
}
