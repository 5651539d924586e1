//! `pitwall serve-model` against MLflow's own scoring server: the same requests to both, for
//! the same model directory, must get the same status and the same predictions.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitwall_trainer::inputs::ColumnType;
use pitwall_trainer::serve::{ServeSettings, ServedModel, router};
use serde_json::{Value, json};

use crate::common::{abt, trained_run};
use pitwall_test_support::venv::python;

struct Reference(Child);

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One request: a content type and a body.
struct Case {
    name: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn json_case(name: &'static str, body: Value) -> Case {
    Case { name, content_type: Some("application/json"), body: body.to_string().into_bytes() }
}

/// The same rows in every input form the protocol has, plus bad inputs. `nullable` is a
/// column that takes missing values (a double one).
fn cases(columns: &[String], rows: &[Vec<Value>], nullable: &str) -> Vec<Case> {
    let records: Vec<Value> =
        rows.iter().map(|r| Value::Object(columns.iter().cloned().zip(r.iter().cloned()).collect())).collect();
    let columnar: serde_json::Map<String, Value> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), json!(rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>())))
        .collect();
    // Columns in reverse order, one extra column the model does not take.
    let mut reversed: Vec<String> = columns.iter().rev().cloned().collect();
    reversed.push("notAFeature".into());
    let reversed_rows: Vec<Vec<Value>> =
        rows.iter().map(|r| r.iter().rev().cloned().chain([json!("ignored")]).collect()).collect();
    let ints: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.as_f64().map_or_else(|| v.clone(), |f| json!(f.round() as i64))).collect())
        .collect();
    let mut with_nulls = records.clone();
    with_nulls[0][nullable] = Value::Null;
    if let Value::Object(fields) = &mut with_nulls[1] {
        fields.remove(nullable);
    }
    let mut csv = columns.join(",") + "\n";
    for r in rows {
        csv += &r.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect::<Vec<_>>().join(",");
        csv += "\n";
    }
    let mut missing_column = records.clone();
    for r in &mut missing_column {
        r.as_object_mut().unwrap().remove(&columns[0]);
    }
    let mut text_value = records.clone();
    text_value[0][&columns[0]] = json!("fast");

    vec![
        json_case("dataframe_split", json!({"dataframe_split": {"columns": columns, "data": rows}})),
        json_case(
            "dataframe_split reordered with an index and an extra column",
            json!({"dataframe_split": {"columns": reversed, "data": reversed_rows, "index": (0..rows.len()).collect::<Vec<_>>()}}),
        ),
        json_case("dataframe_records", json!({ "dataframe_records": records })),
        json_case("instances as records", json!({ "instances": records })),
        json_case("inputs as columns", json!({ "inputs": columnar })),
        json_case("instances as rows", json!({ "instances": rows })),
        json_case("inputs as rows", json!({ "inputs": rows })),
        json_case("inputs as records with params", json!({"inputs": records, "params": {"threshold": 0.5}})),
        json_case("integers for doubles", json!({"dataframe_split": {"columns": columns, "data": ints}})),
        json_case("nulls and a missing key", json!({ "dataframe_records": with_nulls })),
        json_case("no rows", json!({"dataframe_split": {"columns": columns, "data": []}})),
        Case { name: "csv", content_type: Some("text/csv"), body: csv.into_bytes() },
        Case {
            name: "json with a utf-8 charset",
            content_type: Some("application/json; charset=utf-8"),
            body: json!({ "dataframe_records": records }).to_string().into_bytes(),
        },
        // Bad input.
        Case { name: "not json", content_type: Some("application/json"), body: b"{\"dataframe_split\": ".to_vec() },
        json_case("a list", json!([records[0].clone()])),
        json_case("no input key", json!({ "data": rows })),
        json_case("two input keys", json!({"dataframe_records": records, "instances": records})),
        json_case("a missing column", json!({ "dataframe_records": missing_column })),
        json_case("text in a number column", json!({ "dataframe_records": text_value })),
        json_case("dataframe_split that is a string", json!({"dataframe_split": "rows"})),
        Case { name: "text/plain", content_type: Some("text/plain"), body: b"1,2".to_vec() },
        Case {
            name: "latin-1 charset",
            content_type: Some("application/json; charset=latin-1"),
            body: json!({ "dataframe_records": records }).to_string().into_bytes(),
        },
        Case {
            name: "unknown content-type parameter",
            content_type: Some("application/json; format=pandas-split"),
            body: json!({ "dataframe_records": records }).to_string().into_bytes(),
        },
        Case { name: "no content type", content_type: None, body: b"{}".to_vec() },
    ]
}

/// Cases where MLflow's server answers 5xx (a crash in its request handling) and Pitwall
/// answers the 4xx a client can act on.
const STRICTER: [&str; 1] = ["no content type"];
/// Rows without column names: MLflow maps them onto the signature by position and refuses the
/// first cell it cannot convert; Pitwall asks for the named columns. Both refuse with a 400,
/// under different error codes.
const BOTH_REFUSE: [&str; 2] = ["instances as rows", "inputs as rows"];

async fn send(http: &reqwest::Client, base: &str, case: &Case) -> (u16, Option<String>, String) {
    let mut req = http.post(format!("{base}/invocations")).body(case.body.clone());
    if let Some(ct) = case.content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, ct, resp.text().await.unwrap())
}

fn predictions(body: &str) -> Vec<f64> {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["predictions"]
        .as_array()
        .unwrap_or_else(|| panic!("no predictions in {body}"))
        .iter()
        .map(|p| p["pctProbaChurn"].as_f64().unwrap_or_else(|| panic!("{p} in {body}")))
        .collect()
}

#[test]
fn serve_model_answers_as_mlflows_scoring_server_does() {
    let run = trained_run();
    let model_dir = run.files.model_dir.clone();
    let model = ServedModel::open(&model_dir, 2).unwrap();
    let columns = model.columns().to_vec();
    let spec = model.features().clone();
    assert!(spec.typed());
    let picked: Vec<usize> = (0..abt().len()).step_by(997).take(12).collect();
    let sub = abt().select(&picked);
    // The rows as the lake holds them: integers as integers, the team as a string.
    let rows: Vec<Vec<Value>> = (0..sub.len())
        .map(|i| {
            let mut row: Vec<Value> = sub
                .numeric
                .iter()
                .zip(&spec.numeric_types)
                .map(|(col, kind)| match kind {
                    ColumnType::Double => json!(col[i]),
                    ColumnType::Integer | ColumnType::Long => json!(col[i] as i64),
                })
                .collect();
            row.push(json!(sub.teams[i]));
            row
        })
        .collect();
    let nullable = spec.numeric_types.iter().position(|t| *t == ColumnType::Double).map(|j| spec.numeric[j].clone());
    let expected = run.trained.model.predict_proba(run.trained.model.features.matrix(&sub).view());

    let port = free_port();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mlflow_scoring_server.py");
    let _reference = Reference(
        Command::new(python())
            .arg(&script)
            .arg(&model_dir)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python starts"),
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ours = format!("http://{}", listener.local_addr().unwrap());
        let app = router(Arc::new(model), ServeSettings { timeout: Duration::from_secs(30) });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let theirs = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();

        let deadline = Instant::now() + Duration::from_secs(120);
        while http.get(format!("{theirs}/ping")).send().await.is_err() {
            assert!(Instant::now() < deadline, "MLflow's scoring server did not start");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        for path in ["/ping", "/health", "/version"] {
            let a = http.get(format!("{ours}{path}")).send().await.unwrap();
            let b = http.get(format!("{theirs}{path}")).send().await.unwrap();
            assert_eq!(a.status(), b.status(), "{path}");
            assert_eq!(a.text().await.unwrap(), b.text().await.unwrap(), "{path}");
        }

        let mut report = Vec::new();
        let mut mismatches = Vec::new();
        for case in cases(&columns, &rows, &nullable.expect("a double column")) {
            let (ours_status, ours_ct, ours_body) = send(&http, &ours, &case).await;
            let (their_status, _, their_body) = send(&http, &theirs, &case).await;
            report.push(format!("{:<60} pitwall {ours_status}  mlflow {their_status}", case.name));
            let mut differ = |what: String| {
                mismatches.push(format!("{}: {what}\n  pitwall: {ours_body}\n  mlflow:  {their_body}", case.name))
            };
            if STRICTER.contains(&case.name) {
                if their_status < 500 || ours_status != 415 {
                    differ(format!("expected MLflow 5xx and Pitwall 415, got {their_status} and {ours_status}"));
                }
                continue;
            }
            if ours_status != their_status {
                differ(format!("status {ours_status} vs {their_status}"));
                continue;
            }
            if BOTH_REFUSE.contains(&case.name) {
                if ours_status != 400 {
                    differ(format!("expected both to refuse with 400, got {ours_status}"));
                }
                continue;
            }
            if ours_status == 200 {
                let (a, b) = (predictions(&ours_body), predictions(&their_body));
                if a.len() != b.len() {
                    differ(format!("{} vs {} predictions", a.len(), b.len()));
                    continue;
                }
                let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                if worst > 1e-9 {
                    differ(format!("predictions differ by up to {worst}"));
                }
                if a.len() == rows.len() && !case.name.contains("null") && !case.name.contains("integers") {
                    let off = a.iter().zip(&expected).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                    assert!(off <= 1e-6, "{}: differs from the model in memory by {off}", case.name);
                }
            } else if ours_status == 400 {
                let a: Value = serde_json::from_str(&ours_body).unwrap();
                let b: Value = serde_json::from_str(&their_body).unwrap();
                if a["error_code"] != b["error_code"] {
                    differ(format!("error_code {} vs {}", a["error_code"], b["error_code"]));
                }
                assert!(a["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", case.name);
                assert_eq!(ours_ct.as_deref(), Some("application/json"), "{}", case.name);
            }
        }
        println!("{}", report.join("\n"));
        assert!(
            mismatches.is_empty(),
            "{} of the cases differ from MLflow:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
    });
}
