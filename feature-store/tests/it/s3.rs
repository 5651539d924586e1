//! The same pipeline on a real S3-compatible server.

use pitwall_lake::{Lake, LakeConfig, Outcome, S3Settings, SeasonRange};

use crate::common::query;
use pitwall_test_support::s3::{ACCESS_KEY_ID, REGION, S3Server, SECRET_ACCESS_KEY};
use pitwall_test_support::{f1db, local_lake};

fn s3_lake(server: &S3Server, root: &str) -> Lake {
    Lake::open(&LakeConfig {
        root: root.to_string(),
        s3: S3Settings {
            endpoint: Some(server.endpoint()),
            access_key_id: Some(ACCESS_KEY_ID.into()),
            secret_access_key: Some(SECRET_ACCESS_KEY.into()),
            session_token: None,
            region: Some(REGION.into()),
        },
    })
    .unwrap()
}

#[tokio::test]
async fn the_pipeline_gives_the_same_tables_on_s3_as_on_local_disk() {
    let server = S3Server::start();
    for bucket in ["lake", "raw", "bronze", "silver", "analytics"] {
        server.create_bucket(bucket);
    }
    let seasons = SeasonRange::between(2024, 2025);
    let dir = tempfile::tempdir().unwrap();
    let local = local_lake(dir.path());
    local.ingest_f1db(&f1db(), seasons).await.unwrap();
    local.build(false).await.unwrap();

    // Layers as prefixes of one bucket, and as one bucket each.
    for root in ["s3://lake/pitwall", "s3://{layer}"] {
        let lake = s3_lake(&server, root);
        let ingest = lake.ingest_f1db(&f1db(), seasons).await.unwrap();
        assert_eq!(ingest.written, ingest.documents);
        lake.build(false).await.unwrap();
        let again = lake.build(false).await.unwrap();
        assert!(again.iter().all(|s| s.outcome == Outcome::Unchanged), "{root}");

        let s3_inventory = lake.tables().await.unwrap();
        let local_inventory = local.tables().await.unwrap();
        let counts = |i: &pitwall_lake::Inventory| -> Vec<u64> { i.tables.iter().map(|t| t.rows).collect() };
        assert_eq!(counts(&s3_inventory), counts(&local_inventory), "{root}");
        assert_eq!(s3_inventory.raw_documents, local_inventory.raw_documents);
        for table in ["fs_drivers", "abt_churn", "silver_sessions"] {
            let q = format!("SELECT * FROM {table} ORDER BY 1, 2, 3");
            assert_eq!(query(&lake, &q).await, query(&local, &q).await, "{root} {table}");
        }
    }
}
