//! The job-queue contract, written once and run against every implementation: the SQLite queue
//! of `paperchart watch` and SQS (on a moto server). The worker relies on exactly these rules.

mod common;

use std::time::Duration;

use common::*;
use paperchart::queue::{JobQueue, QueueError, SqliteQueue};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_secs(1);

async fn received(q: &dyn JobQueue, n: usize) -> Vec<paperchart::queue::Message> {
    let mut got = Vec::new();
    // SQS may hand out fewer than asked per call.
    for _ in 0..10 {
        got.extend(q.receive(10, LONG).await.unwrap());
        if got.len() >= n {
            break;
        }
    }
    got
}

/// Runs the contract; `dead_letters` lists (body, reason) of what was dead-lettered.
async fn contract<F, Fut>(q: &dyn JobQueue, dead_letters: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Vec<(String, String)>>,
{
    q.send("one").await.unwrap();
    q.send("two").await.unwrap();
    let mut got = received(q, 2).await;
    got.sort_by(|a, b| a.body.cmp(&b.body));
    assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    assert!(got.iter().all(|m| m.receive_count == 1));
    assert!(q.receive(10, LONG).await.unwrap().is_empty(), "leased messages are invisible");

    // Release makes a message visible again at once, and counts the next delivery.
    let (one, two) = (got[0].clone(), got[1].clone());
    q.release(&one.receipt, Duration::ZERO).await.unwrap();
    let again = received(q, 1).await;
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].body.as_str(), again[0].receive_count), ("one", 2));

    // Acknowledged: gone for good.
    q.ack(&two.receipt).await.unwrap();

    // Extend keeps a message leased past its first deadline.
    q.release(&again[0].receipt, Duration::ZERO).await.unwrap();
    let short = q.receive(10, SHORT).await.unwrap();
    assert_eq!(short.len(), 1);
    q.extend(&short[0].receipt, LONG).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(q.receive(10, SHORT).await.unwrap().is_empty(), "an extended lease holds");

    // Dead-lettered with the reason: gone from the queue, kept with why.
    q.dead_letter(&short[0], "corrupt: corrupt PDF: no page tree").await.unwrap();
    q.release(&short[0].receipt, Duration::ZERO).await.ok();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(q.receive(10, SHORT).await.unwrap().is_empty(), "dead letters leave the queue");
    let dl = dead_letters().await;
    assert_eq!(dl, [("one".to_string(), "corrupt: corrupt PDF: no page tree".to_string())]);

    // A lease that ran out cannot be extended by its old receipt once another delivery took it.
    q.send("three").await.unwrap();
    let first = q.receive(10, SHORT).await.unwrap();
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let second = received(q, 1).await;
    assert_eq!(second[0].body, "three");
    let stale = q.extend(&first[0].receipt, LONG).await;
    assert!(matches!(stale, Err(QueueError::LeaseLost)), "stale receipt: {stale:?}");
    q.ack(&second[0].receipt).await.unwrap();
}

#[tokio::test]
async fn sqlite_queue_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(&dir.path().join("q.sqlite"), 10).unwrap();
    let handle = q.clone();
    contract(&q, || {
        let q = handle.clone();
        async move { q.dead_letters().await.unwrap().into_iter().map(|d| (d.body, d.reason)).collect() }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_keeps_the_contract() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs.create_queue().queue_name("intake").send().await.unwrap().queue_url.unwrap();
    let dlq = sqs.create_queue().queue_name("intake-dlq").send().await.unwrap().queue_url.unwrap();
    let q = paperchart::aws::sqs::SqsQueue::new(sqs.clone(), url, dlq.clone(), Duration::from_secs(1));
    contract(&q, || {
        let (sqs, dlq) = (sqs.clone(), dlq.clone());
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .unwrap();
            out.messages
                .unwrap_or_default()
                .into_iter()
                .map(|m| {
                    let reason = m.message_attributes.unwrap()["paperchart-reason"].string_value.clone().unwrap();
                    (m.body.unwrap(), reason)
                })
                .collect()
        }
    })
    .await;
}
