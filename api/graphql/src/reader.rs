//! The only way resolvers read stored data. Every read through a [`Reader`] records the
//! data scope it depends on into the [`ReadSet`] the reader was made for, before reading:
//! a request's read set is what its cached answer is keyed by, and a subscription's is
//! what it watches. No resolver names a scope; a new read path is a new method here,
//! which cannot hand anything out without recording its scope.
//!
//! A subscription's read set also notes the data version of each scope, read before the
//! first read of it: every write up to that version is in the push, so the subscription
//! pushes again exactly when a version moves past it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, Loader};
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::{ActivityReads, ActivityStats, EventQuery, LoginQuery};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::page::{Page, PageRequest};
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::SessionInPeriod;
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::playback::quality::Quality;
use ottstats_domain::playback::{Content, Login, PlayerEvent};
use ottstats_domain::repository::{RegistrationStatsRepository, RegistrationViews, UserRepository};
use ottstats_domain::scope::{DataVersions, Scope};
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::RegisteredUser;
use ottstats_domain::user_search::{IdPrefix, MatchLimit, UserSearch};
use tokio::sync::OnceCell;

/// The data scopes a request (or one push of a subscription) read. (A mutation's answer
/// is never stored: the server stores only answers of queries.)
#[derive(Default)]
pub struct ReadSet {
    scopes: Mutex<BTreeSet<Scope>>,
    /// For a push: the version of each scope read before its first read.
    versions: Option<VersionsSeen>,
}

/// A scope's version, read once by whichever read of it comes first.
type FirstVersion = Arc<OnceCell<Result<i64, RepoError>>>;

struct VersionsSeen {
    source: Arc<dyn DataVersions>,
    tenant: TenantId,
    seen: Mutex<BTreeMap<Scope, FirstVersion>>,
}

impl ReadSet {
    /// A read set that also notes the version of each scope before its first read,
    /// starting from `known` versions (read before this read set's first read).
    pub fn versioned(source: Arc<dyn DataVersions>, tenant: TenantId, known: Vec<(Scope, i64)>) -> ReadSet {
        let seen = known.into_iter().map(|(scope, v)| (scope, Arc::new(OnceCell::new_with(Some(Ok(v)))))).collect();
        let versions = Some(VersionsSeen { source, tenant, seen: Mutex::new(seen) });
        ReadSet { versions, ..ReadSet::default() }
    }

    async fn record(&self, scope: Scope) -> Result<(), RepoError> {
        self.lock().insert(scope.clone());
        let Some(versions) = &self.versions else { return Ok(()) };
        let cell = lock(&versions.seen).entry(scope.clone()).or_default().clone();
        // Concurrent reads of one scope wait for one look at its version.
        let read = cell.get_or_init(|| async { first(versions.source.versions(versions.tenant, &[scope]).await) });
        read.await.clone().map(|_| ())
    }

    /// The versions noted, by scope; `None` when one could not be read (the push that
    /// depended on it failed, and the next look pushes again).
    pub fn versions_seen(&self) -> Option<Vec<(Scope, i64)>> {
        let versions = self.versions.as_ref()?;
        let seen = lock(&versions.seen);
        // Only the scopes read: a version known beforehand of a scope this push did not
        // read is not something it depends on.
        let read = self.lock();
        seen.iter()
            .filter(|(scope, _)| read.contains(*scope))
            .map(|(scope, cell)| Some((scope.clone(), cell.get()?.as_ref().ok().copied()?)))
            .collect()
    }

    /// The scopes read so far.
    pub fn scopes(&self) -> BTreeSet<Scope> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Scope>> {
        lock(&self.scopes)
    }
}

impl std::fmt::Debug for ReadSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadSet").field("scopes", &*self.lock()).finish_non_exhaustive()
    }
}

/// Sets and maps of plain values stay whole even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn first(versions: Result<Vec<i64>, RepoError>) -> Result<i64, RepoError> {
    versions.map(|v| v.first().copied().unwrap_or(0))
}

/// The stores reads go to; only readers reach them.
#[derive(Clone)]
pub(crate) struct ReadSources {
    pub(crate) users: Arc<dyn UserRepository>,
    /// Registration panels: one view of the data per question (the index, or SQL).
    pub(crate) registrations: Arc<dyn RegistrationViews>,
    /// Users by the beginning of their id.
    pub(crate) search: Arc<dyn UserSearch>,
    /// Sessions and bandwidth, through the statistics cache.
    pub(crate) stats: Arc<dyn ActivityStats>,
    /// Pages and counts of events and logins, and contents.
    pub(crate) activity: Arc<dyn ActivityReads>,
}

/// One tenant's data, read on behalf of one read set.
#[derive(Clone)]
pub struct Reader {
    tenant: TenantId,
    reads: Arc<ReadSet>,
    sources: ReadSources,
    /// Batch look-ups, so that a list never costs a database round trip per row.
    users: Arc<DataLoader<UserLoader>>,
    contents: Arc<DataLoader<ContentLoader>>,
}

impl Reader {
    pub(crate) fn new(tenant: TenantId, reads: Arc<ReadSet>, sources: &ReadSources) -> Reader {
        let users = UserLoader { repo: sources.users.clone(), tenant };
        let contents = ContentLoader { repo: sources.activity.clone(), tenant };
        Reader {
            tenant,
            reads,
            sources: sources.clone(),
            users: Arc::new(DataLoader::new(users, tokio::spawn)),
            contents: Arc::new(DataLoader::new(contents, tokio::spawn)),
        }
    }

    /// A reader of the same tenant for another read set (a subscription's).
    pub fn for_reads(&self, reads: Arc<ReadSet>) -> Reader {
        Reader::new(self.tenant, reads, &self.sources)
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// What this reader recorded into.
    pub fn reads(&self) -> &Arc<ReadSet> {
        &self.reads
    }

    /// Every registration panel of one question, from one state of the data.
    pub async fn registrations(&self) -> Result<Arc<dyn RegistrationStatsRepository>, RepoError> {
        self.reads.record(Scope::Registrations).await?;
        self.sources.registrations.view(self.tenant).await
    }

    pub async fn user(&self, id: String) -> Result<Option<RegisteredUser>, RepoError> {
        self.reads.record(Scope::User(id.clone())).await?;
        self.users.load_one(id).await
    }

    pub async fn users(&self, ids: &[String]) -> Result<HashMap<String, RegisteredUser>, RepoError> {
        for id in ids {
            self.reads.record(Scope::User(id.clone())).await?;
        }
        self.users.load_many(ids.iter().cloned()).await
    }

    /// The users whose id starts with `prefix`, in id order: which users exist is what
    /// registrations record, and each profile is the user's own scope.
    pub async fn users_with_prefix(
        &self,
        prefix: &IdPrefix,
        limit: MatchLimit,
    ) -> Result<Vec<RegisteredUser>, RepoError> {
        self.reads.record(Scope::Registrations).await?;
        let ids = self.sources.search.ids_with_prefix(self.tenant, prefix, limit).await?;
        let mut found = self.users(&ids).await?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    pub async fn content(&self, id: String) -> Result<Option<Content>, RepoError> {
        self.reads.record(Scope::Contents).await?;
        self.contents.load_one(id).await
    }

    pub async fn sessions(&self, user_id: &str, period: &Period) -> Result<Vec<SessionInPeriod>, RepoError> {
        self.reads.record(Scope::Activity(user_id.to_owned())).await?;
        self.sources.stats.sessions_in_period(self.tenant, user_id, period).await
    }

    pub async fn quality(&self, user_id: &str, period: &Period) -> Result<Quality, RepoError> {
        self.reads.record(Scope::Activity(user_id.to_owned())).await?;
        self.sources.stats.quality(self.tenant, user_id, period).await
    }

    pub async fn bandwidth(&self, user_id: &str, buckets: &[Bucket]) -> Result<Vec<BandwidthStats>, RepoError> {
        self.reads.record(Scope::Activity(user_id.to_owned())).await?;
        self.sources.stats.bandwidth(self.tenant, user_id, buckets).await
    }

    pub async fn events_page(&self, q: &EventQuery<'_>, page: &PageRequest) -> Result<Page<PlayerEvent>, RepoError> {
        self.reads.record(Scope::Activity(q.user_id.to_owned())).await?;
        self.sources.activity.events_page(q, page).await
    }

    pub async fn count_events(&self, q: &EventQuery<'_>) -> Result<u64, RepoError> {
        self.reads.record(Scope::Activity(q.user_id.to_owned())).await?;
        self.sources.activity.count_events(q).await
    }

    pub async fn logins_page(&self, q: &LoginQuery<'_>, page: &PageRequest) -> Result<Page<Login>, RepoError> {
        self.reads.record(Scope::Activity(q.user_id.to_owned())).await?;
        self.sources.activity.logins_page(q, page).await
    }

    pub async fn count_logins(&self, q: &LoginQuery<'_>) -> Result<u64, RepoError> {
        self.reads.record(Scope::Activity(q.user_id.to_owned())).await?;
        self.sources.activity.count_logins(q).await
    }
}

/// Users by id, of one tenant.
pub struct UserLoader {
    repo: Arc<dyn UserRepository>,
    tenant: TenantId,
}

impl Loader<String> for UserLoader {
    type Value = RegisteredUser;
    type Error = RepoError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, RegisteredUser>, RepoError> {
        let users = self.repo.find_users(self.tenant, keys).await?;
        Ok(users.into_iter().map(|u| (u.id.clone(), u)).collect())
    }
}

/// Contents (titles, kinds) by id, of one tenant.
pub struct ContentLoader {
    repo: Arc<dyn ActivityReads>,
    tenant: TenantId,
}

impl Loader<String> for ContentLoader {
    type Value = Content;
    type Error = RepoError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Content>, RepoError> {
        let contents = self.repo.find_contents(self.tenant, keys).await?;
        Ok(contents.into_iter().map(|c| (c.id.clone(), c)).collect())
    }
}
