//! `ottstats import users FILE`: stream a CSV or NDJSON file into a tenant, in batches,
//! reporting every bad line with its number and storing every good one.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ottstats_domain::ingest;
use ottstats_domain::repository::TenantRepository;
use ottstats_domain::tenant::Tenant;
use ottstats_domain::user::UserDraft;
use ottstats_persistence::Store;
use serde::Deserialize;

use super::{CliError, FileFormat, ImportArgs};

/// Items sent to the store at once.
const BATCH: usize = 5_000;

/// Exit status when some lines were rejected (the others were stored).
pub const EXIT_SOME_REJECTED: u8 = 2;

/// One user as a file line carries it; camelCase or snake_case keys.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRecord {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default, alias = "birth_date")]
    birth_date: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(alias = "registered_at")]
    registered_at: String,
}

impl From<UserRecord> for UserDraft {
    fn from(r: UserRecord) -> Self {
        UserDraft {
            id: r.id,
            name: r.name.unwrap_or_default(),
            gender: r.gender,
            birth_date: r.birth_date,
            country: r.country,
            state: r.state,
            city: r.city,
            registered_at: r.registered_at,
        }
    }
}

fn guess_format(path: &Path) -> Option<FileFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(FileFormat::Csv),
        "ndjson" | "jsonl" | "json" => Some(FileFormat::Ndjson),
        _ => None,
    }
}

/// Counts of the whole import.
#[derive(Debug, Default)]
struct Totals {
    accepted: usize,
    duplicates: usize,
    rejected: usize,
}

struct Importer<'a> {
    store: &'a Store,
    tenant: Tenant,
    progress: ProgressBar,
    /// (line number, draft)
    batch: Vec<(u64, UserDraft)>,
    totals: Totals,
}

impl Importer<'_> {
    fn reject(&mut self, line: u64, reason: &str) {
        self.totals.rejected += 1;
        self.progress.suspend(|| eprintln!("line {line}: {reason}"));
    }

    async fn push(&mut self, line: u64, draft: UserDraft) -> Result<(), CliError> {
        self.batch.push((line, draft));
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), CliError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let (lines, drafts): (Vec<u64>, Vec<UserDraft>) = batch.into_iter().unzip();
        let report = ingest::upsert_users(self.store, self.tenant.id, &drafts, Utc::now()).await?;
        self.totals.accepted += report.accepted;
        self.totals.duplicates += report.duplicates;
        for r in report.rejected {
            let line = lines.get(r.index).copied().unwrap_or_default();
            self.reject(line, &format!("{}: {}", r.argument, r.message));
        }
        Ok(())
    }
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style);
    }
    bar
}

pub async fn users(args: ImportArgs) -> Result<ExitCode, CliError> {
    let format = args.format.or_else(|| guess_format(&args.file)).ok_or_else(|| {
        CliError::Usage(format!("cannot tell the format of {}: pass --format csv|ndjson", args.file.display()))
    })?;
    let file = File::open(&args.file).map_err(|e| CliError::Io(format!("cannot open {}", args.file.display()), e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = Store::open(&args.db.url()).await?;
    let tenant = store
        .find_by_api_key(args.api_key.trim())
        .await?
        .ok_or_else(|| CliError::Usage("the API key is not valid".into()))?;
    let progress = progress_bar(len);
    let reader = BufReader::with_capacity(1 << 16, progress.wrap_read(file));
    let mut importer = Importer {
        store: &store,
        tenant,
        progress: progress.clone(),
        batch: Vec::with_capacity(BATCH),
        totals: Totals::default(),
    };
    match format {
        FileFormat::Ndjson => read_ndjson(reader, &mut importer).await?,
        FileFormat::Csv => read_csv(reader, &mut importer).await?,
    }
    importer.flush().await?;
    progress.finish_and_clear();
    let t = &importer.totals;
    println!(
        "imported {} into tenant {}: {} accepted, {} duplicates, {} rejected",
        args.file.display(),
        importer.tenant.name,
        t.accepted,
        t.duplicates,
        t.rejected
    );
    let code = if t.rejected > 0 { ExitCode::from(EXIT_SOME_REJECTED) } else { ExitCode::SUCCESS };
    drop(importer);
    store.close().await?;
    Ok(code)
}

async fn read_ndjson<R: BufRead>(reader: R, importer: &mut Importer<'_>) -> Result<(), CliError> {
    for (i, line) in reader.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.map_err(|e| CliError::Io(format!("cannot read line {number}"), e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<UserRecord>(&line) {
            Ok(record) => importer.push(number, record.into()).await?,
            Err(e) => importer.reject(number, &format!("not a user object: {e}")),
        }
    }
    Ok(())
}

async fn read_csv<R: Read>(reader: R, importer: &mut Importer<'_>) -> Result<(), CliError> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::None).flexible(true).from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(CliError::Usage(format!("cannot read the CSV header line: {e}"))),
    };
    for record in csv.records() {
        match record {
            Ok(row) => {
                let number = row.position().map_or(0, |p| p.line());
                match row.deserialize::<UserRecord>(Some(&headers)) {
                    Ok(r) => importer.push(number, r.into()).await?,
                    Err(e) => importer.reject(number, &format!("not a user row: {e}")),
                }
            }
            Err(e) => {
                let number = e.position().map_or(0, |p| p.line());
                if e.is_io_error() {
                    return Err(CliError::Usage(format!("cannot read line {number}: {e}")));
                }
                importer.reject(number, &format!("not a CSV row: {e}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(guess_format(Path::new("a/users.CSV")), Some(FileFormat::Csv));
        assert_eq!(guess_format(Path::new("users.ndjson")), Some(FileFormat::Ndjson));
        assert_eq!(guess_format(Path::new("users.txt")), None);
    }

    #[test]
    fn records_accept_both_key_styles() {
        let a: UserRecord = serde_json::from_str(r#"{"id":"1","birthDate":"2000-01-01","registeredAt":"x"}"#).unwrap();
        let b: UserRecord =
            serde_json::from_str(r#"{"id":"1","birth_date":"2000-01-01","registered_at":"x"}"#).unwrap();
        assert_eq!(a.birth_date, b.birth_date);
        assert_eq!(a.registered_at, b.registered_at);
    }
}
