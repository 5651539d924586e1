//! MLflow's search filter grammar and its compilation to SQL.
//!
//! A filter is `comparison [AND comparison]…`; each search kind (runs, experiments, registered
//! models, model versions) accepts its own identifiers and comparators and reports errors with
//! MLflow's own wording, because clients and MLflow's test-suite match on those texts.
//!
//! Every function here either appends SQL to a [`Sql`](crate::store::query::Sql) with all user
//! values as binds, or returns a [`SearchError`]; none panics on any input.

mod compile;
mod error;
pub mod experiments;
pub mod filter;
mod lexer;
pub mod logged_models;
pub mod order_by;
pub mod page_token;
pub(crate) mod pyrepr;
pub mod registry;
pub mod runs;

#[cfg(test)]
mod testdb;

pub use error::SearchError;
pub use experiments::{experiments_order_by, experiments_where};
pub use filter::{Comparison, Entity, Key, Op, Value};
pub use order_by::OrderKey;
pub use runs::{RunOrder, runs_order_by, runs_sort_joins, runs_where};

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::query::Sql;

    /// Fragments of filters, valid and not, so that generated strings reach deep parser states.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("metrics.acc".to_owned()),
            Just("params.`a b`".to_owned()),
            Just("tags.\"x.y\"".to_owned()),
            Just("attributes.start_time".to_owned()),
            Just("run_id".to_owned()),
            Just("datasets.context".to_owned()),
            Just("name".to_owned()),
            Just("experiment_id".to_owned()),
            Just("`Run name`".to_owned()),
            Just("AND".to_owned()),
            Just("or".to_owned()),
            Just("NOT".to_owned()),
            Just("IN".to_owned()),
            Just("IS".to_owned()),
            Just("NULL".to_owned()),
            Just("LIKE".to_owned()),
            Just("ilike".to_owned()),
            Just("=".to_owned()),
            Just("!=".to_owned()),
            Just(">=".to_owned()),
            Just("<".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(",".to_owned()),
            Just(";".to_owned()),
            Just("'".to_owned()),
            Just("`".to_owned()),
            Just("\"".to_owned()),
            Just(".".to_owned()),
            Just("-".to_owned()),
            "'[^']{0,4}'",
            "-?[0-9]{1,3}(\\.[0-9]{0,2})?(e-?[0-9])?",
            "[a-zé_.$]{1,5}",
        ]
    }

    fn grammar_shaped() -> impl Strategy<Value = String> {
        prop::collection::vec((fragment(), prop_oneof![Just(""), Just(" ")]), 0..12)
            .prop_map(|parts| parts.into_iter().map(|(f, sep)| f + sep).collect())
    }

    fn exercise(s: &str) {
        let mut sql = Sql::new("");
        let _ = runs_where(s, &mut sql);
        let _ = experiments_where(s, &mut sql);
        let _ = runs_sort_joins(&[s.to_owned()], &mut sql);
        let _ = runs_order_by(&[s.to_owned()], &mut sql);
        let _ = experiments_order_by(&[s.to_owned()], &mut sql);
        let _ = registry::parse_registered_models_filter(s);
        let _ = registry::parse_model_versions_filter(s);
        let _ = registry::parse_registered_models_order_by(&[s.to_owned()]);
        let _ = registry::parse_model_versions_order_by(&[s.to_owned()]);
        let _ = registry::registered_models_where(s, &mut sql);
        let _ = registry::model_versions_where(s, &mut sql);
        let _ = registry::registered_models_order_by(&[s.to_owned()], &mut sql);
        let _ = registry::model_versions_order_by(&[s.to_owned()], &mut sql);
        let _ = page_token::decode(Some(s));
        let _ = logged_models::logged_models_where(s, &[], &mut sql);
        let entry = logged_models::OrderByEntry {
            field_name: s.to_owned(),
            ascending: true,
            dataset_name: None,
            dataset_digest: None,
        };
        let _ = logged_models::logged_models_order_by(&[entry], &mut sql);
        let _ = logged_models::PageToken::resume(s, &[], None, &None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            exercise(&s);
        }

        #[test]
        fn grammar_shaped_strings_never_panic(s in grammar_shaped()) {
            exercise(&s);
        }

        #[test]
        fn binds_match_placeholders(s in grammar_shaped()) {
            let mut sql = Sql::new("");
            if runs_where(&s, &mut sql).is_ok() {
                let placeholders = sql.text().matches('$').count();
                prop_assert_eq!(placeholders, sql.binds().len());
            }
            for compile in [registry::registered_models_where, registry::model_versions_where] {
                let mut sql = Sql::new("");
                if compile(&s, &mut sql).is_ok() {
                    prop_assert_eq!(sql.text().matches('$').count(), sql.binds().len());
                }
            }
        }

        #[test]
        fn logged_model_binds_match_placeholders(s in grammar_shaped()) {
            let mut sql = Sql::new("");
            let datasets = [logged_models::DatasetFilter { name: "d".into(), digest: Some("x".into()) }];
            if logged_models::logged_models_where(&s, &datasets, &mut sql).is_ok() {
                let placeholders = sql.text().matches('$').count();
                prop_assert_eq!(placeholders, sql.binds().len());
            }
        }
    }
}
