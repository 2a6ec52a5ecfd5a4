use std::process::ExitCode;

use clap::Parser;
use ottstats::telemetry::LogFormat;

fn main() -> ExitCode {
    let cli = ottstats::Cli::parse();
    ottstats::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let format = cli.log_format;
    match runtime.block_on(ottstats::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            // Said once: as a log record where logs are collected as JSON, else as the
            // plain line a person at a terminal (or a script reading stderr) expects.
            match format {
                LogFormat::Json => tracing::error!(error = %e, "command failed"),
                LogFormat::Text => eprintln!("error: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}
