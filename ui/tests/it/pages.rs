//! Pages over HTTP, in process: status codes, escaping, refused cross-site posts.

use crate::support::{HOSTILE_EXPERIMENT, HOSTILE_MODEL, HOSTILE_VALUE, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn send(app: &TestApp, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.router().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, String) {
    let (status, _, body) = send(app, Request::get(path).body(Body::empty()).unwrap()).await;
    (status, body)
}

fn seg(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn every_page_renders() {
    let app = TestApp::start().await;
    let exp = &app.seed.experiment_id;
    let run = &app.seed.runs[2];
    for path in [
        "/".to_owned(),
        "/experiments".into(),
        format!("/experiments/{exp}"),
        format!("/experiments/{exp}?filter=metrics.auc_test+%3E+0.7&order=metrics.auc_test+DESC"),
        format!("/experiments/{exp}/runs/{run}"),
        format!("/experiments/{exp}/runs/{run}?svg=all"),
        format!("/experiments/{exp}/runs/{run}?path=plots&preview=plots/roc.png"),
        format!("/experiments/{exp}/runs/{run}?preview=feature_importance.csv"),
        format!("/experiments/{exp}/runs/{run}?path=model&preview=model/MLmodel"),
        format!("/compare-runs?runs={}&runs={}", app.seed.runs[0], run),
        "/models".into(),
        "/models/f1_churn".into(),
        "/models/f1_churn/versions/1".into(),
        "/compare-model-versions?name=f1_churn&versions=1&versions=2".into(),
        "/lake".into(),
        "/apps".into(),
        "/pipelines".into(),
    ] {
        let (status, body) = get(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains("<nav class=\"sections\">"), "{path}");
    }
    let (status, csv) = get(&app, &format!("/experiments/{exp}/runs.csv?filter=metrics.auc_test+%3E+0.7")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().next().unwrap().contains("metrics.auc_test"));
}

#[tokio::test]
async fn the_version_page_shows_signature_and_run_data() {
    let app = TestApp::start().await;
    let (status, body) = get(&app, "/models/f1_churn/versions/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<title>f1_churn v1 · Pitwall</title>"));
    for text in [
        "avgPosition",
        "optional",
        "probability",
        "models:/f1_churn/1",
        "@champion",
        "auc_test",
        "0.82",
        "forest",
        "Production",
    ] {
        assert!(body.contains(text), "missing {text}");
    }
    // A version in Production cannot be deleted.
    assert!(body.contains("Move it out of Production"));
}

#[tokio::test]
async fn hostile_names_render_as_text() {
    let app = TestApp::start().await;
    let pages = [
        "/models".to_owned(),
        format!("/models/{}", seg(HOSTILE_MODEL)),
        format!("/models/{}/versions/1", seg(HOSTILE_MODEL)),
        "/experiments".into(),
        format!("/experiments/{}", app.seed.hostile_experiment_id),
        format!("/experiments/{}", app.seed.experiment_id),
        format!("/experiments/{}/runs/{}", app.seed.experiment_id, app.seed.runs[0]),
        format!("/experiments/{}?cols=tags.note", app.seed.experiment_id),
    ];
    for path in pages {
        let (status, body) = get(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for raw in [HOSTILE_MODEL, HOSTILE_EXPERIMENT, HOSTILE_VALUE, "<script>alert", "<img src=x"] {
            assert!(!body.contains(raw), "{path} holds {raw:?} unescaped");
        }
    }
    let (_, body) = get(&app, &format!("/models/{}", seg(HOSTILE_MODEL))).await;
    assert!(body.contains("&#60;script&#62;alert(&#34;pw&#34;)"), "the name as text: {body}");
    assert!(body.contains("Ünïcødé"), "unicode as it is");
    // In attributes too: the compare form's hidden name.
    assert!(body.contains("name=\"name\" value=\"&#60;script&#62;alert(&#34;pw&#34;)"), "{body}");
}

fn form(path: &str, origin: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::post(path)
        .header(header::HOST, "pitwall.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::start().await;
    let path = "/models/f1_churn/versions/1/description";
    let (status, _, body) = send(&app, form(path, Some("http://evil.example"), "description=owned")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = send(&app, form(path, None, "description=owned")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mv = app.state.services().model_registry().get_version("f1_churn", "1").await.unwrap();
    assert_ne!(mv.description.as_deref(), Some("owned"));

    let (status, headers, _) = send(&app, form(path, Some("http://pitwall.test"), "description=kept")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().starts_with("/models/f1_churn/versions/1?done="));
    let mv = app.state.services().model_registry().get_version("f1_churn", "1").await.unwrap();
    assert_eq!(mv.description.as_deref(), Some("kept"));
}

#[tokio::test]
async fn a_version_in_production_is_not_deleted() {
    let app = TestApp::start().await;
    let (status, headers, _) =
        send(&app, form("/models/f1_churn/versions/1/delete", Some("http://pitwall.test"), "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().contains("error="));
    assert!(app.state.services().model_registry().get_version("f1_churn", "1").await.is_ok());
}

#[tokio::test]
async fn unknown_ids_get_a_404_page_and_the_api_keeps_its_json() {
    let app = TestApp::start().await;
    let exp = &app.seed.experiment_id;
    for path in [
        "/models/nope".to_owned(),
        "/models/f1_churn/versions/99".into(),
        "/experiments/424242".into(),
        format!("/experiments/{exp}/runs/0123456789abcdef"),
        "/no/such/page".into(),
    ] {
        let (status, headers, body) = send(&app, Request::get(&path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{path}");
        assert!(body.contains("Not found"), "{path}");
    }
    for path in ["/api/2.0/mlflow/nope", "/ajax-api/2.0/mlflow/nope/deeper"] {
        let (status, headers, body) = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"), "{path}");
        assert!(body.contains("ENDPOINT_NOT_FOUND"), "{body}");
    }
    // The API itself is still there.
    let (status, body) = get(&app, "/api/2.0/mlflow/registered-models/get?name=f1_churn").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn assets_are_served_under_their_hash_for_good() {
    let app = TestApp::start().await;
    let (_, home) = get(&app, "/").await;
    let css = home.split("href=\"").find(|s| s.starts_with("/static/")).unwrap().split('"').next().unwrap().to_owned();
    let (status, headers, _) = send(&app, Request::get(&css).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    let (status, _) = get(&app, "/static/0000000000000000/app.css").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, headers, _) = send(&app, Request::get("/models").body(Body::empty()).unwrap()).await;
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
}

#[tokio::test]
async fn a_bad_filter_is_shown_inline() {
    let app = TestApp::start().await;
    let (status, body) =
        get(&app, &format!("/experiments/{}?filter=metrics.auc_test+%3E%3E+x", app.seed.experiment_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("filter-error"), "{body}");
}
