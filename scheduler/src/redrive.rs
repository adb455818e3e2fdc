//! Dead-letter redrive: moves messages from a dead-letter queue back to a work queue once the
//! cause is fixed. Each message is sent before it is deleted, so a crash in between leaves a
//! duplicate (which the workers absorb), never a loss. The dead-letter reason attribute is
//! dropped on the way: the message gets a fresh start.

use std::collections::HashMap;

use aws_sdk_sqs::types::MessageAttributeValue;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Redriven {
    pub moved: usize,
}

/// Moves up to `max` messages (all, when `None`) from `from` to `to`.
pub async fn redrive(sqs: &aws_sdk_sqs::Client, from: &str, to: &str, max: Option<usize>) -> anyhow::Result<Redriven> {
    let mut moved = 0usize;
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
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("receive from {from}: {}", paperchart_aws::describe(&e)))?;
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let attributes: HashMap<String, MessageAttributeValue> = m
                .message_attributes
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| !k.starts_with("paperchart-"))
                .collect();
            sqs.send_message()
                .queue_url(to)
                .message_body(m.body.clone().unwrap_or_default())
                .set_message_attributes(Some(attributes).filter(|a| !a.is_empty()))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("send to {to}: {}", paperchart_aws::describe(&e)))?;
            sqs.delete_message()
                .queue_url(from)
                .receipt_handle(m.receipt_handle.unwrap_or_default())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("delete from {from}: {}", paperchart_aws::describe(&e)))?;
            moved += 1;
            tracing::info!(msg_id = m.message_id.as_deref().unwrap_or(""), "redriven");
        }
    }
    Ok(Redriven { moved })
}
