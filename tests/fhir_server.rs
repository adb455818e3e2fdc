//! The FHIR REST sink against a real FHIR R4 server (Helios, validation enforced) on 127.0.0.1:
//! every sample is accepted, and a second run leaves every resource count unchanged.

use paperchart_testkit::*;

#[test]
fn samples_into_a_fhir_server_twice_change_nothing_the_second_time() {
    let server = FhirServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        run_ok(
            paperchart()
                .args(["run", "--no-progress", "--sink", "fhir", "--fhir-url", &server.base, "--out"])
                .arg(tmp.path().join(out))
                .arg(samples().join("documents")),
        )
    };
    run("first");
    let first: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    assert_eq!(first[0], 5, "five patients across six documents");
    assert_eq!(first[1], 6, "one DocumentReference per document");
    assert!(first.iter().all(|n| *n > 0), "{first:?}");

    // The same resources a directory run produces, one for one.
    run_ok(
        paperchart()
            .args(["run", "--no-progress", "--out"])
            .arg(tmp.path().join("dir"))
            .arg(samples().join("documents")),
    );
    for (t, n) in RESOURCE_TYPES.iter().zip(&first) {
        let lines =
            std::fs::read_to_string(tmp.path().join("dir/ndjson").join(format!("{t}.ndjson"))).unwrap().lines().count();
        assert_eq!(lines as u64, *n, "{t}: server count vs NDJSON lines");
    }

    run("second");
    let second: Vec<u64> = RESOURCE_TYPES.iter().map(|t| server.count(t)).collect();
    assert_eq!(first, second, "a second run must change no count");
    let summary = read_json(&tmp.path().join("second/summary.json"));
    assert_eq!(summary["failed"], 0);
    assert!(summary["sink"].as_str().unwrap().contains(&server.base));
}

#[test]
fn a_wrong_url_fails_fast_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    // The environment names the sink kind, the flag its URL (as on ECS plus a flag): the
    // configuration is checked after the flags, so this gets as far as the server.
    let out = paperchart()
        .env("PAPERCHART__SINK__KIND", "fhir")
        .args(["run", "--no-progress", "--fhir-url", &format!("http://127.0.0.1:{port}/fhir"), "--out"])
        .arg(tmp.path())
        .arg(samples().join("documents/lab-report.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the FHIR server"), "{err}");
}
