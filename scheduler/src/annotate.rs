//! Reasons for the letters SQS moved by itself. A message received `maxReceiveCount` times
//! without being deleted (its worker crashed, lost its lease or timed out every time) is moved to
//! the dead-letter queue by SQS's redrive policy, with none of the attributes a worker writes: an
//! operator sees a letter and no reason. Every round, each such letter is sent again to its
//! dead-letter queue with `paperchart-reason` (how many deliveries it had, and what that means)
//! and `paperchart-source-queue`, and the bare one deleted. Letters that carry a reason are left
//! as they are (made visible again at once).

use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Annotated {
    /// Letters that had no reason and were given one.
    pub annotated: usize,
    /// Letters that already had one.
    pub kept: usize,
}

const REASON: &str = "paperchart-reason";

/// Gives a reason to every letter of `dlq` that has none (at most `max` letters looked at).
pub async fn annotate(sqs: &aws_sdk_sqs::Client, dlq: &str, source: &str, max: usize) -> anyhow::Result<Annotated> {
    let mut out = Annotated::default();
    let mut seen = 0usize;
    let mut reasoned: Vec<String> = Vec::new();
    while seen < max {
        let got = sqs
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages((max - seen).min(10) as i32)
            .visibility_timeout(30)
            .wait_time_seconds(0)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("receive from {dlq}: {}", paperchart_aws::describe(&e)))?;
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        seen += messages.len();
        for m in messages {
            let mut attributes: HashMap<String, MessageAttributeValue> =
                m.message_attributes.clone().unwrap_or_default();
            if attributes.contains_key(REASON) {
                reasoned.extend(m.receipt_handle);
                out.kept += 1;
                continue;
            }
            // The receives in the dead-letter queue (this one included) are not the work queue's;
            // what SQS moved had reached the queue's maxReceiveCount.
            let attr = |v: &str| {
                MessageAttributeValue::builder().data_type("String").string_value(v).build().expect("attribute")
            };
            attributes.insert(
                REASON.into(),
                attr(
                    "exceeded_max_receives: moved by SQS after the queue's maxReceiveCount deliveries, none of \
                      them finished: each was released for a retry after a transient failure (a FHIR server or \
                      AWS service unavailable), or its worker crashed, lost its lease or timed out; see the \
                      workers' logs for this message id, then redrive",
                ),
            );
            attributes.insert("paperchart-source-queue".into(), attr(source));
            crate::redrive::move_message(sqs, &m, attributes, dlq, dlq).await?;
            tracing::warn!(msg_id = m.message_id.as_deref().unwrap_or(""), "letter moved by SQS given its reason");
            out.annotated += 1;
        }
    }
    crate::redrive::release(sqs, dlq, reasoned).await;
    Ok(out)
}
