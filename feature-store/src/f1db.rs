//! Reading an F1DB source tree (`src/data` of a clone) into one document per session result.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::SourceProblem;
use crate::seasons::SeasonRange;

/// The sessions whose results go into the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionKind {
    Race,
    Qualifying,
    Sprint,
}

impl SessionKind {
    pub const ALL: [SessionKind; 3] = [SessionKind::Race, SessionKind::Qualifying, SessionKind::Sprint];

    /// The name silver uses (`descSession`).
    pub fn desc(self) -> &'static str {
        match self {
            SessionKind::Race => "Race",
            SessionKind::Qualifying => "Qualifying",
            SessionKind::Sprint => "Sprint",
        }
    }

    /// The path segment in the raw layer.
    pub fn slug(self) -> &'static str {
        match self {
            SessionKind::Race => "race",
            SessionKind::Qualifying => "qualifying",
            SessionKind::Sprint => "sprint",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    fn file_name(self) -> &'static str {
        match self {
            SessionKind::Race => "race-results.yml",
            SessionKind::Qualifying => "qualifying-results.yml",
            SessionKind::Sprint => "sprint-race-results.yml",
        }
    }
}

/// One session result as found in the source, with everything needed to type it later.
#[derive(Debug, Clone)]
pub struct SessionDocument {
    pub season: i32,
    /// The race's folder name, e.g. `01-australia`.
    pub race_folder: String,
    pub kind: SessionKind,
    /// The results file, relative to the source root.
    pub source_path: String,
    /// SHA-256 of every source file the document is made of.
    pub content_hash: String,
    /// A JSON object of `race`, `circuit`, `country`, `drivers`, `constructors` and
    /// `results`, as the source gives them. Kept serialised: a whole history of parsed
    /// documents would take several times the memory.
    pub body: Vec<u8>,
}

impl SessionDocument {
    /// `season/race-folder/session`: what identifies a session across versions.
    pub fn session_key(&self) -> String {
        format!("{}/{}/{}", self.season, self.race_folder, self.kind.slug())
    }
}

/// Reads every race, qualifying and sprint result of the selected seasons. A results file that
/// is absent is a session not held (or not yet held); anything unreadable, or a reference to an
/// entity file that does not exist, is a problem reported with its path.
pub fn read_source(
    root: &Path,
    seasons: SeasonRange,
    on_race: &dyn Fn(),
) -> Result<Vec<SessionDocument>, Vec<SourceProblem>> {
    let mut reader = Reader { root, problems: Vec::new(), entities: HashMap::new() };
    let races = reader.race_folders(seasons);
    let mut docs = Vec::new();
    for (season, folder) in races {
        reader.read_race(season, &folder, &mut docs);
        on_race();
    }
    if reader.problems.is_empty() { Ok(docs) } else { Err(reader.problems) }
}

/// Counts the race folders of the selected seasons, for progress reporting.
pub fn count_races(root: &Path, seasons: SeasonRange) -> usize {
    let mut reader = Reader { root, problems: Vec::new(), entities: HashMap::new() };
    reader.race_folders(seasons).len()
}

struct Entity {
    value: Value,
    bytes: Vec<u8>,
}

struct Reader<'a> {
    root: &'a Path,
    problems: Vec<SourceProblem>,
    /// Parsed entity files by relative path; `None` when missing or malformed (already reported).
    entities: HashMap<String, Option<Entity>>,
}

impl Reader<'_> {
    fn problem(&mut self, path: PathBuf, reason: impl Into<String>) {
        self.problems.push(SourceProblem { path, reason: reason.into() });
    }

    fn race_folders(&mut self, seasons: SeasonRange) -> Vec<(i32, PathBuf)> {
        let seasons_dir = self.root.join("seasons");
        let entries = match std::fs::read_dir(&seasons_dir) {
            Ok(e) => e,
            Err(e) => {
                self.problem(seasons_dir, format!("not an F1DB source tree: {e}"));
                return Vec::new();
            }
        };
        let mut years: Vec<(i32, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let year = e.file_name().to_str()?.parse::<i32>().ok()?;
                Some((year, e.path()))
            })
            .filter(|(y, _)| seasons.contains(*y))
            .collect();
        years.sort();
        let mut races = Vec::new();
        for (year, dir) in years {
            let races_dir = dir.join("races");
            let Ok(entries) = std::fs::read_dir(&races_dir) else {
                // A season announced but without a calendar yet has no races folder.
                continue;
            };
            let mut folders: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                // `is_dir` follows symlinks: a tree assembled from links is still a tree.
                .filter(|p| p.is_dir())
                .collect();
            folders.sort();
            races.extend(folders.into_iter().map(|f| (year, f)));
        }
        races
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(self.root).unwrap_or(path).to_string_lossy().replace('\\', "/")
    }

    fn parse_file(&mut self, path: &Path) -> Option<(Value, Vec<u8>)> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.problem(path.to_path_buf(), format!("cannot read: {e}"));
                return None;
            }
        };
        match serde_norway::from_slice::<Value>(&bytes) {
            Ok(Value::Null) => {
                self.problem(path.to_path_buf(), "empty file");
                None
            }
            Ok(v) => Some((v, bytes)),
            Err(e) => {
                self.problem(path.to_path_buf(), format!("not valid YAML: {e}"));
                None
            }
        }
    }

    /// An entity file (`drivers/<id>.yml` …), parsed once per run. `required` lists the fields
    /// the lake reads from it.
    fn entity(&mut self, kind: &str, id: &str, required: &[&str], referrer: &str) -> Option<&Entity> {
        let rel = format!("{kind}/{id}.yml");
        if !self.entities.contains_key(&rel) {
            let path = self.root.join(&rel);
            let loaded = if path.is_file() {
                self.parse_file(&path).and_then(|(value, bytes)| {
                    let missing: Vec<&str> =
                        required.iter().copied().filter(|f| value.get(f).is_none_or(Value::is_null)).collect();
                    if missing.is_empty() {
                        Some(Entity { value, bytes })
                    } else {
                        self.problem(path.clone(), format!("missing {}", missing.join(", ")));
                        None
                    }
                })
            } else {
                self.problem(path, format!("missing file (referenced by {referrer})"));
                None
            };
            self.entities.insert(rel.clone(), loaded);
        }
        self.entities[&rel].as_ref()
    }

    fn read_race(&mut self, season: i32, dir: &Path, out: &mut Vec<SessionDocument>) {
        let present: Vec<SessionKind> =
            SessionKind::ALL.into_iter().filter(|k| dir.join(k.file_name()).exists()).collect();
        if present.is_empty() {
            return;
        }
        let race_path = dir.join("race.yml");
        let race_rel = self.rel(&race_path);
        if !race_path.is_file() {
            self.problem(race_path, "missing file (the race has results)");
            return;
        }
        let Some((race, race_bytes)) = self.parse_file(&race_path) else {
            return;
        };
        let date_ok = race
            .get("date")
            .and_then(Value::as_str)
            .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
        let circuit_id = race.get("circuitId").and_then(Value::as_str);
        let (true, Some(circuit_id)) = (date_ok, circuit_id) else {
            self.problem(race_path, "needs a date (YYYY-MM-DD) and a circuitId".to_string());
            return;
        };
        let circuit_id = circuit_id.to_string();
        let Some(circuit) = self.entity("circuits", &circuit_id, &["placeName", "countryId"], &race_rel) else {
            return;
        };
        let (circuit, circuit_bytes) = (circuit.value.clone(), circuit.bytes.clone());
        let country_id = circuit["countryId"].as_str().unwrap_or_default().to_string();
        let circuit_rel = format!("circuits/{circuit_id}.yml");
        let Some(country) = self.entity("countries", &country_id, &["name"], &circuit_rel) else {
            return;
        };
        let (country, country_bytes) = (country.value.clone(), country.bytes.clone());
        let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();

        for kind in present {
            let path = dir.join(kind.file_name());
            let rel = self.rel(&path);
            let Some((results, results_bytes)) = self.parse_file(&path) else {
                continue;
            };
            let Some(rows) = results.as_array() else {
                self.problem(path, "expected a list of results");
                continue;
            };
            let mut drivers = BTreeMap::new();
            let mut constructors = BTreeMap::new();
            let mut ok = true;
            for (i, row) in rows.iter().enumerate() {
                let field = |name: &str| row.get(name).and_then(Value::as_str).map(str::to_string);
                let (Some(driver), Some(constructor)) = (field("driverId"), field("constructorId")) else {
                    self.problem(path.clone(), format!("result {} has no driverId or constructorId", i + 1));
                    ok = false;
                    continue;
                };
                if row.get("position").is_none_or(Value::is_null) {
                    self.problem(path.clone(), format!("result {} has no position", i + 1));
                    ok = false;
                }
                if let Entry::Vacant(slot) = drivers.entry(driver) {
                    let id = slot.key().clone();
                    match self.entity("drivers", &id, &["firstName", "fullName"], &rel) {
                        Some(e) => {
                            slot.insert((e.value.clone(), e.bytes.clone()));
                        }
                        None => ok = false,
                    }
                }
                if let Entry::Vacant(slot) = constructors.entry(constructor) {
                    let id = slot.key().clone();
                    match self.entity("constructors", &id, &["name"], &rel) {
                        Some(e) => {
                            slot.insert((e.value.clone(), e.bytes.clone()));
                        }
                        None => ok = false,
                    }
                }
            }
            if !ok {
                continue;
            }
            let mut hasher = Sha256::new();
            let mut feed = |name: &str, bytes: &[u8]| {
                hasher.update((name.len() as u64).to_le_bytes());
                hasher.update(name.as_bytes());
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(bytes);
            };
            feed(&rel, &results_bytes);
            feed(&race_rel, &race_bytes);
            feed(&circuit_rel, &circuit_bytes);
            feed(&format!("countries/{country_id}.yml"), &country_bytes);
            for (id, (_, bytes)) in &drivers {
                feed(&format!("drivers/{id}.yml"), bytes);
            }
            for (id, (_, bytes)) in &constructors {
                feed(&format!("constructors/{id}.yml"), bytes);
            }
            let content_hash = format!("{:x}", hasher.finalize());
            let entities = |m: BTreeMap<String, (Value, Vec<u8>)>| -> Map<String, Value> {
                m.into_iter().map(|(k, (v, _))| (k, v)).collect()
            };
            let body = json!({
                "race": race,
                "circuit": circuit,
                "country": country,
                "drivers": entities(drivers),
                "constructors": entities(constructors),
                "results": results,
            });
            let body = serde_json::to_vec(&body).expect("a JSON value always serialises");
            out.push(SessionDocument {
                season,
                race_folder: folder.clone(),
                kind,
                source_path: rel,
                content_hash,
                body,
            });
        }
    }
}
