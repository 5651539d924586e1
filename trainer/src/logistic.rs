//! L2-regularised logistic regression (linfa-logistic) on standardised features. The
//! standardisation is folded into the coefficients, so the fitted model is one linear function
//! of the raw features.

use linfa::DatasetBase;
use linfa::prelude::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::boost::sigmoid;
use crate::error::{Result, TrainError};

/// Hyper-parameters of the logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// L2 penalty on the standardised coefficients.
    pub alpha: f64,
    pub max_iterations: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self { alpha: 1.0, max_iterations: 300 }
    }
}

/// A fitted logistic regression: churn logit = `intercept + Σ coefficients[j] · x[j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    /// Coefficients on the standardised features: their magnitudes compare.
    pub standardised: Vec<f64>,
}

impl Logistic {
    pub fn fit(x: &Array2<f64>, y: &[u8], params: &LogisticParams) -> Result<Self> {
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(x.ncols()));
        let std = x.std_axis(Axis(0), 0.0).mapv(|s| if s > 0.0 { s } else { 1.0 });
        let z = (x - &mean) / &std;
        let targets: Array1<bool> = y.iter().map(|&c| c == 1).collect();
        let fitted = LogisticRegression::default()
            .alpha(params.alpha)
            .max_iterations(params.max_iterations)
            .fit(&DatasetBase::new(z, targets))
            .map_err(|e| TrainError::Fit { model: "logistic regression", reason: e.to_string() })?;
        // linfa-logistic models the probability of its "positive" class: make that churn.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        let standardised: Vec<f64> = fitted.params().iter().map(|w| sign * w).collect();
        let coefficients: Vec<f64> = standardised.iter().zip(std.iter()).map(|(w, s)| w / s).collect();
        let intercept =
            sign * fitted.intercept() - coefficients.iter().zip(mean.iter()).map(|(w, m)| w * m).sum::<f64>();
        Ok(Self { coefficients, intercept, standardised })
    }

    /// The churn probability of each row.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        x.rows()
            .into_iter()
            .map(|row| sigmoid(self.intercept + row.iter().zip(&self.coefficients).map(|(v, w)| v * w).sum::<f64>()))
            .collect()
    }

    /// Importances: the absolute standardised coefficients, normalised to sum to 1.
    pub fn importances(&self) -> Vec<f64> {
        let total: f64 = self.standardised.iter().map(|w| w.abs()).sum();
        self.standardised.iter().map(|w| if total > 0.0 { w.abs() / total } else { 0.0 }).collect()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn the_folded_model_ranks_like_the_signal() {
        let x = array![[1.0, 100.0], [2.0, 100.0], [3.0, 100.0], [4.0, 100.0], [5.0, 100.0], [6.0, 100.0]];
        let y = [0, 0, 1, 0, 1, 1];
        let model = Logistic::fit(&x, &y, &LogisticParams::default()).unwrap();
        let p = model.predict_proba(x.view());
        assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        assert!(model.coefficients[0] > 0.0);
        assert_eq!(model.importances()[1], 0.0);
    }
}
