//! Side-by-side views: runs (params, metrics and tags, "differences only", overlaid charts),
//! MLflow's metric view, and model versions (params, metrics, signature, tags).

use super::{html, read_prefix};
use crate::chart;
use crate::error::{PageError, PageResult};
use crate::fmt::{self, model_href, run_href, version_href};
use crate::layout::{Chrome, Section};
use crate::mlmodel;
use crate::query::Params;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use pitwall_openapi::{KeyValue, Run};
use pitwall_registry::AppState;
use pitwall_registry::service::Services;
use pitwall_registry::service::metrics::BulkInterval;
use std::collections::{BTreeMap, BTreeSet};

/// Runs compared at once (the bulk-interval endpoint's cap).
const MAX_RUNS: usize = 100;
/// Overlaid charts drawn on the server too.
const SVG_CHARTS: usize = 6;

/// A key's values across the compared items, and whether they differ.
struct Line {
    key: String,
    values: Vec<String>,
    differs: bool,
}

fn lines(keys: &BTreeSet<String>, columns: &[BTreeMap<String, String>], diff_only: bool) -> Vec<Line> {
    keys.iter()
        .map(|k| {
            let values: Vec<String> = columns.iter().map(|c| c.get(k).cloned().unwrap_or_default()).collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            Line { key: k.clone(), values, differs }
        })
        .filter(|l| !diff_only || l.differs)
        .collect()
}

fn by_key(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter().map(|kv| (kv.key.clone(), kv.value.clone())).collect()
}

struct RunHead {
    name: String,
    href: String,
    colour: &'static str,
}

struct ChartBox {
    key: String,
    svg: Option<String>,
}

#[derive(Template)]
#[template(path = "compare_runs.html")]
struct CompareRuns {
    chrome: Chrome,
    runs: Vec<RunHead>,
    run_ids: String,
    diff_only: bool,
    toggle_href: String,
    params: Vec<Line>,
    metrics: Vec<Line>,
    tags: Vec<Line>,
    charts: Vec<ChartBox>,
}

/// The runs named by the query (`runs`, as MLflow's links or our forms write it).
async fn runs_of(services: Services<'_>, params: &Params) -> PageResult<Vec<Run>> {
    let ids = params.list("runs");
    if ids.is_empty() {
        return Err(PageError::BadRequest("Choose runs to compare: check them in an experiment's runs table.".into()));
    }
    if ids.len() > MAX_RUNS {
        return Err(PageError::BadRequest(format!("At most {MAX_RUNS} runs can be compared at once.")));
    }
    let run_service = services.runs();
    let got = futures::future::join_all(ids.iter().map(|id| run_service.get(id))).await;
    got.into_iter().map(|r| r.map_err(PageError::from)).collect()
}

/// An overlaid chart of `key` over `runs`, from a sample of each history.
async fn overlaid_svg(services: Services<'_>, runs: &[Run], key: &str) -> PageResult<String> {
    let ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
    let history = services
        .metrics()
        .history_bulk_interval(BulkInterval {
            run_ids: ids.clone(),
            metric_key: key.to_owned(),
            start_step: Ok(None),
            end_step: Ok(None),
            max_results: Ok(Some(500)),
        })
        .await?;
    let series: Vec<Vec<(f64, f64)>> = ids
        .iter()
        .map(|id| {
            let mut s: Vec<(f64, f64)> =
                history.iter().filter(|m| &m.run_id == id).map(|m| (m.step as f64, m.value)).collect();
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            s
        })
        .collect();
    Ok(chart::line_svg(&series, &[], false))
}

/// `GET /compare-runs?runs=…&diff=1&metrics=…`.
pub async fn runs(State(s): State<AppState>, params: Params) -> PageResult {
    let services = s.services();
    let runs = runs_of(services, &params).await?;
    let diff_only = params.get("diff") == Some("1");
    let param_cols: Vec<_> = runs.iter().map(|r| by_key(&r.data.params)).collect();
    let tag_cols: Vec<_> = runs
        .iter()
        .map(|r| by_key(&r.data.tags.iter().filter(|t| !t.key.starts_with("mlflow.")).cloned().collect::<Vec<_>>()))
        .collect();
    let metric_cols: Vec<BTreeMap<String, String>> =
        runs.iter().map(|r| r.data.metrics.iter().map(|m| (m.key.clone(), fmt::num(m.value))).collect()).collect();
    let keys = |cols: &[BTreeMap<String, String>]| cols.iter().flat_map(|c| c.keys().cloned()).collect::<BTreeSet<_>>();
    let metric_keys = keys(&metric_cols);
    let chosen = params.list("metrics");
    let chart_keys: Vec<String> = if chosen.is_empty() {
        metric_keys.iter().cloned().collect()
    } else {
        chosen.into_iter().filter(|k| metric_keys.contains(k)).collect()
    };
    let mut charts = Vec::new();
    for (i, key) in chart_keys.iter().enumerate() {
        let svg = if i < SVG_CHARTS { Some(overlaid_svg(services, &runs, key).await?) } else { None };
        charts.push(ChartBox { key: key.clone(), svg });
    }
    let run_ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
    let mut toggle = url::form_urlencoded::Serializer::new(String::new());
    for id in &run_ids {
        toggle.append_pair("runs", id);
    }
    if !diff_only {
        toggle.append_pair("diff", "1");
    }
    html(CompareRuns {
        chrome: Chrome::new(Section::Experiments, format!("Comparing {} runs", runs.len()))
            .crumb("Experiments", "/experiments")
            .with_charts(),
        runs: runs
            .iter()
            .enumerate()
            .map(|(i, r)| RunHead {
                name: if r.info.run_name.is_empty() { r.info.run_id.clone() } else { r.info.run_name.clone() },
                href: run_href(&r.info.experiment_id, &r.info.run_id),
                colour: chart::PALETTE[i % chart::PALETTE.len()],
            })
            .collect(),
        run_ids: run_ids.join(","),
        diff_only,
        toggle_href: format!("/compare-runs?{}", toggle.finish()),
        params: lines(&keys(&param_cols), &param_cols, diff_only),
        metrics: lines(&metric_keys, &metric_cols, diff_only),
        tags: lines(&keys(&tag_cols), &tag_cols, diff_only),
        charts,
    })
}

/// `GET /metric/{key}?runs=…`: MLflow's metric view is our comparison's chart of that metric.
pub async fn metric(Path(key): Path<String>, params: Params) -> PageResult {
    let mut to = url::form_urlencoded::Serializer::new(String::new());
    for id in params.list("runs") {
        to.append_pair("runs", &id);
    }
    to.append_pair("metrics", &key);
    Ok(Redirect::to(&format!("/compare-runs?{}#charts", to.finish())).into_response())
}

struct VersionHead {
    label: String,
    href: String,
    stage: String,
    run: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "compare_versions.html")]
struct CompareVersions {
    chrome: Chrome,
    versions: Vec<VersionHead>,
    params: Vec<Line>,
    metrics: Vec<Line>,
    signature: Vec<Line>,
    tags: Vec<Line>,
}

/// A JSON-quoted value as MLflow's links write it (`name="m"`), or the value itself.
fn unquote(v: &str) -> String {
    serde_json::from_str::<String>(v).unwrap_or_else(|_| v.to_owned())
}

/// `GET /compare-model-versions?name=…&versions=1&versions=2` (also MLflow's
/// `runs={"1":"<run id>",…}`).
pub async fn model_versions(State(s): State<AppState>, params: Params) -> PageResult {
    let services = s.services();
    let name = params
        .get("name")
        .map(unquote)
        .ok_or_else(|| PageError::BadRequest("Name a model to compare its versions.".into()))?;
    let mut wanted = params.list("versions");
    if wanted.is_empty()
        && let Some(runs) = params.get("runs")
        && let Ok(map) = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(runs)
    {
        wanted = map.into_keys().collect();
    }
    if wanted.is_empty() {
        return Err(PageError::BadRequest("Check the versions to compare on the model's page.".into()));
    }
    let mut heads = Vec::new();
    let (mut param_cols, mut metric_cols, mut sig_cols, mut tag_cols) = (vec![], vec![], vec![], vec![]);
    for v in &wanted {
        let mv = services.model_registry().get_version(&name, v).await?;
        let run = match mv.run_id.as_deref().filter(|r| !r.is_empty()) {
            Some(id) => services.runs().get(id).await.ok(),
            None => None,
        };
        param_cols.push(run.as_ref().map(|r| by_key(&r.data.params)).unwrap_or_default());
        metric_cols.push(
            run.as_ref()
                .map(|r| r.data.metrics.iter().map(|m| (m.key.clone(), fmt::num(m.value))).collect::<BTreeMap<_, _>>())
                .unwrap_or_default(),
        );
        tag_cols.push(by_key(&mv.tags));
        let mut sig = BTreeMap::new();
        if let Ok(file) = services.artifacts().model_version_file(&name, &mv.version, "MLmodel").await {
            let (bytes, _) = read_prefix(file.download, 64 * 1024).await?;
            if let Ok(m) = mlmodel::parse(&String::from_utf8_lossy(&bytes)) {
                for c in m.inputs.unwrap_or_default() {
                    sig.insert(
                        format!("input {}", c.name),
                        format!("{}{}", c.kind, if c.required { "" } else { " (optional)" }),
                    );
                }
                for c in m.outputs.unwrap_or_default() {
                    sig.insert(format!("output {}", c.name), c.kind);
                }
            }
        }
        sig_cols.push(sig);
        heads.push(VersionHead {
            label: format!("Version {}", mv.version),
            href: version_href(&name, &mv.version),
            stage: mv.current_stage.clone(),
            run: run.map(|r| {
                (
                    if r.info.run_name.is_empty() { r.info.run_id.clone() } else { r.info.run_name.clone() },
                    run_href(&r.info.experiment_id, &r.info.run_id),
                )
            }),
        });
    }
    let keys = |cols: &[BTreeMap<String, String>]| cols.iter().flat_map(|c| c.keys().cloned()).collect::<BTreeSet<_>>();
    html(CompareVersions {
        chrome: Chrome::new(Section::Models, format!("Comparing {} versions of {name}", heads.len()))
            .crumb("Models", "/models")
            .crumb(name.clone(), model_href(&name)),
        versions: heads,
        params: lines(&keys(&param_cols), &param_cols, false),
        metrics: lines(&keys(&metric_cols), &metric_cols, false),
        signature: lines(&keys(&sig_cols), &sig_cols, false),
        tags: lines(&keys(&tag_cols), &tag_cols, false),
    })
}
