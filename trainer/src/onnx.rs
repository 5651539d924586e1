//! The model as an ONNX graph that ONNX Runtime and MLflow's onnx flavor run.
//!
//! One input per feature-store column, `[N]` each, typed as the lake holds it: `int32`,
//! `int64` or `double` for the numbers and `string` for `idTeam` (MLflow's onnx pyfunc feeds
//! a DataFrame to a model of several inputs column by column, by name). The graph encodes them
//! as training did: numbers cast to double, NaNs replaced by the missing-value constant,
//! `idTeam` one-hot over the training teams (`ai.onnx.ml` `OneHotEncoder`, an unknown team all
//! zeros). One output, [`OUTPUT`]: the churn probability, `double [N, 1]` (the pyfunc returns it
//! as that column). Models written before typed inputs took one `double [N, F]` matrix of the
//! encoded columns, [`INPUT`]; they are still read.
//!
//! Tree ensembles use `ai.onnx.ml` `TreeEnsembleRegressor` with double thresholds and leaf
//! weights (`*_as_tensor`), so splits compare exactly as in memory; its sum is the logit, and
//! `Sigmoid` gives the probability. Logistic regressions are `MatMul` + `Add` + `Sigmoid`.

use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::tensor_proto::DataType;
use onnx_protobuf::tensor_shape_proto::{Dimension, dimension};
use onnx_protobuf::type_proto::{self, Tensor};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

use crate::boost::Boosted;
use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::inputs::ColumnType;
use crate::logistic::Logistic;
use crate::model::{ChurnModel, Classifier};
use crate::tree::{Comparison, Node};

/// The input of models written before typed inputs: the encoded matrix.
pub const INPUT: &str = "features";
/// The graph's output name: the churn probability.
pub const OUTPUT: &str = "pctProbaChurn";
/// ONNX IR version written (ONNX 1.12+, ONNX Runtime 1.12+).
const IR_VERSION: i64 = 8;
const OPSET: i64 = 17;
const ML_DOMAIN: &str = "ai.onnx.ml";
const ML_OPSET: i64 = 3;

/// The serialised ONNX model.
pub fn to_onnx_bytes(model: &ChurnModel) -> Result<Vec<u8>> {
    to_onnx(model)
        .write_to_bytes()
        .map_err(|e| TrainError::Serialise { what: "ONNX model".into(), reason: e.to_string() })
}

/// The ONNX model.
pub fn to_onnx(model: &ChurnModel) -> ModelProto {
    let mut g = GraphProto { name: "pitwall_churn".into(), ..Default::default() };
    g.output.push(value_info(OUTPUT, DataType::DOUBLE, &[None, Some(1)]));
    g.initializer.push(tensor_f64("missing_value", &[], vec![model.features.missing_value]));
    if model.features.typed() {
        encode_columns(&mut g, &model.features);
    } else {
        let width = model.features.width() as i64;
        g.input.push(value_info(INPUT, DataType::DOUBLE, &[None, Some(width)]));
        g.node.push(node("IsNaN", &[INPUT], &["is_missing"], vec![]));
        g.node.push(node("Where", &["is_missing", "missing_value", INPUT], &["x"], vec![]));
    }
    match &model.classifier {
        Classifier::TreeEnsemble(m) => tree_ensemble(&mut g, m),
        Classifier::Logistic(m) => logistic(&mut g, m),
    }
    g.node.push(node("Sigmoid", &["logit"], &[OUTPUT], vec![]));
    ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![opset("", OPSET), opset(ML_DOMAIN, ML_OPSET)],
        producer_name: "pitwall".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("churn probability ({}) of the F1 driver feature store", model.kind()),
        graph: Some(g).into(),
        metadata_props: vec![StringStringEntryProto {
            key: "pitwall.features".into(),
            value: model.features.names().join(","),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The typed inputs, one `[N]` tensor per column, encoded into `x`, the `double [N, F]` matrix
/// the classifier reads: the numbers as columns with missing values replaced, then the team's
/// one-hot indicators.
fn encode_columns(g: &mut GraphProto, spec: &FeatureSpec) {
    g.initializer.push(tensor_i64("column_axis", &[1], vec![1]));
    let mut columns = Vec::with_capacity(spec.numeric.len());
    for (name, kind) in spec.numeric.iter().zip(&spec.numeric_types) {
        let elem = match kind {
            ColumnType::Integer => DataType::INT32,
            ColumnType::Long => DataType::INT64,
            ColumnType::Double => DataType::DOUBLE,
        };
        g.input.push(value_info(name, elem, &[None]));
        let double = if *kind == ColumnType::Double {
            name.clone()
        } else {
            let cast = format!("{name}__double");
            g.node.push(node(
                "Cast",
                &[name.as_str()],
                &[cast.as_str()],
                vec![attr_int("to", DataType::DOUBLE as i64)],
            ));
            cast
        };
        let column = format!("{name}__column");
        g.node.push(node("Unsqueeze", &[double.as_str(), "column_axis"], &[column.as_str()], vec![]));
        columns.push(column);
    }
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    g.node.push(node("Concat", &refs, &["numeric"], vec![attr_int("axis", 1)]));
    g.node.push(node("IsNaN", &["numeric"], &["is_missing"], vec![]));
    g.node.push(node("Where", &["is_missing", "missing_value", "numeric"], &["numeric_filled"], vec![]));
    g.input.push(value_info(&spec.categorical, DataType::STRING, &[None]));
    if spec.categories.is_empty() {
        g.node.push(node("Identity", &["numeric_filled"], &["x"], vec![]));
        return;
    }
    let cats = spec.categories.iter().map(|c| c.as_bytes().to_vec()).collect();
    // zeros = 1: a team not among the categories encodes as all zeros instead of failing.
    let attrs = vec![attr_strings("cats_strings", cats), attr_int("zeros", 1)];
    let mut one_hot = node("OneHotEncoder", &[spec.categorical.as_str()], &["team_f32"], attrs);
    one_hot.domain = ML_DOMAIN.into();
    g.node.push(one_hot);
    g.node.push(node("Cast", &["team_f32"], &["team"], vec![attr_int("to", DataType::DOUBLE as i64)]));
    g.node.push(node("Concat", &["numeric_filled", "team"], &["x"], vec![attr_int("axis", 1)]));
}

/// A node of an exported tree: a split on `feature` (`BRANCH_LEQ` or `BRANCH_LT`) to the
/// `true_id` / `false_id` nodes of the same tree, or a leaf adding `weight` to the logit.
enum OnnxNode {
    Split { feature: usize, threshold: f64, comparison: Comparison, true_id: usize, false_id: usize },
    Leaf { weight: f64 },
}

fn tree_ensemble(g: &mut GraphProto, m: &Boosted) {
    let trees = stumps_by_feature(m).unwrap_or_else(|| one_per_tree(m));
    let (mut tree_ids, mut node_ids, mut feature_ids, mut modes) = (vec![], vec![], vec![], vec![]);
    let (mut values, mut true_ids, mut false_ids) = (vec![], vec![], vec![]);
    let (mut t_tree, mut t_node, mut t_weight) = (vec![], vec![], vec![]);
    for (t, tree) in trees.iter().enumerate() {
        for (i, n) in tree.iter().enumerate() {
            tree_ids.push(t as i64);
            node_ids.push(i as i64);
            match n {
                OnnxNode::Split { feature, threshold, comparison, true_id, false_id } => {
                    feature_ids.push(*feature as i64);
                    modes.push(match comparison {
                        Comparison::LessOrEqual => b"BRANCH_LEQ".to_vec(),
                        Comparison::Less => b"BRANCH_LT".to_vec(),
                    });
                    values.push(*threshold);
                    true_ids.push(*true_id as i64);
                    false_ids.push(*false_id as i64);
                }
                OnnxNode::Leaf { weight } => {
                    feature_ids.push(0);
                    modes.push(b"LEAF".to_vec());
                    values.push(0.0);
                    true_ids.push(0);
                    false_ids.push(0);
                    t_tree.push(t as i64);
                    t_node.push(i as i64);
                    t_weight.push(*weight);
                }
            }
        }
    }
    let n_targets = t_tree.len();
    let attrs = vec![
        attr_ints("nodes_treeids", tree_ids),
        attr_ints("nodes_nodeids", node_ids),
        attr_ints("nodes_featureids", feature_ids),
        attr_strings("nodes_modes", modes),
        attr_tensor("nodes_values_as_tensor", tensor_f64("", &[values.len() as i64], values)),
        attr_ints("nodes_truenodeids", true_ids),
        attr_ints("nodes_falsenodeids", false_ids),
        attr_ints("target_treeids", t_tree),
        attr_ints("target_nodeids", t_node),
        attr_ints("target_ids", vec![0; n_targets]),
        attr_tensor("target_weights_as_tensor", tensor_f64("", &[n_targets as i64], t_weight)),
        attr_int("n_targets", 1),
        attr_string("aggregate_function", "SUM"),
        attr_string("post_transform", "NONE"),
    ];
    let mut ensemble = node("TreeEnsembleRegressor", &["x"], &["logit_f32"], attrs);
    ensemble.domain = ML_DOMAIN.into();
    g.node.push(ensemble);
    // The regressor's output is float; the sum itself is taken in double over double weights.
    g.node.push(node("Cast", &["logit_f32"], &["logit"], vec![attr_int("to", DataType::DOUBLE as i64)]));
}

/// Each boosted tree as it is, its leaves weighted by the tree's share of the logit.
fn one_per_tree(m: &Boosted) -> Vec<Vec<OnnxNode>> {
    m.trees
        .iter()
        .enumerate()
        .map(|(t, tree)| {
            tree.nodes
                .iter()
                .map(|n| match n {
                    Node::Split { feature, threshold, comparison, left, right, .. } => OnnxNode::Split {
                        feature: *feature,
                        threshold: *threshold,
                        comparison: *comparison,
                        true_id: *left,
                        false_id: *right,
                    },
                    Node::Leaf { class } => OnnxNode::Leaf { weight: m.leaf_value(t, *class) },
                })
                .collect()
        })
        .collect()
}

/// One split of a stump: its test, and what it adds to the logit on either side.
struct Cut {
    threshold: f64,
    comparison: Comparison,
    left: f64,
    right: f64,
}

impl Cut {
    /// Cuts in the order in which their tests become true as x decreases: at one threshold,
    /// `x < t` implies `x <= t`, so `Less` comes first. The tests are then nested: a cut's
    /// test being true makes every later cut's true.
    fn order(&self) -> (f64, u8) {
        (self.threshold, if self.comparison == Comparison::Less { 0 } else { 1 })
    }
}

/// An ensemble of stumps (the default model: a thousand depth-1 trees) as one tree per feature.
/// The stumps on one feature add up to a step function of that feature, which a balanced
/// search tree over their thresholds gives exactly: the same sum with a tenth of the trees and
/// a few comparisons per feature, which is what ONNX Runtime's time goes into. `None` when
/// some tree is deeper than a stump.
fn stumps_by_feature(m: &Boosted) -> Option<Vec<Vec<OnnxNode>>> {
    let mut by_feature: std::collections::BTreeMap<usize, Vec<Cut>> = std::collections::BTreeMap::new();
    for (t, tree) in m.trees.iter().enumerate() {
        let Some(Node::Split { feature, threshold, comparison, left, right, .. }) = tree.nodes.first() else {
            return None;
        };
        let (Some(Node::Leaf { class: l }), Some(Node::Leaf { class: r })) =
            (tree.nodes.get(*left), tree.nodes.get(*right))
        else {
            return None;
        };
        by_feature.entry(*feature).or_default().push(Cut {
            threshold: *threshold,
            comparison: *comparison,
            left: m.leaf_value(t, *l),
            right: m.leaf_value(t, *r),
        });
    }
    let mut trees = Vec::with_capacity(by_feature.len());
    for (feature, mut cuts) in by_feature {
        cuts.sort_by(|a, b| a.order().partial_cmp(&b.order()).unwrap_or(std::cmp::Ordering::Equal));
        // Interval i lies below cut i and above cut i-1: cuts j >= i send x left, cuts j < i right.
        let mut below: Vec<f64> = vec![0.0; cuts.len() + 1];
        for (j, c) in cuts.iter().enumerate() {
            below[j + 1] = below[j] + c.right;
        }
        let mut above = vec![0.0; cuts.len() + 1];
        for j in (0..cuts.len()).rev() {
            above[j] = above[j + 1] + cuts[j].left;
        }
        let weights: Vec<f64> = (0..=cuts.len()).map(|i| below[i] + above[i]).collect();
        let mut nodes = Vec::with_capacity(2 * cuts.len() + 1);
        search_tree(&mut nodes, feature, &cuts, &weights, 0, cuts.len());
        trees.push(nodes);
    }
    Some(trees)
}

/// Appends the search tree over intervals `first..=last` to `nodes`; answers its root's id.
fn search_tree(
    nodes: &mut Vec<OnnxNode>,
    feature: usize,
    cuts: &[Cut],
    weights: &[f64],
    first: usize,
    last: usize,
) -> usize {
    let id = nodes.len();
    if first == last {
        nodes.push(OnnxNode::Leaf { weight: weights[first] });
        return id;
    }
    let mid = (first + last - 1) / 2;
    nodes.push(OnnxNode::Leaf { weight: 0.0 });
    let true_id = search_tree(nodes, feature, cuts, weights, first, mid);
    let false_id = search_tree(nodes, feature, cuts, weights, mid + 1, last);
    let cut = &cuts[mid];
    nodes[id] = OnnxNode::Split { feature, threshold: cut.threshold, comparison: cut.comparison, true_id, false_id };
    id
}

fn logistic(g: &mut GraphProto, m: &Logistic) {
    let w = m.coefficients.clone();
    g.initializer.push(tensor_f64("coefficients", &[w.len() as i64, 1], w));
    g.initializer.push(tensor_f64("intercept", &[1], vec![m.intercept]));
    g.node.push(node("MatMul", &["x", "coefficients"], &["xw"], vec![]));
    g.node.push(node("Add", &["xw", "intercept"], &["logit"], vec![]));
}

fn opset(domain: &str, version: i64) -> OperatorSetIdProto {
    OperatorSetIdProto { domain: domain.into(), version, ..Default::default() }
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: format!("{op}_{}", outputs[0]),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

fn value_info(name: &str, elem: DataType, dims: &[Option<i64>]) -> ValueInfoProto {
    let shape = TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                value: Some(match d {
                    Some(v) => dimension::Value::DimValue(*v),
                    None => dimension::Value::DimParam("N".into()),
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let tensor = Tensor { elem_type: elem as i32, shape: Some(shape).into(), ..Default::default() };
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }).into(),
        ..Default::default()
    }
}

fn tensor_f64(name: &str, dims: &[i64], data: Vec<f64>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::DOUBLE as i32,
        double_data: data,
        ..Default::default()
    }
}

fn tensor_i64(name: &str, dims: &[i64], data: Vec<i64>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::INT64 as i32,
        int64_data: data,
        ..Default::default()
    }
}

fn attr(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto { name: name.into(), type_: kind.into(), ..Default::default() }
}

fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { i: v, ..attr(name, AttributeType::INT) }
}

fn attr_ints(name: &str, v: Vec<i64>) -> AttributeProto {
    AttributeProto { ints: v, ..attr(name, AttributeType::INTS) }
}

fn attr_string(name: &str, v: &str) -> AttributeProto {
    AttributeProto { s: v.as_bytes().to_vec(), ..attr(name, AttributeType::STRING) }
}

fn attr_strings(name: &str, v: Vec<Vec<u8>>) -> AttributeProto {
    AttributeProto { strings: v, ..attr(name, AttributeType::STRINGS) }
}

fn attr_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto { t: Some(t).into(), ..attr(name, AttributeType::TENSOR) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureSpec;
    use crate::tree::Tree;

    #[test]
    fn the_graph_takes_typed_columns_and_gives_the_probability() {
        let model = ChurnModel {
            features: FeatureSpec {
                numeric: vec!["a".into()],
                numeric_types: vec![ColumnType::Long],
                categorical: "idTeam".into(),
                categories: vec!["ferrari".into()],
                missing_value: -1.0,
            },
            classifier: Classifier::TreeEnsemble(Boosted {
                trees: vec![Tree {
                    nodes: vec![
                        Node::Split {
                            feature: 0,
                            threshold: 0.5,
                            comparison: Comparison::LessOrEqual,
                            left: 1,
                            right: 2,
                            gain: 1.0,
                        },
                        Node::Leaf { class: 0 },
                        Node::Leaf { class: 1 },
                    ],
                }],
                alphas: vec![0.3],
                n_features: 2,
            }),
        };
        let bytes = to_onnx_bytes(&model).unwrap();
        let back = ModelProto::parse_from_bytes(&bytes).unwrap();
        let g = back.graph.as_ref().unwrap();
        let inputs: Vec<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(inputs, ["a", "idTeam"]);
        assert_eq!(g.output[0].name, OUTPUT);
        assert!(g.node.iter().any(|n| n.op_type == "OneHotEncoder" && n.domain == ML_DOMAIN));
        let ens = g.node.iter().find(|n| n.op_type == "TreeEnsembleRegressor").unwrap();
        assert_eq!(ens.domain, ML_DOMAIN);
        let weights = ens.attribute.iter().find(|a| a.name == "target_weights_as_tensor").unwrap();
        assert_eq!(weights.t.double_data, vec![-2.0, 2.0]);
    }

    /// The logit of row `x` by exported trees, walked as ONNX Runtime walks them.
    fn walk(trees: &[Vec<OnnxNode>], x: &[f64]) -> f64 {
        trees
            .iter()
            .map(|nodes| {
                let mut i = 0;
                loop {
                    match &nodes[i] {
                        OnnxNode::Leaf { weight } => break *weight,
                        OnnxNode::Split { feature, threshold, comparison, true_id, false_id } => {
                            let goes_true = match comparison {
                                Comparison::LessOrEqual => x[*feature] <= *threshold,
                                Comparison::Less => x[*feature] < *threshold,
                            };
                            i = if goes_true { *true_id } else { *false_id };
                        }
                    }
                }
            })
            .sum()
    }

    fn stump(feature: usize, threshold: f64, comparison: Comparison, left: u8) -> Tree {
        Tree {
            nodes: vec![
                Node::Split { feature, threshold, comparison, left: 1, right: 2, gain: 1.0 },
                Node::Leaf { class: left },
                Node::Leaf { class: 1 - left },
            ],
        }
    }

    #[test]
    fn stumps_merged_per_feature_sum_to_the_same_logit_even_on_the_thresholds() {
        // Repeated thresholds, both comparisons at one threshold, and rows exactly on them.
        let thresholds = [0.5, 1.5, 1.5, -2.0, 3.25, 0.5, 1.5, 7.0];
        let mut trees = Vec::new();
        let mut alphas = Vec::new();
        for (i, &t) in thresholds.iter().enumerate() {
            let comparison = if i % 3 == 0 { Comparison::Less } else { Comparison::LessOrEqual };
            trees.push(stump(i % 3, t, comparison, (i % 2) as u8));
            alphas.push(0.1 + i as f64 * 0.07);
        }
        let m = Boosted { trees, alphas, n_features: 3 };
        let merged = stumps_by_feature(&m).expect("all stumps");
        assert_eq!(merged.len(), 3, "one tree per feature");
        let per_tree = one_per_tree(&m);
        let mut values: Vec<f64> = thresholds.iter().flat_map(|t| [t - 0.25, *t, t + 0.25]).collect();
        values.extend([-100.0, 100.0]);
        for &a in &values {
            for &b in &values {
                for &c in &[0.5, 1.5, -3.0] {
                    let x = [a, b, c];
                    let (want, got) = (walk(&per_tree, &x), walk(&merged, &x));
                    assert!((want - got).abs() < 1e-12, "{x:?}: {want} vs {got}");
                }
            }
        }
    }

    #[test]
    fn deeper_trees_are_exported_one_by_one() {
        let mut deep = stump(0, 1.0, Comparison::LessOrEqual, 0);
        deep.nodes[1] =
            Node::Split { feature: 1, threshold: 2.0, comparison: Comparison::Less, left: 3, right: 4, gain: 0.5 };
        deep.nodes.extend([Node::Leaf { class: 0 }, Node::Leaf { class: 1 }]);
        let m = Boosted { trees: vec![deep], alphas: vec![1.0], n_features: 2 };
        assert!(stumps_by_feature(&m).is_none());
    }
}
