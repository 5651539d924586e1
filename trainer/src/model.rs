//! A fitted churn model: the feature encoding and the classifier, with what predicts and
//! explains it in memory.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::boost::Boosted;
use crate::features::FeatureSpec;
use crate::logistic::Logistic;

/// The classifier of a churn model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Classifier {
    /// AdaBoost over shallow trees.
    TreeEnsemble(Boosted),
    /// Logistic regression.
    Logistic(Logistic),
}

/// A churn model: rows → features → churn probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnModel {
    pub features: FeatureSpec,
    pub classifier: Classifier,
}

impl ChurnModel {
    /// Churn probabilities of encoded rows (see [`FeatureSpec::matrix`]).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        match &self.classifier {
            Classifier::TreeEnsemble(m) => m.predict_proba(x),
            Classifier::Logistic(m) => m.predict_proba(x),
        }
    }

    /// (feature name, importance), most important first.
    pub fn importances(&self) -> Vec<(String, f64)> {
        let values = match &self.classifier {
            Classifier::TreeEnsemble(m) => m.importances(),
            Classifier::Logistic(m) => m.importances(),
        };
        let mut out: Vec<(String, f64)> = self.features.names().into_iter().zip(values).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// A short name of the classifier kind, as `--model` spells it.
    pub fn kind(&self) -> &'static str {
        match self.classifier {
            Classifier::TreeEnsemble(_) => "tree-ensemble",
            Classifier::Logistic(_) => "logistic",
        }
    }
}
