//! Backlog per task, for autoscaling the workers: the visible and in-flight messages of the
//! intake and the completion queue (SQS attributes; in Textract mode the heavy work — reading
//! the results, the NLP, the write — waits on the completion queue, which the same tasks serve)
//! and the worker service's running tasks (ECS DescribeServices), published every round as one
//! CloudWatch Embedded Metric Format line on standard output. On ECS the awslogs driver ships
//! that line to CloudWatch Logs, which turns it into the metrics `IntakeBacklog`,
//! `IntakeInFlight`, `CompletionBacklog`, `RunningWorkers` and `BacklogPerTask` (dimension
//! `Service`) that a target-tracking policy can follow — no CloudWatch API call, no extra
//! permission.

use serde_json::{json, Value};

use paperchart_aws::sqs::SqsQueue;

#[derive(Debug, Clone, PartialEq)]
pub struct Backlog {
    /// The intake queue's visible and in-flight messages.
    pub visible: u64,
    pub in_flight: u64,
    /// The completion queue's visible messages (Textract notices waiting for a worker).
    pub completion: u64,
    /// Running worker tasks, when the service is known.
    pub workers: Option<u64>,
}

impl Backlog {
    /// Visible messages of both queues per running worker; with none running, the whole backlog
    /// (so a service scaled to zero still scales out).
    pub fn per_task(&self) -> Option<f64> {
        self.workers.map(|w| (self.visible + self.completion) as f64 / w.max(1) as f64)
    }

    /// The Embedded Metric Format record of this measurement.
    pub fn emf(&self, namespace: &str, service: &str, timestamp_ms: i64) -> Value {
        let mut metrics = vec![
            json!({"Name": "IntakeBacklog", "Unit": "Count"}),
            json!({"Name": "IntakeInFlight", "Unit": "Count"}),
            json!({"Name": "CompletionBacklog", "Unit": "Count"}),
        ];
        let mut record = json!({
            "Service": service,
            "IntakeBacklog": self.visible,
            "IntakeInFlight": self.in_flight,
            "CompletionBacklog": self.completion,
        });
        if let (Some(w), Some(p)) = (self.workers, self.per_task()) {
            metrics.push(json!({"Name": "RunningWorkers", "Unit": "Count"}));
            metrics.push(json!({"Name": "BacklogPerTask", "Unit": "Count"}));
            record["RunningWorkers"] = json!(w);
            record["BacklogPerTask"] = json!(p);
        }
        record["_aws"] = json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["Service"]], "Metrics": metrics}],
        });
        record
    }
}

/// Measures the backlog; `ecs` names the cluster and service of the workers.
pub async fn measure(
    intake: &SqsQueue,
    completion: &SqsQueue,
    ecs: Option<(&aws_sdk_ecs::Client, &str, &str)>,
) -> anyhow::Result<Backlog> {
    let (visible, in_flight) = intake.depth().await.map_err(|e| anyhow::anyhow!("intake queue: {e}"))?;
    let (completion, _) = completion.depth().await.map_err(|e| anyhow::anyhow!("completion queue: {e}"))?;
    let workers = match ecs {
        None => None,
        Some((client, cluster, service)) => {
            let out = client
                .describe_services()
                .cluster(cluster)
                .services(service)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("ECS DescribeServices: {}", paperchart_aws::describe(&e)))?;
            let s = out
                .services
                .unwrap_or_default()
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("ECS service {service} not found in cluster {cluster}"))?;
            Some(s.running_count.max(0) as u64)
        }
    };
    Ok(Backlog { visible, in_flight, completion, workers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_every_metric_it_carries() {
        let b = Backlog { visible: 4, in_flight: 2, completion: 3, workers: Some(2) };
        let v = b.emf("paperchart", "paperchart-worker", 1_700_000_000_000);
        let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["IntakeBacklog", "IntakeInFlight", "CompletionBacklog", "RunningWorkers", "BacklogPerTask"]);
        for n in names {
            assert!(v[n].is_number(), "{n} has no value");
        }
        assert_eq!(v["BacklogPerTask"], 3.5, "intake and completion waiting, per task");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "Service");
        assert_eq!(v["Service"], "paperchart-worker");

        let none = Backlog { visible: 4, in_flight: 0, completion: 0, workers: Some(0) };
        assert_eq!(none.per_task(), Some(4.0), "scaled to zero still asks for workers");
        let unknown = Backlog { visible: 4, in_flight: 0, completion: 0, workers: None };
        assert!(unknown.emf("p", "s", 0).get("BacklogPerTask").is_none());
    }
}
