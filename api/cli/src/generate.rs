//! `ottstats generate users`: realistic users for demos, imports and benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Args;
use ottstats_domain::InputError;

use super::{CliError, FileFormat};
use ottstats_datagen::activity::{
    Activity, ActivityGenerator, catalogue, write_contents_ndjson, write_events_ndjson, write_logins_ndjson,
};
use ottstats_datagen::users::{UserGenerator, generated_users, write_csv, write_ndjson};

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

#[derive(Debug, Args)]
pub struct GenerateEventsArgs {
    /// Writes `contents.ndjson`, `events.ndjson` and `logins.ndjson` here.
    #[arg(long)]
    pub output_dir: PathBuf,
    /// Activity for the first N users that `generate users --seed USER_SEED` writes (with
    /// the same --users-from/--users-to), so ids and registrations match.
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    #[arg(long, default_value_t = 42)]
    pub user_seed: u64,
    /// The users' registration window, as given to `generate users --from`.
    #[arg(long)]
    pub users_from: Option<NaiveDate>,
    /// As given to `generate users --to`.
    #[arg(long)]
    pub users_to: Option<NaiveDate>,
    /// Home country of the users, as given to `generate users --home`.
    #[arg(long, default_value = "CL")]
    pub home: String,
    /// The same seed (and arguments) writes the same activity.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// First day of activity (UTC); 30 days before `--to` when omitted.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Day after the last activity (UTC); today when omitted.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Sessions per user relative to a typical viewer (a few a week).
    #[arg(long, default_value_t = 1.0)]
    pub intensity: f64,
    /// Only these user ids (repeatable).
    #[arg(long = "user")]
    pub only: Vec<String>,
    /// Not these user ids (repeatable).
    #[arg(long = "exclude-user")]
    pub exclude: Vec<String>,
}

fn create(path: &std::path::Path) -> Result<BufWriter<File>, CliError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|e| CliError::Io(format!("cannot create {}", path.display()), e))
}

pub fn events(args: GenerateEventsArgs) -> Result<(), CliError> {
    let today = midnight(Utc::now().date_naive());
    let users_to = args.users_to.map(midnight).unwrap_or(today);
    let users_from = args.users_from.map(midnight).unwrap_or(users_to - Duration::days(730));
    let to = args.to.map(midnight).unwrap_or(today);
    let from = args.from.map(midnight).unwrap_or(to - Duration::days(30));
    if to <= from {
        return Err(InputError::new("--to", "must be after --from").into());
    }
    if !(args.intensity.is_finite() && args.intensity >= 0.0) {
        return Err(InputError::new("--intensity", "must be a number ≥ 0").into());
    }
    let home = ottstats_domain::country::Country::parse_arg(&args.home, "--home")?;
    let mut users = generated_users(args.user_seed, home.code(), users_from, users_to, args.users);
    if !args.only.is_empty() {
        users.retain(|(id, _)| args.only.contains(id));
    }
    users.retain(|(id, _)| !args.exclude.contains(id));
    std::fs::create_dir_all(&args.output_dir)
        .map_err(|e| CliError::Io(format!("cannot create {}", args.output_dir.display()), e))?;
    let io = |e| CliError::Io("cannot write activity".into(), e);
    let contents = catalogue(args.seed);
    write_contents_ndjson(create(&args.output_dir.join("contents.ndjson"))?, contents.iter().cloned()).map_err(io)?;
    let mut events_out = create(&args.output_dir.join("events.ndjson"))?;
    let mut logins_out = create(&args.output_dir.join("logins.ndjson"))?;
    let (mut events, mut logins) = (Vec::with_capacity(10_000), Vec::new());
    let (mut event_count, mut login_count) = (0usize, 0usize);
    for item in ActivityGenerator::new(args.seed, &contents, users, from, to, args.intensity) {
        match item {
            Activity::Event(e) => events.push(e),
            Activity::Login(l) => logins.push(l),
        }
        if events.len() >= 10_000 {
            event_count += events.len();
            write_events_ndjson(&mut events_out, events.drain(..)).map_err(io)?;
            login_count += logins.len();
            write_logins_ndjson(&mut logins_out, logins.drain(..)).map_err(io)?;
        }
    }
    event_count += events.len();
    login_count += logins.len();
    write_events_ndjson(&mut events_out, events.into_iter()).map_err(io)?;
    write_logins_ndjson(&mut logins_out, logins.into_iter()).map_err(io)?;
    println!(
        "wrote {} contents, {event_count} events and {login_count} logins to {}",
        contents.len(),
        args.output_dir.display()
    );
    Ok(())
}
