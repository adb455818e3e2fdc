//! The fleet's metrics, dashboard and alerts against real peers: a fleet on moto with a real FHIR
//! server, a worker and the scheduler exporting Prometheus metrics, and a real Prometheus (apt
//! `prometheus`) on 127.0.0.1 scraping them.
//!
//! After a run like `make fleet-demo` (documents through Textract, one corrupt upload
//! dead-lettered), both endpoints pass `promtool check metrics`, hold the values the run implies,
//! and every query of `deploy/grafana/paperchart.json` returns data from Prometheus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use paperchart_testkit::fleet::*;
use paperchart_testkit::*;

/// A Prometheus server on 127.0.0.1 with the alert rules of deploy/, scraping `targets`
/// (job name → port) every second.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(name: &str) -> PathBuf {
    let found =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()));
    found.unwrap_or_else(|| {
        panic!("{name} is not installed: apt-get install prometheus (scripts/ci/install-deps.sh and make test do)")
    })
}

impl Prometheus {
    fn start(targets: &[(&str, u16)]) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n");
        config.push_str(&format!("  - {}\nscrape_configs:\n", root().join("deploy/prometheus/alerts.yml").display()));
        for (job, port) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
            ));
        }
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let child = Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("start prometheus");
        let p = Prometheus { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
        wait_for("prometheus ready", Duration::from_secs(60), || {
            http_get(&format!("{}/-/ready", p.base)).is_some_and(|(s, _)| s == 200)
        });
        p
    }

    /// An instant query's result vector.
    fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let (status, body) =
            http_get(&format!("{}/api/v1/query?query={}", self.base, encode(expr))).expect("prometheus answers");
        assert_eq!(status, 200, "{expr}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "success", "{expr}: {body}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `promtool check metrics` on a scrape: no problems.
fn promtool_check(scrape: &str) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(scrape.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics:\n{said}");
}

/// Sample values of a scrape by series (`name{labels}` exactly as exposed).
fn samples(scrape: &str) -> BTreeMap<String, f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').and_then(|(k, v)| v.parse().ok().map(|v| (k.to_string(), v))))
        .collect()
}

/// The sum of every series of `name` whose labels contain each of `with`.
fn total(s: &BTreeMap<String, f64>, name: &str, with: &[&str]) -> f64 {
    s.iter()
        .filter(|(k, _)| k.split('{').next() == Some(name) && with.iter().all(|w| k.contains(w)))
        .map(|(_, v)| v)
        .sum()
}

fn scrape(port: u16) -> String {
    let (status, body) = http_get(&format!("http://127.0.0.1:{port}/metrics")).expect("metrics endpoint answers");
    assert_eq!(status, 200);
    body
}

/// Every query of the dashboard, with Grafana's interval variables made concrete.
fn dashboard_queries(path: &Path) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for p in v["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap().replace("$__rate_interval", "1m").replace("$__interval", "15s");
            out.push((p["title"].as_str().unwrap().to_string(), expr));
        }
    }
    out
}

async fn ecs_service(fleet: &Fleet) {
    let ecs = aws_sdk_ecs::Client::new(&fleet.moto.sdk().await);
    ecs.create_cluster().cluster_name("paperchart").send().await.unwrap();
    let container =
        aws_sdk_ecs::types::ContainerDefinition::builder().name("worker").image("paperchart:test").memory(2048).build();
    ecs.register_task_definition().family("paperchart-worker").container_definitions(container).send().await.unwrap();
    ecs.create_service()
        .cluster("paperchart")
        .service_name("paperchart-worker")
        .task_definition("paperchart-worker")
        .desired_count(2)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_dashboard_and_alerts_over_a_fleet_run() {
    let fhir = FhirServer::start();
    let mut fleet = Fleet::start_with(&[("MOTO_ECS_SERVICE_RUNNING", "2")]).await;
    ecs_service(&fleet).await;
    // What CloudWatch reports for the completion queue: the scheduler exports it.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&fleet.moto.sdk().await);
    let completion_name = fleet.url("PAPERCHART__FLEET__COMPLETION_QUEUE_URL").rsplit('/').next().unwrap().to_string();
    cloudwatch
        .put_metric_data()
        .namespace("AWS/SQS")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("ApproximateAgeOfOldestMessage")
                .dimensions(
                    aws_sdk_cloudwatch::types::Dimension::builder().name("QueueName").value(&completion_name).build(),
                )
                .value(42.0)
                .unit(aws_sdk_cloudwatch::types::StandardUnit::Seconds)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let w = fleet.worker("fhir", &fhir.base, &[]);
    let worker_port = fleet.workers[w].metrics;
    let scheduler_port = free_port();
    let scheduler_log = fleet.logs.path().join("scheduler.log");
    let mut scheduler = paperchart_testkit::scheduler()
        .envs(&fleet.env)
        .env("PAPERCHART__SCHEDULER__METRICS_PORT", scheduler_port.to_string())
        .env("PAPERCHART__SCHEDULER__INTERVAL_SECS", "1")
        .env("PAPERCHART__SCHEDULER__ECS_CLUSTER", "paperchart")
        .env("PAPERCHART__SCHEDULER__WORKER_SERVICE", "paperchart-worker")
        .arg("run")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&scheduler_log).unwrap())
        .spawn()
        .expect("start paperchart-scheduler");
    let prometheus = Prometheus::start(&[("paperchart-worker", worker_port), ("paperchart-scheduler", scheduler_port)]);
    wait_for("both targets up", Duration::from_secs(30), || prometheus.query("up == 1").len() == 2);

    fleet.upload_sample("obs/medication list.png", "medication-list-photo.png").await;
    fleet.upload_sample("obs/referral.tif", "referral-letter.tif").await;
    fleet.wait_documents(&fhir, 2).await;
    fleet.upload("obs/corrupt.pdf", b"%PDF-1.7\n this is not a PDF".to_vec()).await;
    fleet.wait("the corrupt upload dead-lettered", LONG, || {
        total(&samples(&scrape(worker_port)), "paperchart_queue_messages_dead_lettered_total", &[]) >= 1.0
    });
    fleet.drained().await;

    // The worker's endpoint: valid exposition, and what the run implies.
    let body = scrape(worker_port);
    promtool_check(&body);
    let s = samples(&body);
    let documents = total(&s, "paperchart_documents_total", &["outcome=\"ok\""])
        + total(&s, "paperchart_documents_total", &["outcome=\"needs_review\""]);
    assert_eq!(documents, 2.0, "{body}");
    assert_eq!(total(&s, "paperchart_textract_jobs_started_total", &[]), 2.0, "{body}");
    assert_eq!(total(&s, "paperchart_textract_jobs_completed_total", &["status=\"succeeded\""]), 2.0, "{body}");
    assert!(total(&s, "paperchart_pages_total", &["read_by=\"textract\""]) >= 2.0, "{body}");
    assert!(total(&s, "paperchart_ocr_confidence_ratio_count", &["read_by=\"textract\""]) >= 2.0, "{body}");
    assert_eq!(
        total(
            &s,
            "paperchart_queue_messages_dead_lettered_total",
            &["queue=\"intake\"", "error_class=\"permanent\"", "error=\"corrupt\""]
        ),
        1.0,
        "{body}"
    );
    assert!(
        total(&s, "paperchart_fhir_entries_written_total", &["resource_type=\"DocumentReference\""]) == 2.0,
        "{body}"
    );
    assert!(total(&s, "paperchart_entities_total", &["type=\"MEDICATION\""]) >= 3.0, "{body}");
    assert_eq!(total(&s, "paperchart_stage_duration_seconds_count", &["stage=\"write\""]), 2.0, "{body}");
    assert!(total(&s, "paperchart_visibility_extensions_total", &["outcome=\"failed\""]) == 0.0, "{body}");
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        assert!(!line.contains("obs/") && !line.contains("s3://"), "an object key in a label: {line}");
    }

    // The scheduler's endpoint: queue depths, ages, workers.
    let sched = |s: &BTreeMap<String, f64>, name: &str, queue: &str| total(s, name, &[&format!("queue=\"{queue}\"")]);
    wait_for("the scheduler's view of the drained queues", Duration::from_secs(30), || {
        let s = samples(&scrape(scheduler_port));
        sched(&s, "paperchart_queue_visible_messages", "intake_dlq") == 1.0
            && sched(&s, "paperchart_queue_visible_messages", "intake") == 0.0
    });
    let body = scrape(scheduler_port);
    promtool_check(&body);
    let s = samples(&body);
    assert_eq!(sched(&s, "paperchart_queue_oldest_message_age_seconds", "completion"), 42.0, "{body}");
    assert_eq!(sched(&s, "paperchart_queue_oldest_message_age_seconds", "intake"), 0.0, "{body}");
    assert_eq!(total(&s, "paperchart_workers_running", &[]), 2.0, "{body}");
    assert_eq!(total(&s, "paperchart_scheduler_rounds_total", &["outcome=\"failed\""]), 0.0, "{body}");

    // Prometheus: every dashboard query returns data, and the dead letter raises its alert.
    wait_for("a few scrapes after the run", Duration::from_secs(30), || {
        !prometheus.query("paperchart_queue_visible_messages{queue=\"intake_dlq\"} == 1").is_empty()
    });
    std::thread::sleep(Duration::from_secs(3));
    let queries = dashboard_queries(&root().join("deploy/grafana/paperchart.json"));
    assert!(queries.len() >= 30, "{queries:?}");
    let empty: Vec<&(String, String)> = queries.iter().filter(|(_, q)| prometheus.query(q).is_empty()).collect();
    assert!(empty.is_empty(), "dashboard queries without data: {empty:#?}");
    let pending = prometheus.query("ALERTS{alertname=\"PaperchartDeadLetters\"}");
    assert_eq!(pending.len(), 1, "the dead-letter alert is pending: {pending:?}");
    assert_eq!(pending[0]["metric"]["queue"], "intake_dlq");

    let _ = scheduler.kill();
    let _ = scheduler.wait();
    let logs = format!("{}{}", fleet.logs(), std::fs::read_to_string(&scheduler_log).unwrap_or_default());
    no_patient_data_in(&logs);
}
