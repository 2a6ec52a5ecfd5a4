//! Identical subscriptions share one execution: sockets of one API key subscribing to the
//! same single-field subscription (same query, operation, variables and extensions) get
//! the pushes of one running subscription, so a write costs one answer (its SQL, its
//! rendering, its memory) however many sockets watch it, instead of one per socket.
//!
//! Sharing never serves figures older than a subscription of one's own would: each push
//! carries the data versions it was computed from ([`Stamp`]); a socket that joins reads
//! the current versions once, takes the first push computed from at least those (every
//! write committed before it looked is in it), and until then nudges the shared
//! subscription to look again. A push without a stamp (an error) is never taken by a joiner: it runs the
//! operation itself. Keys are per API key rather than per tenant, so whatever a key may
//! see (its scopes) is the same for every socket sharing an answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Response, Value};
use futures_util::stream::{BoxStream, StreamExt};
use ottstats_domain::scope::DataVersions;
use ottstats_domain::tenant::TenantId;
use ottstats_store::Store;
use tokio::sync::watch;

use ottstats_graphql::error::Code;
use ottstats_graphql::{LiveStamp, Stamp, add_code};

/// Starts an operation's execution; given a stamp slot when the execution is shared.
pub type Start = Box<dyn FnOnce(Option<Arc<LiveStamp>>) -> BoxStream<'static, Response> + Send>;

/// What identifies answers that may be shared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareKey {
    pub tenant: TenantId,
    /// The API key: sockets share only with sockets that may see exactly the same.
    pub credential: String,
    /// The `subscribe` payload as JSON (query, operationName, variables, extensions).
    pub request: String,
}

/// One response, encoded once for every socket that sends it.
#[derive(Debug)]
pub struct Rendered {
    /// The `next` payload: the response as JSON, every error with `extensions.code`.
    pub payload: String,
    /// The `error` payload (the errors as a JSON array) when the response is a request
    /// error: no data, and no error tied to a field (parse, validation, limits).
    pub request_error: Option<String>,
    /// The codes of its errors, for `/metrics`.
    pub codes: Vec<String>,
    stamp: Option<Stamp>,
}

/// The latest state of a shared execution: its last push (numbered), and whether it
/// ended. Ending keeps the last push, so a reader that had not seen it still gets it.
#[derive(Default)]
struct Latest {
    push: Option<Arc<Rendered>>,
    seq: u64,
    ended: bool,
}

struct Entry {
    tx: watch::Sender<Latest>,
    stamp: Arc<LiveStamp>,
}

/// The shared executions of one process.
#[derive(Clone)]
pub struct Fanout {
    store: Store,
    entries: Arc<Mutex<HashMap<ShareKey, Arc<Entry>>>>,
    renders: Arc<AtomicU64>,
}

impl Fanout {
    pub fn new(store: Store) -> Fanout {
        Fanout { store, entries: Arc::default(), renders: Arc::default() }
    }

    /// Responses computed for sockets so far (shared or not), for `/metrics`.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Executions shared now.
    pub fn shared(&self) -> usize {
        self.lock().len()
    }

    /// An execution of one's own.
    pub fn own(&self, start: Start) -> BoxStream<'static, Arc<Rendered>> {
        let fanout = self.clone();
        start(None).map(move |response| Arc::new(fanout.render(response, None))).boxed()
    }

    /// The pushes of the execution of `key`, started with `start` if none runs.
    pub fn join(&self, key: ShareKey, start: Start) -> BoxStream<'static, Arc<Rendered>> {
        let mut entries = self.lock();
        if let Some(entry) = entries.get(&key) {
            let joiner = Joiner { fanout: self.clone(), rx: entry.tx.subscribe(), stamp: entry.stamp.clone(), seen: 0 };
            drop(entries);
            return joiner.pushes(start);
        }
        let (tx, rx) = watch::channel(Latest::default());
        let stamp = Arc::new(LiveStamp::default());
        let entry = Arc::new(Entry { tx, stamp: stamp.clone() });
        entries.insert(key.clone(), entry.clone());
        drop(entries);
        let running = Running { fanout: self.clone(), key, entry };
        tokio::spawn(running.run(start(Some(stamp))));
        // Everything the execution pushes is newer than this subscribe.
        pushes_after(rx, 0)
    }

    fn render(&self, mut response: Response, stamp: Option<Stamp>) -> Rendered {
        self.renders.fetch_add(1, Ordering::Relaxed);
        for error in &mut response.errors {
            add_code(error);
        }
        let codes = response
            .errors
            .iter()
            .filter_map(|e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(Value::String(code)) => Some(code.clone()),
                _ => None,
            })
            .collect();
        let is_request_error = response.data == Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let encoded = serde_json::to_string(&response).and_then(|payload| {
            let request_error = if is_request_error { Some(serde_json::to_string(&response.errors)?) } else { None };
            Ok((payload, request_error))
        });
        match encoded {
            Ok((payload, request_error)) => Rendered { payload, request_error, codes, stamp },
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a pushed answer");
                let code = Code::Internal.as_str();
                let errors = format!(r#"[{{"message":"internal error","extensions":{{"code":"{code}"}}}}]"#);
                Rendered {
                    payload: format!(r#"{{"data":null,"errors":{errors}}}"#),
                    request_error: Some(errors),
                    codes: vec![code.to_owned()],
                    stamp: None,
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ShareKey, Arc<Entry>>> {
        // Every change is one insert or remove: whole even if a holder panicked.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The next push after push number `seen`; `None` when the execution ended.
async fn next_push(rx: &mut watch::Receiver<Latest>, seen: &mut u64) -> Option<Arc<Rendered>> {
    loop {
        {
            let latest = rx.borrow_and_update();
            if latest.seq > *seen
                && let Some(push) = &latest.push
            {
                *seen = latest.seq;
                return Some(push.clone());
            }
            if latest.ended {
                return None;
            }
        }
        // The sender goes only after it said the execution ended.
        rx.changed().await.ok()?;
    }
}

/// Every push after push number `seen`.
fn pushes_after(rx: watch::Receiver<Latest>, seen: u64) -> BoxStream<'static, Arc<Rendered>> {
    futures_util::stream::unfold((rx, seen), |(mut rx, mut seen)| async move {
        next_push(&mut rx, &mut seen).await.map(|p| (p, (rx, seen)))
    })
    .boxed()
}

/// A socket that joined a running execution.
struct Joiner {
    fanout: Fanout,
    rx: watch::Receiver<Latest>,
    stamp: Arc<LiveStamp>,
    /// The number of the last push looked at.
    seen: u64,
}

impl Joiner {
    /// The shared pushes from the first one that holds every write committed before
    /// this socket looked (versions read once, when the scopes are known); or the
    /// socket's own execution when a push has no stamp to tell, or versions cannot be read.
    fn pushes(self, start: Start) -> BoxStream<'static, Arc<Rendered>> {
        let first = futures_util::stream::once(async move {
            let Joiner { fanout, mut rx, stamp, mut seen } = self;
            let mut floor: Option<Vec<i64>> = None;
            loop {
                let push = next_push(&mut rx, &mut seen).await?;
                let Some(stamp_of_push) = &push.stamp else {
                    return Some(Err(fanout.own(start)));
                };
                if floor.is_none() {
                    match fanout.store.versions(stamp_of_push.tenant, &stamp_of_push.scopes).await {
                        Ok(now) => floor = Some(now),
                        Err(e) => {
                            tracing::warn!(error = %e, "live update: cannot read data versions to join a subscription");
                            return Some(Err(fanout.own(start)));
                        }
                    }
                }
                let looked = floor.as_deref().unwrap_or_default();
                if looked.len() == stamp_of_push.versions.len()
                    && looked.iter().zip(&stamp_of_push.versions).all(|(looked, pushed)| looked <= pushed)
                {
                    return Some(Ok((push, rx, seen)));
                }
                // A write landed after this push was computed: ask for a fresh one, which
                // reads its versions after this socket's, so it will do.
                stamp.nudge();
            }
        });
        first
            .flat_map(|joined| match joined {
                None => futures_util::stream::empty().boxed(),
                Some(Err(own)) => own,
                Some(Ok((push, rx, seen))) => {
                    futures_util::stream::once(async move { push }).chain(pushes_after(rx, seen)).boxed()
                }
            })
            .boxed()
    }
}

/// A shared execution's task. Dropping it (when the execution ends, when no socket
/// watches any more, or when the task unwinds) takes the entry out of the registry and
/// tells the sockets still watching that it ended.
struct Running {
    fanout: Fanout,
    key: ShareKey,
    entry: Arc<Entry>,
}

impl Running {
    async fn run(self, mut responses: BoxStream<'static, Response>) {
        loop {
            tokio::select! {
                () = self.entry.tx.closed() => {
                    // A socket may have joined since: it is counted under the same lock.
                    if self.entry.tx.receiver_count() == 0 && self.retire_if_unwatched() {
                        return;
                    }
                }
                next = responses.next() => match next {
                    Some(response) => {
                        let rendered = Arc::new(self.fanout.render(response, self.entry.stamp.take()));
                        self.entry.tx.send_modify(|latest| {
                            latest.push = Some(rendered);
                            latest.seq += 1;
                        });
                    }
                    None => return,
                },
            }
        }
    }

    /// Takes the entry out when nobody watches it; false when a socket joined meanwhile.
    fn retire_if_unwatched(&self) -> bool {
        let mut entries = self.fanout.lock();
        if self.entry.tx.receiver_count() > 0 {
            return false;
        }
        if entries.get(&self.key).is_some_and(|e| Arc::ptr_eq(e, &self.entry)) {
            entries.remove(&self.key);
        }
        true
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        {
            let mut entries = self.fanout.lock();
            if entries.get(&self.key).is_some_and(|e| Arc::ptr_eq(e, &self.entry)) {
                entries.remove(&self.key);
            }
        }
        self.entry.tx.send_modify(|latest| latest.ended = true);
    }
}
