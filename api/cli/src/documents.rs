//! `ottstats documents add FILE…`: registers trusted documents, the only operations a
//! server started with `--trusted-documents` runs.
//!
//! A `.graphql` file is one document, registered under the SHA-256 of its exact text
//! (clients must send that text, or its hash as a persisted query). A `.json` file is an
//! Apollo persisted query manifest (`generate-persisted-query-manifest`), whose
//! operations are registered under their ids, each checked against its body.

use std::path::PathBuf;

use clap::Subcommand;
use ottstats_domain::InputError;
use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::TrustedDocuments;
use ottstats_server::hash_of;
use serde::Deserialize;

use super::{CliError, DatabaseArgs};

#[derive(Debug, Subcommand)]
pub enum DocumentsCommand {
    /// Register `.graphql` documents or Apollo persisted query manifests (`.json`); prints
    /// each document's hash.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Deserialize)]
struct Manifest {
    format: String,
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

pub async fn run(command: DocumentsCommand) -> Result<(), CliError> {
    let DocumentsCommand::Add { db, files } = command;
    // Every file is read and checked before anything is stored: all or nothing.
    let mut documents = Vec::new();
    for file in &files {
        documents.extend(read(file)?);
    }
    let store = ottstats_store::Store::open(&db.url()).await?;
    for (hash, text, origin) in &documents {
        let new = store.add_document(*hash, text).await?;
        println!("{hash} {origin}{}", if new { "" } else { " (registered already)" });
    }
    store.close().await?;
    Ok(())
}

/// The documents of one file, each with its hash and where it came from.
fn read(file: &PathBuf) -> Result<Vec<(DocumentHash, String, String)>, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| CliError::Io(format!("cannot read {}", file.display()), e))?;
    let name = file.display().to_string();
    if file.extension().is_some_and(|e| e == "json") {
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| InputError::new(name.as_str(), format!("not a persisted query manifest: {e}")))?;
        if manifest.format != "apollo-persisted-query-manifest" {
            let message = format!("format `{}` is not `apollo-persisted-query-manifest`", manifest.format);
            return Err(InputError::new(name, message).into());
        }
        return manifest
            .operations
            .into_iter()
            .enumerate()
            .map(|(i, op)| {
                let place = format!("{name}: operations[{i}]");
                let hash = DocumentHash::parse(&op.id, &format!("{place}.id"))?;
                if hash_of(&op.body) != hash {
                    return Err(InputError::new(format!("{place}.id"), "is not the SHA-256 of its body").into());
                }
                parses(&op.body, &place)?;
                Ok((hash, op.body, place))
            })
            .collect();
    }
    parses(&text, &name)?;
    Ok(vec![(hash_of(&text), text, name)])
}

fn parses(text: &str, place: &str) -> Result<(), CliError> {
    async_graphql::parser::parse_query(text)
        .map(|_| ())
        .map_err(|e| InputError::new(place, format!("not a GraphQL document: {e}")).into())
}
