//! The model version details page: everything about one registered version, its model's
//! signature and input example, and its source run's params and metrics inline; and the
//! changes made from it.

use super::{html, outcome, read_prefix, redirect_with};
use crate::error::PageResult;
use crate::fmt::{self, model_href, q, run_href, version_href};
use crate::layout::{Chrome, Section};
use crate::mlmodel::{self, MlModel};
use crate::origin::SameOrigin;
use crate::pages::models::{DescriptionForm, KeyForm, TagForm};
use crate::query::Params;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use pitwall_openapi::KeyValue;
use pitwall_registry::AppState;
use pitwall_registry::service::Services;
use pitwall_registry::store::model_registry::{ALL_STAGES, STAGE_PRODUCTION, STAGE_STAGING};
use serde::Deserialize;

/// The most of a file (MLmodel, input example) a page shows.
const PREVIEW_BYTES: usize = 64 * 1024;

struct SourceRun {
    id: String,
    name: String,
    href: String,
    status: String,
    params: Vec<KeyValue>,
    /// Key, latest value, step.
    metrics: Vec<(String, String, i64)>,
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    chrome: Chrome,
    name: String,
    version: String,
    href: String,
    stage: String,
    status: String,
    status_message: String,
    registered: String,
    updated: String,
    creator: String,
    description: String,
    tags: Vec<KeyValue>,
    aliases: Vec<String>,
    source: String,
    run_id: String,
    run: Option<SourceRun>,
    uri: String,
    alias_uris: Vec<String>,
    mlmodel: Option<MlModel>,
    mlmodel_note: Option<String>,
    input_example: Option<String>,
    downloads: Vec<(String, String)>,
    stages: [&'static str; 4],
    deletable: bool,
}

/// Where the version's file `path` downloads from (the registry's own endpoint).
fn download_href(name: &str, version: &str, path: &str) -> String {
    format!("/model-versions/get-artifact?name={}&version={}&path={}", q(name), q(version), q(path))
}

/// A small file of the version's model as text: up to [`PREVIEW_BYTES`], and whether it was
/// cut. `Err` says why it cannot be read (not proxied by this server, absent …).
async fn small_file(
    services: Services<'_>,
    name: &str,
    version: &str,
    path: &str,
) -> PageResult<Result<(String, bool), String>> {
    match services.artifacts().model_version_file(name, version, path).await {
        Ok(file) => {
            let (bytes, cut) = read_prefix(file.download, PREVIEW_BYTES).await?;
            Ok(Ok((String::from_utf8_lossy(&bytes).into_owned(), cut)))
        }
        Err(e) => match crate::error::PageError::from(e) {
            crate::error::PageError::Internal(m) => Err(crate::error::PageError::Internal(m)),
            e => Ok(Err(e.to_string())),
        },
    }
}

/// `GET /models/{name}/versions/{version}`.
pub async fn page(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    params: Params,
) -> PageResult {
    let services = s.services();
    let mv = services.model_registry().get_version(&name, &version).await?;
    let run_id = mv.run_id.clone().unwrap_or_default();
    let run = if run_id.is_empty() {
        None
    } else {
        match services.runs().get(&run_id).await.map_err(crate::error::PageError::from) {
            Ok(r) => Some(r),
            Err(crate::error::PageError::NotFound(_)) => None,
            Err(e) => return Err(e),
        }
    };
    let run = run.map(|r| {
        let mut params = r.data.params.clone();
        params.sort_by(|a, b| a.key.cmp(&b.key));
        let mut metrics: Vec<(String, String, i64)> =
            r.data.metrics.iter().map(|m| (m.key.clone(), fmt::num(m.value), m.step)).collect();
        metrics.sort();
        SourceRun {
            name: if r.info.run_name.is_empty() { r.info.run_id.clone() } else { r.info.run_name.clone() },
            href: run_href(&r.info.experiment_id, &r.info.run_id),
            status: r.info.status.as_str().to_owned(),
            id: r.info.run_id,
            params,
            metrics,
        }
    });

    let mut downloads = Vec::new();
    let (mlmodel, mlmodel_note) = match small_file(services, &name, &mv.version, "MLmodel").await? {
        Ok((text, _)) => match mlmodel::parse(&text) {
            Ok(m) => {
                downloads.push(("MLmodel".to_owned(), download_href(&name, &mv.version, "MLmodel")));
                (Some(m), None)
            }
            Err(e) => (None, Some(e)),
        },
        Err(e) => (None, Some(format!("No MLmodel file could be read: {e}"))),
    };
    let mut input_example = None;
    if let Some(m) = &mlmodel {
        for f in &m.files {
            downloads.push((f.clone(), download_href(&name, &mv.version, f)));
        }
        if let Some(path) = &m.input_example {
            downloads.push((path.clone(), download_href(&name, &mv.version, path)));
            if let Ok((text, cut)) = small_file(services, &name, &mv.version, path).await? {
                let pretty = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or(text);
                input_example = Some(if cut { format!("{pretty}\n… (first 64 KB)") } else { pretty });
            }
        }
    }
    let title = format!("{name} v{}", mv.version);
    html(VersionPage {
        chrome: Chrome::new(Section::Models, title)
            .crumb("Models", "/models")
            .crumb(name.clone(), model_href(&name))
            .with_flash(&params),
        href: version_href(&name, &mv.version),
        deletable: mv.current_stage != STAGE_STAGING && mv.current_stage != STAGE_PRODUCTION,
        stage: mv.current_stage,
        status: mv.status.as_str().to_owned(),
        status_message: mv.status_message.unwrap_or_default(),
        registered: fmt::time(Some(mv.creation_timestamp)),
        updated: fmt::time(mv.last_updated_timestamp),
        creator: mv.user_id.unwrap_or_default(),
        description: mv.description.unwrap_or_default(),
        tags: mv.tags,
        uri: format!("models:/{name}/{}", mv.version),
        alias_uris: mv.aliases.iter().map(|a| format!("models:/{name}@{a}")).collect(),
        aliases: mv.aliases,
        source: mv.source.unwrap_or_default(),
        run_id,
        run,
        mlmodel,
        mlmodel_note,
        input_example,
        downloads,
        stages: ALL_STAGES,
        version: mv.version,
        name,
    })
}

type VersionPath = Path<(String, String)>;

/// `POST …/description`.
pub async fn set_description(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<DescriptionForm>,
) -> PageResult {
    let r = s.services().model_registry().update_version(&name, &version, Some(&f.description)).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, "Description saved.")?))
}

/// `POST …/tags`.
pub async fn set_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<TagForm>,
) -> PageResult {
    let r = s.services().model_registry().set_version_tag(&name, &version, &KeyValue::new(f.key.trim(), f.value)).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, "Tag saved.")?))
}

/// `POST …/tags/delete`.
pub async fn delete_tag(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<KeyForm>,
) -> PageResult {
    let r = s.services().model_registry().delete_version_tag(&name, &version, &f.key).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, "Tag removed.")?))
}

#[derive(Deserialize)]
pub struct AliasForm {
    alias: String,
}

/// `POST …/aliases`: points the alias at this version (moving it from another).
pub async fn set_alias(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<AliasForm>,
) -> PageResult {
    let alias = f.alias.trim();
    let r = s.services().model_registry().set_alias(&name, alias, &version).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, &format!("Alias @{alias} set."))?))
}

/// `POST …/aliases/delete`.
pub async fn delete_alias(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<AliasForm>,
) -> PageResult {
    let r = s.services().model_registry().delete_alias(&name, &f.alias).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, &format!("Alias @{} removed.", f.alias))?))
}

#[derive(Deserialize)]
pub struct StageForm {
    stage: String,
    /// A checkbox: present when checked.
    archive_existing: Option<String>,
}

/// `POST …/stage`: a stage transition, optionally archiving the versions in that stage.
pub async fn transition_stage(
    _: SameOrigin,
    State(s): State<AppState>,
    Path((name, version)): VersionPath,
    Form(f): Form<StageForm>,
) -> PageResult {
    let archive = f.archive_existing.is_some();
    let r = s.services().model_registry().transition_stage(&name, &version, &f.stage, archive).await;
    Ok(redirect_with(&version_href(&name, &version), outcome(r, &format!("Moved to {}.", f.stage))?))
}

/// `POST …/delete`: refused while the version is in Staging or Production, where a
/// deployment may be reading it; it must be moved out first.
pub async fn delete(_: SameOrigin, State(s): State<AppState>, Path((name, version)): VersionPath) -> PageResult {
    let services = s.services();
    let mv = services.model_registry().get_version(&name, &version).await?;
    let here = version_href(&name, &version);
    if mv.current_stage == STAGE_STAGING || mv.current_stage == STAGE_PRODUCTION {
        let why =
            format!("Version {version} is in {}: move it to Archived or None before deleting it.", mv.current_stage);
        return Ok(redirect_with(&here, Err(why)));
    }
    match outcome(
        services.model_registry().delete_version(&name, &version).await,
        &format!("Version {version} deleted."),
    )? {
        Ok(done) => Ok(redirect_with(&model_href(&name), Ok(done))),
        Err(e) => Ok(redirect_with(&here, Err(e))),
    }
}
