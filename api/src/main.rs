use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ottstats_api::cli::Cli::parse();
    ottstats_api::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ottstats_api::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "command failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
