//! The server under test: the registry's API and the pages over a scratch SQLite store and a
//! temporary artifact folder, seeded through the services as the seed's trainer would.

use pitwall_openapi::{CreateRun, KeyValue, Metric, RunStatus};
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_registry::service::model_registry::CreateVersion;
use pitwall_registry::store::{RunUpdate, SqlStore};
use pitwall_registry::{AppState, Settings};
use pitwall_test_support::ScratchSqlite;
use std::path::Path;
use std::sync::Arc;

/// A name that must render as text everywhere: markup, both quotes, an ampersand, unicode.
pub const HOSTILE_MODEL: &str = "<script>alert(\"pw\")<\\script> 'q' & Ünïcødé";
pub const HOSTILE_EXPERIMENT: &str = "<img src=x onerror=alert(1)> \"exp\" 'q' & ü";
pub const HOSTILE_VALUE: &str = "\"><script>alert('tag')</script>";

/// A small PNG (a gradient) for the preview.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAADAAAAAYCAIAAAAzn+mLAAAIB0lEQVR4nBXWn/8CMRzH8ZNkkkySSTJJJslJMkkmySQ5SU6SSXKSnCQnyUuSk+QkmSST5CSZJCf9E99v+wuej33enx9FUTArEAXzAlmwKFAFywJdsCowBeuCsmBTYAu2Ba5gV+AL9gVVwaGgLjgWhIJTQVNwLmgLLgVdwbWAgltBX3AvGAoeBbHgWZAKXgVjwbsgF3wKpoJvQVEIZgIhmAukYCFQgqVAC1YCI1gLSsFGYAVbgRPsBF6wF1SCg6AWHAVBcBI0grOgFVwEneAqQHAT9IK7YBA8BFHwFCTBSzAK3oIs+AgmwVf8gyQziZDMJVKykCjJUqIlK4mRrCWlZCOxkq3ESXYSL9lLKslBUkuOkiA5SRrJWdJKLpJOcpUguUl6yV0ySB6SKHlKkuQlGSVvSZZ8JJPkK/9BiplCKOYKqVgolGKp0IqVwijWilKxUVjFVuEUO4VX7BWV4qCoFUdFUJwUjeKsaBUXRae4KlDcFL3irhgUD0VUPBVJ8VKMirciKz6KSfFV/yDNTCM0c43ULDRKs9RozUpjNGtNqdlorGarcZqdxmv2mkpz0NSaoyZoTppGc9a0moum01w1aG6aXnPXDJqHJmqemqR5aUbNW5M1H82k+ep/kGFmEIa5QRoWBmVYGrRhZTCGtaE0bAzWsDU4w87gDXtDZTgYasPREAwnQ2M4G1rDxdAZrgYMN0NvuBsGw8MQDU9DMrwMo+FtyIaPYTJ8zT+oZFYiSuYlsmRRokqWJbpkVWJK1iVlyabElmxLXMmuxJfsS6qSQ0ldciwJJaeSpuRc0pZcSrqSawklt5K+5F4ylDxKYsmzJJW8SsaSd0ku+ZRMJd/yH2SZWYRlbpGWhUVZlhZtWVmMZW0pLRuLtWwtzrKzeMveUlkOltpytATLydJYzpbWcrF0lqsFy83SW+6WwfKwRMvTkiwvy2h5W7LlY5ksX/sPcswcwjF3SMfCoRxLh3asHMaxdpSOjcM6tg7n2Dm8Y++oHAdH7Tg6guPkaBxnR+u4ODrH1YHj5ugdd8fgeDii4+lIjpdjdLwd2fFxTI6v+wd5Zh7hmXukZ+FRnqVHe1Ye41l7Ss/GYz1bj/PsPN6z91Seg6f2HD3Bc/I0nrOn9Vw8nefqwXPz9J67Z/A8PNHz9CTPyzN63p7s+Xgmz9f/gypmFaJiXiErFhWqYlmhK1YVpmJdUVZsKmzFtsJV7Cp8xb6iqjhU1BXHilBxqmgqzhVtxaWiq7hWUHGr6CvuFUPFoyJWPCtSxatirHhX5IpPxVTxrf5BNbMaUTOvkTWLGlWzrNE1qxpTs64pazY1tmZb42p2Nb5mX1PVHGrqmmNNqDnVNDXnmrbmUtPVXGuoudX0NfeaoeZRE2ueNanmVTPWvGtyzadmqvnW/6DALCAC84AMLAIqsAzowCpgAutAGdgEbGAbcIFdwAf2gSpwCNSBYyAEToEmcA60gUugC1wDBG6BPnAPDIFHIAaegRR4BcbAO5ADn8AU+IZ/UMOsQTTMG2TDokE1LBt0w6rBNKwbyoZNg23YNriGXYNv2DdUDYeGuuHYEBpODU3DuaFtuDR0DdcGGm4NfcO9YWh4NMSGZ0NqeDWMDe+G3PBpmBq+zT+oZdYiWuYtsmXRolqWLbpl1WJa1i1ly6bFtmxbXMuuxbfsW6qWQ0vdcmwJLaeWpuXc0rZcWrqWawstt5a+5d4ytDxaYsuzJbW8WsaWd0tu+bRMLd/2H9Qx6xAd8w7ZsehQHcsO3bHqMB3rjrJj02E7th2uY9fhO/YdVceho+44doSOU0fTce5oOy4dXce1g45bR99x7xg6Hh2x49mROl4dY8e7I3d8OqaOb/cPgtnvRmD+W8wsftuQ5W8FsfrNfda/YcvmN+HY/sYKu18vs/81EIdfajn+osLpVx/Ov0/h8pNw5fdu0MMdBnhAhCckeMEIb8jwgQm+/+dT0TPrET3zHtmz6FE9yx7ds+oxPeuesmfTY3u2Pa5n1+N79j1Vz6Gn7jn2hJ5TT9Nz7ml7Lj1dz7X/WW49fc+9Z+h59MSeZ0/qefWMPe+e3PPpmXq+/T9oYDYgBuYDcmAxoAaWA3pgNWAG1gPlwGbADmwH3MBuwA/sB6qBw0A9cBwIA6eBZuA80A5cBrqB6/D7lttAP3AfGAYeA3HgOZAGXgPjwHsgD3wGpoHv8A+KzCIiMo/IyCKiIsuIjqwiJrKOlJFNxEa2ERfZRXxkH6kih0gdOUZC5BRpIudIG7lEusg1/ip0i/SRe2SIPCIx8oykyCsyRt6RHPlEpsg3/oMSs4RIzBMysUioxDKhE6uESawTZWKTsIltwiV2CZ/YJ6rEIVEnjomQOCWaxDnRJi6JLnFNv7DcEn3inhgSj0RMPBMp8UqMiXciJz6JKfFN/6CR2YgYmY/IkcWIGlmO6JHViBlZj5QjmxE7sh1xI7sRP7IfqUYOI/XIcSSMnEaakfNIO3IZ6Uau4y+3t5F+5D4yjDxG4shzJI28RsaR90ge+YxMI9/xH5SZZURmnpGZRUZllhmdWWVMZp0pM5uMzWwzLrPL+Mw+U2UOmTpzzITMKdNkzpk2c8l0mWv+tdAt02fumSHzyMTMM5Myr8yYeWdy5pOZMt/8D5qYTYiJ+YScWEyoieWEnlhNmIn1RDmxmbAT2wk3sZvwE/uJauIwUU8cJ8LEaaKZOE+0E5eJbuI6/br5NtFP3CeGicdEnHhOpInXxDjxnsgTn4lp4jvxB9Oq5ptPBgzdAAAAAElFTkSuQmCC";

pub struct Seed {
    pub experiment_id: String,
    /// The runs of f1_churn, by rising auc_test: logistic 0.65, tree 0.75, forest 0.82.
    pub runs: Vec<String>,
    pub hostile_experiment_id: String,
}

pub struct TestApp {
    pub state: AppState,
    pub seed: Seed,
    _db: ScratchSqlite,
    _artifacts: tempfile::TempDir,
}

impl TestApp {
    pub async fn start() -> TestApp {
        let db = ScratchSqlite::new();
        let store = SqlStore::connect(&db.uri(), "mlflow-artifacts:").await.expect("open the scratch store");
        let artifacts = tempfile::tempdir().expect("a temp dir");
        let repo = ArtifactRepo::local(artifacts.path()).expect("the artifact folder");
        let state = AppState {
            store: Arc::new(store),
            settings: Arc::new(Settings { serve_artifacts: true, multipart_uploads: false }),
            artifacts: Arc::new(repo),
        };
        let seed = seed(&state, artifacts.path()).await;
        TestApp { state, seed, _db: db, _artifacts: artifacts }
    }

    /// The API and the pages, as `pitwall server` serves them.
    pub fn router(&self) -> axum::Router {
        pitwall_registry::app_with(self.state.clone(), pitwall_ui::router())
    }
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(PNG_BASE64).unwrap()
}

const MLMODEL: &str = r#"flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "avgPosition", "required": true}, {"type": "double", "name": "qtRaces", "required": true}, {"type": "string", "name": "idTeam", "required": false}]'
  outputs: '[{"type": "double", "name": "probability", "required": true}]'
  params: null
"#;

async fn seed(state: &AppState, artifacts: &Path) -> Seed {
    let s = state.services();
    let now = chrono::Utc::now().timestamp_millis();
    let experiment_id = s.experiments().create("f1_churn", None, &[KeyValue::new("team", "data")]).await.unwrap();
    let mut runs = Vec::new();
    for (i, (model, auc)) in [("logistic", 0.65), ("tree", 0.75), ("forest", 0.82)].into_iter().enumerate() {
        let start = now - (3 - i as i64) * 600_000;
        let run = s
            .runs()
            .create(CreateRun {
                experiment_id: Some(experiment_id.clone()),
                user_id: Some("ana".into()),
                run_name: Some(format!("churn-{model}")),
                start_time: Some(start),
                tags: vec![KeyValue::new("mlflow.source.name", "pitwall train")],
            })
            .await
            .unwrap();
        let id = run.info.run_id.clone();
        let mut metrics =
            vec![Metric::new("auc_test", auc, start + 1000, 0), Metric::new("auc_train", auc + 0.1, start + 1000, 0)];
        // A training curve with a spike the charts must keep.
        metrics.extend((0..500).map(|step| {
            let v = if step == 250 { 5.0 } else { 1.0 / (1.0 + step as f64 * 0.05) + i as f64 * 0.05 };
            Metric::new("loss", v, start + step * 100, step)
        }));
        let params = [KeyValue::new("model", model), KeyValue::new("max_depth", (i + 3).to_string())];
        for chunk in metrics.chunks(1000) {
            s.runs().log_batch(&id, chunk, &[], &[]).await.unwrap();
        }
        s.runs().log_batch(&id, &[], &params, &[KeyValue::new("note", HOSTILE_VALUE)]).await.unwrap();
        s.runs()
            .update(
                &id,
                RunUpdate { status: Some(RunStatus::Finished), end_time: Some(start + 125_000), run_name: None },
            )
            .await
            .unwrap();
        let root = format!("{experiment_id}/{id}/artifacts");
        write(artifacts, &format!("{root}/model/MLmodel"), MLMODEL.as_bytes());
        write(artifacts, &format!("{root}/model/model.onnx"), b"not really onnx");
        write(
            artifacts,
            &format!("{root}/model/input_example.json"),
            br#"{"columns": ["avgPosition", "qtRaces", "idTeam"], "data": [[3.5, 40, "ferrari"]]}"#,
        );
        let mut csv = String::from("feature,importance\n");
        for k in 0..150 {
            csv.push_str(&format!("feature_{k},{}\n", 1.0 / (k + 1) as f64));
        }
        write(artifacts, &format!("{root}/feature_importance.csv"), csv.as_bytes());
        write(artifacts, &format!("{root}/plots/roc.png"), &png());
        runs.push(id);
    }

    let registry = s.model_registry();
    registry
        .create_model("f1_churn", &[KeyValue::new("owner", "ana")], Some("Driver churn, next season"))
        .await
        .unwrap();
    for run in [&runs[2], &runs[1]] {
        registry
            .create_version(CreateVersion {
                name: "f1_churn".into(),
                source: format!("runs:/{run}/model"),
                run_id: Some(run.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    registry.set_alias("f1_churn", "champion", "1").await.unwrap();
    registry.transition_stage("f1_churn", "1", "Production", false).await.unwrap();

    let hostile_experiment_id = s.experiments().create(HOSTILE_EXPERIMENT, None, &[]).await.unwrap();
    registry.create_model(HOSTILE_MODEL, &[KeyValue::new("note", HOSTILE_VALUE)], Some(HOSTILE_VALUE)).await.unwrap();
    registry
        .create_version(CreateVersion {
            name: HOSTILE_MODEL.into(),
            source: format!("runs:/{}/model", runs[0]),
            run_id: Some(runs[0].clone()),
            description: Some(HOSTILE_VALUE.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    registry.set_alias(HOSTILE_MODEL, "champion", "1").await.unwrap();
    Seed { experiment_id, runs, hostile_experiment_id }
}
