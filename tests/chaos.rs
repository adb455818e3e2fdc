//! The chaos run (issue 15): moto and a Helios FHIR server on 127.0.0.1 behind a proxy that
//! gives it bad days, three workers and the scheduler. Documents (each sample with bytes of its
//! own), bad files, the same bytes again under new keys and under the same key; a random worker
//! killed with `kill -9` every few seconds and started again; 20% of the S3 events delivered
//! twice; 5% of the uploads throttled by Textract and 5% at its job limit; 5% of the FHIR requests
//! answered 429 or 503; one FHIR outage; then every dead-letter queue redriven. The census that
//! follows: every good document's resources on the server exactly once (by content: each
//! document's Provenance names its resources, and nothing else is there), every bad file in a
//! dead-letter queue with its reason, nothing in flight.
//!
//! `make test` runs a small size; `make chaos` the full one (`PAPERCHART_CHAOS_DOCS=200`,
//! `PAPERCHART_CHAOS_OUTAGE_SECS=60`), printing one line of figures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use paperchart_fhir::ids::document_id;
use paperchart_model::object::SourceObject;
use paperchart_testkit::fleet::*;
use paperchart_testkit::*;
use serde_json::Value;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const SAMPLES: [&str; 6] = [
    "discharge-summary-scanned.pdf",
    "intake-form.jpg",
    "lab-report.pdf",
    "medication-list-photo.png",
    "mixed-progress-note.pdf",
    "referral-letter.tif",
];

/// Patients across the samples (the discharge summary and the referral letter share one).
const PATIENTS: u64 = 5;

/// Textract's answer for each sample, read once by Tesseract as moto would (moto_server.ocr),
/// kept under `.cache/chaos/` by the sample's digest, and stored as canned responses so the
/// emulated Textract answers at once.
fn canned(moto_python: &std::path::Path) -> BTreeMap<&'static str, String> {
    let dir = root().join(".cache/chaos");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = BTreeMap::new();
    for name in SAMPLES {
        let path = samples().join("documents").join(name);
        let digest = SourceObject::from_bytes(String::new(), String::new(), std::fs::read(&path).unwrap(), None)
            .identity
            .replace("sha256:", "");
        let cached = dir.join(format!("{digest}.textract.json"));
        if !cached.exists() {
            let script = "import json, sys\nfrom scripts.harness import moto_server\nblocks, pages = moto_server.ocr(open(sys.argv[1], 'rb').read())\nprint(json.dumps({'DocumentMetadata': {'Pages': pages}, 'Blocks': blocks}))";
            let got = std::process::Command::new(moto_python)
                .current_dir(root())
                .args(["-c", script])
                .arg(&path)
                .output()
                .expect("run moto_server.ocr");
            assert!(got.status.success(), "canned Textract for {name}: {}", String::from_utf8_lossy(&got.stderr));
            std::fs::write(&cached, &got.stdout).unwrap();
        }
        out.insert(name, std::fs::read_to_string(&cached).unwrap());
    }
    out
}

/// One upload of the run.
struct Upload {
    key: String,
    body: Vec<u8>,
    /// A document that must reach the server (not a bad file).
    good: bool,
}

/// Every resource of a type on the server: (id, resource).
fn all(fhir: &FhirServer, resource_type: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = format!("{}/{resource_type}?_count=1000", fhir.base);
    loop {
        let (status, body) = http_get(&url).expect("search");
        if status == 503 {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        out.extend(v["entry"].as_array().into_iter().flatten().map(|e| e["resource"].clone()));
        match v["link"].as_array().into_iter().flatten().find(|l| l["relation"] == "next") {
            Some(next) => url = next["url"].as_str().unwrap().replace("http://localhost:8080", &fhir.base),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chaos_loses_nothing_and_writes_nothing_twice() {
    let docs = setting("PAPERCHART_CHAOS_DOCS", 18) as usize;
    let outage_secs = setting("PAPERCHART_CHAOS_OUTAGE_SECS", 10);
    let kill_every = Duration::from_secs(setting("PAPERCHART_CHAOS_KILL_SECS", 4));
    let mut rng = Rng::new(setting("PAPERCHART_CHAOS_SEED", 15));
    let started = Instant::now();

    let fhir = FhirServer::start();
    let proxy = FaultProxy::start(&fhir.base, 5, rng.next_u64());
    let mut fleet = Fleet::start().await;
    let canned = canned(&fleet.moto.python);
    let fixtures = format!("{}-fixtures", fleet.intake_bucket());
    let _ = fleet.s3.create_bucket().bucket(&fixtures).send().await;

    // Short leases and waits, so a killed worker's messages and jobs come back within seconds.
    let settings = [
        ("PAPERCHART__WORKER__VISIBILITY_TIMEOUT_SECS", "6"),
        ("PAPERCHART__WORKER__HEARTBEAT_SECS", "2"),
        ("PAPERCHART__WORKER__JOB_LEASE_SECS", "8"),
        ("PAPERCHART__WORKER__RETRY_MAX_SECS", "4"),
        ("PAPERCHART__SINK__MAX_ATTEMPTS", "3"),
        ("PAPERCHART__SINK__BACKOFF_MAX_MS", "1000"),
        ("PAPERCHART__FLEET__TEXTRACT_START_PER_SEC", "50"),
        ("PAPERCHART__FLEET__TEXTRACT_GET_PER_SEC", "50"),
    ];
    let mut live: Vec<usize> = (0..3).map(|_| fleet.worker("fhir", &proxy.base, &settings)).collect();
    let scheduler_log = fleet.logs.path().join("scheduler.log");
    let mut scheduler = scheduler()
        .envs(&fleet.env)
        .env("PAPERCHART_LOG", "info")
        .env("PAPERCHART__SCHEDULER__INTERVAL_SECS", "2")
        .env("PAPERCHART__SCHEDULER__STUCK_AFTER_SECS", "15")
        .env("PAPERCHART__SCHEDULER__METRICS_PORT", "0")
        .arg("run")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&scheduler_log).unwrap())
        .spawn()
        .expect("start paperchart-scheduler");

    // The uploads: each document its sample's bytes and a trailer of its own (another content),
    // some of them under a Textract fault; bad files; the same bytes again.
    let mut uploads = Vec::new();
    let (mut throttled, mut limited) = (0, 0);
    for i in 0..docs {
        let name = SAMPLES[i % SAMPLES.len()];
        let mut body = std::fs::read(samples().join("documents").join(name)).unwrap();
        body.extend_from_slice(format!("\n%chaos-{i:04}\n").as_bytes());
        let fault = if rng.chance(5) || i == 1 {
            throttled += 1;
            "__throttle2__"
        } else if rng.chance(5) || i == 2 {
            limited += 1;
            "__limit3__"
        } else {
            ""
        };
        uploads.push(Upload { key: format!("chaos/{i:04}{fault}/{name}"), body, good: true });
    }
    let bad = root().join("tests/fixtures/bad");
    let bad_files = ["notes.txt", "corrupt.pdf", "encrypted.pdf", "unsupported.docx"];
    for (i, name) in bad_files.iter().cycle().take((docs / 20).max(2)).enumerate() {
        let mut body = std::fs::read(bad.join(name)).unwrap();
        body.extend_from_slice(format!("{i}").as_bytes());
        uploads.push(Upload { key: format!("chaos/bad/{i:02}-{name}"), body, good: false });
    }
    for i in 0..(docs / 10).max(2) {
        let of = rng.below(docs);
        let (key, body) = (uploads[of].key.clone(), uploads[of].body.clone());
        // The same bytes under a new key, and every other one under the same key (a new version).
        let key = if i % 2 == 0 { format!("chaos/again/{i:03}/{}", key.rsplit('/').next().unwrap()) } else { key };
        uploads.push(Upload { key, body, good: true });
    }
    // Shuffled, with the copies after their first upload most of the time.
    for i in (1..uploads.len()).rev() {
        if rng.chance(30) {
            uploads.swap(i, rng.below(i + 1));
        }
    }
    for u in &uploads {
        if u.good {
            let name = u.key.rsplit('/').next().unwrap();
            let text = &canned[SAMPLES.iter().find(|s| **s == name).unwrap()];
            let key = format!("{}.textract.json", u.key);
            fleet
                .s3
                .put_object()
                .bucket(&fixtures)
                .key(key)
                .body(text.clone().into_bytes().into())
                .send()
                .await
                .unwrap();
        }
    }

    let (mut kills, mut duplicated_events) = (0, 0);
    let mut last_kill = Instant::now();
    let outage_at = uploads.len() / 3;
    let mut outage: Option<Instant> = None;
    let kill = |fleet: &mut Fleet, live: &mut Vec<usize>, rng: &mut Rng| {
        let at = rng.below(live.len());
        let w = &mut fleet.workers[live[at]];
        w.child.kill().unwrap(); // SIGKILL
        w.child.wait().unwrap();
        live[at] = fleet.worker("fhir", &proxy.base, &settings);
    };
    for (n, u) in uploads.iter().enumerate() {
        fleet.upload(&u.key, u.body.clone()).await;
        if rng.chance(20) {
            fleet.duplicate_event(&u.key).await;
            duplicated_events += 1;
        }
        if n == outage_at {
            proxy.outage(true);
            outage = Some(Instant::now());
        }
        if last_kill.elapsed() >= kill_every {
            kill(&mut fleet, &mut live, &mut rng);
            kills += 1;
            last_kill = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The outage runs its length; the kills go on through it and a while after the uploads.
    let minimum_kills = (uploads.len() as u64 * 300 / kill_every.as_millis() as u64).max(4);
    loop {
        if let Some(at) = outage {
            if at.elapsed() >= Duration::from_secs(outage_secs) {
                proxy.outage(false);
                outage = None;
            }
        }
        if outage.is_none() && kills >= minimum_kills {
            break;
        }
        if last_kill.elapsed() >= kill_every {
            kill(&mut fleet, &mut live, &mut rng);
            kills += 1;
            last_kill = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Settled: nothing waits in the work queues and no Textract job is unfinished.
    fleet.drained_within(Duration::from_secs(600)).await;
    // The scheduler gives letters SQS moved by itself their reason (a round every 2 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    // After the outage: every dead-letter queue redriven once.
    let mut redriven = 0;
    for (dlq, queue) in [
        ("PAPERCHART__FLEET__INTAKE_DLQ_URL", "PAPERCHART__FLEET__INTAKE_QUEUE_URL"),
        ("PAPERCHART__FLEET__COMPLETION_DLQ_URL", "PAPERCHART__FLEET__COMPLETION_QUEUE_URL"),
    ] {
        if fleet.depth(dlq).await != (0, 0) {
            let out = fleet.redrive(dlq, queue);
            redriven += out
                .split_whitespace()
                .skip_while(|w| *w != "moved")
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    fleet.drained_within(Duration::from_secs(600)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _ = scheduler.kill();
    let _ = scheduler.wait();

    // The census.
    let good: BTreeSet<String> = uploads
        .iter()
        .filter(|u| u.good)
        .map(|u| document_id(&SourceObject::from_bytes(String::new(), String::new(), u.body.clone(), None).identity))
        .collect();
    let documents: BTreeSet<String> =
        all(&fhir, "DocumentReference").iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    let lost = good.difference(&documents).count();
    let extra_documents = documents.difference(&good).count();
    // What the documents' manifests name, and what the server holds beside it.
    let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in all(&fhir, "Provenance") {
        for t in p["target"].as_array().into_iter().flatten() {
            let (ty, id) = t["reference"].as_str().unwrap().split_once('/').unwrap();
            named.entry(ty.to_string()).or_default().insert(id.to_string());
        }
    }
    let mut unnamed = 0; // on the server, in no document's manifest: a duplicate or stale
    let mut missing = 0; // named by a manifest, not on the server
    for t in RESOURCE_TYPES.iter().filter(|t| **t != "Provenance") {
        let held: BTreeSet<String> = all(&fhir, t).iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
        let names = named.remove(*t).unwrap_or_default();
        unnamed += held.difference(&names).count();
        missing += names.difference(&held).count();
    }
    let patients = fhir.count("Patient");
    let intake_letters = fleet.dead_letters("PAPERCHART__FLEET__INTAKE_DLQ_URL").await;
    let completion_letters = fleet.dead_letters("PAPERCHART__FLEET__COMPLETION_DLQ_URL").await;
    let bad_keys: Vec<&str> = uploads.iter().filter(|u| !u.good).map(|u| u.key.as_str()).collect();
    let with_reason = bad_keys
        .iter()
        // The event names the key URL-encoded: matched by its last part (unique per bad file).
        .filter(|k| intake_letters.iter().any(|(b, r)| b.contains(k.rsplit('/').next().unwrap()) && !r.is_empty()))
        .count();
    let faults = proxy.faults.load(std::sync::atomic::Ordering::SeqCst);
    let line = format!(
        "chaos: documents {} (good contents {}, bad {}, re-uploads {}), kills {kills}, duplicated events \
         {duplicated_events}, textract throttled {throttled} / at limit {limited}, FHIR faults {faults}, outage \
         {outage_secs} s, redriven {redriven}, lost {lost}, duplicated {}, dead-lettered with reason {with_reason}/{}, letters left {}, \
         seconds {:.0}",
        uploads.len(),
        good.len(),
        bad_keys.len(),
        uploads.iter().filter(|u| u.good).count() - good.len(),
        extra_documents + unnamed,
        bad_keys.len(),
        intake_letters.len() + completion_letters.len(),
        started.elapsed().as_secs_f64()
    );
    println!("{line}");
    let _ = std::fs::write(root().join("target/chaos-report.txt"), format!("{line}\n"));

    let logs = format!("{}\n--- scheduler ---\n{}", fleet.logs(), std::fs::read_to_string(&scheduler_log).unwrap());
    // Kept for a look after the run (ids, counts and classes only: no patient data).
    let kept = root().join("target/chaos-logs");
    let _ = std::fs::remove_dir_all(&kept);
    std::fs::create_dir_all(&kept).unwrap();
    for e in std::fs::read_dir(fleet.logs.path()).unwrap().flatten() {
        let _ = std::fs::copy(e.path(), kept.join(e.file_name()));
    }
    let letters: Vec<String> = completion_letters.iter().map(|(b, r)| format!("{r}\t{b}")).collect();
    let _ = std::fs::write(kept.join("completion-letters.tsv"), letters.join("\n"));
    assert_eq!(lost, 0, "{line}\n{logs}");
    assert_eq!((extra_documents, unnamed, missing), (0, 0, 0), "{line}");
    assert_eq!(patients, PATIENTS, "{line}");
    assert_eq!(with_reason, bad_keys.len(), "{line}: {intake_letters:?}");
    // Only the bad files stay dead-lettered (one letter per delivery of their event).
    let names = |k: &&str| k.rsplit('/').next().unwrap().to_string();
    let strays: Vec<&(String, String)> =
        intake_letters.iter().filter(|(b, _)| !bad_keys.iter().map(names).any(|n| b.contains(&n))).collect();
    assert!(strays.is_empty(), "{line}: {strays:?}");
    let reasons: BTreeMap<&str, usize> = completion_letters.iter().fold(BTreeMap::new(), |mut m, (_, r)| {
        *m.entry(r.as_str()).or_default() += 1;
        m
    });
    assert!(completion_letters.is_empty(), "{line}: {reasons:?}\n{}", completion_letters.first().map_or("", |l| &l.0));
    assert!(kills >= 4 && faults > 0, "{line}");
    no_patient_data_in(&logs);
}
