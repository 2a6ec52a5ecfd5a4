//! What completing answers costs (`graphql/null_propagation.rs`): the same query executed
//! with and without the extension, beside encoding the answer (which every answer pays),
//! on a year of hourly buckets split by gender (44,000 objects). It prints; run it with
//!   cargo run --release -p ottstats-graphql --example completion_cost

use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{Extension, ExtensionFactory};
use async_graphql::{EmptySubscription, Object, Schema, SimpleObject};
use ottstats_graphql::{ErrorCodes, SpecNulls};

#[derive(SimpleObject, Clone)]
struct Bucket {
    start: String,
    total: i32,
    by_gender: Vec<Count>,
}

#[derive(SimpleObject, Clone)]
struct Count {
    gender: String,
    count: i32,
}

struct Q;

#[Object]
impl Q {
    async fn buckets(&self, n: usize) -> Vec<Bucket> {
        let counts = ["FEMALE", "MALE", "OTHER", "UNKNOWN"].map(|g| Count { gender: g.into(), count: 7 }).to_vec();
        (0..n).map(|i| Bucket { start: format!("2026-01-01T{i:05}"), total: 28, by_gender: counts.clone() }).collect()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // Any extension turns off async-graphql's fast path for every field, and the
    // server has others: both schemas have one, so that only completion differs.
    let plain = Schema::build(Q, async_graphql::EmptyMutation, EmptySubscription).extension(ErrorCodes).finish();
    let complete = Schema::build(Q, async_graphql::EmptyMutation, EmptySubscription)
        .extension(ErrorCodes)
        .extension(SpecNulls)
        .finish();
    let query = "{ buckets(n: 8760) { start total byGender { gender count } } }";
    let rounds = 30;
    struct Nothing;
    impl ExtensionFactory for Nothing {
        fn create(&self) -> Arc<dyn Extension> {
            struct Idle;
            impl Extension for Idle {}
            Arc::new(Idle)
        }
    }
    let idle = Schema::build(Q, async_graphql::EmptyMutation, EmptySubscription)
        .extension(ErrorCodes)
        .extension(Nothing)
        .finish();
    let mut runs = Vec::new();
    for schema in [&plain, &complete, &idle, &plain, &complete, &idle] {
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(schema.execute(query).await);
        }
        runs.push(t.elapsed() / rounds);
    }
    let response = plain.execute(query).await;
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(serde_json::to_vec(&response).unwrap());
    }
    let encode = t.elapsed() / rounds;
    let bytes = serde_json::to_vec(&response).unwrap().len();
    let (without, with, idle) = (runs[3], runs[4], runs[5]);
    println!(
        "answer of {bytes} bytes: execute {without:?} without completion, {with:?} with (x{:.2}), \
         {idle:?} with an extension that does nothing (x{:.2}); encode {encode:?}",
        with.as_secs_f64() / without.as_secs_f64(),
        idle.as_secs_f64() / without.as_secs_f64()
    );
}
