//! Reads of data versions shared by concurrent requests, without giving up exactness.
//!
//! Every cached answer needs the current versions of its scopes, read from the database
//! after the request arrived (that read is what makes a write through any process visible
//! at once). Under load, many requests want versions at the same moment: they join one
//! *batch*, and one query reads every scope of the batch. At most one query is in flight
//! per process; requests arriving meanwhile form the next batch, whose query starts only
//! when the previous one ends. So each request's versions come from a query that started
//! after the request arrived — exactly as fresh as a query of its own — and a busy
//! dashboard costs the database one small query per batch instead of one per request.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use ottstats_domain::RepoError;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::sync::lock;

type Versions = Arc<HashMap<(i64, String), i64>>;

/// Batches version reads over one database.
#[derive(Clone)]
pub(crate) struct VersionReads {
    db: DatabaseConnection,
    /// The batch requests join until its query starts.
    next: Arc<Mutex<Option<Arc<Batch>>>>,
    /// Held while a query is in flight.
    gate: Arc<tokio::sync::Mutex<()>>,
}

struct Batch {
    wanted: Mutex<BTreeSet<(i64, String)>>,
    done: watch::Sender<Option<Result<Versions, RepoError>>>,
}

impl VersionReads {
    pub(crate) fn new(db: DatabaseConnection) -> VersionReads {
        VersionReads { db, next: Arc::default(), gate: Arc::default() }
    }

    /// The current versions of `scopes` of `tenant`, in the order given (0 for a scope
    /// never written), read by a query that starts after this call.
    pub(crate) async fn read(&self, tenant: TenantId, scopes: &[Scope]) -> Result<Vec<i64>, RepoError> {
        let (batch, mut done) = self.join(tenant, scopes);
        let versions = tokio::select! {
            biased;
            // Owned inside the branch: the watch guard must not live across an await.
            finished = async { done.wait_for(Option::is_some).await.ok().and_then(|v| v.clone()) } => {
                match finished {
                    Some(result) => result?,
                    None => return Err(RepoError::Internal("a version read was abandoned".into())),
                }
            }
            _turn = self.gate.lock() => {
                let already = batch.done.borrow().clone();
                match already {
                    Some(result) => result?,
                    None => self.run(&batch).await?,
                }
            }
        };
        Ok(scopes.iter().map(|s| versions.get(&(tenant.0, s.key())).copied().unwrap_or(0)).collect())
    }

    /// Adds the scopes to the batch that has not started yet.
    fn join(
        &self,
        tenant: TenantId,
        scopes: &[Scope],
    ) -> (Arc<Batch>, watch::Receiver<Option<Result<Versions, RepoError>>>) {
        let mut next = lock(&self.next);
        let batch = next
            .get_or_insert_with(|| Arc::new(Batch { wanted: Mutex::default(), done: watch::Sender::new(None) }))
            .clone();
        lock(&batch.wanted).extend(scopes.iter().map(|s| (tenant.0, s.key())));
        let done = batch.done.subscribe();
        (batch, done)
    }

    /// Runs `batch`'s query (the caller holds the gate) and hands the result to its members.
    async fn run(&self, batch: &Arc<Batch>) -> Result<Versions, RepoError> {
        {
            // From here on, newcomers form the next batch.
            let mut next = lock(&self.next);
            if next.as_ref().is_some_and(|b| Arc::ptr_eq(b, batch)) {
                *next = None;
            }
        }
        let wanted: Vec<(i64, String)> = lock(&batch.wanted).iter().cloned().collect();
        let result = crate::versions::current_pairs(&self.db, &wanted).await.map(Arc::new);
        batch.done.send_replace(Some(result.clone()));
        result
    }
}

impl std::fmt::Debug for VersionReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionReads").finish_non_exhaustive()
    }
}
