//! `ottstats key create|list|revoke|rotate`: API keys of a tenant, named by its name.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use ottstats_domain::InputError;
use ottstats_domain::access::{KeyId, KeyRecord, NewKey, Scopes};
use ottstats_domain::repository::{KeyRepository, TenantRepository};
use ottstats_domain::tenant::Tenant;
use ottstats_store::Store;

use super::{CliError, DatabaseArgs};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key; the key itself is the last line printed (shown once).
    Create {
        #[command(flatten)]
        tenant: TenantArg,
        /// A label to tell keys apart (`dashboard`, `ios-app`).
        #[arg(long, default_value = "")]
        name: String,
        /// What the key may do: `read`, `pii`, `write`, `ingest`, comma-separated
        /// (`--scope` is the same flag).
        #[arg(long, visible_alias = "scope", default_value = "read")]
        scopes: String,
        /// How long the key works (`90d`, `12h`); for good when omitted.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<Duration>,
    },
    /// List the tenant's keys, newest first (never the keys themselves).
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Revoke a key at once, in every process within a second.
    Revoke {
        #[command(flatten)]
        tenant: TenantArg,
        /// The key's id, as `key list` shows it.
        key: String,
    },
    /// Make a new key with the old one's name and scopes; the old one keeps working for
    /// the overlap, so clients can switch without a gap. The new key is the last line.
    Rotate {
        #[command(flatten)]
        tenant: TenantArg,
        /// The key's id, as `key list` shows it.
        key: String,
        /// How long the old key keeps working (`0` ends it at once).
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        overlap: Duration,
    },
}

#[derive(Debug, Args)]
pub struct TenantArg {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The tenant's name.
    #[arg(long)]
    pub tenant: String,
}

pub async fn run(command: KeyCommand) -> Result<(), CliError> {
    match command {
        KeyCommand::Create { tenant, name, scopes, expires_in } => {
            let scopes = Scopes::parse(&scopes).map_err(|e| InputError::new("--scopes", e.message))?;
            let name = label(&name)?;
            let expires_at = expires_in.map(|d| later(d, "--expires-in")).transpose()?;
            let (store, t) = open(&tenant).await?;
            let (record, key) = store.create_key(t.id, NewKey { name, scopes, expires_at }).await?;
            println!("key {} of tenant {} created: {}", record.id, t.name, describe(&record));
            println!("API key (shown once):");
            println!("{key}");
            store.close().await?;
        }
        KeyCommand::List { tenant } => {
            let (store, t) = open(&tenant).await?;
            println!(
                "{:<14} {:<16} {:<22} {:<21} {:<21} {:<21} status",
                "id", "name", "scopes", "created", "expires", "last used"
            );
            for key in store.list_keys(t.id).await? {
                println!(
                    "{:<14} {:<16} {:<22} {:<21} {:<21} {:<21} {}",
                    key.id.as_str(),
                    key.name,
                    key.scopes.to_string().replace(' ', ","),
                    time(Some(key.created_at)),
                    time(key.expires_at),
                    time(key.last_used_at),
                    status(&key, Utc::now())
                );
            }
            store.close().await?;
        }
        KeyCommand::Revoke { tenant, key } => {
            let id = KeyId::parse(&key)?;
            let (store, t) = open(&tenant).await?;
            if !store.revoke_key(t.id, &id).await? {
                return Err(CliError::Usage(format!("tenant {} has no unrevoked key {id}", t.name)));
            }
            println!("key {id} of tenant {} revoked", t.name);
            store.close().await?;
        }
        KeyCommand::Rotate { tenant, key, overlap } => {
            let id = KeyId::parse(&key)?;
            let (store, t) = open(&tenant).await?;
            let Some((record, new_key)) = store.rotate_key(t.id, &id, overlap).await? else {
                return Err(CliError::Usage(format!("tenant {} has no unrevoked key {id}", t.name)));
            };
            let until = if overlap.is_zero() {
                "revoked now".to_owned()
            } else {
                format!("works for {} more", humantime::format_duration(overlap))
            };
            println!("key {id} {until}; key {} replaces it: {}", record.id, describe(&record));
            println!("API key (shown once):");
            println!("{new_key}");
            store.close().await?;
        }
    }
    Ok(())
}

pub(crate) async fn open(arg: &TenantArg) -> Result<(Store, Tenant), CliError> {
    let store = Store::open(&arg.db.url()).await?;
    match store.find_by_name(arg.tenant.trim()).await? {
        Some(t) => Ok((store, t)),
        None => Err(CliError::Usage(format!("no tenant is named {:?}", arg.tenant.trim()))),
    }
}

fn label(name: &str) -> Result<String, CliError> {
    let name = name.trim();
    if name.chars().count() > 200 || name.contains('\0') {
        return Err(InputError::new("--name", "at most 200 characters, no NUL").into());
    }
    Ok(name.to_owned())
}

fn later(d: Duration, arg: &str) -> Result<DateTime<Utc>, CliError> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .filter(|_| !d.is_zero())
        .ok_or_else(|| InputError::new(arg, "must be more than 0 and less than a few centuries").into())
}

fn describe(key: &KeyRecord) -> String {
    let expiry = key.expires_at.map_or("no expiry".to_owned(), |at| format!("expires {}", time(Some(at))));
    format!("scopes {}, {expiry}", key.scopes.to_string().replace(' ', ","))
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map_or("-".to_owned(), |at| at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn status(key: &KeyRecord, now: DateTime<Utc>) -> &'static str {
    match (key.revoked_at, key.expires_at) {
        (Some(_), _) => "revoked",
        (None, Some(at)) if at <= now => "expired",
        _ => "active",
    }
}
