//! One refresh's memory of the AWS reads it already made.
//!
//! A refresh reads a resource twice over at the same moment: once to
//! recover its arguments from what exists (the inverse of the expansion,
//! the same read `terraform import` makes) and once to observe each
//! recorded component against the graph state describes. Both start from
//! the same describes and tag lists, so without this every object cost
//! two requests of each kind.
//!
//! `Clients::remembering_reads` gives clients whose read helpers share
//! answers by request: the first caller sends the request, a caller that
//! asks for the same while it is in flight waits for that answer, a later
//! one gets it at once. Errors are not remembered (the next caller asks
//! again, as it would have anyway). It lives for one refresh only: a
//! write never goes through it, and clients made by `connect` remember
//! nothing, so apply, destroy and waits always see what AWS says now.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::error::AwsError;

type Remembered = Arc<dyn Any + Send + Sync>;

/// Answers by request key (the AWS operation and what it asks for).
#[derive(Default)]
pub struct ReadMemo {
    answers: Mutex<HashMap<String, Arc<OnceCell<Remembered>>>>,
}

impl std::fmt::Debug for ReadMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.answers.lock().map(|a| a.len()).unwrap_or(0);
        f.debug_struct("ReadMemo")
            .field("requests", &count)
            .finish()
    }
}

impl ReadMemo {
    fn cell(&self, key: &str) -> Arc<OnceCell<Remembered>> {
        // A poisoned lock only means another read panicked while it held
        // it: the map itself is still whole.
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.entry(key.to_string()).or_default().clone()
    }
}

impl ReadMemo {
    /// The answer to the read `key`: `fetch`'s, or the one an earlier (or
    /// in-flight) identical read of this refresh got.
    pub async fn remembered<T, F, Fut>(&self, key: String, fetch: F) -> Result<T, AwsError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let cell = self.cell(&key);
        let mut fetch = Some(fetch);
        let answer = cell
            .get_or_try_init(|| async {
                match fetch.take() {
                    Some(fetch) => fetch().await.map(|v| Arc::new(v) as Remembered),
                    None => Err(AwsError::new("read memo", "fetched twice")),
                }
            })
            .await?;
        match answer.downcast_ref::<T>() {
            Some(value) => {
                tracing::trace!(request = %key, "answered by this refresh's earlier read");
                Ok(value.clone())
            }
            // Two kinds of answer under one key is a bug in a caller's key;
            // asking AWS is always right.
            None => match fetch.take() {
                Some(fetch) => fetch().await,
                None => Err(AwsError::new(
                    "read memo",
                    format!("{key}: answer of another type"),
                )),
            },
        }
    }
}

impl ReadMemo {
    /// [`Self::remembered`], once: the answer an earlier (or in-flight)
    /// read `key` got is handed over and forgotten, so the next read of
    /// `key` asks AWS. For an apply's reads ahead ([`super::Clients::ahead`]):
    /// a create takes what was read for it, and its retries read afresh.
    pub async fn taken<T, F, Fut>(&self, key: String, fetch: F) -> Result<T, AwsError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let answer = self.remembered(key.clone(), fetch).await;
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.remove(&key);
        answer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::aws::fake_endpoint::FakeEndpoint;
    use crate::aws::Clients;

    fn clients() -> Clients {
        FakeEndpoint::start(|_, _| (200, serde_json::json!({}))).clients()
    }

    async fn count(
        clients: &Clients,
        key: &str,
        calls: &AtomicUsize,
        answer: Result<u32, AwsError>,
    ) -> Result<u32, AwsError> {
        clients
            .remembered(key.to_string(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                answer
            })
            .await
    }

    #[tokio::test]
    async fn concurrent_and_later_identical_reads_share_one_request() {
        let clients = clients().remembering_reads();
        let calls = AtomicUsize::new(0);
        let (a, b) = futures::join!(
            count(&clients, "ecs:DescribeServices c/s", &calls, Ok(1)),
            count(&clients, "ecs:DescribeServices c/s", &calls, Ok(2)),
        );
        assert_eq!((a.unwrap(), b.unwrap()), (1, 1));
        let c = count(&clients, "ecs:DescribeServices c/s", &calls, Ok(3)).await;
        assert_eq!(c.unwrap(), 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another request is asked for.
        let d = count(&clients, "ecs:DescribeServices c/t", &calls, Ok(4)).await;
        assert_eq!(d.unwrap(), 4);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_read_ahead_is_taken_once_then_read_afresh() {
        let clients = clients();
        let calls = AtomicUsize::new(0);
        let ask = |answer: u32| {
            let calls = &calls;
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok::<u32, AwsError>(answer)
            }
        };
        let key = || "ecs:DescribeTaskDefinition family".to_string();
        // The read ahead in flight when the create takes it: one request.
        let (ahead, taken) = futures::join!(
            clients.ahead.remembered(key(), ask(1)),
            clients.ahead.taken(key(), ask(2)),
        );
        assert_eq!((ahead.unwrap(), taken.unwrap()), (1, 1));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Taken: a retry's read asks AWS again.
        assert_eq!(clients.ahead.taken(key(), ask(3)).await.unwrap(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn errors_are_not_remembered_and_plain_clients_remember_nothing() {
        let remembering = clients().remembering_reads();
        let calls = AtomicUsize::new(0);
        let failed = count(
            &remembering,
            "k",
            &calls,
            Err(AwsError::new("x", "throttled")),
        )
        .await;
        assert!(failed.is_err());
        assert_eq!(count(&remembering, "k", &calls, Ok(7)).await.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let plain = clients();
        let calls = AtomicUsize::new(0);
        assert_eq!(count(&plain, "k", &calls, Ok(1)).await.unwrap(), 1);
        assert_eq!(count(&plain, "k", &calls, Ok(2)).await.unwrap(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_fresh_memo_per_refresh() {
        let base = clients();
        let calls = AtomicUsize::new(0);
        count(&base.remembering_reads(), "k", &calls, Ok(1))
            .await
            .unwrap();
        count(&base.remembering_reads(), "k", &calls, Ok(2))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
