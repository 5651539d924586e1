//! The registered models: the list, and a model's page with its versions and a metric of
//! their source runs across versions.

use super::{html, like_literal, outcome, redirect_with};
use crate::chart;
use crate::error::PageResult;
use crate::fmt::{self, model_href, q, run_href, version_href};
use crate::layout::{Chrome, Section};
use crate::origin::SameOrigin;
use crate::query::Params;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use pitwall_openapi::{KeyValue, ModelVersion, Run};
use pitwall_registry::AppState;
use pitwall_registry::search::page_token;
use pitwall_registry::service::model_registry::SearchRegistry;
use pitwall_registry::service::{ServiceError, Services};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

const PAGE_SIZE: usize = 100;
/// The alias the seed's champion/challenger promotion gives the model in use.
const CHAMPION: &str = "champion";

struct ModelRow {
    name: String,
    href: String,
    latest: Option<(String, String)>,
    aliases: Vec<(String, String)>,
    updated: String,
    description: String,
}

#[derive(Template)]
#[template(path = "models.html")]
struct ModelsPage {
    chrome: Chrome,
    filter: String,
    rows: Vec<ModelRow>,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /models?filter=&page=`.
pub async fn list(State(s): State<AppState>, params: Params) -> PageResult {
    let filter = params.get("filter").unwrap_or_default().to_owned();
    let page: usize = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let search = SearchRegistry {
        filter: (!filter.is_empty()).then(|| format!("name ILIKE {}", like_literal(&format!("%{filter}%")))),
        order_by: vec!["name ASC".into()],
        max_results: Some(PAGE_SIZE as i64),
        page_token: (page > 0).then(|| page_token::encode((page * PAGE_SIZE) as i64)),
    };
    let (models, next) = s.services().model_registry().search_models(search).await?;
    let rows = models
        .into_iter()
        .map(|m| {
            let latest = m
                .latest_versions
                .iter()
                .max_by_key(|v| v.version.parse::<i64>().unwrap_or(0))
                .map(|v| (format!("Version {}", v.version), version_href(&m.name, &v.version)));
            ModelRow {
                href: model_href(&m.name),
                latest,
                aliases: m
                    .aliases
                    .iter()
                    .map(|a| (format!("@{} → v{}", a.alias, a.version), version_href(&m.name, &a.version)))
                    .collect(),
                updated: fmt::time(m.last_updated_timestamp),
                description: m.description.clone().unwrap_or_default(),
                name: m.name,
            }
        })
        .collect();
    let link = |p: usize| format!("/models?filter={}&page={p}", q(&filter));
    html(ModelsPage {
        chrome: Chrome::new(Section::Models, "Registered models").with_flash(&params),
        rows,
        prev: (page > 0).then(|| link(page - 1)),
        next: next.map(|_| link(page + 1)),
        filter,
    })
}

/// Every version of the model `name`, newest first.
pub async fn versions_of(services: Services<'_>, name: &str) -> Result<Vec<ModelVersion>, ServiceError> {
    let filter = if name.contains(['\'', '\\']) {
        format!("name LIKE {}", like_literal(name))
    } else {
        format!("name = '{name}'")
    };
    let search = SearchRegistry { filter: Some(filter), ..Default::default() };
    let (mut versions, _) = services.model_registry().search_versions(search).await?;
    versions.retain(|v| v.name == name);
    versions.sort_by_key(|v| std::cmp::Reverse(v.version.parse::<i64>().unwrap_or(0)));
    Ok(versions)
}

/// The source runs of `versions`, by run id; a run that is gone is absent.
pub async fn source_runs(services: Services<'_>, versions: &[ModelVersion]) -> PageResult<HashMap<String, Run>> {
    let ids: BTreeSet<&str> = versions.iter().filter_map(|v| v.run_id.as_deref()).filter(|r| !r.is_empty()).collect();
    let run_service = services.runs();
    let runs = futures::future::join_all(ids.iter().map(|id| run_service.get(id))).await;
    let mut out = HashMap::new();
    for r in runs {
        match r {
            Ok(run) => {
                out.insert(run.info.run_id.clone(), run);
            }
            Err(e) => match crate::error::PageError::from(e) {
                crate::error::PageError::Internal(m) => return Err(crate::error::PageError::Internal(m)),
                _ => continue,
            },
        }
    }
    Ok(out)
}

struct VersionRow {
    version: String,
    href: String,
    registered: String,
    creator: String,
    aliases: Vec<String>,
    stage: String,
    tags: Vec<KeyValue>,
    run: Option<(String, String)>,
    metric: String,
    champion: bool,
}

#[derive(Template)]
#[template(path = "model.html")]
struct ModelPage {
    chrome: Chrome,
    name: String,
    href: String,
    description: String,
    tags: Vec<KeyValue>,
    aliases: Vec<(String, String, String)>,
    versions: Vec<VersionRow>,
    metric_keys: Vec<String>,
    metric: String,
    chart: Option<String>,
}

/// The metric the versions table and chart show when none is chosen: an AUC when the runs
/// logged one, else the first key.
fn default_metric(keys: &[String]) -> Option<String> {
    keys.iter()
        .find(|k| k.contains("auc") && k.contains("test"))
        .or_else(|| keys.iter().find(|k| k.contains("auc")))
        .or(keys.first())
        .cloned()
}

/// `GET /models/{name}?metric=`.
pub async fn page(State(s): State<AppState>, Path(name): Path<String>, params: Params) -> PageResult {
    let services = s.services();
    let model = services.model_registry().get_model(&name).await?;
    let versions = versions_of(services, &name).await?;
    let runs = source_runs(services, &versions).await?;
    let metric_keys: Vec<String> = runs
        .values()
        .flat_map(|r| r.data.metrics.iter().map(|m| m.key.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let metric = params.get("metric").map(str::to_owned).or_else(|| default_metric(&metric_keys)).unwrap_or_default();
    let champion: Option<&str> = model
        .aliases
        .iter()
        .find(|a| a.alias == CHAMPION)
        .map(|a| a.version.as_str())
        .or_else(|| versions.iter().find(|v| v.current_stage == "Production").map(|v| v.version.as_str()));
    let value_of = |v: &ModelVersion| -> Option<f64> {
        let run = runs.get(v.run_id.as_deref()?)?;
        run.data.metrics.iter().find(|m| m.key == metric).map(|m| m.value)
    };
    let mut points = Vec::new();
    let mut marks = Vec::new();
    let rows = versions
        .iter()
        .map(|v| {
            let value = value_of(v);
            let n = v.version.parse::<f64>().unwrap_or(0.0);
            if let Some(y) = value {
                points.push((n, y));
                if champion == Some(v.version.as_str()) {
                    marks.push((n, y));
                }
            }
            let run = v.run_id.as_deref().and_then(|id| runs.get(id)).map(|r| {
                (
                    if r.info.run_name.is_empty() { r.info.run_id.clone() } else { r.info.run_name.clone() },
                    run_href(&r.info.experiment_id, &r.info.run_id),
                )
            });
            VersionRow {
                href: version_href(&name, &v.version),
                registered: fmt::time(Some(v.creation_timestamp)),
                creator: v.user_id.clone().unwrap_or_default(),
                aliases: model.aliases.iter().filter(|a| a.version == v.version).map(|a| a.alias.clone()).collect(),
                stage: v.current_stage.clone(),
                tags: v.tags.clone(),
                run,
                metric: value.map(fmt::num).unwrap_or_default(),
                champion: champion == Some(v.version.as_str()),
                version: v.version.clone(),
            }
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let chart = (!points.is_empty()).then(|| chart::line_svg(&[points], &marks, false));
    html(ModelPage {
        chrome: Chrome::new(Section::Models, name.clone()).crumb("Models", "/models").with_flash(&params),
        href: model_href(&name),
        description: model.description.unwrap_or_default(),
        tags: model.tags,
        aliases: model
            .aliases
            .iter()
            .map(|a| (a.alias.clone(), a.version.clone(), version_href(&name, &a.version)))
            .collect(),
        versions: rows,
        metric_keys,
        metric,
        chart,
        name,
    })
}

#[derive(Deserialize)]
pub struct DescriptionForm {
    #[serde(default)]
    pub(crate) description: String,
}

#[derive(Deserialize)]
pub struct TagForm {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) value: String,
}

#[derive(Deserialize)]
pub struct KeyForm {
    pub(crate) key: String,
}

/// `POST /models/{name}/description`.
pub async fn set_description(
    _: SameOrigin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Form(f): Form<DescriptionForm>,
) -> PageResult {
    let r = s.services().model_registry().update_model(&name, Some(&f.description)).await;
    Ok(redirect_with(&model_href(&name), outcome(r, "Description saved.")?))
}

/// `POST /models/{name}/tags`: sets a tag.
pub async fn set_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Form(f): Form<TagForm>,
) -> PageResult {
    let r = s.services().model_registry().set_model_tag(&name, &KeyValue::new(f.key.trim(), f.value)).await;
    Ok(redirect_with(&model_href(&name), outcome(r, "Tag saved.")?))
}

/// `POST /models/{name}/tags/delete`.
pub async fn delete_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path(name): Path<String>,
    Form(f): Form<KeyForm>,
) -> PageResult {
    let r = s.services().model_registry().delete_model_tag(&name, &f.key).await;
    Ok(redirect_with(&model_href(&name), outcome(r, "Tag removed.")?))
}
