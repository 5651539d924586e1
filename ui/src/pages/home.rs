//! The home page (with MLflow's hash links) and the sections later work fills.

use super::html;
use crate::error::PageResult;
use crate::layout::{Chrome, Section};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
}

/// `GET /`: links to the sections, and a script that opens MLflow's hash links.
pub async fn home() -> PageResult {
    html(Home { chrome: Chrome::new(Section::None, "Home") })
}

#[derive(Template)]
#[template(path = "placeholder.html")]
struct Placeholder {
    chrome: Chrome,
    what: &'static str,
}

pub async fn lake() -> PageResult {
    html(Placeholder {
        chrome: Chrome::new(Section::Lake, "Lake"),
        what: "The lake's tables (raw, bronze, silver, analytics) get their pages here in a later release. \
               Meanwhile `pitwall lake` lists and builds them.",
    })
}

pub async fn apps() -> PageResult {
    html(Placeholder {
        chrome: Chrome::new(Section::Apps, "Apps"),
        what: "The F1 app (churn scores by driver and team) comes here in a later release.",
    })
}

pub async fn pipelines() -> PageResult {
    html(Placeholder {
        chrome: Chrome::new(Section::Pipelines, "Pipelines"),
        what: "Pipeline runs, their steps and schedules come here once the orchestrator lands.",
    })
}
