//! The `ottstats` binary: its commands (serve, migrate, tenants, keys, trusted
//! documents, imports, the data generators, the SDL) and the demo's seeding. Everything
//! it runs lives in the crates below it; this crate parses, wires and reports.

mod demo;
mod documents;
pub mod generate;
mod import;
pub mod key;
mod serve;
pub mod telemetry;
mod tenant;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ottstats_domain::{DomainError, InputError, RepoError};

use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(name = "ottstats", version, about = "GraphQL analytics for OTT platforms")]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, env = "OTTSTATS_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL, GraphiQL, /healthz and /readyz.
    Serve(ServeArgs),
    /// Apply pending database migrations.
    Migrate(DatabaseArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage a tenant's API keys: create, list, revoke, rotate.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Manage a tenant's users: erase them.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Register trusted documents (see `serve --trusted-documents`).
    #[command(subcommand)]
    Documents(documents::DocumentsCommand),
    /// Print the GraphQL schema (SDL).
    ExportSchema,
    /// Import data from a file into a tenant.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write realistic generated data, for demos, imports and benchmarks.
    #[command(subcommand)]
    Generate(GenerateCommand),
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` or `postgres://…`; the embedded `ottstats.db` when unset.
    #[arg(long, env = "OTTSTATS_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| ottstats_store::default_database_url().to_owned())
    }
}

/// The flags of `serve`. Each setting here goes over the settings file's (`--config`),
/// which goes over the defaults (see the README's settings table); a flag goes over its
/// environment variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// A TOML settings file (every key: `docs/ottstats.example.toml`).
    #[arg(long, env = "OTTSTATS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "OTTSTATS_BIND")]
    pub bind: Option<SocketAddr>,
    /// Create a demo tenant with generated data (once) and print a fresh key for it.
    #[arg(long)]
    pub demo: bool,
    /// `redis://HOST:PORT`: share the cache and live-update notices with every process on
    /// this Redis; an in-process cache when unset.
    #[arg(long, env = "OTTSTATS_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Memory all registrations indexes may hold together (`512MiB`, `2GiB`, bytes);
    /// `0` answers every panel with SQL [default: 1GiB].
    #[arg(long, env = "OTTSTATS_INDEX_MEMORY", value_parser = parse_size)]
    pub index_memory: Option<usize>,
    /// The origins web pages may call from, comma-separated (`https://app.example.com`);
    /// any origin when unset or `*` (never with cookies: keys are bearer tokens).
    #[arg(long, env = "OTTSTATS_CORS_ORIGINS", value_parser = ottstats_server::CorsOrigins::parse)]
    pub cors_origins: Option<ottstats_server::CorsOrigins>,
    /// Run only documents registered ahead with `ottstats documents add` (for fleets of
    /// apps that ship fixed operations); others get `FORBIDDEN`.
    #[arg(long, env = "OTTSTATS_TRUSTED_DOCUMENTS")]
    pub trusted_documents: bool,
}

impl ServeArgs {
    /// The settings: the file's (when `--config` or `OTTSTATS_CONFIG` names one) or the
    /// defaults, with the environment and the flags over them.
    pub fn settings(&self) -> Result<ottstats_server::Settings, ottstats_server::SettingsError> {
        // A flag that is off says nothing: the variable's value (clap read it, `false`
        // when it says so) goes over the file only when the variable is there.
        let trusted_documents = (self.trusted_documents || std::env::var_os("OTTSTATS_TRUSTED_DOCUMENTS").is_some())
            .then_some(self.trusted_documents);
        let overrides = ottstats_server::settings::Overrides {
            database_url: self.db.database_url.clone(),
            bind: self.bind,
            redis_url: self.redis_url.clone(),
            index_memory: self.index_memory,
            cors_origins: self.cors_origins.clone(),
            trusted_documents,
        };
        ottstats_server::Settings::load(self.config.as_deref(), overrides)
    }
}

/// A size on the command line: `0`, `1048576`, `512MiB`, `2GiB`, `64MB`.
fn parse_size(text: &str) -> Result<usize, String> {
    let bytes = ottstats_domain::units::parse_bytes(text)?;
    usize::try_from(bytes).map_err(|_| format!("{text:?} is too large"))
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; its API key is the last line printed.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        name: String,
        /// Home country, ISO 3166-1 alpha-2.
        #[arg(long)]
        country: String,
        /// Default IANA time zone of periods.
        #[arg(long)]
        time_zone: String,
    },
    /// Set the rate limit of each of a tenant's keys.
    SetRateLimit {
        #[command(flatten)]
        db: DatabaseArgs,
        #[arg(long)]
        name: String,
        /// Points a minute (see `limits { maxCost }`), or `default`.
        #[arg(long)]
        per_minute: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    Csv,
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import registered users from CSV (with a header line) or NDJSON.
    Users(ImportArgs),
    /// Import player events from NDJSON.
    Events(ImportArgs),
    /// Import logins from NDJSON.
    Logins(ImportArgs),
    /// Import contents (medias and live signals) from NDJSON.
    Contents(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The file to read.
    pub file: PathBuf,
    /// CSV or NDJSON; guessed from the extension when omitted.
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// The API key of the tenant to import into.
    #[arg(long, env = "OTTSTATS_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Items sent to the store at once (at most a mutation's 10,000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Batches of at least this many items take PostgreSQL's bulk path (`COPY`); a larger
    /// value than `--batch` takes the row path, as a server's small batches do.
    #[arg(long, env = "OTTSTATS_DATABASE_BULK_FROM", default_value_t = 64)]
    pub bulk_from: usize,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Registered users.
    Users(generate::GenerateUsersArgs),
    /// Contents, player events and logins of generated users.
    Events(generate::GenerateEventsArgs),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("{0}")]
    Store(#[from] RepoError),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Redis(#[from] ottstats_cache::redis_link::RedisUrlError),
    #[error(transparent)]
    Settings(#[from] ottstats_server::SettingsError),
}

impl From<DomainError> for CliError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Input(e) => CliError::Input(e),
            DomainError::Repo(e) => CliError::Store(e),
        }
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve(args) => {
            let settings = args.settings()?;
            crate::serve::serve(settings, args.demo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(db) => {
            let store = ottstats_store::Store::open(&db.url()).await?;
            store.close().await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::Create { db, name, country, time_zone }) => {
            tenant::create(&db.url(), &name, &country, &time_zone).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::SetRateLimit { db, name, per_minute }) => {
            tenant::set_rate_limit(&db.url(), &name, &per_minute).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Key(command) => {
            key::run(command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Users(command) => {
            users::run(command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Documents(command) => {
            documents::run(command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportSchema => {
            print!("{}", ottstats_graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Users(args)) => import::run::<import::Users>(args).await,
        Command::Import(ImportCommand::Events(args)) => import::run::<import::Events>(args).await,
        Command::Import(ImportCommand::Logins(args)) => import::run::<import::Logins>(args).await,
        Command::Import(ImportCommand::Contents(args)) => import::run::<import::Contents>(args).await,
        Command::Generate(GenerateCommand::Users(args)) => {
            generate::users(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate(GenerateCommand::Events(args)) => {
            generate::events(args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
