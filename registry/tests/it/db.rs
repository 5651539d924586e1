//! Fresh stores for tests: the real store opened on a scratch database of either backend.

use pitwall_registry::store::SqlStore;
use pitwall_test_support::{Backend, BackendFixture, ScratchDb};

/// A store and the scratch database under it, dropped after it.
pub struct TestStore {
    pub store: SqlStore,
    /// The backend-store URI, to open the same database again.
    pub uri: String,
    _db: ScratchDb,
}

impl BackendFixture for TestStore {
    async fn open(backend: Backend) -> Self {
        let db = ScratchDb::create(backend).await;
        let uri = db.uri();
        let store = SqlStore::connect(&uri, "mlflow-artifacts:")
            .await
            .unwrap_or_else(|e| panic!("open {} store: {e}", backend.name()));
        TestStore { store, uri, _db: db }
    }
}
