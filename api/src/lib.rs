//! The ottstats server: GraphQL schema and resolvers, HTTP router, auth, CLI.

pub mod cli;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod http;
mod index_refresh;
pub mod rate_limit;
pub mod serve;
pub mod telemetry;
