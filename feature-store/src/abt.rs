//! analytics `f1/abt_churn`, rebuilt when fs_drivers or silver results have a new version
//! or its SQL changes.

use std::collections::HashMap;
use std::time::Instant;

use crate::delta;
use crate::error::Result;
use crate::location::{ABT_CHURN, FS_DRIVERS, LakeLocation, SILVER_RESULTS};
use crate::progress::{Outcome, StepReport};
use crate::silver::{is_current, require, write_if_stale};
use crate::sql;

pub(crate) async fn build(loc: &LakeLocation) -> Result<StepReport> {
    let started = Instant::now();
    let fs = require(loc, FS_DRIVERS).await?;
    let silver = require(loc, SILVER_RESULTS).await?;
    let inputs = HashMap::from([
        (FS_DRIVERS.to_string(), delta::version_of(Some(&fs))),
        (SILVER_RESULTS.to_string(), delta::version_of(Some(&silver))),
        sql::ABT_CHURN.input(),
    ]);
    if is_current(loc, ABT_CHURN, &inputs).await? {
        return Ok(StepReport { table: ABT_CHURN, outcome: Outcome::Unchanged, elapsed: started.elapsed() });
    }
    let ctx = sql::session();
    delta::register(&ctx, "fs_drivers", FS_DRIVERS, &fs).await?;
    delta::register(&ctx, "silver_results", SILVER_RESULTS, &silver).await?;
    let batches = sql::ABT_CHURN.collect(&ctx).await?;
    write_if_stale(loc, ABT_CHURN, batches, &inputs, started).await
}
