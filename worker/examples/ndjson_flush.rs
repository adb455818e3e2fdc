//! Benchmark of the directory sink's NDJSON upkeep: the time one flush takes after one more
//! document, with 10, 100, 1,000 and 10,000 documents already in the output folder. Each document
//! is a Bundle of one Patient shared by ten documents, a DocumentReference, 20 Conditions and 20
//! Observations (synthetic, no patient data).
//!
//!   cargo run --release -p paperchart --example ndjson_flush
//!
//! Prints one line per size: documents in the folder, the flush's milliseconds (median of five),
//! and microseconds per new resource line; then, per size, the first flush of a new process over
//! the folder (the rebuild from every bundle): its milliseconds and the process's peak memory.

use std::time::Instant;

use paperchart::dir_sink::DirSink;
use paperchart_core::sink::FhirSink;
use paperchart_model::bundle::{Bundle, Entry};
use serde_json::json;

fn document(n: usize) -> Bundle {
    let id = format!("doc-{n:06}");
    let patient = format!("patient-{:05}", n / 10);
    let mut entries = vec![
        Entry {
            resource_type: "Patient",
            id: patient.clone(),
            resource: json!({"resourceType": "Patient", "id": patient, "identifier": [{"value": format!("MRN{}", n / 10)}], "address": [{"city": format!("City {n}")}]}),
        },
        Entry {
            resource_type: "DocumentReference",
            id: id.clone(),
            resource: json!({"resourceType": "DocumentReference", "id": id, "status": "current"}),
        },
    ];
    for k in 0..20 {
        let c = format!("{id}-c{k}");
        entries.push(Entry {
            resource_type: "Condition",
            id: c.clone(),
            resource: json!({"resourceType": "Condition", "id": c, "code": {"text": format!("finding {k}")}, "subject": {"reference": format!("Patient/{patient}")}}),
        });
        let o = format!("{id}-o{k}");
        entries.push(Entry {
            resource_type: "Observation",
            id: o.clone(),
            resource: json!({"resourceType": "Observation", "id": o, "status": "final", "valueQuantity": {"value": k, "unit": "mg/dL"}}),
        });
    }
    Bundle { id, entries }
}

/// The peak resident memory of this process, in KB (Linux).
fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `--rebuild <folder>`: one first flush over the folder, as a new process makes it.
async fn rebuild(folder: &str) {
    let sink = DirSink::new(std::path::Path::new(folder)).expect("sink");
    let t = Instant::now();
    sink.flush().await.expect("flush");
    println!("{:.0}\t{}", t.elapsed().as_secs_f64() * 1000.0, peak_kb() / 1024);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--rebuild") {
        return rebuild(&args[2]).await;
    }
    println!("documents_in_folder\tflush_ms_median\tus_per_new_line");
    let dir = tempfile::tempdir().expect("temporary folder");
    let sink = DirSink::new(dir.path()).expect("sink");
    let mut written = 0usize;
    let mut rebuilds = Vec::new();
    let sizes: Vec<usize> = std::env::var("NDJSON_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000]);
    for size in sizes {
        while written < size {
            sink.write(&document(written)).await.expect("write");
            written += 1;
        }
        sink.flush().await.expect("flush");
        let mut times = Vec::new();
        for _ in 0..5 {
            sink.write(&document(written)).await.expect("write");
            written += 1;
            let t = Instant::now();
            sink.flush().await.expect("flush");
            times.push(t.elapsed());
        }
        times.sort();
        let median = times[2];
        println!("{size}\t{:.2}\t{:.1}", median.as_secs_f64() * 1000.0, median.as_secs_f64() * 1e6 / 42.0);
        let bytes: u64 = std::fs::read_dir(dir.path().join("ndjson"))
            .expect("ndjson")
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum();
        let child = std::process::Command::new(std::env::current_exe().expect("this program"))
            .arg("--rebuild")
            .arg(dir.path())
            .output()
            .expect("a new process");
        rebuilds.push(format!("{size}\t{}\t{}", bytes / 1024 / 1024, String::from_utf8_lossy(&child.stdout).trim()));
    }
    println!("\ndocuments_in_folder\tndjson_mb\tfirst_flush_ms\tpeak_mb");
    for line in rebuilds {
        println!("{line}");
    }
}
