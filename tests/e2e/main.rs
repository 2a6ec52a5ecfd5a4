//! The end-to-end tests of ottstats, in one test binary (`cargo test -p ottstats --test e2e`):
//! the real schema over a real database, the real router on an ephemeral port, and the
//! real `ottstats` binary (`CARGO_BIN_EXE_ottstats`: this target belongs to the `ottstats`
//! package, so cargo builds the binary for it). One module per subject; a test's name
//! starts with its module, so `cargo test -p ottstats --test e2e live::` runs one subject.
//!
//! The support code (`Env`, `TestServer`, `on_each_backend!`, the WebSocket client, the
//! shared Redis) is the `ottstats-tests` library in `tests/src`. The operations the tests
//! send again and again are `.graphql` files in `operations/`, checked against the schema
//! (`operation_files`); mechanical output (error bodies, `/metrics`, generated data) is
//! compared with insta snapshots in `snapshots/`.
//!
//! Every test shares this one process: nothing here may set an environment variable,
//! install a global subscriber or bind a fixed port.

mod activity;
mod activity_quality;
mod bulk_writes;
mod cache;
mod cli;
mod cli_erase;
mod collect;
mod comparison;
mod concurrency;
mod connections;
mod connections_relay;
mod crosscheck;
mod dashboard_page;
mod datagen_output;
mod derived_keys;
mod erasure;
mod error_bodies;
mod faults;
mod fuzz_mutations;
mod graphql_over_http;
mod http;
mod ingest;
mod keys;
mod limits;
mod live;
mod metrics_output;
mod null_propagation;
mod operation_files;
mod operations;
mod processes;
mod registrations;
mod registrations_index;
mod schema_drift;
mod scope_freshness;
mod serve;
mod settings;
mod user_search;
mod ws_protocol;

/// A path of the repository, from its root (`schema.graphql`, `README.md`,
/// `tests/e2e/operations`).
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}
