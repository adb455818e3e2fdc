//! The job-queue seam on Amazon SQS.
//!
//! `receive` long-polls for at most 10 messages (SQS's own limit) with the requested visibility
//! timeout; `extend` and `release` change a held message's visibility; `ack` deletes it;
//! `dead_letter` sends the body to the dead-letter queue with the reason as a message attribute,
//! then deletes the original, so a rejected message is never simply dropped (Vector #19711).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};

use paperchart_core::queue::{JobQueue, Message, QueueError};

use crate::error_code;

#[derive(Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    dlq_url: String,
    wait: Duration,
}

/// The message attribute that counts a document's throttled deliveries.
const ATTEMPTS: &str = "paperchart-attempts";

/// Error codes that mean the receipt no longer holds the message.
const LEASE_LOST: &[&str] = &[
    "ReceiptHandleIsInvalid",
    "InvalidParameterValue",
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
];

fn classify<E, R>(op: &'static str, err: aws_sdk_sqs::error::SdkError<E, R>) -> QueueError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error_code(&err) {
        Some(code) if LEASE_LOST.contains(&code.as_str()) => QueueError::LeaseLost,
        Some(code) => QueueError::Unavailable { op, detail: format!("SQS: {code}") },
        None => QueueError::Unavailable { op, detail: format!("SQS: {}", crate::describe(&err)) },
    }
}

fn secs(d: Duration) -> i32 {
    d.as_secs().min(12 * 3600) as i32
}

impl SqsQueue {
    /// `wait` is the long-poll time of a receive (at most 20 s).
    pub fn new(
        client: aws_sdk_sqs::Client,
        url: impl Into<String>,
        dlq_url: impl Into<String>,
        wait: Duration,
    ) -> SqsQueue {
        SqsQueue { client, url: url.into(), dlq_url: dlq_url.into(), wait: wait.min(Duration::from_secs(20)) }
    }

    /// Puts `body` on this queue's dead-letter queue with the reason (and where it came from)
    /// as message attributes.
    pub async fn send_dead_letter(&self, body: &str, reason: &str, receive_count: u32) -> Result<(), QueueError> {
        let attr =
            |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build().expect("attribute");
        let reason: String = reason.chars().take(4000).collect();
        self.client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(body)
            .message_attributes("paperchart-reason", attr(&reason))
            .message_attributes("paperchart-source-queue", attr(&self.url))
            .message_attributes("paperchart-receive-count", attr(&receive_count.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("SendMessage (dead letter)", e))
    }

    pub fn dlq_url(&self) -> &str {
        &self.dlq_url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Messages waiting and in flight, as SQS estimates them.
    pub async fn depth(&self) -> Result<(u64, u64), QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| classify("GetQueueAttributes", e))?;
        let attrs = out.attributes.unwrap_or_default();
        let get = |a: A| attrs.get(&a).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((get(A::ApproximateNumberOfMessages), get(A::ApproximateNumberOfMessagesNotVisible)))
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(self.wait.as_secs() as i32)
            .visibility_timeout(secs(visibility).max(1))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_attribute_names(ATTEMPTS)
            .send()
            .await
            .map_err(|e| classify("ReceiveMessage", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                let attempts = m
                    .message_attributes
                    .as_ref()
                    .and_then(|a| a.get(ATTEMPTS))
                    .and_then(|v| v.string_value.as_deref()?.parse().ok())
                    .unwrap_or(0);
                Some(Message {
                    id: m.message_id?,
                    body: m.body.unwrap_or_default(),
                    receipt: m.receipt_handle?,
                    receive_count: count,
                    attempts,
                })
            })
            .collect())
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(secs(visibility))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("ChangeMessageVisibility", e))
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("DeleteMessage", e))
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.extend(receipt, delay).await
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), QueueError> {
        self.send_dead_letter(&message.body, reason, message.receive_count).await?;
        self.ack(&message.receipt).await
    }

    /// A new message with the same body, delayed, carrying the attempt count; then the held one
    /// is deleted. SQS counts receives per message, so a throttled document never reaches
    /// `maxReceiveCount` by waiting. A crash in between leaves a duplicate, never a loss.
    async fn requeue(&self, message: &Message, delay: Duration, attempts: u32) -> Result<(), QueueError> {
        let count = MessageAttributeValue::builder()
            .data_type("Number")
            .string_value(attempts.to_string())
            .build()
            .expect("attribute");
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(&message.body)
            .message_attributes(ATTEMPTS, count)
            .delay_seconds(secs(delay).clamp(0, 900))
            .send()
            .await
            .map_err(|e| classify("SendMessage (requeue)", e))?;
        self.ack(&message.receipt).await
    }

    async fn send(&self, body: &str) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("SendMessage", e))
    }
}
