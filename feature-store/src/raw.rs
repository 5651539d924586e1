//! The raw layer: one immutable JSON document per version of a session result.
//!
//! Layout: `raw/f1db/results/<season>/<race-folder>/<session>/<ingest-time>-<hash>.json`.
//! A new version is a new object, created with `If-None-Match` semantics so nothing is ever
//! overwritten; the newest name of a session is its current version.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use deltalake::arrow::array::{ArrayRef, Int32Builder, RecordBatch, StringBuilder};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde_json::{Map, Value};
use url::Url;

use crate::error::{LakeError, Result};
use crate::f1db::SessionDocument;

const RESULTS_PREFIX: &str = "f1db/results";
/// How many hex digits of the content hash go into a version's name.
const NAME_HASH_LEN: usize = 16;

/// The raw layer's object store.
#[derive(Debug, Clone)]
pub struct RawStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

/// A stored version of a session result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawVersion {
    /// `season/race-folder/session`.
    pub session_key: String,
    /// Object path relative to the raw layer.
    pub path: String,
    /// The content hash prefix in the name, to recognise unchanged sources.
    pub hash_prefix: String,
}

impl RawStore {
    pub fn open(layer: &Url, options: &HashMap<String, String>) -> Result<Self> {
        let (store, prefix) = object_store::parse_url_opts(layer, options)?;
        Ok(Self { store: Arc::from(store), prefix })
    }

    fn full(&self, rel: &str) -> Path {
        let mut p = self.prefix.clone();
        for part in rel.split('/') {
            p = p.join(part);
        }
        p
    }

    /// The newest version of every session in the layer.
    pub async fn latest_versions(&self) -> Result<HashMap<String, RawVersion>> {
        let base = self.full(RESULTS_PREFIX);
        let mut latest: HashMap<String, RawVersion> = HashMap::new();
        let mut listing = self.store.list(Some(&base));
        while let Some(meta) = listing.try_next().await? {
            let Some(rel) = meta
                .location
                .prefix_match(&self.prefix)
                .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>())
            else {
                continue;
            };
            // f1db / results / season / race-folder / session / name
            let [_, _, season, folder, session, name] = rel.as_slice() else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            let Some((_, hash)) = stem.rsplit_once('-') else {
                continue;
            };
            let v = RawVersion {
                session_key: format!("{season}/{folder}/{session}"),
                path: rel.join("/"),
                hash_prefix: hash.to_string(),
            };
            match latest.get(&v.session_key) {
                Some(cur) if cur.path >= v.path => {}
                _ => {
                    latest.insert(v.session_key.clone(), v);
                }
            }
        }
        Ok(latest)
    }

    /// Stores `doc` as a new version. Fails rather than overwrite should the name exist.
    pub async fn put_version(&self, doc: &SessionDocument, ingested_at: DateTime<Utc>) -> Result<RawVersion> {
        let name = format!("{}-{}.json", ingested_at.format("%Y%m%dT%H%M%S%.6fZ"), &doc.content_hash[..NAME_HASH_LEN]);
        let rel = format!("{RESULTS_PREFIX}/{}/{name}", doc.session_key());
        let mut body = Map::new();
        body.insert("source".into(), "f1db".into());
        body.insert("sourcePath".into(), doc.source_path.clone().into());
        body.insert("season".into(), doc.season.into());
        body.insert("raceFolder".into(), doc.race_folder.clone().into());
        body.insert("session".into(), doc.kind.desc().into());
        body.insert("ingestedAt".into(), ingested_at.to_rfc3339_opts(SecondsFormat::Micros, true).into());
        body.insert("contentHash".into(), doc.content_hash.clone().into());
        // Both are JSON objects: the header's fields, then the source's.
        let header = serde_json::to_vec(&Value::Object(body)).expect("a JSON value always serialises");
        let mut bytes = header[..header.len() - 1].to_vec();
        bytes.push(b',');
        bytes.extend_from_slice(&doc.body[1..]);
        self.store.put_opts(&self.full(&rel), PutPayload::from(bytes), PutOptions::from(PutMode::Create)).await?;
        Ok(RawVersion {
            session_key: doc.session_key(),
            path: rel,
            hash_prefix: doc.content_hash[..NAME_HASH_LEN].to_string(),
        })
    }

    /// Reads the given versions and flattens them into `raw_results` rows.
    pub async fn load_results(&self, versions: &[RawVersion]) -> Result<RecordBatch> {
        let docs: Vec<(String, Value)> = futures::stream::iter(versions.iter().cloned())
            .map(|v| async move {
                let bytes = self.store.get(&self.full(&v.path)).await?.bytes().await?;
                let doc: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| LakeError::RawDocument { path: v.path.clone(), reason: e.to_string() })?;
                Ok::<_, LakeError>((v.path, doc))
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        flatten(&docs)
    }

    /// How many documents (all versions) the layer holds.
    pub async fn count_documents(&self) -> Result<usize> {
        let base = self.full(RESULTS_PREFIX);
        let n = self.store.list(Some(&base)).try_fold(0usize, |n, _| async move { Ok(n + 1) }).await?;
        Ok(n)
    }
}

/// The columns of the `raw_results` view, every source value as text.
pub const RAW_RESULT_COLUMNS: [&str; 23] = [
    "sessionKey",
    "sourcePath",
    "ingestedAt",
    "contentHash",
    "season",
    "raceRound",
    "raceDate",
    "circuitId",
    "circuitPlaceName",
    "countryName",
    "sessionType",
    "rowIndex",
    "position",
    "driverNumber",
    "driverId",
    "driverAbbreviation",
    "driverFirstName",
    "driverFullName",
    "constructorId",
    "constructorName",
    "gridPosition",
    "points",
    "time",
];

/// Schema of the `raw_results` view: `rowIndex` is the only value not from the source (the
/// 1-based order of the row in its file), so it is the only one typed here.
pub fn raw_results_schema() -> SchemaRef {
    let mut fields: Vec<Field> = RAW_RESULT_COLUMNS
        .iter()
        .map(|c| {
            let ty = if *c == "rowIndex" { DataType::Int32 } else { DataType::Utf8 };
            Field::new(*c, ty, *c != "rowIndex")
        })
        .collect();
    fields.push(Field::new("laps", DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn bad(path: &str, reason: &str) -> LakeError {
    LakeError::RawDocument { path: path.to_string(), reason: reason.to_string() }
}

fn flatten(docs: &[(String, Value)]) -> Result<RecordBatch> {
    let schema = raw_results_schema();
    let mut cols: Vec<StringBuilder> = (0..schema.fields().len()).map(|_| StringBuilder::new()).collect();
    let mut row_index = Int32Builder::new();
    let row_index_col = RAW_RESULT_COLUMNS.iter().position(|c| *c == "rowIndex").expect("rowIndex is a raw column");
    for (path, doc) in docs {
        let rel: Vec<&str> = path.split('/').collect();
        let session_key = rel
            .get(2..5)
            .map(|p| p.join("/"))
            .ok_or_else(|| bad(path, "not under f1db/results/<season>/<race>/<session>"))?;
        let race = doc.get("race").ok_or_else(|| bad(path, "no race"))?;
        let circuit = doc.get("circuit").ok_or_else(|| bad(path, "no circuit"))?;
        let country = doc.get("country").ok_or_else(|| bad(path, "no country"))?;
        let drivers = doc.get("drivers").ok_or_else(|| bad(path, "no drivers"))?;
        let constructors = doc.get("constructors").ok_or_else(|| bad(path, "no constructors"))?;
        let rows = doc.get("results").and_then(Value::as_array).ok_or_else(|| bad(path, "no results list"))?;
        for (i, row) in rows.iter().enumerate() {
            let driver_id = text(row.get("driverId"));
            let constructor_id = text(row.get("constructorId"));
            let driver = driver_id.as_deref().and_then(|d| drivers.get(d));
            let constructor = constructor_id.as_deref().and_then(|c| constructors.get(c));
            let values: [Option<String>; 24] = [
                Some(session_key.clone()),
                Some(path.clone()),
                text(doc.get("ingestedAt")),
                text(doc.get("contentHash")),
                text(doc.get("season")),
                text(race.get("round")),
                text(race.get("date")),
                text(race.get("circuitId")),
                text(circuit.get("placeName")),
                text(country.get("name")),
                text(doc.get("session")),
                None,
                text(row.get("position")),
                text(row.get("driverNumber")),
                driver_id.clone(),
                text(driver.and_then(|d| d.get("abbreviation"))),
                text(driver.and_then(|d| d.get("firstName"))),
                text(driver.and_then(|d| d.get("fullName"))),
                constructor_id.clone(),
                text(constructor.and_then(|c| c.get("name"))),
                text(row.get("gridPosition")),
                text(row.get("points")),
                text(row.get("time")),
                text(row.get("laps")),
            ];
            for (c, v) in values.into_iter().enumerate() {
                if c == row_index_col {
                    row_index.append_value(i as i32 + 1);
                } else {
                    cols[c].append_option(v);
                }
            }
        }
    }
    let arrays: Vec<ArrayRef> = cols
        .into_iter()
        .enumerate()
        .map(|(c, mut b)| -> ArrayRef {
            if c == row_index_col { Arc::new(row_index.finish()) } else { Arc::new(b.finish()) }
        })
        .collect();
    Ok(RecordBatch::try_new(schema, arrays)?)
}
