//! The few WebDriver commands the browser tests use (the W3C protocol: JSON over HTTP to
//! chromedriver). A WebDriver client crate (fantoccini) works too, but its dependencies
//! (webdriver, cookie) change the features of `time` and `url` for the whole workspace, which
//! rebuilds most of it; these dozen commands need only reqwest, which the workspace has.

use base64::Engine;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A failed command: WebDriver's error and message, or the transport's.
#[derive(Debug)]
pub struct WdError(pub String);

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type WdResult<T> = Result<T, WdError>;

/// A browser session.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:port/session/<id>`.
    url: String,
}

/// An element of the current page.
pub struct Element {
    session: Session,
    id: String,
}

async fn send(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> WdResult<Value> {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.map_err(|e| WdError(format!("{url}: {e}")))?;
    let body: Value = res.json().await.map_err(|e| WdError(format!("{url}: {e}")))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        let message = value.get("message").and_then(Value::as_str).unwrap_or_default();
        return Err(WdError(format!("{error}: {message}")));
    }
    Ok(value)
}

impl Session {
    /// A new session on the driver at `driver` with these capabilities.
    pub async fn new(driver: &str, capabilities: Value) -> WdResult<Session> {
        let http = reqwest::Client::new();
        let v = send(
            &http,
            reqwest::Method::POST,
            &format!("{driver}/session"),
            Some(json!({ "capabilities": { "alwaysMatch": capabilities } })),
        )
        .await?;
        let id = v.get("sessionId").and_then(Value::as_str).ok_or_else(|| WdError(format!("no session id: {v}")))?;
        Ok(Session { http, url: format!("{driver}/session/{id}") })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> WdResult<Value> {
        send(&self.http, method, &format!("{}{path}", self.url), body).await
    }

    pub async fn goto(&self, url: &str) -> WdResult<()> {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await.map(drop)
    }

    pub async fn current_url(&self) -> WdResult<String> {
        Ok(self.cmd(reqwest::Method::GET, "/url", None).await?.as_str().unwrap_or_default().to_owned())
    }

    fn element(&self, v: &Value) -> WdResult<Element> {
        let id = v.get(ELEMENT).and_then(Value::as_str).ok_or_else(|| WdError(format!("not an element: {v}")))?;
        Ok(Element { session: self.clone(), id: id.to_owned() })
    }

    pub async fn find(&self, css: &str) -> WdResult<Element> {
        let v =
            self.cmd(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css }))).await?;
        self.element(&v)
    }

    pub async fn find_link(&self, text: &str) -> WdResult<Element> {
        let v =
            self.cmd(reqwest::Method::POST, "/element", Some(json!({ "using": "link text", "value": text }))).await?;
        self.element(&v)
    }

    pub async fn find_all(&self, css: &str) -> WdResult<Vec<Element>> {
        let v = self
            .cmd(reqwest::Method::POST, "/elements", Some(json!({ "using": "css selector", "value": css })))
            .await?;
        v.as_array().map(|a| a.iter().map(|e| self.element(e)).collect()).unwrap_or_else(|| Ok(vec![]))
    }

    /// The first element matching `css`, waiting up to `timeout` for it to appear.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> WdResult<Element> {
        let until = Instant::now() + timeout;
        loop {
            match self.find(css).await {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() >= until => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn execute(&self, script: &str) -> WdResult<Value> {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] }))).await
    }

    /// The viewport as PNG.
    pub async fn screenshot(&self) -> WdResult<Vec<u8>> {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await?;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| WdError(format!("screenshot: {e}")))
    }

    /// Presses the mouse at `from` pixels right of the element's centre and drags `by` more.
    pub async fn drag_across(&self, element: &Element, from: i64, by: i64) -> WdResult<()> {
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
            "actions": [
                { "type": "pointerMove", "duration": 0, "origin": { ELEMENT: element.id }, "x": from, "y": 0 },
                { "type": "pointerDown", "button": 0 },
                { "type": "pointerMove", "duration": 300, "origin": "pointer", "x": by, "y": 0 },
                { "type": "pointerUp", "button": 0 }
            ]
        }]});
        self.cmd(reqwest::Method::POST, "/actions", Some(actions)).await.map(drop)
    }

    pub async fn close(&self) -> WdResult<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}

impl Element {
    async fn cmd(&self, method: reqwest::Method, what: &str, body: Option<Value>) -> WdResult<Value> {
        self.session.cmd(method, &format!("/element/{}{what}", self.id), body).await
    }

    pub async fn text(&self) -> WdResult<String> {
        Ok(self.cmd(reqwest::Method::GET, "/text", None).await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn click(&self) -> WdResult<()> {
        self.cmd(reqwest::Method::POST, "/click", Some(json!({}))).await.map(drop)
    }

    pub async fn clear(&self) -> WdResult<()> {
        self.cmd(reqwest::Method::POST, "/clear", Some(json!({}))).await.map(drop)
    }

    pub async fn send_keys(&self, text: &str) -> WdResult<()> {
        self.cmd(reqwest::Method::POST, "/value", Some(json!({ "text": text }))).await.map(drop)
    }

    pub async fn attr(&self, name: &str) -> WdResult<Option<String>> {
        Ok(self.cmd(reqwest::Method::GET, &format!("/attribute/{name}"), None).await?.as_str().map(str::to_owned))
    }

    pub async fn prop(&self, name: &str) -> WdResult<Option<String>> {
        Ok(self.cmd(reqwest::Method::GET, &format!("/property/{name}"), None).await?.as_str().map(str::to_owned))
    }
}
