//! Concurrent asks of one kind, gathered into one batched AWS call.
//!
//! Terraform reads each resource on its own, but one provider process
//! serves them all: ten microservices refreshed together each ask
//! CloudWatch for their alarms. An adapter asks the gatherer for one
//! object; the first ask of a batch waits [`WINDOW`] for others of the same
//! kind (or until the batch is as large as AWS takes), then one call
//! answers them all, and each asker gets its own object (or `None`: AWS
//! does not know it) or the batch's error. The gatherers live with the
//! clients ([`super::Clients::gatherers`]): one set per provider
//! configuration, which is one per process.
//!
//! In a process that only reads (a plan's refreshes), a batch can also be
//! filled *ahead* ([`Gatherer::ask_ahead`]): Terraform runs ten refreshes
//! at once and staggered, so a window meets only one or two of them, and a
//! longer window would slow every refresh by as much. Instead the batch's
//! free places carry keys the askers name as likely to be asked next (e.g.
//! the other services of the cluster, listed once): the call costs the
//! same, and the answers wait here for their askers, who then send nothing.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use super::error::AwsError;

/// How long the first ask of a batch waits for others: a fraction of one
/// AWS round trip, while the asks of resources read together arrive
/// within it.
pub const WINDOW: Duration = Duration::from_millis(10);

type Answer<V> = Result<Option<V>, AwsError>;

struct Batch<V> {
    keys: Vec<String>,
    waiters: Vec<(String, oneshot::Sender<Answer<V>>)>,
    /// Keys to fill the batch's free places with, up to `fill_to` keys in
    /// all (see [`Gatherer::ask_ahead`]).
    fill: Vec<String>,
    fill_to: usize,
}

/// What batches fetched ahead, in a process that only reads.
struct Ahead<V> {
    /// Answers for keys not asked yet: taken by their first asker.
    answers: HashMap<String, Option<V>>,
    /// Every key a batch sent: never fetched ahead again.
    sent: HashSet<String>,
}

impl<V> Default for Ahead<V> {
    fn default() -> Self {
        Ahead {
            answers: HashMap::new(),
            sent: HashSet::new(),
        }
    }
}

struct Open<V> {
    batch: Arc<Mutex<Option<Batch<V>>>>,
    /// Wakes the batch's sender early when it is full.
    full: Arc<Notify>,
}

/// One kind of ask (e.g. alarms by name), `max` keys per call.
pub struct Gatherer<V> {
    max: usize,
    open: Mutex<Option<Open<V>>>,
    ahead: Mutex<Ahead<V>>,
}

impl<V: Clone + Send + 'static> Gatherer<V> {
    pub fn new(max: usize) -> Gatherer<V> {
        Gatherer {
            max,
            open: Mutex::new(None),
            ahead: Mutex::new(Ahead::default()),
        }
    }

    /// [`Gatherer::ask`] for a process that only reads (never an apply: it
    /// must see its own writes): answered from what an earlier batch
    /// fetched ahead if it fetched `key`, else asked, and the batch's free
    /// places (up to `fill_to` keys, at most the batch size) are filled
    /// with `candidates` that were never sent; their answers, `None` for
    /// one AWS does not know, are kept for their askers. A candidate costs
    /// no call: it rides in a call that goes anyway.
    pub async fn ask_ahead<F, Fut>(
        self: &Arc<Self>,
        key: String,
        candidates: Vec<String>,
        fill_to: usize,
        fetch: F,
    ) -> Answer<V>
    where
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<String, V>, AwsError>> + Send + 'static,
    {
        if let Some(answer) = self
            .ahead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .answers
            .remove(&key)
        {
            return Ok(answer);
        }
        self.join(key, candidates, fill_to.min(self.max), fetch)
            .await
    }

    /// The object of `key`, fetched with others asked for at the same time
    /// by `fetch(keys)`, which returns what AWS has among them. The batch
    /// is sent by a task of its own, so an asker that goes away (its
    /// operation cancelled) strands no other.
    pub async fn ask<F, Fut>(self: &Arc<Self>, key: String, fetch: F) -> Answer<V>
    where
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<String, V>, AwsError>> + Send + 'static,
    {
        self.join(key, Vec::new(), 0, fetch).await
    }

    async fn join<F, Fut>(
        self: &Arc<Self>,
        key: String,
        candidates: Vec<String>,
        fill_to: usize,
        fetch: F,
    ) -> Answer<V>
    where
        F: FnOnce(Vec<String>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<String, V>, AwsError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        {
            let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
            if open.is_none() {
                let batch = Arc::new(Mutex::new(Some(Batch {
                    keys: Vec::new(),
                    waiters: Vec::new(),
                    fill: Vec::new(),
                    fill_to: 0,
                })));
                let full = Arc::new(Notify::new());
                tokio::spawn(send_after_window(
                    self.clone(),
                    batch.clone(),
                    full.clone(),
                    fetch,
                ));
                *open = Some(Open { batch, full });
            }
            let current = open.as_ref().expect("opened above");
            let filled = {
                let mut b = current.batch.lock().unwrap_or_else(|e| e.into_inner());
                let b = b.as_mut().expect("an open batch is not yet taken");
                if !b.keys.contains(&key) {
                    b.keys.push(key.clone());
                }
                b.waiters.push((key, tx));
                if b.fill.is_empty() {
                    b.fill = candidates;
                }
                b.fill_to = b.fill_to.max(fill_to);
                b.keys.len() >= self.max
            };
            if filled {
                current.full.notify_one();
                *open = None;
            }
        }
        rx.await
            .unwrap_or_else(|_| Err(AwsError::new("gatherer", "the batch was dropped")))
    }
}

/// Send `batch` when it is full or the window has passed, and answer
/// each of its askers.
async fn send_after_window<V, F, Fut>(
    gatherer: Arc<Gatherer<V>>,
    batch: Arc<Mutex<Option<Batch<V>>>>,
    full: Arc<Notify>,
    fetch: F,
) where
    V: Clone + Send + 'static,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, V>, AwsError>>,
{
    tokio::select! {
        _ = tokio::time::sleep(WINDOW) => {}
        _ = full.notified() => {}
    }
    {
        // Close it, unless filling it already did.
        let mut open = gatherer.open.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(open.as_ref(), Some(o) if Arc::ptr_eq(&o.batch, &batch)) {
            *open = None;
        }
    }
    let taken = batch.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(Batch {
        mut keys,
        waiters,
        fill,
        fill_to,
    }) = taken
    else {
        return;
    };
    let asked = keys.len();
    if fill_to > 0 {
        let mut ahead = gatherer.ahead.lock().unwrap_or_else(|e| e.into_inner());
        for k in fill {
            if keys.len() >= fill_to {
                break;
            }
            if !keys.contains(&k) && !ahead.sent.contains(&k) && !ahead.answers.contains_key(&k) {
                keys.push(k);
            }
        }
        ahead.sent.extend(keys.iter().cloned());
    }
    let answer = fetch(keys.clone()).await;
    if let Ok(found) = &answer {
        if keys.len() > asked {
            let mut ahead = gatherer.ahead.lock().unwrap_or_else(|e| e.into_inner());
            for k in &keys[asked..] {
                ahead.answers.insert(k.clone(), found.get(k).cloned());
            }
        }
    }
    for (key, waiter) in waiters {
        let _ = waiter.send(match &answer {
            Ok(found) => Ok(found.get(&key).cloned()),
            Err(e) => Err(e.clone()),
        });
    }
}

/// The gatherers of one set of clients (one provider configuration: one
/// process), by kind of ask.
#[derive(Default)]
pub struct Gatherers(Mutex<HashMap<&'static str, Arc<dyn Any + Send + Sync>>>);

impl std::fmt::Debug for Gatherers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gatherers")
    }
}

impl Gatherers {
    /// The one `T` of `kind` in this process: what reads of one kind share
    /// beyond a batch (e.g. a refresh's listing of a namespace's services).
    pub fn shared<T: Default + Send + Sync + 'static>(&self, kind: &'static str) -> Arc<T> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = all
            .entry(kind)
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        entry
            .downcast::<T>()
            .unwrap_or_else(|_| panic!("shared {kind}: one type per kind"))
    }

    /// The gatherer of `kind`, `max` keys per call.
    pub fn of<V: Clone + Send + Sync + 'static>(
        &self,
        kind: &'static str,
        max: usize,
    ) -> Arc<Gatherer<V>> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = all
            .entry(kind)
            .or_insert_with(|| Arc::new(Gatherer::<V>::new(max)))
            .clone();
        entry
            .downcast::<Gatherer<V>>()
            .unwrap_or_else(|_| panic!("gatherer {kind}: one value type per kind"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Default)]
    struct Seen {
        calls: AtomicUsize,
        sizes: Mutex<Vec<usize>>,
    }

    async fn ask(g: &Arc<Gatherer<u32>>, key: &str, seen: &Arc<Seen>) -> Answer<u32> {
        let seen = seen.clone();
        g.ask(key.to_string(), move |keys| fake_describe(seen, keys))
            .await
    }

    /// A batched describe: counted in `seen`; a batch with "boom" fails
    /// as a whole; "gone…" keys are unknown; a key's value is its length.
    async fn fake_describe(
        seen: Arc<Seen>,
        keys: Vec<String>,
    ) -> Result<HashMap<String, u32>, AwsError> {
        seen.calls.fetch_add(1, Ordering::SeqCst);
        seen.sizes.lock().unwrap().push(keys.len());
        if keys.iter().any(|k| k == "boom") {
            return Err(AwsError::new("x:Describe", "throttled"));
        }
        Ok(keys
            .iter()
            .filter(|k| !k.starts_with("gone"))
            .map(|k| (k.clone(), k.len() as u32))
            .collect())
    }

    #[tokio::test]
    async fn concurrent_asks_share_one_call_each_with_its_own_answer() {
        let g = Arc::new(Gatherer::new(100));
        let seen = Arc::new(Seen::default());
        let (a, b, c, d) = futures::join!(
            ask(&g, "a", &seen),
            ask(&g, "bb", &seen),
            ask(&g, "gone", &seen),
            ask(&g, "a", &seen),
        );
        assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
        assert_eq!(*seen.sizes.lock().unwrap(), vec![3]);
        assert_eq!(
            (a.unwrap(), b.unwrap(), c.unwrap()),
            (Some(1), Some(2), None)
        );
        assert_eq!(d.unwrap(), Some(1));
    }

    #[tokio::test]
    async fn a_full_batch_goes_at_once_and_the_rest_in_the_next() {
        let g = Arc::new(Gatherer::new(2));
        let seen = Arc::new(Seen::default());
        let answers = futures::future::join_all(["a", "b", "c"].map(|k| ask(&g, k, &seen))).await;
        assert!(answers.iter().all(|a| a.as_ref().unwrap().is_some()));
        assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
        let mut sizes = seen.sizes.lock().unwrap().clone();
        sizes.sort();
        assert_eq!(sizes, vec![1, 2]);
    }

    #[tokio::test]
    async fn the_batch_error_reaches_every_asker_of_that_batch_only() {
        let g = Arc::new(Gatherer::new(100));
        let seen = Arc::new(Seen::default());
        let (a, b) = futures::join!(ask(&g, "a", &seen), ask(&g, "boom", &seen));
        assert!(a.is_err() && b.is_err());
        assert_eq!(ask(&g, "a", &seen).await.unwrap(), Some(1));
    }

    async fn ask_ahead(
        g: &Arc<Gatherer<u32>>,
        key: &str,
        candidates: &[&str],
        seen: &Arc<Seen>,
    ) -> Answer<u32> {
        let seen = seen.clone();
        let candidates = candidates.iter().map(|c| c.to_string()).collect();
        g.ask_ahead(key.to_string(), candidates, 3, move |keys| {
            fake_describe(seen, keys)
        })
        .await
    }

    #[tokio::test]
    async fn a_batch_filled_ahead_answers_later_asks_without_a_call() {
        let g = Arc::new(Gatherer::new(10));
        let seen = Arc::new(Seen::default());
        let candidates = ["a", "bb", "gone", "ccc", "dddd", "eeeee"];
        // Three places (fill_to 3): "a" asked, "bb" and "gone" ahead.
        assert_eq!(
            ask_ahead(&g, "a", &candidates, &seen).await.unwrap(),
            Some(1)
        );
        assert_eq!(*seen.sizes.lock().unwrap(), vec![3]);
        // Answered ahead, found or not: no call.
        assert_eq!(
            ask_ahead(&g, "bb", &candidates, &seen).await.unwrap(),
            Some(2)
        );
        assert_eq!(
            ask_ahead(&g, "gone", &candidates, &seen).await.unwrap(),
            None
        );
        assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
        // Taken once: a second ask of "bb" goes to AWS, filled with the
        // candidates never sent ("ccc"; "a" and "bb" were sent).
        assert_eq!(
            ask_ahead(&g, "bb", &candidates, &seen).await.unwrap(),
            Some(2)
        );
        assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
        assert_eq!(
            ask_ahead(&g, "ccc", &candidates, &seen).await.unwrap(),
            Some(3)
        );
        assert_eq!(seen.calls.load(Ordering::SeqCst), 2);
        // A plain ask never takes what was fetched ahead.
        assert_eq!(ask(&g, "dddd", &seen).await.unwrap(), Some(4));
        assert_eq!(seen.calls.load(Ordering::SeqCst), 3);
    }
}
