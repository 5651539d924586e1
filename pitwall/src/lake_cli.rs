//! `pitwall ingest` and `pitwall lake …`: thin arms over `pitwall_lake`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pitwall_lake::{Lake, Progress, SeasonRange, StepReport};

use crate::args::LakeArgs;

/// `pitwall ingest <source>`.
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Load an F1DB source tree (`src/data` of a clone) into the raw layer. Unchanged results
    /// are not written again; changed ones are added as new versions.
    F1db(IngestF1dbArgs),
}

#[derive(Debug, Args)]
pub struct IngestF1dbArgs {
    /// The F1DB data folder (holds `seasons/`, `drivers/`, `circuits/` …).
    #[arg(long)]
    source: PathBuf,
    /// Seasons to load, both ends included: `2020..2025`, `2025`, `2020..`.
    #[arg(long, default_value = "..")]
    seasons: SeasonRange,
    #[command(flatten)]
    lake: LakeArgs,
}

/// `pitwall lake <command>`.
#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Build every layer after raw; each step writes only what changed.
    Build(BuildArgs),
    /// Build bronze f1/results from the raw layer.
    Bronze(LakeArgs),
    /// Build silver f1/results and f1/sessions from bronze.
    Silver(LakeArgs),
    /// Build silver f1/fs_drivers (missing or changed dtRefs only, unless --full).
    FsDrivers(BuildArgs),
    /// Build analytics f1/abt_churn.
    Abt(LakeArgs),
    /// List the tables with their versions, rows and files.
    Tables(LakeArgs),
    /// Delete data files that no version within the retention period needs.
    Vacuum(VacuumArgs),
    /// Run a SQL query over the lake's tables (bronze_results, silver_results, silver_sessions,
    /// fs_drivers, fs_drivers_inputs, abt_churn) and print its rows; `EXPLAIN ANALYZE …` times
    /// each step of the plan.
    Sql(SqlArgs),
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query, in DataFusion's SQL dialect.
    query: String,
    #[command(flatten)]
    lake: LakeArgs,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Recompute every fs_drivers partition (every race date since 1950).
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    lake: LakeArgs,
}

#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Keep files needed by versions younger than this.
    #[arg(long, default_value_t = 168)]
    retention_hours: u32,
    /// Only report what would be deleted.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    lake: LakeArgs,
}

/// The lake of `args`, drawing its long steps as progress bars.
fn open(args: &LakeArgs) -> anyhow::Result<Lake> {
    Ok(args.open()?.with_progress(Arc::new(Bars::default())))
}

pub async fn ingest(cmd: IngestCommand) -> anyhow::Result<()> {
    match cmd {
        IngestCommand::F1db(args) => {
            let report = open(&args.lake)?.ingest_f1db(&args.source, args.seasons).await?;
            println!("{report}");
            Ok(())
        }
    }
}

pub async fn lake(cmd: LakeCommand) -> anyhow::Result<()> {
    match cmd {
        LakeCommand::Build(args) => print_steps(open(&args.lake)?.build(args.full).await?),
        LakeCommand::Bronze(args) => print_steps(vec![open(&args)?.build_bronze().await?]),
        LakeCommand::Silver(args) => print_steps(open(&args)?.build_silver().await?),
        LakeCommand::FsDrivers(args) => print_steps(open(&args.lake)?.build_fs_drivers(args.full).await?),
        LakeCommand::Abt(args) => print_steps(vec![open(&args)?.build_abt_churn().await?]),
        LakeCommand::Tables(args) => {
            print!("{}", open(&args)?.tables().await?);
            Ok(())
        }
        LakeCommand::Vacuum(args) => {
            let retention = chrono::Duration::hours(i64::from(args.retention_hours));
            for report in open(&args.lake)?.vacuum(retention, args.dry_run).await? {
                println!("{report}");
            }
            Ok(())
        }
        LakeCommand::Sql(args) => {
            let batches = open(&args.lake)?.sql(&args.query).await?;
            println!("{}", pitwall_lake::arrow::util::pretty::pretty_format_batches(&batches)?);
            Ok(())
        }
    }
}

fn print_steps(steps: Vec<StepReport>) -> anyhow::Result<()> {
    for step in steps {
        println!("{step}");
    }
    Ok(())
}

/// indicatif bars for the lake's long steps; drawn only when stderr is a terminal.
#[derive(Default)]
struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn begin(&self, step: &str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg:32} [{bar:40}] {pos}/{len} ({elapsed})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            ),
            None => {
                let bar = ProgressBar::new_spinner()
                    .with_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"));
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
        };
        bar.set_message(step.to_string());
        if let Some(old) = self.lock().replace(bar) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.lock().as_ref() {
            bar.inc(n);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.lock().take() {
            bar.finish_and_clear();
        }
    }
}

impl Bars {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        // A panic while holding the lock leaves only a progress bar behind.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}
