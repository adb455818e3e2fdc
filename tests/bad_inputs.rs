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
        .contains("more than 1 pages, over the limit (limits.max_pages"));

    let bad = paperchart().env("PAPERCHART__LIMITS__MAX_PAGEZ", "1").args(["run", "x"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("max_pagez"), "unknown keys are errors");
}

/// A sub-folder that cannot be listed is one failed entry naming it; the rest of the batch is
/// read. Run as `nobody` when the tests run as root, since root lists any folder.
#[test]
fn a_folder_that_cannot_be_listed_is_reported_and_the_batch_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let inbox = tmp.path().join("in");
    for d in ["locked", "open"] {
        std::fs::create_dir_all(inbox.join(d)).unwrap();
        std::fs::copy(samples().join("documents/lab-report.pdf"), inbox.join(d).join("lab-report.pdf")).unwrap();
    }
    std::fs::set_permissions(&inbox, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(inbox.join("open"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(inbox.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = tmp.path().join("out");
    let base = paperchart();
    // SAFETY: geteuid has no preconditions.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(base.get_program());
        c
    } else {
        std::process::Command::new(base.get_program())
    };
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let output = cmd.args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox).output().unwrap();
    std::fs::set_permissions(inbox.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "the batch ran and one entry failed: {stderr}");
    let summary = read_json(&out.join("summary.json"));
    let docs = summary["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{summary}");
    let locked = docs.iter().find(|d| d["name"] == "locked").unwrap_or_else(|| panic!("{summary}"));
    assert_eq!(locked["outcome"]["status"], "failed");
    assert_eq!(locked["outcome"]["error"], "not_a_document", "{locked}");
    let reason = locked["outcome"]["reason"].as_str().unwrap();
    assert!(reason.contains("folder cannot be listed") && reason.contains("ermission denied"), "{reason}");
    assert!(reason.contains("locked"), "the folder is named: {reason}");
    let good = docs.iter().find(|d| d["name"] == "lab-report.pdf").unwrap();
    assert_eq!(good["outcome"]["status"], "ok", "{summary}");
}
