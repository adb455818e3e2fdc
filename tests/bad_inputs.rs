//! Corrupt, encrypted, empty, oversized and unsupported files: each is refused with a clear reason
//! in the summary and the dead-letter list, and none stops the batch.

use paperchart_testkit::*;

#[test]
fn every_bad_file_gets_its_reason_and_the_good_one_still_goes_through() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = paperchart()
        .args(["run", "--no-progress", "--out"])
        .arg(&out)
        .arg(root().join("tests/fixtures/bad"))
        .arg(samples().join("documents/lab-report.pdf"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "a failed document makes the exit status 1");
    let summary = read_json(&out.join("summary.json"));
    let docs = summary["documents"].as_array().unwrap();
    let outcome = |name: &str| {
        let d = docs.iter().find(|d| d["name"] == name).unwrap_or_else(|| panic!("{name} missing from summary"));
        (
            d["outcome"]["status"].as_str().unwrap().to_string(),
            d["outcome"]["error"].as_str().unwrap_or("").to_string(),
            d["outcome"]["reason"].as_str().unwrap_or("").to_string(),
        )
    };
    let expected = [
        ("empty.pdf", "empty_file", "empty file"),
        ("corrupt.pdf", "corrupt", "corrupt PDF"),
        ("truncated.pdf", "corrupt", "corrupt PDF"),
        ("encrypted.pdf", "encrypted", "encrypted"),
        ("unsupported.docx", "unsupported_type", "ZIP archive"),
        ("notes.txt", "unsupported_type", "plain text"),
        ("bomb.png", "too_many_pixels", "decompression bomb"),
        ("huge-page.pdf", "too_many_pixels", "limits.max_pixels_per_page"),
    ];
    for (name, error, words) in expected {
        let (status, e, reason) = outcome(name);
        assert_eq!((status.as_str(), e.as_str()), ("failed", error), "{name}: {reason}");
        assert!(reason.contains(words), "{name}: reason {reason:?} should mention {words:?}");
    }
    assert_eq!(outcome("lab-report.pdf").0, "ok");
    assert_eq!(summary["failed"], 8);
    assert_eq!(summary["succeeded"], 1);
    let dead = std::fs::read_to_string(out.join("dead-letter.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 8);
    assert!(dead.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["class"] == "permanent"));
    assert_eq!(std::fs::read_dir(out.join("bundles")).unwrap().count(), 1);
}

#[test]
fn limits_come_from_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = paperchart()
        .env("PAPERCHART__LIMITS__MAX_PAGES", "2")
        .env("PAPERCHART__LIMITS__MAX_BYTES", "500000")
        .args(["run", "--no-progress", "--out"])
        .arg(&out)
        .arg(samples().join("documents/discharge-summary-scanned.pdf"))
        .arg(samples().join("documents/medication-list-photo.png"))
        .arg(samples().join("documents/referral-letter.tif"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let summary = read_json(&out.join("summary.json"));
    let reasons: Vec<String> = summary["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["name"], d["outcome"]["reason"]))
        .collect();
    // The 1.4 MB scans are over the byte limit; the two-page TIFF is within both limits.
    assert!(reasons[0].contains("limits.max_bytes"), "{reasons:?}");
    assert!(reasons[1].contains("limits.max_bytes"), "{reasons:?}");
    assert_eq!(summary["documents"][2]["outcome"]["status"], "ok", "{reasons:?}");

    let output = paperchart()
        .env("PAPERCHART__LIMITS__MAX_PAGES", "1")
        .args(["run", "--no-progress", "--out"])
        .arg(&out)
        .arg(samples().join("documents/referral-letter.tif"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let summary = read_json(&out.join("summary.json"));
    assert!(summary["documents"][0]["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("2 pages, over the limit of 1 (limits.max_pages)"));

    let bad = paperchart().env("PAPERCHART__LIMITS__MAX_PAGEZ", "1").args(["run", "x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("max_pagez"), "unknown keys are errors");
}
