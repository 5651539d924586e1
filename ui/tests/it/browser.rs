//! The pages in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them). Each test saves screenshots
//! under `$CARGO_TARGET_DIR/ui-screenshots/` for a person to look at.

use crate::support::TestApp;
use crate::webdriver::{Element, Session};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(20);

/// A chromedriver process (ended when dropped), a browser session on it, and the server.
struct Browser {
    client: Session,
    base: String,
    app: TestApp,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    async fn start() -> Browser {
        let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.to_owned());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
        for (what, path) in [("chromedriver", &driver_path), ("chromium", &chromium)] {
            assert!(
                std::path::Path::new(path).exists(),
                "{what} is not at {path}: the browser tests need Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver, as .ci/run does), or CHROMIUM and CHROMEDRIVER \
                 naming them"
            );
        }
        let app = TestApp::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = app.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {driver_path}: {e}"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                // As root (CI), Chromium runs only without its sandbox.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let caps = serde_json::Value::Object(caps);
        let mut last_err = None;
        let mut client = None;
        for _ in 0..100 {
            match Session::new(&url, caps.clone()).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        let client = client.unwrap_or_else(|| panic!("no WebDriver session from {driver_path}: {last_err:?}"));
        Browser { client, base, app, driver }
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn wait_for(&self, css: &str) -> Element {
        self.client.wait_for(css, WAIT).await.unwrap_or_else(|e| panic!("no {css}: {e}"))
    }

    async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Waits until the text of `css` holds `needle` (a form's redirect may still be loading).
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let until = std::time::Instant::now() + WAIT;
        loop {
            let text = match self.client.find(css).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            assert!(std::time::Instant::now() < until, "{css} never showed {needle:?}; last: {text:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the address holds `needle`.
    async fn wait_url(&self, needle: &str) {
        let until = std::time::Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await.unwrap_or_default();
            if url.contains(needle) {
                return;
            }
            assert!(std::time::Instant::now() < until, "the address never held {needle:?}; last: {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let input = self.wait_for(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        let rest = url.strip_prefix(&self.base).unwrap_or(&url);
        rest.split(['?', '#']).next().unwrap_or_default().to_owned()
    }

    async fn finish(self) {
        self.client.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_link_opens_the_version_page_which_edits_it() {
    let b = Browser::start().await;
    b.goto("/#/models/f1_churn/versions/1").await;
    let inputs = b.text("#signature-inputs").await;
    assert_eq!(b.path().await, "/models/f1_churn/versions/1");
    assert!(inputs.contains("avgPosition") && inputs.contains("optional"), "{inputs}");
    let metrics = b.text("#run-metrics").await;
    assert!(metrics.contains("auc_test") && metrics.contains("0.82"), "{metrics}");
    b.screenshot("version-page").await;

    b.fill("form[action$='/description'] textarea", "Champion since the 2026 retrain").await;
    b.wait_for("form[action$='/description'] button").await.click().await.unwrap();
    b.wait_text(".flash", "Description saved").await;
    let saved = b.wait_for("form[action$='/description'] textarea").await.prop("value").await.unwrap();
    assert_eq!(saved.as_deref(), Some("Champion since the 2026 retrain"));

    b.fill("form[action$='/tags'] input[name=key]", "reviewed_by").await;
    b.fill("form[action$='/tags'] input[name=value]", "ana").await;
    b.wait_for("form[action$='/tags'] button").await.click().await.unwrap();
    b.wait_text(".flash", "Tag saved").await;
    b.wait_text("table.tags", "reviewed_by").await;

    b.fill("form[action$='/aliases'] input[name=alias]", "challenger").await;
    b.wait_for("form[action$='/aliases'] button").await.click().await.unwrap();
    b.wait_text("#aliases", "@challenger").await;
    let mv = b.app.state.services().model_registry().get_version("f1_churn", "1").await.unwrap();
    assert!(mv.aliases.contains(&"challenger".to_owned()));
    assert_eq!(mv.description.as_deref(), Some("Champion since the 2026 retrain"));
    b.screenshot("version-page-edited").await;
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_filtered_sorted_picked_and_compared() {
    let b = Browser::start().await;
    let exp = b.app.seed.experiment_id.clone();
    b.goto(&format!("/experiments/{exp}")).await;
    b.fill("#filter", "metrics.auc_test > 0.7").await;
    b.wait_for("#run-search button").await.click().await.unwrap();
    b.wait_url("filter=metrics.auc_test").await;
    b.wait_for("#runs").await;
    let rows = b.client.find_all("#runs tbody tr").await.unwrap();
    assert_eq!(rows.len(), 2);

    // Sort by auc_test: descending first, ascending on the second click.
    b.client.find_link("auc_test").await.unwrap().click().await.unwrap();
    b.wait_text("#runs th.metrics a[href*='auc_test']", "↓").await;
    assert!(b.text("#runs tbody tr:first-child .run-link").await.contains("forest"));
    b.client.find("#runs th.metrics a[href*='auc_test']").await.unwrap().click().await.unwrap();
    b.wait_text("#runs th.metrics a[href*='auc_test']", "↑").await;
    assert!(b.text("#runs tbody tr:first-child .run-link").await.contains("tree"));

    // Pick a column the default set leaves out.
    b.wait_for("#column-picker summary").await.click().await.unwrap();
    b.wait_for("#column-picker input[value='tags.note']").await.click().await.unwrap();
    b.wait_for("#column-picker form button").await.click().await.unwrap();
    b.wait_text("#runs thead", "note").await;
    b.screenshot("runs-table").await;

    for cb in b.client.find_all("#runs tbody input[type=checkbox]").await.unwrap() {
        cb.click().await.unwrap();
    }
    b.wait_for("#runs-form .table-actions button").await.click().await.unwrap();
    let table = b.wait_text("#compare", "churn-forest").await;
    assert!(table.contains("churn-tree"), "{table}");
    b.client.execute("document.querySelector(\"figure[data-key='loss']\").scrollIntoView()").await.unwrap();
    b.wait_for("#charts figure[data-key='loss'][data-ready='1']").await;
    b.screenshot("compare-runs").await;
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_page_draws_and_zooms_its_charts_and_previews_files() {
    let b = Browser::start().await;
    let (exp, run) = (b.app.seed.experiment_id.clone(), b.app.seed.runs[2].clone());
    b.goto(&format!("/experiments/{exp}/runs/{run}")).await;
    b.wait_for("#charts").await;
    b.client.execute("document.getElementById('charts').scrollIntoView()").await.unwrap();
    let fig = b.wait_for("figure[data-key='loss'][data-ready='1']").await;
    let points: usize = fig.attr("data-points").await.unwrap().unwrap().parse().unwrap();
    assert_eq!(points, 500, "every step of a short history");
    b.screenshot("run-page-charts").await;

    // Drag across the middle of the loss chart: the window is fetched again and drawn alone.
    let over = b.wait_for("figure[data-key='loss'] .u-over").await;
    b.client.drag_across(&over, -60, 80).await.unwrap();
    let zoomed = b.wait_for("figure[data-key='loss'][data-zoomed='1'][data-ready='1']").await;
    let points: usize = zoomed.attr("data-points").await.unwrap().unwrap().parse().unwrap();
    assert!((1..500).contains(&points), "the zoomed window holds a part of the history: {points}");
    b.screenshot("run-page-zoomed").await;

    b.goto(&format!("/experiments/{exp}/runs/{run}?preview=feature_importance.csv#artifacts")).await;
    b.wait_for(".preview-table").await;
    let rows = b.client.find_all(".preview-table tbody tr").await.unwrap();
    assert_eq!(rows.len(), 100, "the first 100 rows of 150");
    b.screenshot("run-page-csv-preview").await;

    b.goto(&format!("/experiments/{exp}/runs/{run}?path=plots&preview=plots/roc.png#artifacts")).await;
    b.wait_for("img.preview").await;
    let mut width = serde_json::Value::Null;
    for _ in 0..50 {
        width = b.client.execute("return document.querySelector('img.preview').naturalWidth").await.unwrap();
        if width.as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(width.as_u64(), Some(48), "the PNG loaded");
    b.screenshot("run-page-png-preview").await;
    b.finish().await;
}
