//! `ottstats import users|events|logins|contents FILE`: stream a file into a tenant, in
//! batches, reporting every bad line with its number and storing every good one.

mod header;
mod records;

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ottstats_domain::DomainError;
use ottstats_domain::ingest::IngestReport;
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

/// A batch as read: drafts with their line numbers, and the lines that could not be
/// read at all, in file order.
struct Chunk<D> {
    lines: Vec<u64>,
    drafts: Vec<D>,
    unreadable: Vec<(u64, String)>,
}

impl<D> Chunk<D> {
    fn with_capacity(n: usize) -> Chunk<D> {
        Chunk { lines: Vec::with_capacity(n), drafts: Vec::with_capacity(n), unreadable: Vec::new() }
    }
}

/// The reading side, on a thread of its own: it parses the next batches while the store
/// writes the last ones, handing them over through a channel of two.
struct Reader<D> {
    to_writer: tokio::sync::mpsc::Sender<Result<Chunk<D>, CliError>>,
    chunk: Chunk<D>,
    size: usize,
    /// The writer stopped (it failed): nothing more is read.
    closed: bool,
}

impl<D> Reader<D> {
    fn push(&mut self, line: u64, draft: D) {
        self.chunk.lines.push(line);
        self.chunk.drafts.push(draft);
        if self.chunk.drafts.len() >= self.size {
            self.flush();
        }
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.chunk.unreadable.push((line, reason));
    }

    fn flush(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Chunk::with_capacity(self.size));
        if chunk.drafts.is_empty() && chunk.unreadable.is_empty() {
            return;
        }
        self.closed |= self.to_writer.blocking_send(Ok(chunk)).is_err();
    }
}

/// The writing side: stores each batch as it comes, up to [`Kind::IN_FLIGHT`] at once.
struct Writer<'a, K: Kind> {
    store: &'a Store,
    tenant: Tenant,
    progress: ProgressBar,
    totals: Totals,
    /// Items sent so far, to refresh the planner's statistics once early on.
    sent: usize,
    _kind: std::marker::PhantomData<K>,
}

impl<K: Kind> Writer<'_, K> {
    fn reject(&mut self, line: u64, reason: &str) {
        self.totals.rejected += 1;
        self.progress.suspend(|| eprintln!("line {line}: {reason}"));
    }

    fn account(&mut self, lines: &[u64], report: IngestReport) {
        self.totals.accepted += report.accepted;
        self.totals.duplicates += report.duplicates;
        for r in report.rejected {
            let line = lines.get(r.index).copied().unwrap_or_default();
            self.reject(line, &format!("{}: {}", r.argument, r.message));
        }
    }

    async fn run(
        &mut self,
        mut from_reader: tokio::sync::mpsc::Receiver<Result<Chunk<K::Draft>, CliError>>,
    ) -> Result<(), CliError> {
        use futures_util::StreamExt;
        let (store, tenant) = (self.store, self.tenant.id);
        let mut in_flight = futures_util::stream::FuturesOrdered::new();
        let mut flying_ids: VecDeque<HashSet<String>> = VecDeque::new();
        while let Some(chunk) = from_reader.recv().await {
            let Chunk { lines, drafts, unreadable } = chunk?;
            for (line, reason) in unreadable {
                self.reject(line, &reason);
            }
            if drafts.is_empty() {
                continue;
            }
            // Ids of ordered kinds in the batches in flight (the oldest first): a batch
            // sharing one waits for them, so the later line of an id is stored last.
            let ids: HashSet<String> = drafts.iter().filter_map(|d| K::ordered_id(d)).map(str::to_owned).collect();
            while !in_flight.is_empty()
                && (in_flight.len() >= K::IN_FLIGHT.max(1)
                    || flying_ids.iter().any(|f: &HashSet<String>| !f.is_disjoint(&ids)))
            {
                if let Some(done) = in_flight.next().await {
                    let (lines, report): (Vec<u64>, Result<IngestReport, DomainError>) = done;
                    flying_ids.pop_front();
                    self.account(&lines, report?);
                }
            }
            flying_ids.push_back(ids);
            let before = self.sent;
            self.sent += drafts.len();
            if before < ANALYZE_AFTER && self.sent >= ANALYZE_AFTER {
                self.store.refresh_statistics().await?;
            }
            in_flight.push_back(async move {
                let report = K::ingest(store, tenant, &drafts).await;
                (lines, report)
            });
        }
        while let Some((lines, report)) = in_flight.next().await {
            flying_ids.pop_front();
            self.account(&lines, report?);
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
    let tenant = store
        .find_by_api_key(args.api_key.trim())
        .await?
        .ok_or_else(|| CliError::Usage("the API key is not valid".into()))?;
    let progress = progress_bar(len);
    let batch_size = args.batch as usize;
    let (to_writer, from_reader) = tokio::sync::mpsc::channel(2);
    let read_progress = progress.clone();
    let reading = std::thread::spawn(move || {
        let reader = BufReader::with_capacity(1 << 16, read_progress.wrap_read(file));
        let mut out = Reader { to_writer, chunk: Chunk::with_capacity(batch_size), size: batch_size, closed: false };
        let read = match format {
            FileFormat::Ndjson => read_ndjson::<K, _>(reader, &mut out),
            FileFormat::Csv => read_csv::<K, _>(reader, &mut out),
        };
        match read {
            Ok(()) => out.flush(),
            Err(e) => {
                let _ = out.to_writer.blocking_send(Err(e));
            }
        }
    });
    let mut importer: Writer<K> = Writer {
        store: &store,
        tenant,
        progress: progress.clone(),
        totals: Totals::default(),
        sent: 0,
        _kind: std::marker::PhantomData,
    };
    let written = importer.run(from_reader).await;
    // The reader ends by itself once the channel is dropped (it stops reading).
    let _ = reading.join();
    written?;
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

fn read_ndjson<K: Kind, R: BufRead>(reader: R, out: &mut Reader<K::Draft>) -> Result<(), CliError> {
    for (i, line) in reader.lines().enumerate() {
        if out.closed {
            return Ok(());
        }
        let number = i as u64 + 1;
        let line = line.map_err(|e| CliError::Io(format!("cannot read line {number}"), e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<K::Record>(&line) {
            Ok(record) => out.push(number, record.into()),
            Err(e) => out.reject(number, format!("not a valid object: {}", json_fault(&e))),
        }
    }
    Ok(())
}

fn read_csv<K: Kind, R: Read>(reader: R, out: &mut Reader<K::Draft>) -> Result<(), CliError> {
    // Header names are trimmed (` name` is `name`); values are trimmed by validation.
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::Headers).flexible(false).from_reader(reader);
    let headers = match csv.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(CliError::Usage(format!("cannot read the CSV header line: {e}"))),
    };
    let names: Vec<&str> = headers.iter().collect();
    header::check(&names, K::COLUMNS).map_err(CliError::Usage)?;
    for record in csv.records() {
        if out.closed {
            return Ok(());
        }
        match record {
            Ok(row) => {
                let number = row.position().map_or(0, |p| p.line());
                match row.deserialize::<K::Record>(Some(&headers)) {
                    Ok(r) => out.push(number, r.into()),
                    Err(e) => out.reject(number, format!("not a valid row: {e}")),
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
                out.reject(number, reason);
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
