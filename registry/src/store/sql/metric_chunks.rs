//! Metric history, stored in chunks: one row of `metric_chunks` holds up to [`CHUNK_ENTRIES`]
//! values of one run's metric, packed as big-endian (step, timestamp, value) triples.
//!
//! A training loop logs a batch of many steps over a few keys. With a row per value, a batch of
//! a thousand values was a thousand heap and index inserts: on PostgreSQL ~330 KB of WAL, most
//! of a log-batch's time. In chunks the same batch is one row per key. Big-endian, because it is
//! what PostgreSQL's `int8send` and `float8send` write, so SQL can build and read chunks too.
//!
//! MLflow stores a value once: a value equal in step, timestamp and value to one the run already
//! has is dropped. Each chunk records the range of its steps and of its timestamps, and only a
//! chunk whose ranges both meet a stored chunk's is checked value by value. Values logged now
//! carry timestamps later than any stored, so for a training loop none is, whether it counts
//! steps or logs every value at step 0 (the client's default).

use super::MAX_BINDS_PER_STATEMENT;
use super::dialect::{Batch, Engine, pg_array};
use super::rows::{MetricRow, stored_value};
use crate::store::{Sql, StoreError, StoreResult};
use pitwall_openapi::Metric;
use sqlx::{AnyConnection, AnyPool, FromRow};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Values per chunk: 64 × 24 bytes stays under PostgreSQL's 2 KB TOAST threshold, so a chunk is
/// stored in its row, never compressed or moved out of line.
pub(super) const CHUNK_ENTRIES: usize = 64;
const ENTRY_BYTES: usize = 24;

/// One value of a metric's history, as stored: NaN is one canonical NaN and infinities are
/// the largest finite doubles, as MLflow's SQL store keeps them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Entry {
    pub step: i64,
    pub timestamp: i64,
    pub value: f64,
}

impl Entry {
    fn of(metric: &Metric) -> Entry {
        let (value, is_nan) = stored_value(metric.value);
        Entry { step: metric.step, timestamp: metric.timestamp, value: if is_nan != 0 { f64::NAN } else { value } }
    }

    /// What makes two values the same value: NaN equals NaN here, as MLflow compares its
    /// `is_nan` column.
    fn identity(&self) -> (i64, i64, u64) {
        (self.step, self.timestamp, if self.value.is_nan() { f64::NAN.to_bits() } else { self.value.to_bits() })
    }

    pub fn into_metric(self, key: String) -> Metric {
        Metric::new(key, self.value, self.timestamp, self.step)
    }
}

pub(super) fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * ENTRY_BYTES);
    for e in entries {
        out.extend_from_slice(&e.step.to_be_bytes());
        out.extend_from_slice(&e.timestamp.to_be_bytes());
        out.extend_from_slice(&e.value.to_be_bytes());
    }
    out
}

pub(super) fn decode(data: &[u8]) -> StoreResult<Vec<Entry>> {
    if !data.len().is_multiple_of(ENTRY_BYTES) {
        return Err(StoreError::Invalid(format!(
            "A stored metric chunk of {} bytes is damaged: its length is not a multiple of {ENTRY_BYTES}",
            data.len()
        )));
    }
    let word = |bytes: &[u8]| -> [u8; 8] { bytes.try_into().expect("an 8-byte slice") };
    Ok(data
        .chunks_exact(ENTRY_BYTES)
        .map(|e| Entry {
            step: i64::from_be_bytes(word(&e[0..8])),
            timestamp: i64::from_be_bytes(word(&e[8..16])),
            value: f64::from_be_bytes(word(&e[16..24])),
        })
        .collect())
}

/// A batch's values of one key: each value once, ordered by step, then timestamp.
#[derive(Debug)]
pub(super) struct Series<'a> {
    pub key: &'a str,
    pub entries: Vec<Entry>,
}

/// Groups a batch by key (keys in order), dropping values repeated within it.
pub(super) fn group(metrics: &[Metric]) -> Vec<Series<'_>> {
    let mut by_key: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
    for m in metrics {
        by_key.entry(m.key.as_str()).or_default().push(Entry::of(m));
    }
    by_key
        .into_iter()
        .map(|(key, mut entries)| {
            let mut seen = HashSet::with_capacity(entries.len());
            entries.retain(|e| seen.insert(e.identity()));
            entries.sort_by_key(|e| (e.step, e.timestamp));
            Series { key, entries }
        })
        .collect()
}

#[derive(Debug, FromRow)]
struct ChunkRow {
    run_uuid: String,
    data: Vec<u8>,
}

/// The steps and timestamps a chunk's values lie within, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, FromRow)]
struct Span {
    min_step: i64,
    max_step: i64,
    min_timestamp: i64,
    max_timestamp: i64,
}

impl Span {
    fn at(e: &Entry) -> Span {
        Span { min_step: e.step, max_step: e.step, min_timestamp: e.timestamp, max_timestamp: e.timestamp }
    }

    /// The span of some entries; `None` for none.
    fn of(entries: &[Entry]) -> Option<Span> {
        entries.iter().map(Span::at).reduce(Span::union)
    }

    /// The smallest span holding both.
    fn union(self, other: Span) -> Span {
        Span {
            min_step: self.min_step.min(other.min_step),
            max_step: self.max_step.max(other.max_step),
            min_timestamp: self.min_timestamp.min(other.min_timestamp),
            max_timestamp: self.max_timestamp.max(other.max_timestamp),
        }
    }
}

/// A chunk about to be stored.
struct NewChunk<'a> {
    key: &'a str,
    span: Span,
    entries: &'a [Entry],
    data: Vec<u8>,
}

fn new_chunks<'a>(series: &'a [Series<'a>]) -> Vec<NewChunk<'a>> {
    series
        .iter()
        .flat_map(|s| {
            s.entries.chunks(CHUNK_ENTRIES).map(|entries| NewChunk {
                key: s.key,
                span: Span::of(entries).expect("chunks() yields no empty slice"),
                entries,
                data: encode(entries),
            })
        })
        .collect()
}

/// Appends a batch to a run's history, part of the caller's transaction.
///
/// Each chunk whose span meets no stored chunk's is inserted as it is: for a loop logging
/// forward, all of them, in one statement. The others are checked value by value. On
/// PostgreSQL the caller must already hold the row locks of the keys' `latest_metrics` rows
/// (its upsert takes them): each statement here then starts after every concurrent writer of
/// those keys has committed, and sees what they stored.
pub(super) async fn append(
    conn: &mut AnyConnection,
    engine: Engine,
    run_id: &str,
    metrics: &[Metric],
) -> StoreResult<()> {
    let series = group(metrics);
    let chunks = new_chunks(&series);
    let inserted = match engine.insert_fresh_chunks() {
        Batch::Arrays(statement) => insert_fresh_from_arrays(conn, statement, run_id, &chunks).await?,
        Batch::Values => insert_fresh(conn, engine, run_id, &chunks).await?,
    };
    if inserted < chunks.len() as u64 {
        insert_unstored_values(conn, engine, run_id, &chunks).await?;
    }
    Ok(())
}

async fn insert_fresh_from_arrays(
    conn: &mut AnyConnection,
    statement: &'static str,
    run_id: &str,
    chunks: &[NewChunk<'_>],
) -> StoreResult<u64> {
    let mut data = Vec::with_capacity(chunks.iter().map(|c| c.data.len()).sum());
    let mut starts = Vec::with_capacity(chunks.len());
    for c in chunks {
        starts.push(data.len() as i64);
        data.extend_from_slice(&c.data);
    }
    let done = sqlx::query(statement)
        .bind(run_id)
        .bind(pg_array::text(chunks.iter().map(|c| c.key)))
        .bind(pg_array::ints(chunks.iter().map(|c| c.span.min_step)))
        .bind(pg_array::ints(chunks.iter().map(|c| c.span.max_step)))
        .bind(pg_array::ints(chunks.iter().map(|c| c.span.min_timestamp)))
        .bind(pg_array::ints(chunks.iter().map(|c| c.span.max_timestamp)))
        .bind(pg_array::ints(starts))
        .bind(pg_array::ints(chunks.iter().map(|c| c.data.len() as i64)))
        .bind(data)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

async fn insert_fresh(
    conn: &mut AnyConnection,
    engine: Engine,
    run_id: &str,
    chunks: &[NewChunk<'_>],
) -> StoreResult<u64> {
    let mut inserted = 0;
    for some in chunks.chunks((MAX_BINDS_PER_STATEMENT - 2) / 6) {
        let mut sql = Sql::new_for(
            engine,
            "INSERT INTO metric_chunks (run_uuid, key, min_step, max_step, min_timestamp, max_timestamp, data) \
             SELECT ",
        );
        // SQLite names a VALUES list's columns column1, column2, …
        sql.bind(run_id).push(", c.column1, c.column2, c.column3, c.column4, c.column5, c.column6 FROM (VALUES ");
        for (i, c) in some.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(c.key).push(", ").bind(c.span.min_step).push(", ").bind(c.span.max_step).push(", ");
            sql.bind(c.span.min_timestamp).push(", ").bind(c.span.max_timestamp).push(", ");
            sql.bind(c.data.clone()).push(")");
        }
        sql.push(") AS c WHERE NOT EXISTS (SELECT 1 FROM metric_chunks o WHERE o.run_uuid = ").bind(run_id);
        sql.push(
            " AND o.key = c.column1 AND o.max_timestamp >= c.column4 AND o.min_timestamp <= c.column5 \
             AND o.max_step >= c.column2 AND o.min_step <= c.column3)",
        );
        inserted += sql.query().execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}

#[derive(Debug, FromRow)]
struct StoredChunk {
    key: String,
    #[sqlx(flatten)]
    span: Span,
    data: Vec<u8>,
}

/// Stores the values of the chunks [`insert_fresh`] left out that the run does not have yet.
///
/// The stored chunks read back include those just inserted: a chunk found among them, byte for
/// byte, is stored (now, or identically before). A batch holds each value once, so the values
/// of a chunk left out are never among those of the chunks inserted beside it.
async fn insert_unstored_values(
    conn: &mut AnyConnection,
    engine: Engine,
    run_id: &str,
    chunks: &[NewChunk<'_>],
) -> StoreResult<()> {
    let Some(span) = chunks.iter().map(|c| c.span).reduce(Span::union) else {
        return Ok(());
    };
    let keys: BTreeSet<&str> = chunks.iter().map(|c| c.key).collect();
    let keys: Vec<&str> = keys.into_iter().collect();
    let mut stored = Vec::new();
    for some in keys.chunks(MAX_BINDS_PER_STATEMENT - 5) {
        let mut sql = Sql::new_for(
            engine,
            "SELECT key, min_step, max_step, min_timestamp, max_timestamp, data FROM metric_chunks WHERE run_uuid = ",
        );
        sql.bind(run_id).push(" AND key IN (").bind_list(some.iter().copied()).push(")");
        sql.push(" AND max_timestamp >= ").bind(span.min_timestamp);
        sql.push(" AND min_timestamp <= ").bind(span.max_timestamp);
        sql.push(" AND max_step >= ").bind(span.min_step).push(" AND min_step <= ").bind(span.max_step);
        stored.extend(sql.query_as::<StoredChunk>().fetch_all(&mut *conn).await?);
    }
    let whole: HashSet<(&str, Span, &[u8])> =
        stored.iter().map(|c| (c.key.as_str(), c.span, c.data.as_slice())).collect();
    let mut values: HashMap<&str, HashSet<(i64, i64, u64)>> = HashMap::new();
    for c in &stored {
        values.entry(c.key.as_str()).or_default().extend(decode(&c.data)?.iter().map(Entry::identity));
    }
    let mut rest: Vec<(&str, Vec<Entry>)> = Vec::new();
    for c in chunks {
        if whole.contains(&(c.key, c.span, c.data.as_slice())) {
            continue;
        }
        let have = values.get(c.key);
        let unstored: Vec<Entry> =
            c.entries.iter().filter(|e| have.is_none_or(|h| !h.contains(&e.identity()))).copied().collect();
        if !unstored.is_empty() {
            rest.push((c.key, unstored));
        }
    }
    for some in rest.chunks(MAX_BINDS_PER_STATEMENT / 7) {
        let mut sql = Sql::new_for(
            engine,
            "INSERT INTO metric_chunks (run_uuid, key, min_step, max_step, min_timestamp, max_timestamp, data) VALUES ",
        );
        for (i, (key, entries)) in some.iter().enumerate() {
            let span = Span::of(entries).expect("only entries left to store are kept");
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(run_id).push(", ").bind(*key).push(", ").bind(span.min_step).push(", ").bind(span.max_step);
            sql.push(", ").bind(span.min_timestamp).push(", ").bind(span.max_timestamp);
            sql.push(", ").bind(encode(entries)).push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The stored values of `key` of each of `run_ids` that has any, in chunks whose step range
/// meets `steps`; unordered within a run.
pub(super) async fn read(
    conn: &mut AnyConnection,
    engine: Engine,
    run_ids: &[&str],
    key: &str,
    steps: Option<(i64, i64)>,
) -> StoreResult<BTreeMap<String, Vec<Entry>>> {
    let mut out: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for some in run_ids.chunks(MAX_BINDS_PER_STATEMENT - 3) {
        let mut sql = Sql::new_for(engine, "SELECT run_uuid, data FROM metric_chunks WHERE key = ");
        sql.bind(key).push(" AND run_uuid IN (").bind_list(some.iter().copied()).push(")");
        if let Some((start, end)) = steps {
            sql.push(" AND max_step >= ").bind(start).push(" AND min_step <= ").bind(end);
        }
        for row in sql.query_as::<ChunkRow>().fetch_all(&mut *conn).await? {
            out.entry(row.run_uuid).or_default().extend(decode(&row.data)?);
        }
    }
    Ok(out)
}

/// The advisory lock servers starting on one PostgreSQL database take turns at to adopt the
/// history (SQLite's write lock does it there).
const ADOPTION_LOCK: i64 = 7_177_357_001;

/// Packs the history of a store made before chunks, one row per value in `metrics`, into
/// `metric_chunks` and drops `metrics`, in one transaction: a store has one or the other.
///
/// The data migration that completes `…000006_metric_chunks.sql` (see migrations/README.md):
/// run at start-up after the schema's migrations; servers starting together on one database
/// take turns, and the later ones find nothing left to do.
pub(super) async fn adopt_row_per_value_history(pool: &AnyPool, engine: Engine) -> StoreResult<()> {
    let mut tx = engine.begin_alone(pool, ADOPTION_LOCK).await?;
    let found: i64 = sqlx::query_scalar(engine.count_tables_named()).bind("metrics").fetch_one(&mut *tx).await?;
    if found == 0 {
        return Ok(());
    }
    let runs: Vec<String> = sqlx::query_scalar("SELECT DISTINCT run_uuid FROM metrics").fetch_all(&mut *tx).await?;
    if !runs.is_empty() {
        tracing::info!(runs = runs.len(), "packing the metric history of a store made before chunks");
    }
    let mut values = 0;
    for (done, run_id) in runs.iter().enumerate() {
        if done > 0 && done % 1000 == 0 {
            tracing::info!(runs = done, of = runs.len(), "metric history packed so far");
        }
        let rows: Vec<MetricRow> = sqlx::query_as(
            "SELECT run_uuid AS owner, key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = $1",
        )
        .bind(run_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        values += rows.len();
        let metrics: Vec<Metric> = rows.into_iter().map(MetricRow::into_metric).collect();
        append(&mut tx, engine, run_id, &metrics).await?;
    }
    sqlx::query("DROP TABLE metrics").execute(&mut *tx).await?;
    tx.commit().await?;
    if values > 0 {
        tracing::info!(runs = runs.len(), values, "packed the metric history into chunks");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(key: &str, value: f64, timestamp: i64, step: i64) -> Metric {
        Metric::new(key.to_owned(), value, timestamp, step)
    }

    #[test]
    fn chunks_round_trip_every_value_as_stored() {
        let entries = vec![
            Entry { step: -3, timestamp: 0, value: -0.0 },
            Entry { step: i64::MAX, timestamp: i64::MIN, value: f64::MAX },
            Entry { step: 7, timestamp: 1_700_000_000_000, value: f64::NAN },
            Entry { step: 8, timestamp: 1, value: 1e-300 },
        ];
        let data = encode(&entries);
        assert_eq!(data.len(), 4 * ENTRY_BYTES);
        let back = decode(&data).unwrap();
        assert_eq!(back.len(), 4);
        for (a, b) in entries.iter().zip(&back) {
            assert_eq!(a.identity(), b.identity());
            assert_eq!(a.value.is_sign_negative(), b.value.is_sign_negative());
        }
        // The layout PostgreSQL's int8send/float8send write.
        assert_eq!(&data[..8], &(-3_i64).to_be_bytes());
        assert!(decode(&data[..25]).is_err());
        assert!(decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_batch_is_grouped_by_key_with_repeats_dropped() {
        let batch = vec![
            metric("loss", 0.5, 10, 2),
            metric("acc", f64::NAN, 10, 1),
            metric("loss", 0.7, 10, 1),
            metric("loss", 0.5, 10, 2),
            metric("acc", f64::NAN, 10, 1),
            metric("acc", f64::INFINITY, 11, 1),
            metric("loss", 0.5, 11, 2),
        ];
        let series = group(&batch);
        assert_eq!(series.iter().map(|s| s.key).collect::<Vec<_>>(), ["acc", "loss"]);
        let acc = &series[0].entries;
        assert_eq!(acc.len(), 2);
        assert!(acc[0].value.is_nan());
        assert_eq!(acc[1].value, f64::MAX, "infinity is stored as the largest double");
        let loss: Vec<(i64, i64, f64)> = series[1].entries.iter().map(|e| (e.step, e.timestamp, e.value)).collect();
        assert_eq!(loss, [(1, 10, 0.7), (2, 10, 0.5), (2, 11, 0.5)]);
    }
}
