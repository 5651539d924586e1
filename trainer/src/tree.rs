//! Binary decision trees on weighted rows: the weak learners of the boosted ensemble.
//!
//! [`Presorted`] fits them the way scikit-learn's `DecisionTreeClassifier` does (weighted Gini,
//! thresholds halfway between consecutive distinct values, `x <= threshold` goes left), with
//! every column sorted once for all the boosting rounds. [`LinfaTree`] fits them with
//! linfa-trees' `DecisionTree` instead (its own sorting on every fit, `x < threshold` goes left).

use linfa::DatasetBase;
use linfa::prelude::Fit;
use linfa_trees::{DecisionTree, SplitQuality, TreeNode};
use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Which way a split compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `x <= threshold` goes left.
    LessOrEqual,
    /// `x < threshold` goes left.
    Less,
}

/// A node of a [`Tree`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    Split {
        feature: usize,
        threshold: f64,
        comparison: Comparison,
        left: usize,
        right: usize,
        /// Weighted impurity decrease of this split (for feature importances).
        gain: f64,
    },
    Leaf {
        class: u8,
    },
}

/// A fitted tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The class predicted for one row.
    pub fn predict_row(&self, x: ArrayView1<f64>) -> u8 {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf { class } => return *class,
                Node::Split { feature, threshold, comparison, left, right, .. } => {
                    let goes_left = match comparison {
                        Comparison::LessOrEqual => x[*feature] <= *threshold,
                        Comparison::Less => x[*feature] < *threshold,
                    };
                    i = if goes_left { *left } else { *right };
                }
            }
        }
    }

    /// Feature importances: the gains per feature, normalised to sum to 1 (all zeros for a
    /// tree without splits).
    pub fn importances(&self, n_features: usize) -> Vec<f64> {
        let mut imp = vec![0.0; n_features];
        for node in &self.nodes {
            if let Node::Split { feature, gain, .. } = node {
                imp[*feature] += gain.max(0.0);
            }
        }
        let total: f64 = imp.iter().sum();
        if total > 0.0 {
            imp.iter_mut().for_each(|v| *v /= total);
        }
        imp
    }
}

/// Something that fits a tree to weighted rows.
pub trait WeakLearner {
    /// Fits to labels `y` (0/1) with positive `weights` that sum to 1.
    fn fit(&self, y: &[u8], weights: &[f64]) -> Result<Tree>;
}

/// Values closer than this are one value (scikit-learn's `FEATURE_THRESHOLD`).
const FEATURE_THRESHOLD: f64 = 1e-7;
/// Impurities below this are zero (scikit-learn's `EPSILON`).
const EPSILON: f64 = f64::EPSILON;

/// The columns of a feature matrix, each sorted once.
pub struct Presorted {
    /// Per feature, the row indices in ascending order of value.
    order: Vec<Vec<u32>>,
    /// Per feature, the values in that order.
    sorted: Vec<Vec<f64>>,
    max_depth: usize,
    n_rows: usize,
}

impl Presorted {
    pub fn new(x: &Array2<f64>, max_depth: usize) -> Self {
        let (n_rows, n_features) = x.dim();
        let mut order = Vec::with_capacity(n_features);
        let mut sorted = Vec::with_capacity(n_features);
        for j in 0..n_features {
            let col = x.column(j);
            let mut idx: Vec<u32> = (0..n_rows as u32).collect();
            idx.sort_by(|&a, &b| col[a as usize].total_cmp(&col[b as usize]));
            sorted.push(idx.iter().map(|&i| col[i as usize]).collect());
            order.push(idx);
        }
        Self { order, sorted, max_depth, n_rows }
    }
}

struct BestSplit {
    feature: usize,
    threshold: f64,
    /// Σ over children of (w0² + w1²) / W: the larger, the purer the children.
    proxy: f64,
}

impl WeakLearner for Presorted {
    fn fit(&self, y: &[u8], weights: &[f64]) -> Result<Tree> {
        let w1: Vec<f64> = weights.iter().zip(y).map(|(w, &c)| if c == 1 { *w } else { 0.0 }).collect();
        // Which node each row is in; the rows of a split node move to its children.
        let mut node_of = vec![0u32; self.n_rows];
        let mut nodes = vec![Node::Leaf { class: 0 }];
        // (node, depth, total weight, class-1 weight, rows)
        let total: f64 = weights.iter().sum();
        let total1: f64 = w1.iter().sum();
        let mut queue = vec![(0usize, 0usize, total, total1, self.n_rows)];
        while let Some((id, depth, w, wpos, count)) = queue.pop() {
            let wneg = w - wpos;
            let class = u8::from(wpos > wneg);
            nodes[id] = Node::Leaf { class };
            let impurity = 1.0 - (wpos * wpos + wneg * wneg) / (w * w);
            if depth >= self.max_depth || count < 2 || impurity <= EPSILON {
                continue;
            }
            let Some(best) = self.best_split(id as u32, &node_of, weights, &w1, w, wpos) else { continue };
            // Weighted impurity decrease, as scikit-learn's importances count it.
            let gain = (w - (wpos * wpos + wneg * wneg) / w) - (w - best.proxy);
            if gain + EPSILON < 0.0 {
                continue;
            }
            let (left, right) = (nodes.len(), nodes.len() + 1);
            nodes.push(Node::Leaf { class: 0 });
            nodes.push(Node::Leaf { class: 0 });
            let (mut lw, mut lpos, mut lcount) = (0.0, 0.0, 0);
            let (mut rw, mut rpos, mut rcount) = (0.0, 0.0, 0);
            let col = &self.order[best.feature];
            for (k, &row) in col.iter().enumerate() {
                let r = row as usize;
                if node_of[r] != id as u32 {
                    continue;
                }
                if self.sorted[best.feature][k] <= best.threshold {
                    node_of[r] = left as u32;
                    lw += weights[r];
                    lpos += w1[r];
                    lcount += 1;
                } else {
                    node_of[r] = right as u32;
                    rw += weights[r];
                    rpos += w1[r];
                    rcount += 1;
                }
            }
            nodes[id] = Node::Split {
                feature: best.feature,
                threshold: best.threshold,
                comparison: Comparison::LessOrEqual,
                left,
                right,
                gain,
            };
            queue.push((right, depth + 1, rw, rpos, rcount));
            queue.push((left, depth + 1, lw, lpos, lcount));
        }
        Ok(Tree { nodes })
    }
}

impl Presorted {
    fn best_split(
        &self,
        node: u32,
        node_of: &[u32],
        w: &[f64],
        w1: &[f64],
        total: f64,
        total1: f64,
    ) -> Option<BestSplit> {
        let mut best: Option<BestSplit> = None;
        let whole_table = node == 0;
        for (feature, (order, values)) in self.order.iter().zip(&self.sorted).enumerate() {
            let (mut lw, mut l1) = (0.0, 0.0);
            // The previous row of this node in sorted order: its value and position.
            let mut prev: Option<f64> = None;
            for (k, &row) in order.iter().enumerate() {
                let r = row as usize;
                if !whole_table && node_of[r] != node {
                    continue;
                }
                let v = values[k];
                if let Some(pv) = prev
                    && v > pv + FEATURE_THRESHOLD
                {
                    let rw = total - lw;
                    let r1 = total1 - l1;
                    let (l0, r0) = (lw - l1, rw - r1);
                    let proxy = (l1 * l1 + l0 * l0) / lw + (r1 * r1 + r0 * r0) / rw;
                    if best.as_ref().is_none_or(|b| proxy > b.proxy) {
                        let mut threshold = pv / 2.0 + v / 2.0;
                        if threshold == v || !threshold.is_finite() {
                            threshold = pv;
                        }
                        best = Some(BestSplit { feature, threshold, proxy });
                    }
                }
                lw += w[r];
                l1 += w1[r];
                prev = Some(v);
            }
        }
        best
    }
}

/// Trees fitted by linfa-trees' `DecisionTree` on the same rows.
pub struct LinfaTree<'a> {
    x: &'a Array2<f64>,
    max_depth: usize,
}

impl<'a> LinfaTree<'a> {
    pub fn new(x: &'a Array2<f64>, max_depth: usize) -> Self {
        Self { x, max_depth }
    }
}

impl WeakLearner for LinfaTree<'_> {
    fn fit(&self, y: &[u8], weights: &[f64]) -> Result<Tree> {
        let n = y.len() as f64;
        // linfa-trees keeps weights as f32 and compares leaf weights with absolute limits:
        // weights are scaled to a mean of 1 so that they stay well inside f32's range.
        let w: Array1<f32> = weights.iter().map(|&v| (v * n) as f32).collect();
        let targets: Array1<usize> = y.iter().map(|&c| usize::from(c)).collect();
        let data = DatasetBase::new(self.x.clone(), targets).with_weights(w);
        let fitted: DecisionTree<f64, usize> = DecisionTree::params()
            .split_quality(SplitQuality::Gini)
            .max_depth(Some(self.max_depth))
            .min_weight_split(2.0)
            // Positive, so that linfa-trees never evaluates a side left without rows (it
            // asserts on an empty side's impurity).
            .min_weight_leaf(1e-4)
            // Must be positive: linfa-trees expects a split to exist once this is reached.
            .min_impurity_decrease(1e-12)
            .fit(&data)
            .map_err(|e| TrainError::Fit { model: "linfa decision tree", reason: e.to_string() })?;
        let mut nodes = Vec::new();
        push_linfa_node(fitted.root_node(), &mut nodes);
        Ok(Tree { nodes })
    }
}

fn push_linfa_node(node: &TreeNode<f64, usize>, nodes: &mut Vec<Node>) -> usize {
    let id = nodes.len();
    nodes.push(Node::Leaf { class: 0 });
    let children = node.children();
    match (node.is_leaf(), children[0].as_deref(), children[1].as_deref()) {
        (false, Some(l), Some(r)) => {
            let (feature, threshold, gain) = node.split();
            let left = push_linfa_node(l, nodes);
            let right = push_linfa_node(r, nodes);
            nodes[id] = Node::Split { feature, threshold, comparison: Comparison::Less, left, right, gain };
        }
        _ => {
            let class = node.prediction().map_or(0, |c| u8::from(c == 1));
            nodes[id] = Node::Leaf { class };
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn a_stump_finds_the_separating_threshold_halfway() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [10.0, 5.0]];
        let y = [0, 0, 1, 1];
        let w = [0.25; 4];
        let tree = Presorted::new(&x, 1).fit(&y, &w).unwrap();
        match &tree.nodes[0] {
            Node::Split { feature, threshold, .. } => assert_eq!((*feature, *threshold), (0, 2.5)),
            other => panic!("expected a split, got {other:?}"),
        }
        let pred: Vec<u8> = x.rows().into_iter().map(|r| tree.predict_row(r)).collect();
        assert_eq!(pred, y);
        assert_eq!(tree.importances(2), vec![1.0, 0.0]);
    }

    #[test]
    fn weights_move_the_split() {
        let x = array![[1.0], [2.0], [3.0], [4.0]];
        let y = [0, 1, 0, 1];
        // With the last row dominant, the best stump isolates it.
        let tree = Presorted::new(&x, 1).fit(&y, &[0.1, 0.1, 0.1, 0.7]).unwrap();
        assert!(matches!(tree.nodes[0], Node::Split { threshold, .. } if threshold == 3.5));
    }

    #[test]
    fn presorted_and_linfa_trees_agree_on_a_clean_problem() {
        let x = array![[0.0, 1.0], [0.5, 0.0], [1.0, 1.0], [4.0, 0.0], [5.0, 1.0], [6.0, 0.0]];
        let y = [0, 0, 0, 1, 1, 1];
        let w = [1.0 / 6.0; 6];
        let a = Presorted::new(&x, 2).fit(&y, &w).unwrap();
        let b = LinfaTree::new(&x, 2).fit(&y, &w).unwrap();
        for row in x.rows() {
            assert_eq!(a.predict_row(row), b.predict_row(row));
        }
    }
}
