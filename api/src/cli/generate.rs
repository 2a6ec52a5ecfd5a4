//! `ottstats generate users`: realistic users for demos, imports and benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Args;
use ottstats_domain::InputError;

use super::{CliError, FileFormat};
use crate::demo::users::{UserGenerator, write_csv, write_ndjson};

#[derive(Debug, Args)]
pub struct GenerateUsersArgs {
    /// How many users.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// The same seed (and arguments) writes the same users.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: FileFormat,
    /// Where to write; stdout when omitted.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Home country of the tenant the users belong to.
    #[arg(long, default_value = "CL")]
    pub home: String,
    /// First day of registrations (UTC); two years before `--to` when omitted.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Day after the last registrations (UTC); today when omitted.
    #[arg(long)]
    pub to: Option<NaiveDate>,
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

pub fn users(args: GenerateUsersArgs) -> Result<(), CliError> {
    let to = args.to.map(midnight).unwrap_or_else(|| midnight(Utc::now().date_naive()));
    let from = args.from.map(midnight).unwrap_or(to - Duration::days(730));
    if to <= from {
        return Err(InputError::new("--to", "must be after --from").into());
    }
    let home = ottstats_domain::country::Country::parse_arg(&args.home, "--home")?;
    let users = UserGenerator::new(args.seed, home.code(), from, to).take(args.count);
    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).map_err(|e| CliError::Io(format!("cannot create {}", path.display()), e))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let out = BufWriter::with_capacity(1 << 16, out);
    match args.format {
        FileFormat::Csv => write_csv(out, users),
        FileFormat::Ndjson => write_ndjson(out, users),
    }
    .map_err(|e| CliError::Io("cannot write users".into(), e))
}
