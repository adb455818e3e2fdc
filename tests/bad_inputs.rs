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
        // Decoded leniently, both were blank pages "needing review" with exit 0.
        ("noise-scan.jpg", "corrupt", "damaged scan data"),
        ("damaged-image.pdf", "corrupt", "page 1: 1 image(s) could not be decoded"),
        ("cut-content.pdf", "corrupt", "page 1: its content is missing"),
    ];
    for (name, error, words) in expected {
        let (status, e, reason) = outcome(name);
        assert_eq!((status.as_str(), e.as_str()), ("failed", error), "{name}: {reason}");
        assert!(reason.contains(words), "{name}: reason {reason:?} should mention {words:?}");
    }
    assert_eq!(outcome("lab-report.pdf").0, "ok");
    assert_eq!(summary["failed"], 11);
    assert_eq!(summary["succeeded"], 1);
    let dead = std::fs::read_to_string(out.join("dead-letter.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 11);
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

#[test]
fn the_output_folder_keeps_every_runs_failures_and_survives_a_damaged_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::copy(root().join("tests/fixtures/bad/corrupt.pdf"), a.join("scan.pdf")).unwrap();
    std::fs::copy(root().join("tests/fixtures/bad/empty.pdf"), b.join("empty.pdf")).unwrap();
    std::fs::copy(samples().join("documents/lab-report.pdf"), b.join("lab.pdf")).unwrap();
    let run = |dir: &std::path::Path| {
        paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(dir).output().unwrap()
    };
    let dead_inputs = || -> Vec<String> {
        let text = std::fs::read_to_string(out.join("dead-letter.ndjson")).unwrap();
        let mut v: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert!(v["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
                v["input"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(run(&a).status.code(), Some(1));
    assert_eq!(run(&b).status.code(), Some(1));
    assert_eq!(dead_inputs(), ["empty.pdf", "scan.pdf"], "the first batch's failure is not lost to the second");
    // The failed scan replaced by a good file: its dead letter goes, the other stays.
    // (Another document than b's: a byte more after the end of the file.)
    let mut good = std::fs::read(samples().join("documents/lab-report.pdf")).unwrap();
    good.extend_from_slice(b"\n% rescanned\n");
    std::fs::write(a.join("scan.pdf"), good).unwrap();
    // A bundle damaged on disk does not stop the next run, nor lose its summary.
    let bundle =
        std::fs::read_dir(out.join("bundles")).unwrap().map(|e| e.unwrap().path()).find(|p| p.is_file()).unwrap();
    std::fs::write(&bundle, b"{\"resourceType\": \"Bund").unwrap();
    let third = run(&a);
    assert_eq!(third.status.code(), Some(0), "{}", String::from_utf8_lossy(&third.stderr));
    assert_eq!(dead_inputs(), ["empty.pdf"]);
    assert_eq!(read_json(&out.join("summary.json"))["succeeded"], 1);
    assert!(out.join("bundles/damaged").join(bundle.file_name().unwrap()).exists());
    assert!(String::from_utf8_lossy(&third.stderr).contains("damaged bundle file set aside"));
    let runs = std::fs::read_to_string(out.join("runs.ndjson")).unwrap();
    assert_eq!(
        runs.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["failed"].clone())
            .collect::<Vec<_>>(),
        [1, 1, 0]
    );
}

#[test]
fn file_names_that_are_not_utf8_or_hold_escapes_are_read_and_shown_safely() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let (inbox, out) = (tmp.path().join("in"), tmp.path().join("out"));
    std::fs::create_dir_all(&inbox).unwrap();
    let lab = std::fs::read(samples().join("documents/lab-report.pdf")).unwrap();
    let names: [&[u8]; 3] = [b"M\xfcller.pdf", b"\xff\xfe.pdf", b"\x1b[2Jcleared.pdf"];
    for (i, name) in names.iter().enumerate() {
        // Three documents: a byte more after each file's end.
        let mut bytes = lab.clone();
        bytes.extend(std::iter::repeat_n(b'\n', i + 1));
        std::fs::write(inbox.join(std::ffi::OsStr::from_bytes(name)), bytes).unwrap();
    }
    let output = paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let summary = read_json(&out.join("summary.json"));
    let docs = summary["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d["outcome"]["status"] == "ok"), "{summary}");
    // Shown lossily, stored exactly: the URI keeps every byte of the name.
    assert!(docs
        .iter()
        .any(|d| d["name"] == "M\u{fffd}ller.pdf" && d["uri"].as_str().unwrap().ends_with("/M%FCller.pdf")));
    assert!(docs.iter().any(|d| d["uri"].as_str().unwrap().ends_with("/%FF%FE.pdf")));
    // An escape in a name is shown, never sent to the terminal.
    assert!(!output.stdout.contains(&0x1b), "{stdout}");
    assert!(stdout.contains("\\u{1b}[2Jcleared.pdf"), "{stdout}");
}
