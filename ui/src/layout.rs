//! What every page shares: the navigation, breadcrumbs, title, notices and asset URLs.

use crate::assets;
use crate::query::Params;
use std::sync::LazyLock;

/// The top-level sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    None,
    Experiments,
    Models,
    Lake,
    Apps,
    Pipelines,
}

const NAV: [(Section, &str, &str); 5] = [
    (Section::Experiments, "Experiments", "/experiments"),
    (Section::Models, "Models", "/models"),
    (Section::Lake, "Lake", "/lake"),
    (Section::Apps, "Apps", "/apps"),
    (Section::Pipelines, "Pipelines", "/pipelines"),
];

/// The URLs of the embedded files a page links to.
pub struct AssetUrls {
    pub css: String,
    pub js: String,
    pub home_js: String,
    pub uplot_js: String,
    pub uplot_css: String,
}

static ASSETS: LazyLock<AssetUrls> = LazyLock::new(|| AssetUrls {
    css: assets::url("app.css"),
    js: assets::url("app.js"),
    home_js: assets::url("home.js"),
    uplot_js: assets::url("uplot/uPlot.iife.min.js"),
    uplot_css: assets::url("uplot/uPlot.min.css"),
});

/// A link on the way to the current page.
pub struct Crumb {
    pub label: String,
    pub href: String,
}

/// A navigation entry: its label, where it goes, whether it is the current section.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub active: bool,
}

/// The frame around a page's content.
pub struct Chrome {
    /// The page's title, as MLflow titles it ("name vN").
    pub title: String,
    pub section: Section,
    pub crumbs: Vec<Crumb>,
    /// Whether the page draws charts (loads uPlot).
    pub charts: bool,
    /// A notice after a change, and an error of the last change, carried in the query string
    /// by the redirect that follows a form.
    pub notice: Option<String>,
    pub error: Option<String>,
    pub assets: &'static AssetUrls,
}

impl Chrome {
    pub fn new(section: Section, title: impl Into<String>) -> Self {
        Chrome {
            title: title.into(),
            section,
            crumbs: Vec::new(),
            charts: false,
            notice: None,
            error: None,
            assets: &ASSETS,
        }
    }

    /// Adds a breadcrumb before the title.
    pub fn crumb(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.crumbs.push(Crumb { label: label.into(), href: href.into() });
        self
    }

    pub fn with_charts(mut self) -> Self {
        self.charts = true;
        self
    }

    /// Takes the notice and error a redirect after a form carried (`done`, `error`).
    pub fn with_flash(mut self, params: &Params) -> Self {
        self.notice = params.get("done").map(str::to_owned);
        self.error = params.get("error").map(str::to_owned);
        self
    }

    pub fn nav(&self) -> Vec<NavItem> {
        NAV.iter().map(|&(s, label, href)| NavItem { label, href, active: s == self.section }).collect()
    }
}
