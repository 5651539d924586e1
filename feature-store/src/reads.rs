//! The reads other crates make of the lake's tables, named here so that the queries live
//! beside the transformations that write those tables.

use chrono::NaiveDate;
use deltalake::arrow::array::RecordBatch;
use futures::stream::BoxStream;

use crate::Lake;
use crate::error::Result;

impl Lake {
    /// Every row of `abt_churn`, ordered by dtRef and driver (a stable order for training).
    pub async fn abt_churn_rows(&self) -> Result<Vec<RecordBatch>> {
        self.sql(r#"SELECT * FROM abt_churn ORDER BY "dtRef", "idDriver""#).await
    }

    /// The fs_drivers rows with dtRef on or after `since`, in the table's own order.
    pub async fn fs_drivers_since(&self, since: NaiveDate) -> Result<Vec<RecordBatch>> {
        self.sql(&fs_drivers_since(since)).await
    }

    /// As [`Lake::fs_drivers_since`], batch by batch as the scan produces them.
    pub async fn stream_fs_drivers_since(&self, since: NaiveDate) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        self.sql_stream(&fs_drivers_since(since)).await
    }

    /// The first dtRef of the latest season in fs_drivers, as one `YYYY-MM-DD` text cell (no
    /// rows when the table is empty).
    pub async fn latest_season_start(&self) -> Result<Vec<RecordBatch>> {
        self.sql(
            r#"SELECT MIN("dtRef") AS start FROM fs_drivers
               WHERE substr("dtRef", 1, 4) = (SELECT MAX(substr("dtRef", 1, 4)) FROM fs_drivers)"#,
        )
        .await
    }
}

fn fs_drivers_since(since: NaiveDate) -> String {
    format!(r#"SELECT * FROM fs_drivers WHERE "dtRef" >= '{}'"#, since.format("%Y-%m-%d"))
}
