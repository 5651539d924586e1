//! Classification metrics: accuracy and the confusion matrix at a threshold, ROC curve and AUC.

use serde::{Deserialize, Serialize};

/// The probability above which a row is predicted as churn.
pub const THRESHOLD: f64 = 0.5;

/// Counts of a binary confusion matrix at [`THRESHOLD`] (churn is the positive class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub true_negative: u64,
    pub false_positive: u64,
    pub false_negative: u64,
    pub true_positive: u64,
}

impl Confusion {
    pub fn new(labels: &[u8], proba: &[f64]) -> Self {
        let mut c = Confusion { true_negative: 0, false_positive: 0, false_negative: 0, true_positive: 0 };
        for (&y, &p) in labels.iter().zip(proba) {
            match (y == 1, p > THRESHOLD) {
                (false, false) => c.true_negative += 1,
                (false, true) => c.false_positive += 1,
                (true, false) => c.false_negative += 1,
                (true, true) => c.true_positive += 1,
            }
        }
        c
    }

    pub fn total(&self) -> u64 {
        self.true_negative + self.false_positive + self.false_negative + self.true_positive
    }

    /// Share of rows predicted right; 0 for no rows.
    pub fn accuracy(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            n => (self.true_negative + self.true_positive) as f64 / n as f64,
        }
    }

    /// The matrix as CSV: rows are the actual class, columns the predicted one.
    pub fn to_csv(&self) -> String {
        format!(
            "actual,predicted_0,predicted_1\n0,{},{}\n1,{},{}\n",
            self.true_negative, self.false_positive, self.false_negative, self.true_positive
        )
    }
}

/// One point of a ROC curve: rows with a score ≥ `threshold` are predicted positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
    pub threshold: f64,
}

/// The ROC curve, one point per distinct score from the highest down, starting at (0, 0) with
/// an infinite threshold (as scikit-learn's `roc_curve` without dropping collinear points).
/// Empty when either class is absent.
pub fn roc_curve(labels: &[u8], scores: &[f64]) -> Vec<RocPoint> {
    let pos = labels.iter().filter(|&&y| y == 1).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = vec![RocPoint { fpr: 0.0, tpr: 0.0, threshold: f64::INFINITY }];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        let s = scores[order[k]];
        while k < order.len() && scores[order[k]] == s {
            if labels[order[k]] == 1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            k += 1;
        }
        points.push(RocPoint { fpr: fp / neg, tpr: tp / pos, threshold: s });
    }
    points
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting half (Mann–Whitney U; equal to scikit-learn's `roc_auc_score`).
/// `None` when either class is absent.
pub fn auc(labels: &[u8], scores: &[f64]) -> Option<f64> {
    let n = scores.len();
    let pos = labels.iter().filter(|&&y| y == 1).count();
    let neg = n - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (average, 1-based) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut k = 0;
    while k < n {
        let mut end = k;
        while end + 1 < n && scores[order[end + 1]] == scores[order[k]] {
            end += 1;
        }
        let avg_rank = (k + end) as f64 / 2.0 + 1.0;
        rank_sum += avg_rank * order[k..=end].iter().filter(|&&i| labels[i] == 1).count() as f64;
        k = end + 1;
    }
    let (pos, neg) = (pos as f64, neg as f64);
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Accuracy, AUC and confusion matrix of one set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetMetrics {
    pub rows: usize,
    pub accuracy: f64,
    pub auc: f64,
    pub confusion: Confusion,
}

impl SetMetrics {
    /// `None` when the set lacks one of the classes.
    pub fn new(labels: &[u8], proba: &[f64]) -> Option<Self> {
        let confusion = Confusion::new(labels, proba);
        Some(Self { rows: labels.len(), accuracy: confusion.accuracy(), auc: auc(labels, proba)?, confusion })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        // The values scikit-learn's roc_auc_score gives for these inputs.
        assert_eq!(auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
        assert_eq!(auc(&[0, 1, 0, 1], &[0.5, 0.5, 0.5, 0.5]), Some(0.5));
        assert_eq!(auc(&[0, 1], &[0.2, 0.9]), Some(1.0));
        assert_eq!(auc(&[1, 1], &[0.2, 0.9]), None);
    }

    #[test]
    fn roc_ends_at_one_one_and_matches_the_auc() {
        let labels = [0, 0, 1, 1, 0, 1];
        let scores = [0.1, 0.4, 0.35, 0.8, 0.8, 0.9];
        let roc = roc_curve(&labels, &scores);
        let last = roc.last().unwrap();
        assert_eq!((last.fpr, last.tpr), (1.0, 1.0));
        let trapezoids: f64 = roc.windows(2).map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0).sum();
        assert!((trapezoids - auc(&labels, &scores).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn confusion_uses_a_strict_threshold() {
        let c = Confusion::new(&[0, 1, 1, 0], &[0.5, 0.51, 0.2, 0.9]);
        assert_eq!(c, Confusion { true_negative: 1, false_positive: 1, false_negative: 1, true_positive: 1 });
        assert_eq!(c.accuracy(), 0.5);
    }
}
