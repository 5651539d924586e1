//! A run's page: overview, description and tags (editable), params, latest metrics, a chart
//! per metric (drawn by the script from the bulk-interval endpoint, zoomable, live while the
//! run is RUNNING; server-drawn SVG without JavaScript), and its artifacts with previews.

use super::{html, outcome, read_prefix, redirect_with};
use crate::chart;
use crate::error::{PageError, PageResult};
use crate::fmt::{self, experiment_href, q, run_href, version_href};
use crate::layout::{Chrome, Section};
use crate::origin::SameOrigin;
use crate::pages::models::{DescriptionForm, KeyForm, TagForm};
use crate::query::Params;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use pitwall_openapi::{KeyValue, Run};
use pitwall_registry::AppState;
use pitwall_registry::service::Services;
use pitwall_registry::service::metrics::BulkInterval;
use pitwall_registry::service::model_registry::SearchRegistry;

/// The tag MLflow keeps a run's description in.
pub const NOTE_TAG: &str = "mlflow.note.content";
/// Metrics drawn on the server too (for pages read without JavaScript); the script draws all.
const SVG_CHARTS: usize = 12;
/// Histories up to this many steps are drawn on the server with every page.
const LONG_HISTORY_STEPS: i64 = 100_000;
/// Points per server-drawn chart, sampled by the store.
const SVG_POINTS: i64 = 1000;
/// The most of a text artifact a preview shows.
const TEXT_PREVIEW: usize = 64 * 1024;
/// The most of a CSV file read for its first rows.
const CSV_PREVIEW: usize = 1024 * 1024;
const CSV_ROWS: usize = 100;

struct MetricRow {
    key: String,
    value: String,
    step: i64,
    time: String,
    svg: Option<String>,
}

struct Entry {
    name: String,
    href: String,
    is_dir: bool,
    size: String,
    download: String,
}

/// The first rows of a CSV file.
struct TablePreview {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Whether the file has more rows.
    more: bool,
}

/// What an artifact preview shows.
enum Preview {
    Text(String),
    Image(String),
    Table(TablePreview),
    Unavailable(String),
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    chrome: Chrome,
    run_id: String,
    experiment_id: String,
    href: String,
    status: String,
    running: bool,
    start: String,
    duration: String,
    user: String,
    source: String,
    commit: String,
    parent: Option<(String, String)>,
    datasets: Vec<(String, String, String)>,
    versions: Vec<(String, String)>,
    description: String,
    tags: Vec<KeyValue>,
    system_tags: Vec<KeyValue>,
    params: Vec<KeyValue>,
    metrics: Vec<MetricRow>,
    /// The page with every chart drawn on the server.
    svg_href: String,
    artifacts_error: Option<String>,
    artifact_dir: String,
    artifact_crumbs: Vec<(String, String)>,
    entries: Vec<Entry>,
    preview_path: String,
    preview_download: String,
    preview: Option<Preview>,
}

fn tag<'a>(run: &'a Run, key: &str) -> Option<&'a str> {
    run.data.tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

fn download_href(run_id: &str, path: &str) -> String {
    format!("/get-artifact?path={}&run_uuid={}", q(path), q(run_id))
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        Some(b) => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A server-drawn chart of a metric, from a sample of its history.
async fn svg_of(services: Services<'_>, run_id: &str, key: &str) -> PageResult<String> {
    let history = services
        .metrics()
        .history_bulk_interval(BulkInterval {
            run_ids: vec![run_id.to_owned()],
            metric_key: key.to_owned(),
            start_step: Ok(None),
            end_step: Ok(None),
            max_results: Ok(Some(SVG_POINTS)),
        })
        .await?;
    let mut points: Vec<(f64, f64)> = history.iter().map(|m| (m.step as f64, m.value)).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(chart::line_svg(&[points], &[], false))
}

/// The preview of the file `path`, chosen by its extension.
async fn preview(services: Services<'_>, run_id: &str, path: &str) -> PageResult<Preview> {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or_default();
    if matches!(ext, "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp") {
        // An <img> never runs an SVG's scripts.
        return Ok(Preview::Image(download_href(run_id, path)));
    }
    if ext == "parquet" {
        return Ok(Preview::Unavailable("Parquet previews come later; download the file to read it.".into()));
    }
    let file = match services.artifacts().run_file(run_id, path).await.map_err(PageError::from) {
        Ok(f) => f,
        Err(PageError::Internal(m)) => return Err(PageError::Internal(m)),
        Err(e) => return Ok(Preview::Unavailable(e.to_string())),
    };
    if matches!(ext, "csv" | "tsv") {
        let (bytes, _) = read_prefix(file.download, CSV_PREVIEW).await?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if ext == "tsv" { b'\t' } else { b',' })
            .flexible(true)
            .from_reader(bytes.as_slice());
        let header = reader.headers().map(|h| h.iter().map(str::to_owned).collect()).unwrap_or_default();
        let mut rows = Vec::new();
        let mut more = false;
        for rec in reader.records() {
            let Ok(rec) = rec else { break };
            if rows.len() == CSV_ROWS {
                more = true;
                break;
            }
            rows.push(rec.iter().map(str::to_owned).collect());
        }
        return Ok(Preview::Table(TablePreview { header, rows, more }));
    }
    let texty = matches!(
        ext,
        "txt" | "json" | "yaml" | "yml" | "md" | "log" | "py" | "toml" | "ini" | "cfg" | "sql" | "html" | "xml" | "sh"
    ) || lower.ends_with("mlmodel")
        || !lower.rsplit('/').next().unwrap_or_default().contains('.');
    if !texty {
        return Ok(Preview::Unavailable("No preview for this kind of file; download it.".into()));
    }
    let (bytes, cut) = read_prefix(file.download, TEXT_PREVIEW).await?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if ext == "json"
        && !cut
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
    {
        text = serde_json::to_string_pretty(&v).unwrap_or(text);
    }
    if cut {
        text.push_str("\n… (the first 64 KB; download the file for the rest)");
    }
    Ok(Preview::Text(text))
}

/// `GET /experiments/{id}/runs/{run}?path=&preview=`.
pub async fn page(State(s): State<AppState>, Path((id, run_id)): Path<(String, String)>, params: Params) -> PageResult {
    let services = s.services();
    let run = services.runs().get(&run_id).await?;
    if run.info.experiment_id != id {
        return Err(PageError::NotFound(format!("Run {run_id} is not in experiment {id}.")));
    }
    let experiment = services.experiments().get(&id).await?;
    let href = run_href(&id, &run_id);

    let mut metrics = Vec::new();
    let mut sorted = run.data.metrics.clone();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for (i, m) in sorted.iter().enumerate() {
        // A long history costs the store a sampling pass over all of it; the script draws it
        // anyway, so the server draws it only when asked (`?svg=all`, linked for readers
        // without JavaScript).
        let cheap = m.step < LONG_HISTORY_STEPS || params.get("svg") == Some("all");
        let svg = if i < SVG_CHARTS && cheap { Some(svg_of(services, &run_id, &m.key).await?) } else { None };
        metrics.push(MetricRow {
            key: m.key.clone(),
            value: fmt::num(m.value),
            step: m.step,
            time: fmt::time(Some(m.timestamp)),
            svg,
        });
    }
    let mut params_list = run.data.params.clone();
    params_list.sort_by(|a, b| a.key.cmp(&b.key));
    let (system_tags, tags): (Vec<KeyValue>, Vec<KeyValue>) =
        run.data.tags.iter().filter(|t| t.key != NOTE_TAG).cloned().partition(|t| t.key.starts_with("mlflow."));

    let versions = {
        let search =
            SearchRegistry { filter: Some(format!("run_id = {}", super::like_literal(&run_id))), ..Default::default() };
        match services.model_registry().search_versions(search).await {
            Ok((vs, _)) => vs
                .into_iter()
                .map(|v| (format!("{} v{}", v.name, v.version), version_href(&v.name, &v.version)))
                .collect(),
            Err(e) => match PageError::from(e) {
                PageError::Internal(m) => return Err(PageError::Internal(m)),
                _ => vec![],
            },
        }
    };

    // Artifacts: one directory at a time, and the preview of one file.
    let dir = params.get("path").unwrap_or_default().trim_matches('/').to_owned();
    let (entries, artifacts_error) =
        match services.artifacts().list_run(&run_id, Some(&dir)).await.map_err(PageError::from) {
            Ok(listing) => {
                let mut files = listing.files;
                files.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then(a.path.cmp(&b.path)));
                let entries = files
                    .into_iter()
                    .map(|f| {
                        let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_owned();
                        let href = if f.is_dir {
                            format!("{href}?path={}#artifacts", q(&f.path))
                        } else {
                            format!("{href}?path={}&preview={}#artifacts", q(&dir), q(&f.path))
                        };
                        Entry {
                            download: download_href(&run_id, &f.path),
                            name,
                            href,
                            is_dir: f.is_dir,
                            size: size(f.file_size),
                        }
                    })
                    .collect();
                (entries, None)
            }
            Err(PageError::Internal(m)) => return Err(PageError::Internal(m)),
            Err(e) => (vec![], Some(e.to_string())),
        };
    let mut artifact_crumbs = vec![("artifacts".to_owned(), format!("{href}#artifacts"))];
    let mut acc = String::new();
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(part);
        artifact_crumbs.push((part.to_owned(), format!("{href}?path={}#artifacts", q(&acc))));
    }
    let preview_path = params.get("preview").unwrap_or_default().to_owned();
    let preview = if preview_path.is_empty() { None } else { Some(preview(services, &run_id, &preview_path).await?) };

    let name = if run.info.run_name.is_empty() { run_id.clone() } else { run.info.run_name.clone() };
    html(RunPage {
        chrome: Chrome::new(Section::Experiments, name)
            .crumb("Experiments", "/experiments")
            .crumb(experiment.name, experiment_href(&id))
            .with_charts()
            .with_flash(&params),
        status: run.info.status.as_str().to_owned(),
        running: run.info.status == pitwall_openapi::RunStatus::Running,
        start: fmt::time(run.info.start_time),
        duration: fmt::duration(run.info.start_time, run.info.end_time),
        user: run.info.user_id.clone(),
        source: tag(&run, "mlflow.source.name").unwrap_or_default().to_owned(),
        commit: tag(&run, "mlflow.source.git.commit").unwrap_or_default().to_owned(),
        parent: tag(&run, "mlflow.parentRunId").map(|p| (p.to_owned(), run_href(&id, p))),
        datasets: run
            .inputs
            .dataset_inputs
            .iter()
            .map(|d| (d.dataset.name.clone(), d.dataset.digest.clone(), d.dataset.source_type.clone()))
            .collect(),
        versions,
        description: tag(&run, NOTE_TAG).unwrap_or_default().to_owned(),
        tags,
        system_tags,
        params: params_list,
        metrics,
        svg_href: format!("{href}?svg=all#charts"),
        artifacts_error,
        artifact_dir: dir,
        artifact_crumbs,
        entries,
        preview_download: download_href(&run_id, &preview_path),
        preview_path,
        preview,
        experiment_id: id,
        run_id,
        href,
    })
}

type RunPath = Path<(String, String)>;

/// `POST …/description`: the description is MLflow's note tag.
pub async fn set_description(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((id, run_id)): RunPath,
    Form(f): Form<DescriptionForm>,
) -> PageResult {
    let r = s.services().runs().set_tag(&run_id, &KeyValue::new(NOTE_TAG, f.description)).await;
    Ok(redirect_with(&run_href(&id, &run_id), outcome(r, "Description saved.")?))
}

/// `POST …/tags`.
pub async fn set_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((id, run_id)): RunPath,
    Form(f): Form<TagForm>,
) -> PageResult {
    let r = s.services().runs().set_tag(&run_id, &KeyValue::new(f.key.trim(), f.value)).await;
    Ok(redirect_with(&run_href(&id, &run_id), outcome(r, "Tag saved.")?))
}

/// `POST …/tags/delete`.
pub async fn delete_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((id, run_id)): RunPath,
    Form(f): Form<KeyForm>,
) -> PageResult {
    let r = s.services().runs().delete_tag(&run_id, &f.key).await;
    Ok(redirect_with(&run_href(&id, &run_id), outcome(r, "Tag removed.")?))
}
