//! A typed client of the MLflow tracking REST API (the calls a training run makes), over the
//! wire types of `pitwall-openapi`. Talks to Pitwall's server or to MLflow's own.

use pitwall_openapi::{
    CreateExperiment, CreateExperimentResponse, CreateRun, Dataset, DatasetInput, ErrorCode, ErrorResponse,
    ExperimentResponse, KeyValue, LogBatch, LogInputs, Metric, RunInfo, RunKeyValue, RunResponse, RunStatus, UpdateRun,
    UpdateRunResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Result, TrainError};
use crate::train::{ABT_NAME, TrainOptions, Trained};

/// MLflow's limit of metrics + params + tags in one `log-batch`.
const BATCH_LIMIT: usize = 1000;
/// The metric whose history holds the AUC of each validation season and of the test season,
/// the season being the step.
pub const SEASON_AUC: &str = "auc_season";

/// A tracking server at `base` (e.g. `http://127.0.0.1:5000`).
#[derive(Debug, Clone)]
pub struct TrackingClient {
    base: Url,
    http: reqwest::Client,
}

impl TrackingClient {
    pub fn new(tracking_uri: &str) -> Result<Self> {
        let mut base = Url::parse(tracking_uri)
            .map_err(|e| TrainError::Settings(format!("tracking URI {tracking_uri:?}: {e}")))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        // A server that is down or unreachable fails the call quickly instead of hanging it;
        // transfers themselves have no deadline, as model files can be large.
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| TrainError::Http { rpc: "client".into(), reason: e.to_string() })?;
        Ok(Self { base, http })
    }

    fn url(&self, rpc: &str) -> Url {
        self.base.join(&format!("api/2.0/mlflow/{rpc}")).expect("an RPC path always joins onto the base")
    }

    pub(crate) async fn answer<T: DeserializeOwned>(rpc: &str, response: reqwest::Response) -> Result<T> {
        let status = response.status();
        let body = response.bytes().await.map_err(|e| http_error(rpc, &e))?;
        if !status.is_success() {
            return Err(refusal(rpc, status, &body));
        }
        serde_json::from_slice(&body)
            .map_err(|e| TrainError::Http { rpc: rpc.into(), reason: format!("unexpected answer: {e}") })
    }

    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(&self, rpc: &str, body: &B) -> Result<T> {
        let response = self.http.post(self.url(rpc)).json(body).send().await.map_err(|e| http_error(rpc, &e))?;
        Self::answer(rpc, response).await
    }

    pub(crate) async fn patch<B: Serialize, T: DeserializeOwned>(&self, rpc: &str, body: &B) -> Result<T> {
        let response = self.http.patch(self.url(rpc)).json(body).send().await.map_err(|e| http_error(rpc, &e))?;
        Self::answer(rpc, response).await
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, rpc: &str, query: &[(&str, &str)]) -> Result<T> {
        let response = self.http.get(self.url(rpc)).query(query).send().await.map_err(|e| http_error(rpc, &e))?;
        Self::answer(rpc, response).await
    }

    /// The proxy URL of `rel` under an `mlflow-artifacts:` root.
    fn artifact_url(&self, artifact_uri: &str, rel: &str) -> Result<Url> {
        let root = artifact_uri.strip_prefix("mlflow-artifacts:").ok_or_else(|| TrainError::Http {
            rpc: "mlflow-artifacts".into(),
            reason: format!("{artifact_uri} is not served by the tracking server's artifact proxy"),
        })?;
        let root = root.trim_start_matches('/');
        let path = if rel.is_empty() { root.to_owned() } else { format!("{root}/{rel}") };
        Ok(self.base.join(&format!("api/2.0/mlflow-artifacts/artifacts/{path}")).expect("a path always joins"))
    }

    /// PUT of one file through the artifact proxy.
    pub async fn put_artifact(&self, artifact_uri: &str, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let rpc = "mlflow-artifacts/artifacts";
        let response = self
            .http
            .put(self.artifact_url(artifact_uri, rel)?)
            .body(bytes)
            .send()
            .await
            .map_err(|e| http_error(rpc, &e))?;
        // MLflow answers an upload with an empty body, Pitwall with `{}`: only the status counts.
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.map_err(|e| http_error(rpc, &e))?;
            return Err(refusal(rpc, status, &body));
        }
        Ok(())
    }

    /// Fails unless the tracking server answers its health check.
    pub async fn check(&self) -> Result<()> {
        let rpc = "health";
        let url = self.base.join("health").expect("a path always joins");
        let response = self.http.get(url).send().await.map_err(|e| http_error(rpc, &e))?;
        if !response.status().is_success() {
            return Err(TrainError::Http {
                rpc: rpc.into(),
                reason: format!("{} answered HTTP {}", self.base, response.status()),
            });
        }
        Ok(())
    }

    /// One directory of the artifact proxy.
    pub(crate) async fn list_proxied<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let rpc = "mlflow-artifacts/artifacts";
        let url = self.base.join("api/2.0/mlflow-artifacts/artifacts").expect("a path always joins");
        let response = self.http.get(url).query(&[("path", path)]).send().await.map_err(|e| http_error(rpc, &e))?;
        Self::answer(rpc, response).await
    }

    /// GET of one file through the artifact proxy.
    pub async fn get_artifact(&self, artifact_uri: &str, rel: &str) -> Result<Vec<u8>> {
        let rpc = "mlflow-artifacts/artifacts";
        let response =
            self.http.get(self.artifact_url(artifact_uri, rel)?).send().await.map_err(|e| http_error(rpc, &e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| http_error(rpc, &e))?;
        if !status.is_success() {
            let message = String::from_utf8_lossy(&body).into_owned();
            return Err(TrainError::Tracking { rpc: rpc.into(), status: status.as_u16(), error_code: None, message });
        }
        Ok(body.to_vec())
    }

    /// The id of experiment `name`, created when it does not exist.
    pub async fn experiment_id(&self, name: &str) -> Result<String> {
        let rpc = "experiments/get-by-name";
        let response = self
            .http
            .get(self.url(rpc))
            .query(&[("experiment_name", name)])
            .send()
            .await
            .map_err(|e| http_error(rpc, &e))?;
        match Self::answer::<ExperimentResponse>(rpc, response).await {
            Ok(found) => Ok(found.experiment.experiment_id),
            Err(e) if e.is_refusal(&[ErrorCode::ResourceDoesNotExist]) => {
                let body = CreateExperiment { name: name.into(), ..Default::default() };
                let created: CreateExperimentResponse = self.post("experiments/create", &body).await?;
                Ok(created.experiment_id)
            }
            Err(e) => Err(e),
        }
    }

    /// `runs/create`.
    pub async fn create_run(&self, experiment_id: &str, run_name: &str, tags: Vec<KeyValue>) -> Result<RunInfo> {
        let body = CreateRun {
            experiment_id: Some(experiment_id.into()),
            run_name: Some(run_name.into()),
            start_time: Some(now_ms()),
            tags,
            ..Default::default()
        };
        let created: RunResponse = self.post("runs/create", &body).await?;
        Ok(created.run.info)
    }

    /// `runs/log-batch`, split into batches within MLflow's limits.
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: Vec<Metric>,
        params: Vec<KeyValue>,
        tags: Vec<KeyValue>,
    ) -> Result<()> {
        // Params first, 100 per call (MLflow's limit), then metrics and tags.
        for chunk in params.chunks(100) {
            let body = LogBatch { run_id: run_id.into(), params: chunk.to_vec(), ..Default::default() };
            let _: serde_json::Value = self.post("runs/log-batch", &body).await?;
        }
        for chunk in metrics.chunks(BATCH_LIMIT) {
            let body = LogBatch { run_id: run_id.into(), metrics: chunk.to_vec(), ..Default::default() };
            let _: serde_json::Value = self.post("runs/log-batch", &body).await?;
        }
        for chunk in tags.chunks(100) {
            let body = LogBatch { run_id: run_id.into(), tags: chunk.to_vec(), ..Default::default() };
            let _: serde_json::Value = self.post("runs/log-batch", &body).await?;
        }
        Ok(())
    }

    /// `runs/log-inputs` with datasets.
    pub async fn log_inputs(&self, run_id: &str, datasets: Vec<DatasetInput>) -> Result<()> {
        let body = LogInputs { run_id: run_id.into(), datasets, ..Default::default() };
        let _: serde_json::Value = self.post("runs/log-inputs", &body).await?;
        Ok(())
    }

    /// `runs/set-tag`.
    pub async fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        let body = RunKeyValue { run_id: run_id.into(), key: key.into(), value: value.into() };
        let _: serde_json::Value = self.post("runs/set-tag", &body).await?;
        Ok(())
    }

    /// `runs/update`: ends the run with `status`.
    pub async fn end_run(&self, run_id: &str, status: RunStatus) -> Result<RunInfo> {
        let body = UpdateRun { run_id: run_id.into(), status: Some(status), end_time: Some(now_ms()), run_name: None };
        let updated: UpdateRunResponse = self.post("runs/update", &body).await?;
        Ok(updated.run_info)
    }

    /// Logs a training run: a new run in `experiment` with the settings and the chosen
    /// hyper-parameters as params, the metrics (and [`SEASON_AUC`], one step per season), the
    /// ABT as a dataset input, and the model kind as a tag; the run is left
    /// RUNNING so that artifacts can be uploaded before [`TrackingClient::end_run`].
    pub async fn log_training(
        &self,
        experiment: &str,
        run_name: &str,
        options: &TrainOptions,
        trained: &Trained,
        abt_version: Option<i64>,
    ) -> Result<RunInfo> {
        let experiment_id = self.experiment_id(experiment).await?;
        let tags = vec![KeyValue::new("pitwall.model", trained.model.kind())];
        let info = self.create_run(&experiment_id, run_name, tags).await?;
        let ts = now_ms();
        let mut metrics: Vec<Metric> = trained.metrics().iter().map(|(k, v)| Metric::new(*k, *v, ts, 0)).collect();
        // One history whose steps are seasons, so that MLflow charts the AUC season by season.
        for (season, auc, _) in trained.oot.per_season() {
            metrics.push(Metric::new(SEASON_AUC, auc, ts, i64::from(season)));
        }
        let params = trained.params(options).into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
        self.log_batch(&info.run_id, metrics, params, vec![]).await?;
        let version = abt_version.map_or_else(|| "unknown".to_string(), |v| v.to_string());
        let dataset = Dataset {
            name: "abt_churn".into(),
            digest: format!("v{version}"),
            source_type: "delta_table".into(),
            source: serde_json::json!({ "path": ABT_NAME, "version": abt_version }).to_string(),
            schema: None,
            profile: Some(serde_json::json!({ "num_rows": trained.split.is_test.len() }).to_string()),
        };
        let input = DatasetInput { tags: vec![KeyValue::new("mlflow.data.context", "training")], dataset };
        self.log_inputs(&info.run_id, vec![input]).await?;
        Ok(info)
    }
}

/// A call the server refused: MLflow's error body when it sent one, else the body as text.
fn refusal(rpc: &str, status: reqwest::StatusCode, body: &[u8]) -> TrainError {
    let (error_code, message) = match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(e) => (Some(e.error_code), e.message),
        Err(_) => (None, String::from_utf8_lossy(body).into_owned()),
    };
    TrainError::Tracking { rpc: rpc.into(), status: status.as_u16(), error_code, message }
}

/// A transport error with its causes ("connection refused", "dns error" …), which the
/// error's own message leaves out.
fn http_error(rpc: &str, e: &reqwest::Error) -> TrainError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = cause.source();
    }
    TrainError::Http { rpc: rpc.into(), reason }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A one-connection-per-request HTTP server on 127.0.0.1 that answers each request with
    /// the next canned (status, body) and records (request line, body).
    /// (request line, body) of each request served.
    type Seen = Arc<Mutex<Vec<(String, String)>>>;

    fn server(answers: Vec<(u16, &'static str)>) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then as much body as Content-Length says.
                let (head, mut rest) = loop {
                    let n = stream.read(&mut chunk).unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break (String::from_utf8_lossy(&buf[..i]).into_owned(), buf[i + 4..].to_vec());
                    }
                };
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                while rest.len() < len {
                    let n = stream.read(&mut chunk).unwrap();
                    rest.extend_from_slice(&chunk[..n]);
                }
                let line = head.lines().next().unwrap().to_string();
                log.lock().unwrap().push((line, String::from_utf8_lossy(&rest).into_owned()));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(reply.as_bytes()).unwrap();
            }
        });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn a_missing_experiment_is_created_and_errors_keep_mlflows_code() {
        let (base, seen) = server(vec![
            (404, r#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no f1_churn"}"#),
            (200, r#"{"experiment_id":"7"}"#),
            (400, r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"bad key"}"#),
        ]);
        let client = TrackingClient::new(&base).unwrap();
        assert_eq!(client.experiment_id("f1_churn").await.unwrap(), "7");
        let err = client.set_tag("r1", "", "v").await.unwrap_err();
        assert!(
            matches!(
                &err,
                TrainError::Tracking { status: 400, error_code: Some(ErrorCode::InvalidParameterValue), .. }
            ),
            "{err}"
        );
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=f1_churn HTTP/1.1");
        assert_eq!(seen[1].0, "POST /api/2.0/mlflow/experiments/create HTTP/1.1");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&seen[1].1).unwrap(),
            serde_json::json!({"name": "f1_churn"})
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&seen[2].1).unwrap(),
            serde_json::json!({"run_id": "r1", "key": "", "value": "v"})
        );
    }

    #[tokio::test]
    async fn log_batch_sends_params_metrics_and_tags_within_the_limits() {
        let (base, seen) = server(vec![(200, "{}"); 4]);
        let client = TrackingClient::new(&format!("{base}/")).unwrap();
        let params: Vec<KeyValue> = (0..150).map(|i| KeyValue::new(format!("p{i}"), "1")).collect();
        let metrics = vec![Metric::new("auc_test", 0.9, 1, 0)];
        client.log_batch("r1", metrics, params, vec![KeyValue::new("t", "v")]).await.unwrap();
        let seen = seen.lock().unwrap();
        let bodies: Vec<serde_json::Value> = seen.iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect();
        assert_eq!(bodies.len(), 4);
        assert_eq!(bodies[0]["params"].as_array().unwrap().len(), 100);
        assert_eq!(bodies[1]["params"].as_array().unwrap().len(), 50);
        assert_eq!(bodies[2]["metrics"][0]["key"], "auc_test");
        assert_eq!(bodies[3]["tags"][0]["key"], "t");
    }
}
