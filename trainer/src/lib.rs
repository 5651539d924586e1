//! Churn model training and scoring for the F1 lake.
//!
//! Training reads the ABT (`analytics/f1/abt_churn`), one-hot encodes `idTeam`, splits by
//! (driver, season), fits AdaBoost over shallow trees or a logistic regression, and writes an
//! MLflow model directory (ONNX flavor) with the run's artifacts. Scoring runs that ONNX model
//! with ONNX Runtime over the feature store and writes `analytics/f1/model_churn`.
//!
//! ```no_run
//! # async fn run() -> pitwall_trainer::Result<()> {
//! use pitwall_lake::{Lake, LakeConfig};
//! use pitwall_trainer::{ModelSource, TrainOptions, score_churn, train_churn};
//! let lake = Lake::open(&LakeConfig::new("./pitwall-data/lake"))?;
//! let report = train_churn(&lake, &TrainOptions::default(), "./run".as_ref(), |_| {}).await?;
//! println!("{:?}", report.trained.metrics());
//! let source = ModelSource::Directory { dir: report.files.model_dir.clone(), version: 1 };
//! println!("{}", score_churn(&lake, &source, None).await?);
//! # Ok(()) }
//! ```

pub mod boost;
pub mod client;
mod error;
pub mod feature_rows;
pub mod features;
pub mod frame;
pub mod inputs;
pub mod logistic;
pub mod metrics;
pub mod mlmodel;
pub mod model;
pub mod onnx;
pub mod plots;
pub mod publish;
pub mod runtime;
pub mod score;
pub mod seasons;
pub mod select;
pub mod serve;
pub mod split;
pub mod train;
pub mod tree;
pub mod workflow;

pub use boost::{BoostParams, Learner};
pub use error::{Result, TrainError};
pub use logistic::LogisticParams;
pub use model::{ChurnModel, Classifier};
pub use score::{MODEL_CHURN, ModelSource, ScoreReport, score_churn};
pub use select::{Candidate, Search, Selection};
pub use train::{ModelKind, OutOfTime, RunFiles, TrainOptions, TrainReport, Trained, train, train_churn};
pub use workflow::{
    Dirs, JobEvents, PublishTo, Published, TrainOutcome, VersionRef, fetch_and_score, fetch_version, train_and_publish,
};
