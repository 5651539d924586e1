//! The model registry's store conformance suite: every test runs on SQLite and on PostgreSQL.

use crate::db::TestStore;
use pitwall_openapi::{KeyValue, ModelVersion, RegisteredModelAlias};
use pitwall_registry::store::{ModelRegistryStore, NewModelVersion, RegistrySearch, StoreError, TrackingStore};
use pitwall_test_support::backend_tests;
use std::sync::Arc;

// Each test below runs once per backend, as `sqlite::name` and `postgres::name`.
backend_tests! {
    registered_model_lifecycle,
    prompts_and_models_do_not_share_names,
    versions_rename_and_delete_cascade,
    deleted_version_numbers_are_never_reused,
    stages_latest_versions_and_archiving,
    aliases_reassign_delete_and_latest,
    version_tags_and_descriptions,
    registered_model_search_filters_order_and_pages,
    model_version_search,
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_creates_get_distinct_numbers,
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_promotions_leave_one_version_in_production,
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    concurrent_versions_of_one_logged_model_are_all_recorded_on_it,
}

fn version_of(name: &str, source: &str) -> NewModelVersion {
    NewModelVersion {
        name: name.to_owned(),
        source: source.to_owned(),
        run_id: Some("r1".to_owned()),
        run_link: Some(String::new()),
        description: Some(String::new()),
        ..NewModelVersion::default()
    }
}

fn search(filter: &str, order_by: &[&str], max_results: usize, offset: Option<usize>) -> RegistrySearch {
    RegistrySearch {
        filter: filter.to_owned(),
        order_by: order_by.iter().map(|s| s.to_string()).collect(),
        max_results,
        offset: offset.unwrap_or(0),
    }
}

fn versions(vs: &[ModelVersion]) -> Vec<(&str, &str)> {
    vs.iter().map(|v| (v.name.as_str(), v.version.as_str())).collect()
}

async fn registered_model_lifecycle(t: TestStore) {
    let s = &t.store;
    let tags = [KeyValue::new("team", "f1"), KeyValue::new("team", "pit"), KeyValue::new("k", "v")];
    let m = s.create_registered_model("churn", &tags, Some("first")).await.unwrap();
    assert_eq!(m.name, "churn");
    assert_eq!(m.description.as_deref(), Some("first"));
    assert_eq!(m.tags, vec![KeyValue::new("k", "v"), KeyValue::new("team", "pit")], "last value wins");
    assert_eq!(m.creation_timestamp, m.last_updated_timestamp);
    let dup = s.create_registered_model("churn", &[], None).await.unwrap_err();
    assert!(matches!(&dup, StoreError::AlreadyExists(m) if m == "Registered Model (name=churn) already exists."));

    s.update_registered_model("churn", Some("")).await.unwrap();
    assert_eq!(s.get_registered_model("churn").await.unwrap().description, None, "an empty description is left out");
    s.set_registered_model_tag("churn", &KeyValue::new("k", "w")).await.unwrap();
    s.delete_registered_model_tag("churn", "team").await.unwrap();
    s.delete_registered_model_tag("churn", "never-set").await.unwrap();
    assert_eq!(s.get_registered_model("churn").await.unwrap().tags, vec![KeyValue::new("k", "w")]);
    assert!(
        matches!(s.get_registered_model("nope").await, Err(StoreError::NotFound(m)) if m == "Registered Model with name=nope not found")
    );
    assert!(matches!(s.set_registered_model_tag("nope", &KeyValue::new("a", "b")).await, Err(StoreError::NotFound(_))));
}

async fn prompts_and_models_do_not_share_names(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("p", &[KeyValue::new("mlflow.prompt.is_prompt", "true")], None).await.unwrap();
    let e = s.create_registered_model("p", &[], None).await.unwrap_err().to_string();
    assert!(
        e.starts_with("Tried to create a registered model with name 'p', but the name is already taken by a prompt."),
        "{e}"
    );
}

async fn versions_rename_and_delete_cascade(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("m", &[KeyValue::new("a", "1")], None).await.unwrap();
    let mut v = version_of("m", "mlflow-artifacts:/1/r1/artifacts/model");
    v.tags = vec![KeyValue::new("flavor", "sklearn")];
    v.storage_location = Some("s3://b/1/r1/artifacts/model".into());
    let v1 = s.create_model_version(v).await.unwrap();
    assert_eq!((v1.version.as_str(), v1.current_stage.as_str()), ("1", "None"));
    assert_eq!(v1.status.as_str(), "READY");
    assert_eq!(v1.tags, vec![KeyValue::new("flavor", "sklearn")]);
    assert_eq!((v1.description.as_deref(), v1.run_link.as_deref()), (Some(""), Some("")));
    assert_eq!(s.get_model_version_download_uri("m", "1").await.unwrap(), "s3://b/1/r1/artifacts/model");
    s.create_model_version(version_of("m", "s3://x/2")).await.unwrap();
    assert_eq!(s.get_model_version_download_uri("m", "2").await.unwrap(), "s3://x/2", "no location: the source");
    s.set_registered_model_alias("m", "champion", "1").await.unwrap();

    let renamed = s.rename_registered_model("m", "m2").await.unwrap();
    assert_eq!(renamed.name, "m2");
    assert_eq!(renamed.tags, vec![KeyValue::new("a", "1")], "tags follow the rename");
    assert_eq!(renamed.aliases, vec![RegisteredModelAlias { alias: "champion".into(), version: "1".into() }]);
    let got = s.get_model_version("m2", "1").await.unwrap();
    assert_eq!((got.name.as_str(), got.tags.len(), got.aliases.clone()), ("m2", 1, vec!["champion".to_owned()]));
    assert!(matches!(s.get_model_version("m", "1").await, Err(StoreError::NotFound(_))));
    s.create_registered_model("other", &[], None).await.unwrap();
    assert!(matches!(s.rename_registered_model("m2", "other").await, Err(StoreError::AlreadyExists(_))));
    assert_eq!(s.get_model_version("m2", "2").await.unwrap().name, "m2", "a refused rename changes nothing");

    s.delete_registered_model("m2").await.unwrap();
    assert!(matches!(s.get_registered_model("m2").await, Err(StoreError::NotFound(_))));
    for table in ["model_versions", "model_version_tags", "registered_model_tags", "registered_model_aliases"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE name = 'm2'"))
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} emptied with the model");
    }
    // A new model of the same name starts again at version 1, as in MLflow.
    s.create_registered_model("m2", &[], None).await.unwrap();
    assert_eq!(s.create_model_version(version_of("m2", "s3://x")).await.unwrap().version, "1");
}

async fn deleted_version_numbers_are_never_reused(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("m", &[], None).await.unwrap();
    for _ in 0..3 {
        s.create_model_version(version_of("m", "s3://x")).await.unwrap();
    }
    s.set_registered_model_alias("m", "best", "3").await.unwrap();
    s.set_model_version_tag("m", "3", &KeyValue::new("t", "v")).await.unwrap();
    s.delete_model_version("m", "3").await.unwrap();
    assert!(
        matches!(s.get_model_version("m", "3").await, Err(StoreError::NotFound(m)) if m == "Model Version (name=m, version=3) not found")
    );
    assert!(matches!(s.get_model_version_by_alias("m", "best").await, Err(StoreError::Invalid(_))), "alias gone");
    let v4 = s.create_model_version(version_of("m", "s3://x")).await.unwrap();
    assert_eq!(v4.version, "4");
    assert!(v4.tags.is_empty(), "the deleted version's tags do not come back");
    assert!(matches!(s.delete_model_version("m", "3").await, Err(StoreError::NotFound(_))));
    assert!(
        matches!(s.get_model_version("m", "x").await, Err(StoreError::Invalid(m)) if m == "Parameter 'version' must be an integer, got 'x'.")
    );
    assert!(matches!(s.create_model_version(version_of("nope", "s3://x")).await, Err(StoreError::NotFound(_))));
}

async fn stages_latest_versions_and_archiving(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("m", &[], None).await.unwrap();
    for _ in 0..4 {
        s.create_model_version(version_of("m", "s3://x")).await.unwrap();
    }
    s.transition_model_version_stage("m", "1", "production", false).await.unwrap();
    s.transition_model_version_stage("m", "2", "Staging", false).await.unwrap();
    let latest = s.get_latest_versions("m", &[]).await.unwrap();
    assert_eq!(
        latest.iter().map(|v| (v.version.as_str(), v.current_stage.as_str())).collect::<Vec<_>>(),
        [("1", "Production"), ("2", "Staging"), ("4", "None")]
    );
    let staged = s.get_latest_versions("m", &["STAGING".to_owned()]).await.unwrap();
    assert_eq!(versions(&staged), [("m", "2")]);
    assert!(matches!(s.get_latest_versions("m", &["Prod".to_owned()]).await, Err(StoreError::Invalid(_))));

    // Version 3 into Production, archiving version 1.
    let moved = s.transition_model_version_stage("m", "3", "Production", true).await.unwrap();
    assert_eq!(moved.current_stage, "Production");
    assert_eq!(s.get_model_version("m", "1").await.unwrap().current_stage, "Archived");
    assert_eq!(s.get_model_version("m", "2").await.unwrap().current_stage, "Staging", "other stages untouched");
    let model = s.get_registered_model("m").await.unwrap();
    let mut stages: Vec<(String, String)> =
        model.latest_versions.iter().map(|v| (v.current_stage.clone(), v.version.clone())).collect();
    stages.sort();
    assert_eq!(
        stages,
        [("Archived", "1"), ("None", "4"), ("Production", "3"), ("Staging", "2")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let e = s.transition_model_version_stage("m", "4", "Archived", true).await.unwrap_err().to_string();
    assert_eq!(
        e,
        "Model version transition cannot archive existing model versions because 'Archived' is not an Active \
             stage. Valid stages are ['Staging', 'Production']"
    );
    assert!(matches!(s.transition_model_version_stage("m", "4", "bogus", false).await, Err(StoreError::Invalid(_))));
    assert!(matches!(s.transition_model_version_stage("m", "9", "None", false).await, Err(StoreError::NotFound(_))));
}

async fn aliases_reassign_delete_and_latest(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("m", &[], None).await.unwrap();
    for _ in 0..2 {
        s.create_model_version(version_of("m", "s3://x")).await.unwrap();
    }
    s.set_registered_model_alias("m", "champion", "1").await.unwrap();
    s.set_registered_model_alias("m", "challenger", "1").await.unwrap();
    let v = s.get_model_version_by_alias("m", "champion").await.unwrap();
    assert_eq!((v.version.as_str(), v.aliases.clone()), ("1", vec!["challenger".to_owned(), "champion".to_owned()]));
    s.set_registered_model_alias("m", "champion", "2").await.unwrap();
    assert_eq!(s.get_model_version_by_alias("m", "champion").await.unwrap().version, "2", "reassigned");
    assert_eq!(s.get_model_version_by_alias("m", "LATEST").await.unwrap().version, "2");
    s.delete_registered_model_alias("m", "champion").await.unwrap();
    s.delete_registered_model_alias("m", "never").await.unwrap();
    let e = s.get_model_version_by_alias("m", "champion").await.unwrap_err();
    assert!(matches!(&e, StoreError::Invalid(m) if m == "Registered model alias champion not found."), "{e}");
    assert_eq!(
        s.get_registered_model("m").await.unwrap().aliases,
        vec![RegisteredModelAlias { alias: "challenger".into(), version: "1".into() }]
    );
    assert!(matches!(s.set_registered_model_alias("m", "x", "7").await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_registered_model_alias("nope", "x").await, Err(StoreError::NotFound(_))));
    s.create_registered_model("empty", &[], None).await.unwrap();
    assert!(matches!(s.get_model_version_by_alias("empty", "latest").await, Err(StoreError::NotFound(_))));
}

async fn version_tags_and_descriptions(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("m", &[], None).await.unwrap();
    s.create_model_version(version_of("m", "s3://x")).await.unwrap();
    s.set_model_version_tag("m", "1", &KeyValue::new("k", "1")).await.unwrap();
    s.set_model_version_tag("m", "1", &KeyValue::new("k", "2")).await.unwrap();
    s.set_model_version_tag("m", "1", &KeyValue::new("j", "x")).await.unwrap();
    s.delete_model_version_tag("m", "1", "j").await.unwrap();
    s.delete_model_version_tag("m", "1", "absent").await.unwrap();
    let v = s.update_model_version("m", "1", Some("better")).await.unwrap();
    assert_eq!((v.description.as_deref(), v.tags.clone()), (Some("better"), vec![KeyValue::new("k", "2")]));
    let v = s.update_model_version("m", "1", None).await.unwrap();
    assert_eq!(v.description, None, "no description clears it");
    assert!(matches!(s.set_model_version_tag("m", "2", &KeyValue::new("k", "v")).await, Err(StoreError::NotFound(_))));
}

async fn registered_model_search_filters_order_and_pages(t: TestStore) {
    let s = &t.store;
    for (name, team) in [("alpha", "a"), ("beta", "b"), ("gamma", "a"), ("Delta", "b")] {
        s.create_registered_model(name, &[KeyValue::new("team", team)], None).await.unwrap();
    }
    s.create_registered_model("my-prompt", &[KeyValue::new("mlflow.prompt.is_prompt", "true")], None).await.unwrap();
    let names = |p: &pitwall_registry::store::Page<pitwall_openapi::RegisteredModel>| {
        p.items.iter().map(|m| m.name.clone()).collect::<Vec<_>>()
    };
    let all = s.search_registered_models(&search("", &[], 100, None)).await.unwrap();
    assert_eq!(names(&all), ["Delta", "alpha", "beta", "gamma"], "prompts left out, name ASC");
    let prompts =
        s.search_registered_models(&search("tags.`mlflow.prompt.is_prompt` = 'true'", &[], 100, None)).await.unwrap();
    assert_eq!(names(&prompts), ["my-prompt"]);
    let client_style = s
        .search_registered_models(&search("name = 'beta' AND tag.`mlflow.prompt.is_prompt` != 'true'", &[], 100, None))
        .await
        .unwrap();
    assert_eq!(names(&client_style), ["beta"]);
    let team_a = s.search_registered_models(&search("tags.team = 'a'", &["name DESC"], 100, None)).await.unwrap();
    assert_eq!(names(&team_a), ["gamma", "alpha"]);
    let like = s.search_registered_models(&search("name ILIKE '%ta'", &[], 100, None)).await.unwrap();
    assert_eq!(names(&like), ["Delta", "beta"]);
    let listed = s.search_registered_models(&search("name IN ('alpha', 'gamma')", &[], 100, None)).await.unwrap();
    assert_eq!(names(&listed), ["alpha", "gamma"]);
    let both_tags =
        s.search_registered_models(&search("tags.team != 'b' AND tags.team LIKE 'a%'", &[], 100, None)).await.unwrap();
    assert_eq!(names(&both_tags), ["alpha", "gamma"]);

    // Pages of two, in last-updated order.
    s.set_registered_model_tag("alpha", &KeyValue::new("x", "y")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.update_registered_model("alpha", Some("newest")).await.unwrap();
    let p1 = s.search_registered_models(&search("", &["timestamp DESC"], 2, None)).await.unwrap();
    assert_eq!(names(&p1)[0], "alpha");
    let p2 = s.search_registered_models(&search("", &["timestamp DESC"], 2, p1.next_offset)).await.unwrap();
    assert_eq!(p2.items.len(), 2);
    assert_eq!(p2.next_offset, None);
    let mut seen = names(&p1);
    seen.extend(names(&p2));
    seen.sort();
    assert_eq!(seen, ["Delta", "alpha", "beta", "gamma"]);

    assert!(matches!(
        s.search_registered_models(&search("run_id = 'x'", &[], 10, None)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.search_registered_models(&search("", &["creation_timestamp"], 10, None)).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn model_version_search(t: TestStore) {
    let s = &t.store;
    s.create_registered_model("a", &[], None).await.unwrap();
    s.create_registered_model("b", &[], None).await.unwrap();
    for (name, run) in [("a", "r1"), ("a", "r2"), ("b", "r1"), ("a", "r3")] {
        let mut v = version_of(name, &format!("s3://bucket/{run}/model"));
        v.run_id = Some(run.to_owned());
        v.tags = vec![KeyValue::new("run", run)];
        s.create_model_version(v).await.unwrap();
    }
    s.set_registered_model_alias("a", "x", "1").await.unwrap();
    s.create_registered_model("p", &[], None).await.unwrap();
    let mut pv = version_of("p", "prompt-template");
    pv.tags = vec![KeyValue::new("mlflow.prompt.is_prompt", "true")];
    s.create_model_version(pv).await.unwrap();

    let q = |filter: &str, order: &[&str]| {
        let req = search(filter, order, 1000, None);
        async move { s.search_model_versions(&req).await }
    };
    let by_name = q("name = 'a'", &["version_number ASC"]).await.unwrap();
    assert_eq!(versions(&by_name.items), [("a", "1"), ("a", "2"), ("a", "3")]);
    assert!(by_name.items[0].aliases.is_empty(), "search leaves aliases out, as MLflow");
    assert_eq!(by_name.items[0].tags, vec![KeyValue::new("run", "r1")]);
    let run1 = q("run_id = 'r1'", &["name DESC"]).await.unwrap();
    assert_eq!(versions(&run1.items), [("b", "1"), ("a", "1")]);
    let listed = q("run_id IN ('r2', 'r3') AND version_number > 1", &["version_number DESC"]).await.unwrap();
    assert_eq!(versions(&listed.items), [("a", "3"), ("a", "2")]);
    let src = q("source_path LIKE '%/r2/%'", &[]).await.unwrap();
    assert_eq!(versions(&src.items), [("a", "2")]);
    let tagged = q("tags.run = 'r3'", &[]).await.unwrap();
    assert_eq!(versions(&tagged.items), [("a", "3")]);
    let everything = q("", &["name ASC", "version_number ASC"]).await.unwrap();
    assert_eq!(everything.items.len(), 4, "prompt versions left out");
    let prompts = q("tags.`mlflow.prompt.is_prompt` = 'true'", &[]).await.unwrap();
    assert_eq!(versions(&prompts.items), [("p", "1")]);
    let page = s.search_model_versions(&search("", &["creation_timestamp ASC"], 3, None)).await.unwrap();
    assert_eq!(page.next_offset, Some(3));
    assert!(matches!(q("version_number = 'x'", &[]).await, Err(StoreError::Invalid(_))));
    assert!(matches!(q("", &["stage"]).await, Err(StoreError::Invalid(_))));
}

async fn concurrent_creates_get_distinct_numbers(t: TestStore) {
    let store: Arc<dyn TrackingStore> = Arc::new(t.store.clone());
    store.create_registered_model("busy", &[], None).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move { s.create_model_version(version_of("busy", &format!("s3://x/{i}"))).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().unwrap().version.parse::<i64>().unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=16).collect::<Vec<_>>());
    let stored = store.search_model_versions(&search("name = 'busy'", &[], 100, None)).await.unwrap();
    assert_eq!(stored.items.len(), 16, "none lost");
}

async fn concurrent_promotions_leave_one_version_in_production(t: TestStore) {
    let store: Arc<dyn TrackingStore> = Arc::new(t.store.clone());
    store.create_registered_model("race", &[], None).await.unwrap();
    for i in 0..8 {
        store.create_model_version(version_of("race", &format!("s3://x/{i}"))).await.unwrap();
    }
    let tasks: Vec<_> = (1..=8)
        .map(|v| {
            let s = store.clone();
            tokio::spawn(
                async move { s.transition_model_version_stage("race", &v.to_string(), "Production", true).await },
            )
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let prod = store.get_latest_versions("race", &["Production".to_owned()]).await.unwrap();
    assert_eq!(prod.len(), 1);
    let in_prod = store
        .search_model_versions(&search("name = 'race'", &[], 100, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|v| v.current_stage == "Production")
        .count();
    assert_eq!(in_prod, 1, "archiving is atomic with the promotion");
}

async fn concurrent_versions_of_one_logged_model_are_all_recorded_on_it(t: TestStore) {
    use pitwall_registry::store::NewLoggedModel;
    let store: Arc<dyn TrackingStore> = Arc::new(t.store.clone());
    let exp = store.create_experiment("lm-versions", None, &[]).await.unwrap();
    let model = store
        .create_logged_model(NewLoggedModel { experiment_id: exp, name: Some("clf".into()), ..Default::default() })
        .await
        .unwrap();
    let id = model.info.model_id.clone();
    for name in ["first", "second"] {
        store.create_registered_model(name, &[], None).await.unwrap();
    }
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (s, id) = (store.clone(), id.clone());
            let name = if i % 2 == 0 { "first" } else { "second" };
            tokio::spawn(async move {
                let v = NewModelVersion { model_id: Some(id.clone()), ..version_of(name, &format!("models:/{id}")) };
                s.create_model_version(v).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let tag =
        store.get_logged_model(&id).await.unwrap().info.tags.into_iter().find(|t| t.key == "mlflow.modelVersions");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&tag.expect("the tag is set").value).unwrap();
    let mut got: Vec<(String, i64)> =
        entries.iter().map(|e| (e["name"].as_str().unwrap().to_owned(), e["version"].as_i64().unwrap())).collect();
    got.sort();
    let want: Vec<(String, i64)> =
        ["first", "second"].iter().flat_map(|n| (1..=6).map(move |v| (n.to_string(), v))).collect();
    assert_eq!(got, want, "every registration is listed once");
}
