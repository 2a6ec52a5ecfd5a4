//! `ottstats import users|events|logins|contents FILE`: stream a file into a tenant, in
//! batches, reporting every bad line with its number and storing every good one.

mod header;
mod records;

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ottstats_domain::repository::TenantRepository;
use ottstats_domain::tenant::Tenant;
use ottstats_store::Store;
pub use records::{Contents, Events, Kind, Logins, Users};

use super::{CliError, FileFormat, ImportArgs};

/// Items after which a bulk import refreshes the planner's statistics.
const ANALYZE_AFTER: usize = 50_000;

/// Exit status when some lines were rejected (the others were stored).
pub const EXIT_SOME_REJECTED: u8 = 2;

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

struct Importer<'a, K: Kind> {
    store: &'a Store,
    tenant: Tenant,
    progress: ProgressBar,
    /// (line number, draft)
    batch: Vec<(u64, K::Draft)>,
    totals: Totals,
    /// Items sent so far, to refresh the planner's statistics once early on.
    sent: usize,
    /// Items sent to the store at once.
    batch_size: usize,
}

impl<K: Kind> Importer<'_, K> {
    fn reject(&mut self, line: u64, reason: &str) {
        self.totals.rejected += 1;
        self.progress.suspend(|| eprintln!("line {line}: {reason}"));
    }

    async fn push(&mut self, line: u64, draft: K::Draft) -> Result<(), CliError> {
        self.batch.push((line, draft));
        if self.batch.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), CliError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let (lines, drafts): (Vec<u64>, Vec<K::Draft>) = batch.into_iter().unzip();
        let report = K::ingest(self.store, self.tenant.id, &drafts).await?;
        let before = self.sent;
        self.sent += drafts.len();
        if before < ANALYZE_AFTER && self.sent >= ANALYZE_AFTER {
            self.store.refresh_statistics().await?;
        }
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

/// Imports a file of `K` into the tenant of the API key.
pub async fn run<K: Kind>(args: ImportArgs) -> Result<ExitCode, CliError> {
    let format = args.format.or_else(|| guess_format(&args.file)).ok_or_else(|| {
        CliError::Usage(format!("cannot tell the format of {}: pass --format csv|ndjson", args.file.display()))
    })?;
    if format == FileFormat::Csv && !K::CSV {
        return Err(CliError::Usage(format!("{} are imported from NDJSON only", K::NAME)));
    }
    let file = File::open(&args.file).map_err(|e| CliError::Io(format!("cannot open {}", args.file.display()), e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let settings = ottstats_store::DatabaseSettings {
        url: args.db.url(),
        bulk_from: args.bulk_from,
        ..ottstats_store::DatabaseSettings::default()
    };
    let store = Store::open_with(&settings).await?;
    let batch_size = args.batch as usize;
    let tenant = store
        .find_by_api_key(args.api_key.trim())
        .await?
        .ok_or_else(|| CliError::Usage("the API key is not valid".into()))?;
    let progress = progress_bar(len);
    let reader = BufReader::with_capacity(1 << 16, progress.wrap_read(file));
    let mut importer: Importer<K> = Importer {
        store: &store,
        tenant,
        progress: progress.clone(),
        batch: Vec::with_capacity(batch_size),
        totals: Totals::default(),
        sent: 0,
        batch_size,
    };
    match format {
        FileFormat::Ndjson => read_ndjson(reader, &mut importer).await?,
        FileFormat::Csv => read_csv(reader, &mut importer).await?,
    }
    importer.flush().await?;
    store.refresh_statistics().await?;
    progress.finish_and_clear();
    let t = &importer.totals;
    println!(
        "imported {} {} into tenant {}: {} accepted, {} duplicates, {} rejected",
        K::NAME,
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

async fn read_ndjson<K: Kind, R: BufRead>(reader: R, importer: &mut Importer<'_, K>) -> Result<(), CliError> {
    for (i, line) in reader.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.map_err(|e| CliError::Io(format!("cannot read line {number}"), e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<K::Record>(&line) {
            Ok(record) => importer.push(number, record.into()).await?,
            Err(e) => importer.reject(number, &format!("not a valid object: {}", json_fault(&e))),
        }
    }
    Ok(())
}

async fn read_csv<K: Kind, R: Read>(reader: R, importer: &mut Importer<'_, K>) -> Result<(), CliError> {
    // Header names are trimmed (` name` is `name`); values are trimmed by validation.
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::Headers).flexible(false).from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(CliError::Usage(format!("cannot read the CSV header line: {e}"))),
    };
    let names: Vec<&str> = headers.iter().collect();
    header::check(&names, K::COLUMNS).map_err(CliError::Usage)?;
    for record in csv.records() {
        match record {
            Ok(row) => {
                let number = row.position().map_or(0, |p| p.line());
                match row.deserialize::<K::Record>(Some(&headers)) {
                    Ok(r) => importer.push(number, r.into()).await?,
                    Err(e) => importer.reject(number, &format!("not a valid row: {e}")),
                }
            }
            Err(e) => {
                let number = e.position().map_or(0, |p| p.line());
                if e.is_io_error() {
                    return Err(CliError::Usage(format!("cannot read line {number}: {e}")));
                }
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("has {len} fields, the header {expected_len}")
                    }
                    _ => format!("not a CSV row: {e}"),
                };
                importer.reject(number, &reason);
            }
        }
    }
    Ok(())
}

/// A JSON error without serde_json's "at line 1 column N" (the file's line is given
/// already), the column kept.
fn json_fault(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("{message} (column {})", e.column())
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
}
