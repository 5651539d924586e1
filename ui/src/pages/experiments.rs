//! Experiments: the list, and an experiment's runs table (filter in the API's grammar, sort,
//! column picker over every key of its runs, pages of 100, CSV of the whole filter).

use super::{html, like_literal};
use crate::error::{PageError, PageResult};
use crate::fmt::{self, experiment_href, q, run_href};
use crate::layout::{Chrome, Section};
use crate::query::Params;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pitwall_openapi::{KeyValue, Run, SearchRuns, ViewType};
use pitwall_registry::AppState;
use pitwall_registry::search::page_token;
use pitwall_registry::service::experiments::SearchExperiments;
use pitwall_registry::store::RunKeys;

const PAGE_SIZE: usize = 100;

/// An option of a select.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn choices(options: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    options.iter().map(|&(value, label)| Choice { value, label, selected: value == current }).collect()
}

const VIEWS: [(&str, &str); 3] = [("", "active"), ("deleted", "deleted"), ("all", "all")];
const STATUSES: [(&str, &str); 6] = [
    ("", "any status"),
    ("RUNNING", "RUNNING"),
    ("FINISHED", "FINISHED"),
    ("FAILED", "FAILED"),
    ("KILLED", "KILLED"),
    ("SCHEDULED", "SCHEDULED"),
];
const SINCE: [(&str, &str); 5] =
    [("", "any time"), ("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days")];

/// `active`, `deleted` or `all`, as a page's `view` parameter says.
fn view_type(params: &Params) -> ViewType {
    match params.get("view") {
        Some("deleted") => ViewType::DeletedOnly,
        Some("all") => ViewType::All,
        _ => ViewType::ActiveOnly,
    }
}

fn page_index(params: &Params) -> usize {
    params.get("page").and_then(|p| p.parse().ok()).unwrap_or(0)
}

/// An offset as the services' page token.
fn token_at(page: usize) -> Option<String> {
    (page > 0).then(|| page_token::encode((page * PAGE_SIZE) as i64))
}

struct ExperimentRow {
    id: String,
    name: String,
    href: String,
    runs: i64,
    updated: String,
    tags: Vec<KeyValue>,
}

#[derive(Template)]
#[template(path = "experiments.html")]
struct ExperimentsPage {
    chrome: Chrome,
    filter: String,
    view_choices: Vec<Choice>,
    rows: Vec<ExperimentRow>,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /experiments?filter=&view=&page=`.
pub async fn list(State(s): State<AppState>, params: Params) -> PageResult {
    let services = s.services();
    let filter = params.get("filter").unwrap_or_default().to_owned();
    let page = page_index(&params);
    let search = SearchExperiments {
        filter: (!filter.is_empty()).then(|| format!("name ILIKE {}", like_literal(&format!("%{filter}%")))),
        view_type: view_type(&params),
        order_by: vec!["last_update_time DESC".into()],
        max_results: Some(PAGE_SIZE as i64),
        page_token: token_at(page),
    };
    let (experiments, next) = services.experiments().search(search).await?;
    let ids: Vec<String> = experiments.iter().map(|e| e.experiment_id.clone()).collect();
    let counts = services.overview().run_counts(&ids).await?;
    let rows = experiments
        .into_iter()
        .map(|e| ExperimentRow {
            href: experiment_href(&e.experiment_id),
            runs: counts.get(&e.experiment_id).copied().unwrap_or(0),
            updated: fmt::time(e.last_update_time),
            tags: e.tags.into_iter().filter(|t| !t.key.starts_with("mlflow.")).collect(),
            id: e.experiment_id,
            name: e.name,
        })
        .collect();
    let view = params.get("view").unwrap_or_default().to_owned();
    let link = |p: usize| format!("/experiments?filter={}&view={}&page={p}", q(&filter), q(&view));
    html(ExperimentsPage {
        chrome: Chrome::new(Section::Experiments, "Experiments").with_flash(&params),
        prev: (page > 0).then(|| link(page - 1)),
        next: next.map(|_| link(page + 1)),
        rows,
        filter,
        view_choices: choices(&VIEWS, &view),
    })
}

/// A key of the filter and order-by grammar for a column (`metrics.` + the key, quoted when it
/// is not a bare word).
fn grammar_key(col: &Column) -> String {
    let bare = col.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let key = if bare { col.key.clone() } else { format!("`{}`", col.key.replace('`', "")) };
    format!("{}.{key}", col.kind.prefix())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Metric,
    Param,
    Tag,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Metric => "metrics",
            Kind::Param => "params",
            Kind::Tag => "tags",
        }
    }
}

/// A column of the runs table besides the fixed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    kind: Kind,
    key: String,
}

impl Column {
    /// `metrics.auc`, as the `cols` parameter spells it.
    fn id(&self) -> String {
        format!("{}.{}", self.kind.prefix(), self.key)
    }

    fn parse(id: &str) -> Option<Column> {
        let (prefix, key) = id.split_once('.')?;
        let kind = match prefix {
            "metrics" => Kind::Metric,
            "params" => Kind::Param,
            "tags" => Kind::Tag,
            _ => return None,
        };
        Some(Column { kind, key: key.to_owned() })
    }

    fn value(&self, run: &Run) -> String {
        match self.kind {
            Kind::Metric => run.data.metrics.iter().find(|m| m.key == self.key).map(|m| fmt::num(m.value)),
            Kind::Param => run.data.params.iter().find(|p| p.key == self.key).map(|p| p.value.clone()),
            Kind::Tag => run.data.tags.iter().find(|t| t.key == self.key).map(|t| t.value.clone()),
        }
        .unwrap_or_default()
    }
}

/// The columns a table shows when none are chosen: the first metrics and params.
fn default_columns(keys: &RunKeys) -> Vec<Column> {
    let metrics = keys.metrics.iter().take(6).map(|k| Column { kind: Kind::Metric, key: k.clone() });
    let params = keys.params.iter().take(4).map(|k| Column { kind: Kind::Param, key: k.clone() });
    metrics.chain(params).collect()
}

/// What a runs view is asked for: the user's filter and the state and time filters, which
/// join it with `and` (the grammar has no `or`).
struct RunQuery {
    filter: String,
    status: String,
    since: String,
    view: String,
    order: String,
}

impl RunQuery {
    fn read(params: &Params) -> Self {
        let get = |k: &str| params.get(k).unwrap_or_default().trim().to_owned();
        RunQuery {
            filter: get("filter"),
            status: get("status"),
            since: get("since"),
            view: get("view"),
            order: get("order"),
        }
    }

    fn combined_filter(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.filter.is_empty() {
            parts.push(self.filter.clone());
        }
        if !self.status.is_empty() {
            parts.push(format!("attributes.status = {}", like_literal(&self.status)));
        }
        let hours = match self.since.as_str() {
            "1h" => Some(1),
            "24h" => Some(24),
            "7d" => Some(24 * 7),
            "30d" => Some(24 * 30),
            _ => None,
        };
        if let Some(h) = hours {
            let since = chrono::Utc::now().timestamp_millis() - h * 3_600_000;
            parts.push(format!("attributes.start_time >= {since}"));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    fn view_type(&self) -> ViewType {
        match self.view.as_str() {
            "deleted" => ViewType::DeletedOnly,
            "all" => ViewType::All,
            _ => ViewType::ActiveOnly,
        }
    }

    fn search(&self, experiment_id: &str, max_results: usize, page_token: Option<String>) -> SearchRuns {
        SearchRuns {
            experiment_ids: vec![experiment_id.to_owned()],
            filter: self.combined_filter(),
            run_view_type: Some(self.view_type()),
            max_results: Some(max_results as i64),
            order_by: if self.order.is_empty() { vec![] } else { vec![self.order.clone()] },
            page_token,
        }
    }

    /// The query string of this view with `cols`, and `extra` pairs replacing their keys.
    fn href(&self, base: &str, cols: &[Column], extra: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("filter", self.filter.clone()),
            ("status", self.status.clone()),
            ("since", self.since.clone()),
            ("view", self.view.clone()),
            ("order", self.order.clone()),
        ];
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        pairs.extend(cols.iter().map(|c| ("cols", c.id())));
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            out.append_pair(k, v);
        }
        format!("{base}?{}", out.finish())
    }
}

struct Header {
    label: String,
    kind: &'static str,
    sort_href: String,
    arrow: &'static str,
}

struct RunRow {
    id: String,
    name: String,
    href: String,
    created: String,
    duration: String,
    status: String,
    user: String,
    cells: Vec<String>,
}

struct Pick {
    id: String,
    key: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "experiment.html")]
struct RunsPage {
    chrome: Chrome,
    experiment_id: String,
    href: String,
    filter: String,
    status: String,
    since: String,
    view: String,
    order: String,
    status_choices: Vec<Choice>,
    since_choices: Vec<Choice>,
    view_choices: Vec<Choice>,
    error: Option<String>,
    examples: Vec<(String, String)>,
    fixed: Vec<Header>,
    headers: Vec<Header>,
    rows: Vec<RunRow>,
    picks: Vec<(&'static str, Vec<Pick>)>,
    total: i64,
    first: usize,
    prev: Option<String>,
    next: Option<String>,
    csv_href: String,
}

/// `GET /experiments/{id}`: the runs table.
pub async fn runs_table(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> PageResult {
    let services = s.services();
    let experiment = services.experiments().get(&id).await?;
    let keys = services.overview().run_keys(&id).await?;
    let total = services.overview().run_counts(std::slice::from_ref(&id)).await?.get(&id).copied().unwrap_or(0);
    let query = RunQuery::read(&params);
    let mut cols: Vec<Column> = params.all("cols").into_iter().filter_map(Column::parse).collect();
    if cols.is_empty() {
        cols = default_columns(&keys);
    }
    let page = page_index(&params);
    let (runs, next, error) = match services.runs().search(query.search(&id, PAGE_SIZE, token_at(page))).await {
        Ok((runs, next)) => (runs, next, None),
        Err(e) => match PageError::from(e) {
            PageError::BadRequest(m) => (vec![], None, Some(m)),
            e => return Err(e),
        },
    };
    let href = experiment_href(&id);
    let sort_header = |label: String, kind: &'static str, order_key: String| {
        let (next_order, arrow) = if query.order == format!("{order_key} DESC") {
            (format!("{order_key} ASC"), " ↓")
        } else if query.order == format!("{order_key} ASC") || query.order == order_key {
            (format!("{order_key} DESC"), " ↑")
        } else {
            (format!("{order_key} DESC"), "")
        };
        Header { label, kind, sort_href: query.href(&href, &cols, &[("order", &next_order), ("page", "")]), arrow }
    };
    let fixed = vec![
        sort_header("Run name".into(), "attr", "attributes.run_name".into()),
        sort_header("Created".into(), "attr", "attributes.start_time".into()),
        sort_header("Duration".into(), "attr", "attributes.end_time".into()),
        sort_header("Status".into(), "attr", "attributes.status".into()),
        sort_header("User".into(), "attr", "attributes.user_id".into()),
    ];
    let headers = cols.iter().map(|c| sort_header(c.key.clone(), c.kind.prefix(), grammar_key(c))).collect();
    let rows = runs
        .iter()
        .map(|r| RunRow {
            id: r.info.run_id.clone(),
            name: if r.info.run_name.is_empty() { r.info.run_id.clone() } else { r.info.run_name.clone() },
            href: run_href(&id, &r.info.run_id),
            created: fmt::time(r.info.start_time),
            duration: fmt::duration(r.info.start_time, r.info.end_time),
            status: r.info.status.as_str().to_owned(),
            user: r.info.user_id.clone(),
            cells: cols.iter().map(|c| c.value(r)).collect(),
        })
        .collect();
    let pick = |kind: Kind, list: &[String]| -> Vec<Pick> {
        list.iter()
            .map(|k| {
                let c = Column { kind, key: k.clone() };
                Pick { checked: cols.contains(&c), id: c.id(), key: k.clone() }
            })
            .collect()
    };
    let picks = vec![
        ("Metrics", pick(Kind::Metric, &keys.metrics)),
        ("Parameters", pick(Kind::Param, &keys.params)),
        ("Tags", pick(Kind::Tag, &keys.tags)),
    ];
    let mut examples = Vec::new();
    if let Some(m) = keys.metrics.first() {
        examples.push(format!("{} > 0.7", grammar_key(&Column { kind: Kind::Metric, key: m.clone() })));
    }
    if let Some(p) = keys.params.first() {
        examples.push(format!("{} = 'value'", grammar_key(&Column { kind: Kind::Param, key: p.clone() })));
    }
    examples.push("attributes.status = 'FINISHED'".into());
    examples.push("tags.`mlflow.runName` LIKE 'churn%'".into());
    let examples = examples
        .into_iter()
        .map(|e| {
            let link = query.href(&href, &cols, &[("filter", &e), ("page", "")]);
            (e, link)
        })
        .collect();
    html(RunsPage {
        chrome: Chrome::new(Section::Experiments, experiment.name.clone())
            .crumb("Experiments", "/experiments")
            .with_flash(&params),
        prev: (page > 0).then(|| query.href(&href, &cols, &[("page", &(page - 1).to_string())])),
        next: next.map(|_| query.href(&href, &cols, &[("page", &(page + 1).to_string())])),
        csv_href: query.href(&format!("{href}/runs.csv"), &[], &[]),
        first: page * PAGE_SIZE,
        experiment_id: id,
        href,
        status_choices: choices(&STATUSES, &query.status),
        since_choices: choices(&SINCE, &query.since),
        view_choices: choices(&VIEWS, &query.view),
        filter: query.filter.clone(),
        status: query.status.clone(),
        since: query.since.clone(),
        view: query.view.clone(),
        order: query.order.clone(),
        error,
        examples,
        fixed,
        headers,
        rows,
        picks,
        total,
    })
}

/// `GET /experiments/{id}/runs.csv`: every run the view's filter matches, with every metric,
/// param and tag key as a column.
pub async fn runs_csv(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> PageResult {
    const CHUNK: usize = 1000;
    let services = s.services();
    services.experiments().get(&id).await?;
    let keys = services.overview().run_keys(&id).await?;
    let query = RunQuery::read(&params);
    let cols: Vec<Column> = keys
        .metrics
        .iter()
        .map(|k| Column { kind: Kind::Metric, key: k.clone() })
        .chain(keys.params.iter().map(|k| Column { kind: Kind::Param, key: k.clone() }))
        .chain(keys.tags.iter().map(|k| Column { kind: Kind::Tag, key: k.clone() }))
        .collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| PageError::Internal(format!("csv: {e}"));
    let mut head = vec![
        "run_id".to_owned(),
        "run_name".into(),
        "status".into(),
        "start_time".into(),
        "end_time".into(),
        "user_id".into(),
    ];
    head.extend(cols.iter().map(Column::id));
    out.write_record(&head).map_err(csv_err)?;
    let mut token = None;
    loop {
        let (runs, next) = services.runs().search(query.search(&id, CHUNK, token)).await?;
        for r in &runs {
            let mut rec = vec![
                r.info.run_id.clone(),
                r.info.run_name.clone(),
                r.info.status.as_str().to_owned(),
                fmt::time(r.info.start_time),
                fmt::time(r.info.end_time),
                r.info.user_id.clone(),
            ];
            rec.extend(cols.iter().map(|c| match c.kind {
                // Full precision in a file meant for other tools.
                Kind::Metric => {
                    r.data.metrics.iter().find(|m| m.key == c.key).map(|m| m.value.to_string()).unwrap_or_default()
                }
                _ => c.value(r),
            }));
            out.write_record(&rec).map_err(csv_err)?;
        }
        match next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let body = out.into_inner().map_err(|e| PageError::Internal(format!("csv: {e}")))?;
    let response: Response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"runs-{}.csv\"", id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")),
            ),
        ],
        body,
    )
        .into_response();
    Ok(response)
}
