//! `ottstats users erase`: erase users of a tenant (their profile, player events,
//! sessions and logins), from ids given as arguments or in a file.

use std::path::PathBuf;

use clap::Subcommand;
use ottstats_domain::erasure::{ErasureIds, MAX_ERASURE_IDS, erase_users};

use super::CliError;
use super::key::{TenantArg, open};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Erase users: each one's profile, events, sessions and logins, one transaction per
    /// user. Prints how many were erased and each id of which nothing was stored.
    Erase {
        #[command(flatten)]
        tenant: TenantArg,
        /// The users' ids.
        ids: Vec<String>,
        /// A file of ids, one per line (blank lines are skipped); `-` reads stdin.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

pub async fn run(command: UsersCommand) -> Result<(), CliError> {
    match command {
        UsersCommand::Erase { tenant, mut ids, file } => {
            if let Some(path) = &file {
                ids.extend(read_ids(path)?);
            }
            // A repeated id counts once, however far apart its repeats are.
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(id.trim().to_owned()));
            if ids.is_empty() {
                return Err(CliError::Usage("give the ids to erase, as arguments or with --file".into()));
            }
            // Every id is checked before the first is erased; then calls of the API's size.
            let mut batches = Vec::new();
            for (n, chunk) in ids.chunks(MAX_ERASURE_IDS).enumerate() {
                batches.push(ErasureIds::parse(chunk, "ids").map_err(|e| {
                    let at = e.argument.strip_prefix("ids.").and_then(|i| i.parse::<usize>().ok());
                    let place = at.map_or_else(|| "ids".to_owned(), |i| format!("id {}", n * MAX_ERASURE_IDS + i + 1));
                    CliError::Usage(format!("{place}: {}", e.message))
                })?);
            }
            let (store, t) = open(&tenant).await?;
            let (mut erased, mut not_found) = (0, Vec::new());
            for batch in &batches {
                match erase_users(&store, t.id, batch).await {
                    Ok(report) => {
                        erased += report.erased;
                        not_found.extend(report.not_found);
                    }
                    Err(e) => {
                        // What is erased stays erased: say how far it got before failing.
                        eprintln!("erased {erased} users before the failure; erasing again finishes the rest");
                        return Err(e.into());
                    }
                }
            }
            println!("erased {erased} users of tenant {}; {} not found", t.name, not_found.len());
            for id in not_found {
                println!("not found: {id}");
            }
            store.close().await?;
        }
    }
    Ok(())
}

fn read_ids(path: &PathBuf) -> Result<Vec<String>, CliError> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| CliError::Io("stdin".into(), e))?
    } else {
        std::fs::read_to_string(path).map_err(|e| CliError::Io(path.display().to_string(), e))?
    };
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}
