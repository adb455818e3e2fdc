//! Dead-letter redrive: moves messages from a dead-letter queue back to a work queue once the
//! cause is fixed. Each message is sent before it is deleted, so a crash in between leaves a
//! duplicate (which the workers absorb), never a loss. The dead-letter reason attribute is
//! dropped on the way: the message gets a fresh start.
//!
//! A run moves only the letters that were in the queue when it began (sent before it): a letter
//! that fails again while the run goes on comes back as a new message and waits for the next
//! redrive, so a fault that is not mended never turns a redrive into a loop. Letters another
//! reader holds when the queue looks empty (the scheduler's annotate round) are waited for, up to
//! 45 s, so a redrive beside a running scheduler does not stop short.

use std::collections::HashMap;

use aws_sdk_sqs::types::MessageAttributeValue;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Redriven {
    pub moved: usize,
}

/// Moves up to `max` messages (all, when `None`) from `from` to `to`.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, from: &str, to: &str, max: Option<usize>) -> anyhow::Result<Redriven> {
    let mut moved = 0usize;
    let mut held: Vec<String> = Vec::new();
    // SQS's SentTimestamp is in milliseconds, by SQS's clock; the task's clock is NTP-synced
    // (ECS), so they agree to well under the time a letter takes to fail again.
    let began = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let mut waited = 0;
    loop {
        let want = max.map_or(10, |m| m.saturating_sub(moved).min(10));
        if want == 0 {
            break;
        }
        let got = sqs
            .receive_message()
            .queue_url(from)
            .max_number_of_messages(want as i32)
            .visibility_timeout(60)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("receive from {from}: {}", paperchart_aws::describe(&e)))?;
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            // Letters another reader holds (the scheduler's annotate round looks at every letter)
            // are invisible a while: waited for, not taken for an empty queue.
            if in_flight(sqs, from).await?.saturating_sub(held.len() as u64) > 0 && waited < IN_FLIGHT_WAIT {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                waited += 1;
                continue;
            }
            break;
        }
        let sent = |m: &aws_sdk_sqs::types::Message| {
            m.attributes
                .as_ref()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp))
                .and_then(|t| t.parse::<i64>().ok())
                .unwrap_or(0)
        };
        // Letters dead-lettered again since the run began stay invisible while it goes on, and
        // wait for the next run.
        let (old, again): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| sent(m) < began);
        held.extend(again.into_iter().filter_map(|m| m.receipt_handle));
        for m in old {
            let attributes: HashMap<String, MessageAttributeValue> = m
                .message_attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| !k.starts_with("paperchart-"))
                .collect();
            move_message(sqs, &m, attributes, from, to).await?;
            moved += 1;
            tracing::info!(msg_id = m.message_id.as_deref().unwrap_or(""), "redriven");
        }
    }
    // Visible again at once for the next run, not after the receive's 60 s.
    release(sqs, from, held).await;
    Ok(Redriven { moved })
}

/// Seconds a redrive waits for letters in flight elsewhere to come back: longer than the 30 s an
/// annotate round holds a letter.
const IN_FLIGHT_WAIT: u32 = 45;

/// Letters of `queue` received and not yet deleted or released (by anyone).
async fn in_flight(sqs: &aws_sdk_sqs::Client, queue: &str) -> anyhow::Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("attributes of {queue}: {}", paperchart_aws::describe(&e)))?;
    Ok(out
        .attributes
        .unwrap_or_default()
        .get(&A::ApproximateNumberOfMessagesNotVisible)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Sends a held message's body with `attributes` to `to`, then deletes it from `from`: a crash
/// in between leaves a duplicate, never a loss.
pub(crate) async fn move_message(
    sqs: &aws_sdk_sqs::Client,
    m: &aws_sdk_sqs::types::Message,
    attributes: HashMap<String, MessageAttributeValue>,
    from: &str,
    to: &str,
) -> anyhow::Result<()> {
    sqs.send_message()
        .queue_url(to)
        .message_body(m.body.clone().unwrap_or_default())
        .set_message_attributes(Some(attributes).filter(|a| !a.is_empty()))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("send to {to}: {}", paperchart_aws::describe(&e)))?;
    sqs.delete_message()
        .queue_url(from)
        .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("delete from {from}: {}", paperchart_aws::describe(&e)))?;
    Ok(())
}

/// Makes held messages visible again at once (a receipt gone stale meanwhile is visible already).
pub(crate) async fn release(sqs: &aws_sdk_sqs::Client, queue: &str, receipts: Vec<String>) {
    for receipt in receipts {
        let released =
            sqs.change_message_visibility().queue_url(queue).receipt_handle(receipt).visibility_timeout(0).send().await;
        if let Err(e) = released {
            tracing::warn!(error = %paperchart_aws::describe(&e), "a letter stays hidden until its visibility ends");
        }
    }
}
