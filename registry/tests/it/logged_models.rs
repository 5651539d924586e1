//! Logged models through the store trait, on SQLite and on PostgreSQL.

use crate::db::TestStore;
use pitwall_openapi::{KeyValue, LoggedModel, LoggedModelStatus, Metric, ModelInput, ModelOutput, ViewType};
use pitwall_registry::search::logged_models::{DatasetFilter, OrderByEntry};
use pitwall_registry::store::{
    ExperimentStore, LoggedModelSearch, LoggedModelStore, NewLoggedModel, NewRun, RunSearch, RunStore, StoreError,
    TrackingStore,
};
use pitwall_test_support::backend_tests;

// Each test below runs once per backend, as `sqlite::name` and `postgres::name`.
backend_tests! {
    create_get_finalize_delete,
    creation_is_checked_and_all_or_nothing,
    tags_and_params,
    metrics_logged_with_a_model_id_appear_on_the_model,
    search_filters_orders_and_pages,
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue::new(k, v)
}

fn new_model(experiment_id: &str, name: &str) -> NewLoggedModel {
    NewLoggedModel {
        experiment_id: experiment_id.to_owned(),
        name: Some(name.to_owned()),
        model_type: Some(String::new()),
        source_run_id: None,
        params: vec![],
        tags: vec![],
    }
}

fn search(experiment_ids: &[&str], filter: &str) -> LoggedModelSearch {
    LoggedModelSearch {
        experiment_ids: experiment_ids.iter().map(|s| s.to_string()).collect(),
        filter: filter.to_owned(),
        max_results: 50,
        ..Default::default()
    }
}

fn ob(field: &str, ascending: bool) -> OrderByEntry {
    OrderByEntry { field_name: field.to_owned(), ascending, dataset_name: None, dataset_digest: None }
}

fn names(models: &[LoggedModel]) -> Vec<&str> {
    models.iter().map(|m| m.info.name.as_str()).collect()
}

async fn run_in(s: &dyn TrackingStore, experiment_id: &str) -> String {
    s.create_run(NewRun {
        experiment_id: experiment_id.to_owned(),
        user_id: "u".to_owned(),
        run_name: "r".to_owned(),
        start_time: 1,
        tags: vec![],
    })
    .await
    .unwrap()
    .info
    .run_id
}

fn metric(key: &str, value: f64, ts: i64, step: i64, model_id: &str, dataset: Option<(&str, &str)>) -> Metric {
    let mut m = Metric::new(key, value, ts, step);
    m.model_id = Some(model_id.to_owned());
    if let Some((n, d)) = dataset {
        m.dataset_name = Some(n.to_owned());
        m.dataset_digest = Some(d.to_owned());
    }
    m
}

async fn create_get_finalize_delete(t: TestStore) {
    let model_id_shape = regex::Regex::new("^m-[0-9a-f]{32}$").unwrap();
    let generated_name = regex::Regex::new(r"^[a-z]+-[a-z]+-\d+$").unwrap();
    let s = &t.store;
    let exp = s.create_experiment("lm", None, &[]).await.unwrap();
    let run_id = run_in(s, &exp).await;
    let created = s
        .create_logged_model(NewLoggedModel {
            source_run_id: Some(run_id.clone()),
            params: vec![kv("b", "2"), kv("a", "1")],
            tags: vec![kv("z", "1"), kv("mlflow.user", "me")],
            ..new_model(&exp, "clf")
        })
        .await
        .unwrap();
    let id = created.info.model_id.clone();
    assert!(model_id_shape.is_match(&id), "{id}");
    assert_eq!(created.info.status, LoggedModelStatus::Pending);
    assert_eq!(created.info.artifact_uri, format!("mlflow-artifacts:/{exp}/models/{id}/artifacts"));
    assert_eq!(created.info.source_run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(created.info.creation_timestamp_ms, created.info.last_updated_timestamp_ms);
    assert_eq!(created.info.tags, vec![kv("mlflow.user", "me"), kv("z", "1")], "tags sorted by key");
    assert_eq!(created.data.params, vec![kv("a", "1"), kv("b", "2")]);
    assert_eq!(s.get_logged_model(&id).await.unwrap(), created);

    let unnamed = s.create_logged_model(NewLoggedModel { name: None, ..new_model(&exp, "") }).await.unwrap();
    assert!(generated_name.is_match(&unnamed.info.name));

    let ready = s.finalize_logged_model(&id, LoggedModelStatus::Ready).await.unwrap();
    assert_eq!(ready.info.status, LoggedModelStatus::Ready);
    assert!(ready.info.last_updated_timestamp_ms >= created.info.last_updated_timestamp_ms);

    s.delete_logged_model(&id).await.unwrap();
    match s.get_logged_model(&id).await {
        Err(StoreError::NotFound(m)) => assert_eq!(m, format!("Logged model with ID '{id}' not found.")),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.find_logged_model(&id, true).await.unwrap().info.status, LoggedModelStatus::Ready);
    assert_eq!(
        names(&s.search_logged_models(&search(&[&exp], "")).await.unwrap().items),
        vec![unnamed.info.name.as_str()]
    );

    for e in [
        s.finalize_logged_model("m-none", LoggedModelStatus::Ready).await.map(|_| ()),
        s.delete_logged_model("m-none").await,
        s.set_logged_model_tags("m-none", &[kv("a", "b")]).await,
        s.delete_logged_model_tag("m-none", "a").await,
        s.log_logged_model_params("m-none", &[kv("a", "b")]).await,
    ] {
        assert!(
            matches!(e, Err(StoreError::NotFound(ref m)) if m == "Logged model with ID 'm-none' not found."),
            "{e:?}"
        );
    }
}

async fn creation_is_checked_and_all_or_nothing(t: TestStore) {
    let s = &t.store;
    let exp = s.create_experiment("lm", None, &[]).await.unwrap();
    let e = s.create_logged_model(new_model(&exp, "a/b")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid model name ('a/b') provided. Model name must be a non-empty string and cannot contain the \
             following characters: ('/', ':', '.', '%', '\"', \"'\")"
    );
    assert!(matches!(s.create_logged_model(new_model("999", "x")).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.create_logged_model(new_model("abc", "x")).await, Err(StoreError::Invalid(_))));
    // A repeated param key fails the whole creation: no model is left behind.
    let dup = NewLoggedModel { params: vec![kv("a", "1"), kv("a", "2")], ..new_model(&exp, "dup") };
    assert!(matches!(s.create_logged_model(dup).await, Err(StoreError::BadRequest(_))));
    assert!(s.search_logged_models(&search(&[&exp], "")).await.unwrap().items.is_empty());
    s.delete_experiment(&exp).await.unwrap();
    match s.create_logged_model(new_model(&exp, "x")).await {
        Err(StoreError::Invalid(m)) => {
            assert_eq!(m, format!("The experiment {exp} must be in the 'active' state. Current state is deleted."))
        }
        other => panic!("{other:?}"),
    }
}

async fn tags_and_params(t: TestStore) {
    let s = &t.store;
    let exp = s.create_experiment("lm", None, &[]).await.unwrap();
    let id = s.create_logged_model(new_model(&exp, "m")).await.unwrap().info.model_id;
    s.set_logged_model_tags(&id, &[kv("a", "1"), kv("b", "2"), kv("a", "3")]).await.unwrap();
    s.set_logged_model_tags(&id, &[kv("b", "new")]).await.unwrap();
    assert_eq!(s.get_logged_model(&id).await.unwrap().info.tags, vec![kv("a", "3"), kv("b", "new")]);
    s.delete_logged_model_tag(&id, "a").await.unwrap();
    match s.delete_logged_model_tag(&id, "a").await {
        Err(StoreError::NotFound(m)) => {
            assert_eq!(m, format!("No tag with key 'a' found for model with ID '{id}'."))
        }
        other => panic!("{other:?}"),
    }
    s.log_logged_model_params(&id, &[kv("p", "1"), kv("q", "2")]).await.unwrap();
    // Logged params are immutable: logging a key again fails and changes nothing.
    let again = s.log_logged_model_params(&id, &[kv("r", "3"), kv("p", "9")]).await;
    assert!(matches!(again, Err(StoreError::BadRequest(_))), "{again:?}");
    assert_eq!(s.get_logged_model(&id).await.unwrap().data.params, vec![kv("p", "1"), kv("q", "2")]);
}

async fn metrics_logged_with_a_model_id_appear_on_the_model(t: TestStore) {
    let s = &t.store;
    let exp = s.create_experiment("lm", None, &[]).await.unwrap();
    let run_id = run_in(s, &exp).await;
    let id = s.create_logged_model(new_model(&exp, "m")).await.unwrap().info.model_id;
    s.log_outputs(&run_id, &[ModelOutput { model_id: id.clone(), step: 0 }]).await.unwrap();
    let batch = [
        metric("acc", 0.5, 5, 1, &id, Some(("ds", "d1"))),
        metric("acc", 0.7, 3, 2, &id, None),
        Metric::new("loss", 0.1, 1, 0),
    ];
    s.log_batch(&run_id, &batch, &[], &[]).await.unwrap();
    // Logged twice: stored once.
    s.log_batch(&run_id, &batch[..1], &[], &[]).await.unwrap();
    let model = s.get_logged_model(&id).await.unwrap();
    let mut first = metric("acc", 0.5, 5, 1, &id, Some(("ds", "d1")));
    first.run_id = Some(run_id.clone());
    let mut second = metric("acc", 0.7, 3, 2, &id, None);
    second.run_id = Some(run_id.clone());
    assert_eq!(model.data.metrics, vec![first, second]);
    // The run keeps its own latest values, without the model link.
    let run = s.get_run(&run_id).await.unwrap();
    assert_eq!(run.data.metrics.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["acc", "loss"]);
    assert!(run.data.metrics.iter().all(|m| m.model_id.is_none()));
    assert_eq!(run.outputs.unwrap().model_outputs, vec![ModelOutput { model_id: id.clone(), step: 0 }]);
    // Model inputs show on runs/get, not in search answers (as MLflow); outputs show on both.
    s.log_inputs(&run_id, &[], &[ModelInput { model_id: id.clone() }]).await.unwrap();
    assert_eq!(s.get_run(&run_id).await.unwrap().inputs.model_inputs, vec![ModelInput { model_id: id.clone() }]);
    let found = s
        .search_runs(&RunSearch {
            experiment_ids: vec![exp.clone()],
            filter: String::new(),
            view_type: ViewType::ActiveOnly,
            order_by: vec![],
            max_results: 10,
            offset: 0,
        })
        .await
        .unwrap()
        .items;
    assert!(found[0].inputs.model_inputs.is_empty());
    assert_eq!(found[0].outputs.as_ref().unwrap().model_outputs.len(), 1);

    // A metric naming an unknown model fails the whole batch.
    let bad = [Metric::new("other", 1.0, 9, 0), metric("acc", 0.9, 9, 0, "m-unknown", None)];
    assert!(matches!(s.log_batch(&run_id, &bad, &[], &[]).await, Err(StoreError::BadRequest(_))));
    let run = s.get_run(&run_id).await.unwrap();
    assert!(run.data.metrics.iter().all(|m| m.key != "other"), "nothing of the batch is stored");
}

async fn search_filters_orders_and_pages(t: TestStore) {
    let s = &t.store;
    let exp = s.create_experiment("lm", None, &[]).await.unwrap();
    let other = s.create_experiment("other", None, &[]).await.unwrap();
    let run_id = run_in(s, &exp).await;
    let mut ids = Vec::new();
    for (name, mtype, lr) in [("alpha", "clf", "0.1"), ("beta", "reg", "0.01"), ("gamma", "clf", "0.001")] {
        let m = s
            .create_logged_model(NewLoggedModel {
                model_type: Some(mtype.to_owned()),
                source_run_id: Some(run_id.clone()),
                params: vec![kv("lr", lr)],
                tags: vec![kv("team", if name == "beta" { "core" } else { "ml" })],
                ..new_model(&exp, name)
            })
            .await
            .unwrap();
        ids.push(m.info.model_id);
        // Distinct creation times.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    s.create_logged_model(new_model(&other, "elsewhere")).await.unwrap();
    s.finalize_logged_model(&ids[1], LoggedModelStatus::Ready).await.unwrap();
    s.log_batch(
        &run_id,
        &[
            metric("acc", 0.9, 1, 0, &ids[0], Some(("test", "t1"))),
            metric("acc", 0.6, 2, 0, &ids[1], Some(("train", "t2"))),
        ],
        &[],
        &[],
    )
    .await
    .unwrap();

    let found = |filter: &str| {
        let q = search(&[&exp], filter);
        let filter = filter.to_owned();
        async move {
            names(&s.search_logged_models(&q).await.unwrap_or_else(|e| panic!("{filter}: {e}")).items)
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found("").await, ["gamma", "beta", "alpha"], "newest first");
    assert_eq!(found("name = 'alpha'").await, ["alpha"]);
    assert_eq!(found("name LIKE '%a'").await, ["gamma", "beta", "alpha"]);
    assert_eq!(found("name ILIKE 'B%'").await, ["beta"]);
    assert_eq!(found("name IN ('alpha', 'gamma')").await, ["gamma", "alpha"]);
    assert_eq!(found(&format!("model_id = '{}'", ids[2])).await, ["gamma"]);
    assert_eq!(found("model_type = 'clf'").await, ["gamma", "alpha"]);
    assert_eq!(found("status = 'LOGGED_MODEL_READY'").await, ["beta"]);
    assert_eq!(found(&format!("source_run_id = '{run_id}'")).await.len(), 3);
    assert_eq!(found("creation_timestamp > 0 AND last_updated_timestamp > 0").await.len(), 3);
    assert_eq!(found("metrics.acc > 0.7").await, ["alpha"]);
    assert_eq!(found("params.lr = '0.01'").await, ["beta"]);
    assert_eq!(found("tags.team != 'core'").await, ["gamma", "alpha"]);
    assert!(matches!(s.search_logged_models(&search(&[&exp], "foo = 'x'")).await, Err(StoreError::Invalid(_))));

    let with_datasets = |datasets: Vec<DatasetFilter>, filter: &str| {
        let q = LoggedModelSearch { datasets, ..search(&[&exp], filter) };
        async move {
            names(&s.search_logged_models(&q).await.unwrap().items).iter().map(|n| n.to_string()).collect::<Vec<_>>()
        }
    };
    let ds = |n: &str, d: Option<&str>| DatasetFilter { name: n.to_owned(), digest: d.map(str::to_owned) };
    assert_eq!(with_datasets(vec![ds("train", None)], "").await, ["beta"]);
    assert_eq!(with_datasets(vec![ds("train", Some("zz"))], "").await, Vec::<String>::new());
    assert_eq!(
        with_datasets(vec![ds("train", None), ds("test", Some("t1"))], "metrics.acc > 0.5").await,
        ["beta", "alpha"]
    );
    assert_eq!(with_datasets(vec![ds("train", None)], "metrics.acc > 0.7").await, Vec::<String>::new());

    let ordered = |order_by: Vec<OrderByEntry>| {
        let q = LoggedModelSearch { order_by, ..search(&[&exp], "") };
        async move {
            names(&s.search_logged_models(&q).await.unwrap().items).iter().map(|n| n.to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(ordered(vec![ob("metrics.acc", true)]).await, ["beta", "alpha", "gamma"], "no value last");
    assert_eq!(ordered(vec![ob("metrics.acc", false)]).await, ["alpha", "beta", "gamma"]);
    assert_eq!(ordered(vec![ob("name", false)]).await, ["gamma", "beta", "alpha"]);
    assert_eq!(ordered(vec![ob("creation_timestamp", true)]).await, ["alpha", "beta", "gamma"]);
    assert_eq!(ordered(vec![ob("model_type", true), ob("name", false)]).await, ["gamma", "alpha", "beta"]);

    // Pages of one model.
    let mut all = Vec::new();
    let mut q = LoggedModelSearch { max_results: 1, ..search(&[&exp], "") };
    loop {
        let page = s.search_logged_models(&q).await.unwrap();
        all.extend(names(&page.items).iter().map(|n| n.to_string()));
        match page.next_offset {
            Some(o) => q.offset = o,
            None => break,
        }
    }
    assert_eq!(all, ["gamma", "beta", "alpha"]);
    assert_eq!(names(&s.search_logged_models(&search(&[&exp, &other], "")).await.unwrap().items).len(), 4);
    assert!(s.search_logged_models(&search(&[], "")).await.unwrap().items.is_empty());
}
