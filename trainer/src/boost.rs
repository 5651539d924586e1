//! AdaBoost (SAMME, two classes) over shallow decision trees, as scikit-learn's
//! `AdaBoostClassifier` fits it: each round fits a tree to the weighted rows, weighs the tree
//! by its error and raises the weight of the rows it got wrong.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::tree::{LinfaTree, Presorted, Tree, WeakLearner};

/// Which tree fitter the rounds use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Learner {
    /// Columns sorted once for all rounds (fast).
    Presorted,
    /// linfa-trees' `DecisionTree`, fitted from scratch each round.
    Linfa,
}

/// Hyper-parameters of the boosted ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostParams {
    pub n_estimators: usize,
    pub learning_rate: f64,
    /// Depth of each tree (1: stumps).
    pub max_depth: usize,
    pub learner: Learner,
}

/// What rolling-origin validation chose on the F1DB lake (README, "Choosing the defaults"); a
/// training run chooses again on its own data.
impl Default for BoostParams {
    fn default() -> Self {
        Self { n_estimators: 200, learning_rate: 0.1, max_depth: 1, learner: Learner::Presorted }
    }
}

/// A fitted ensemble: trees with their weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boosted {
    pub trees: Vec<Tree>,
    pub alphas: Vec<f64>,
    pub n_features: usize,
}

impl Boosted {
    /// Fits `params.n_estimators` rounds (fewer when a tree is perfect or no better than chance).
    pub fn fit(x: &Array2<f64>, y: &[u8], params: &BoostParams, mut on_round: impl FnMut(usize)) -> Result<Self> {
        if params.n_estimators == 0
            || params.max_depth == 0
            || params.learning_rate.is_nan()
            || params.learning_rate <= 0.0
        {
            return Err(TrainError::Settings(format!(
                "boosting needs n_estimators ≥ 1, max_depth ≥ 1 and learning_rate > 0 (got {params:?})"
            )));
        }
        let n = y.len();
        let learner: Box<dyn WeakLearner + '_> = match params.learner {
            Learner::Presorted => Box::new(Presorted::new(x, params.max_depth)),
            Learner::Linfa => Box::new(LinfaTree::new(x, params.max_depth)),
        };
        let mut weights = vec![1.0 / n as f64; n];
        let mut trees = Vec::new();
        let mut alphas = Vec::new();
        for round in 0..params.n_estimators {
            let tree = learner.fit(y, &weights)?;
            let incorrect: Vec<bool> =
                x.rows().into_iter().zip(y).map(|(row, &c)| tree.predict_row(row) != c).collect();
            let total: f64 = weights.iter().sum();
            let error: f64 =
                weights.iter().zip(&incorrect).filter(|(_, bad)| **bad).map(|(w, _)| w).sum::<f64>() / total;
            on_round(round);
            if error <= 0.0 {
                // A perfect tree: it decides alone (scikit-learn stops here with weight 1).
                trees.push(tree);
                alphas.push(1.0);
                break;
            }
            if error >= 0.5 {
                // No better than chance: boosting cannot go on.
                if trees.is_empty() {
                    return Err(TrainError::Fit {
                        model: "tree ensemble",
                        reason: format!("the first tree's weighted error is {error:.3}: no better than chance"),
                    });
                }
                break;
            }
            let alpha = params.learning_rate * ((1.0 - error) / error).ln();
            trees.push(tree);
            alphas.push(alpha);
            if round + 1 == params.n_estimators {
                break;
            }
            let boost = alpha.exp();
            for (w, bad) in weights.iter_mut().zip(&incorrect) {
                if *bad {
                    *w *= boost;
                }
            }
            let sum: f64 = weights.iter().sum();
            if !sum.is_finite() || sum <= 0.0 {
                break;
            }
            weights.iter_mut().for_each(|w| *w /= sum);
        }
        Ok(Self { trees, alphas, n_features: x.ncols() })
    }

    /// The leaf value tree `m` adds to the churn logit for `class`: the ensemble's logit is
    /// 2 · Σ α_m s_m / Σ α_m with s = +1 for churn, −1 otherwise (scikit-learn's SAMME
    /// decision function, whose probability is the logistic of it).
    pub fn leaf_value(&self, m: usize, class: u8) -> f64 {
        let total: f64 = self.alphas.iter().sum();
        let s = if class == 1 { 1.0 } else { -1.0 };
        2.0 * self.alphas[m] * s / total
    }

    /// The churn probability of each row.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Vec<f64> {
        // Σ α once, not once per tree and row as `leaf_value` would.
        let total: f64 = self.alphas.iter().sum();
        x.rows()
            .into_iter()
            .map(|row| {
                let logit: f64 = self
                    .trees
                    .iter()
                    .zip(&self.alphas)
                    .map(|(t, a)| 2.0 * a * if t.predict_row(row) == 1 { 1.0 } else { -1.0 } / total)
                    .sum();
                sigmoid(logit)
            })
            .collect()
    }

    /// Feature importances: each tree's, averaged with the tree weights.
    pub fn importances(&self) -> Vec<f64> {
        let total: f64 = self.alphas.iter().sum();
        let mut imp = vec![0.0; self.n_features];
        for (t, a) in self.trees.iter().zip(&self.alphas) {
            for (acc, v) in imp.iter_mut().zip(t.importances(self.n_features)) {
                *acc += a * v / total;
            }
        }
        imp
    }
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// Rows on a line whose label flips twice: no single stump separates them, a few do.
    fn problem() -> (Array2<f64>, Vec<u8>) {
        let xs: Vec<f64> = (0..30).map(f64::from).collect();
        let y: Vec<u8> = xs.iter().map(|&v| u8::from((10.0..20.0).contains(&v))).collect();
        (Array2::from_shape_vec((30, 1), xs).unwrap(), y)
    }

    #[test]
    fn boosting_stumps_learns_an_interval() {
        let (x, y) = problem();
        let params = BoostParams { n_estimators: 50, learning_rate: 1.0, ..BoostParams::default() };
        let model = Boosted::fit(&x, &y, &params, |_| {}).unwrap();
        let proba = model.predict_proba(x.view());
        let correct = proba.iter().zip(&y).filter(|(p, c)| (**p > 0.5) == (**c == 1)).count();
        assert_eq!(correct, 30, "{proba:?}");
        assert!(model.trees.len() > 2);
    }

    #[test]
    fn boosting_linfa_trees_learns_the_interval_too() {
        let (x, y) = problem();
        let params = BoostParams { n_estimators: 50, learning_rate: 1.0, learner: Learner::Linfa, max_depth: 2 };
        let model = Boosted::fit(&x, &y, &params, |_| {}).unwrap();
        let proba = model.predict_proba(x.view());
        let correct = proba.iter().zip(&y).filter(|(p, c)| (**p > 0.5) == (**c == 1)).count();
        assert_eq!(correct, 30, "{proba:?}");
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let (x, y) = problem();
        let params = BoostParams { n_estimators: 0, ..BoostParams::default() };
        assert!(matches!(Boosted::fit(&x, &y, &params, |_| {}), Err(TrainError::Settings(_))));
    }
}
