//! `fresh`: is a write in the very next dashboard, and what does that dashboard cost?
//! One connection; each iteration writes one user somewhere in the period, then asks
//! for the dashboard at once (only that request is timed) and checks the total grew by
//! exactly one.

use std::time::Instant;

use crate::client::{Api, Backdating};
use crate::stats::Summary;
use crate::users::UserFactory;
use crate::{Common, Outcome};

pub async fn run(common: &Common, prefix: &str, iterations: u32) -> Result<Outcome, String> {
    let api = Api::new(common, 1)?;
    let backdating = Backdating::new(&api)?;
    let mut users = UserFactory::new(prefix, crate::users::now_ms() as u64);
    let first = api.dashboard_total(&api.from).await.map_err(|e| format!("the first dashboard failed: {e}"))?;
    // The total the next dashboard must exceed by one; unknown after a failure.
    let mut total = Some(first);
    println!(
        "fresh: {iterations} iterations against {} (period {} .. {} {}, {first} registrations), ids {prefix}-N",
        common.url, api.from, api.to, api.time_zone
    );

    let mut latencies = Vec::with_capacity(iterations as usize);
    let (mut write_errors, mut read_errors, mut mismatches) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for i in 1..=iterations {
        if let Err(e) = api.upsert_user(backdating.user(&mut users)).await {
            write_errors += 1;
            total = None;
            report(write_errors, &format!("iteration {i}: write: {e}"));
            continue;
        }
        let asked = Instant::now();
        match api.dashboard_total(&api.from).await {
            Ok(now) => {
                latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
                if let Some(before) = total.filter(|before| now != before + 1) {
                    mismatches += 1;
                    report(mismatches, &format!("iteration {i}: total {now}, expected {}", before + 1));
                }
                total = Some(now);
            }
            Err(e) => {
                read_errors += 1;
                total = None;
                report(read_errors, &format!("iteration {i}: dashboard: {e}"));
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let s = Summary::of(latencies);
    let errors = write_errors + read_errors + mismatches;
    println!("dashboards after a write: {} in {elapsed:.1} s; {}", s.count, s.human());
    println!("errors: {errors} (writes {write_errors}, dashboards {read_errors}, total mismatches {mismatches})");
    let last = total.map_or("NA".to_owned(), |t| t.to_string());
    println!("total before: {first}, after: {last}");
    Ok(Outcome {
        errors,
        bench: format!(
            "mode=fresh iterations={iterations} requests={} {} write_errors={write_errors} read_errors={read_errors} \
             mismatches={mismatches} total_before={first} total_after={last}",
            s.count,
            s.bench("")
        ),
    })
}

/// Prints the first few failures of a kind, then stays quiet.
pub fn report(count: u64, message: &str) {
    if count <= 5 {
        eprintln!("error: {message}");
    } else if count == 6 {
        eprintln!("error: (further errors of this kind are only counted)");
    }
}
