//! The seam contracts, written once and run against every implementation. The worker relies on
//! exactly these rules; an implementation that breaks one breaks the worker.

use std::time::Duration;

use paperchart_core::queue::{JobQueue, Message, QueueError};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_secs(1);

async fn received(q: &dyn JobQueue, n: usize) -> Vec<Message> {
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

/// The job-queue contract; `dead_letters` lists (body, reason) of what was dead-lettered. It
/// waits on the queue's own leases (a second and a half at a time), in real time.
pub async fn queue<F, Fut>(q: &dyn JobQueue, dead_letters: F)
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
