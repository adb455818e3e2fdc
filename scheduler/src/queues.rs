//! The fleet's queues as the dashboards see them: messages waiting and in flight (SQS
//! GetQueueAttributes) and the age of the oldest message, for every work and dead-letter queue.
//!
//! SQS does not tell a client the age of its oldest message; CloudWatch does
//! (`AWS/SQS ApproximateAgeOfOldestMessage`, one datapoint a minute per active queue). The scheduler
//! reads the latest maximum of the last `LOOKBACK` and exports it as a gauge. An empty queue
//! whose metric has no datapoint has no oldest message: its age is 0. A queue with messages
//! and no datapoint (CloudWatch lags a few minutes behind a new queue) leaves the gauge as it was.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::DateTime;

use paperchart_aws::sqs::SqsQueue;
use paperchart_core::metrics;

const LOOKBACK: Duration = Duration::from_secs(15 * 60);

/// One queue the scheduler watches, by role (a bounded label value) and URL.
pub struct Watched {
    pub role: &'static str,
    pub queue: SqsQueue,
}

/// The queue's name, the CloudWatch dimension: the last segment of its URL.
pub fn queue_name(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

/// The latest `ApproximateAgeOfOldestMessage` maximum of each named queue, in seconds.
pub async fn oldest_ages(client: &aws_sdk_cloudwatch::Client, names: &[&str]) -> anyhow::Result<Vec<Option<f64>>> {
    let now = std::time::SystemTime::now();
    let mut request = client
        .get_metric_data()
        .start_time(DateTime::from(now - LOOKBACK))
        .end_time(DateTime::from(now))
        .scan_by(aws_sdk_cloudwatch::types::ScanBy::TimestampDescending);
    for (i, name) in names.iter().enumerate() {
        let metric = Metric::builder()
            .namespace("AWS/SQS")
            .metric_name("ApproximateAgeOfOldestMessage")
            .dimensions(Dimension::builder().name("QueueName").value(*name).build())
            .build();
        request = request.metric_data_queries(
            MetricDataQuery::builder()
                .id(format!("q{i}"))
                .metric_stat(MetricStat::builder().metric(metric).period(60).stat("Maximum").build())
                .return_data(true)
                .build(),
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("CloudWatch GetMetricData: {}", paperchart_aws::describe(&e)))?;
    let mut ages = vec![None; names.len()];
    for result in out.metric_data_results.unwrap_or_default() {
        let index = result.id.as_deref().and_then(|id| id.strip_prefix('q')).and_then(|i| i.parse::<usize>().ok());
        let (Some(i), Some(values)) = (index, result.values) else { continue };
        if i < ages.len() {
            // Newest first (TimestampDescending).
            ages[i] = values.first().copied();
        }
    }
    Ok(ages)
}

/// Measures every watched queue and sets the gauges. Returns how many queues could not be read.
pub async fn measure(watched: &[Watched], cloudwatch: &aws_sdk_cloudwatch::Client) -> usize {
    let mut failed = 0;
    let mut depths = Vec::with_capacity(watched.len());
    for w in watched {
        match w.queue.depth().await {
            Ok((visible, in_flight)) => {
                metrics::queue_depth(w.role, visible, in_flight);
                depths.push(Some(visible + in_flight));
            }
            Err(e) => {
                tracing::warn!(queue = w.role, error = %e, "queue depth not read");
                failed += 1;
                depths.push(None);
            }
        }
    }
    let names: Vec<&str> = watched.iter().map(|w| queue_name(w.queue.url())).collect();
    let ages = match oldest_ages(cloudwatch, &names).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "oldest message ages not read");
            vec![None; watched.len()]
        }
    };
    for ((w, age), depth) in watched.iter().zip(ages).zip(depths) {
        match (age, depth) {
            (Some(age), _) => metrics::queue_oldest_age(w.role, age),
            (None, Some(0)) => metrics::queue_oldest_age(w.role, 0.0),
            _ => {}
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_urls() {
        assert_eq!(
            queue_name("https://sqs.eu-west-1.amazonaws.com/123456789012/paperchart-intake"),
            "paperchart-intake"
        );
        assert_eq!(queue_name("http://127.0.0.1:5000/123456789012/dlq/"), "dlq");
    }
}
