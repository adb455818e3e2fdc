//! The job-queue contract (`paperchart_testkit::contract::queue`), run against every real
//! implementation: the SQLite queue of `paperchart watch` and SQS (on a moto server). The
//! in-memory queue of the unit tests runs it in the test kit's own tests.

use std::time::Duration;

use paperchart::sqlite_queue::SqliteQueue;
use paperchart_testkit::*;

#[tokio::test]
async fn sqlite_queue_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteQueue::open(&dir.path().join("q.sqlite"), 10).unwrap();
    let handle = q.clone();
    contract::queue(&q, || {
        let q = handle.clone();
        async move { q.dead_letters().await.unwrap().into_iter().map(|d| (d.body, d.reason)).collect() }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_keeps_the_contract() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let sqs = paperchart_aws::sqs_client(&sdk);
    let url = sqs.create_queue().queue_name("intake").send().await.unwrap().queue_url.unwrap();
    let dlq = sqs.create_queue().queue_name("intake-dlq").send().await.unwrap().queue_url.unwrap();
    let q = paperchart_aws::sqs::SqsQueue::new(sqs.clone(), url, dlq.clone(), Duration::from_secs(1));
    contract::queue(&q, || {
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
