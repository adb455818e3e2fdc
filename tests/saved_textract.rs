//! `paperchart run` reads a saved Textract response beside a file instead of OCR'ing it, through
//! the converter the fleet uses; its key/value fields fill the patient where the text's reading
//! order put label and value apart.

use paperchart_testkit::*;
use serde_json::{json, Value};

/// A Textract analysis response in the documented shape: LINE blocks in reading order (each
/// label and its value on lines of their own, as Textract reads a form's boxes) and a
/// KEY_VALUE_SET pair per field, each side with its WORD children.
fn response(fields: &[(&str, &str)], lines: &[&str]) -> Value {
    let mut blocks = Vec::new();
    let mut page_children = Vec::new();
    let mut n = 0;
    let mut id = |p: &str| {
        n += 1;
        format!("{p}-{n}")
    };
    let bbox = json!({"BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.2, "Height": 0.02}});
    // "[X]" and "[ ]" stand for a check box: a SELECTION_ELEMENT, as Textract gives a form's boxes.
    let mut words = |text: &str, blocks: &mut Vec<Value>| -> Vec<String> {
        if let Some(status) = match text {
            "[X]" => Some("SELECTED"),
            "[ ]" => Some("NOT_SELECTED"),
            _ => None,
        } {
            let sid = id("s");
            blocks.push(json!({"BlockType": "SELECTION_ELEMENT", "Id": sid, "SelectionStatus": status, "Confidence": 97.0, "Geometry": bbox}));
            return vec![sid];
        }
        text.split_whitespace()
            .map(|w| {
                let wid = id("w");
                blocks.push(json!({"BlockType": "WORD", "Id": wid, "Text": w, "Confidence": 98.0, "Geometry": bbox}));
                wid
            })
            .collect()
    };
    let mut all_lines: Vec<&str> = lines.to_vec();
    for (k, v) in fields {
        all_lines.push(k);
        all_lines.push(v);
    }
    // Textract's lines hold words only: a box is no line of its own.
    for l in all_lines.into_iter().filter(|l| !matches!(*l, "[X]" | "[ ]")) {
        let lid = format!("line-{}", page_children.len());
        let ws = words(l, &mut blocks);
        blocks.push(json!({"BlockType": "LINE", "Id": lid, "Text": l, "Confidence": 98.0, "Geometry": bbox,
                           "Relationships": [{"Type": "CHILD", "Ids": ws}]}));
        page_children.push(lid);
    }
    for (i, (k, v)) in fields.iter().enumerate() {
        let (kid, vid) = (format!("key-{i}"), format!("value-{i}"));
        let (kw, vw) = (words(k, &mut blocks), words(v, &mut blocks));
        blocks.push(json!({"BlockType": "KEY_VALUE_SET", "Id": kid, "EntityTypes": ["KEY"], "Confidence": 95.0,
                           "Relationships": [{"Type": "VALUE", "Ids": [vid]}, {"Type": "CHILD", "Ids": kw}]}));
        blocks.push(json!({"BlockType": "KEY_VALUE_SET", "Id": vid, "EntityTypes": ["VALUE"], "Confidence": 95.0,
                           "Relationships": [{"Type": "CHILD", "Ids": vw}]}));
        page_children.push(kid);
    }
    blocks.insert(0, json!({"BlockType": "PAGE", "Id": "page-1", "Page": 1, "Relationships": [{"Type": "CHILD", "Ids": page_children}]}));
    json!({"DocumentMetadata": {"Pages": 1}, "JobStatus": "SUCCEEDED", "Blocks": blocks})
}

#[test]
fn a_saved_response_beside_a_scan_is_read_with_its_form_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let scan = inbox.join("intake.jpg");
    std::fs::copy(samples().join("documents/intake-form.jpg"), &scan).unwrap();
    let fields = [
        ("Last Name:", "Okafor"),
        ("First Name:", "Chidi"),
        ("Date of Birth:", "02/29/1980"),
        ("Sex:", "M"),
        ("Patient number:", "PN-448120"),
    ];
    let body = response(&fields, &["NEW PATIENT INTAKE", "Assessment: Essential hypertension."]);
    std::fs::write(inbox.join("intake.jpg.textract.json"), serde_json::to_vec(&body).unwrap()).unwrap();

    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox));
    let summary = read_json(&out.join("summary.json"));
    let docs = summary["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1, "the saved response is not a document of its own: {docs:?}");
    assert_eq!(docs[0]["read_by"]["textract"], 1, "{}", docs[0]);
    let bundle = &bundles_by_document(&out)["intake.jpg"];
    let patient = resources(bundle, "Patient")[0];
    assert_eq!(patient["name"][0]["family"], "Okafor", "{patient}");
    assert_eq!(patient["name"][0]["given"][0], "Chidi");
    assert_eq!(patient["birthDate"], "1980-02-29");
    assert_eq!(patient["gender"], "male");
    assert_eq!(patient["identifier"][0]["value"], "PN-448120");
    let conditions = resources(bundle, "Condition");
    assert_eq!(conditions.len(), 1, "the response's text, not Tesseract's reading of the scan: {conditions:?}");

    // A response that is not Textract's JSON is refused with a reason; the batch goes on.
    std::fs::write(inbox.join("intake.jpg.textract.json"), b"{\"Blocks\": 7}").unwrap();
    let output = paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let summary = read_json(&out.join("summary.json"));
    assert!(
        summary["documents"][0]["outcome"]["error"].as_str().unwrap_or("").contains("invalid_json")
            || summary["documents"][0]["outcome"]["reason"].as_str().unwrap_or("").contains("invalid_json"),
        "{}",
        summary["documents"][0]
    );
}

/// A file name, its form fields and its other lines.
type SavedDocument<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// A card, an immunization record and a bank statement, each read from its saved response: the
/// class decides what is read, and what is written is valid FHIR R4.
#[test]
fn the_document_class_decides_what_is_read_and_written() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let docs: [SavedDocument; 4] = [
        (
            "card.png",
            vec![
                ("Member ID:", "W99-12345"),
                ("Group Number:", "G-77"),
                ("Member:", "MARIA LOPEZ"),
                ("Rx BIN:", "610014"),
                ("Payer ID:", "60054"),
                ("PCP Phone:", "(541) 555-0110"),
            ],
            vec!["Lakeside Health Plan", "Copay PCP $20 Specialist $40"],
        ),
        (
            "shots.jpg",
            vec![("Patient Name:", "Ana Ruiz"), ("Date of Birth:", "04/02/1990")],
            vec![
                "Immunization Record",
                "Vaccine Lot Number Date",
                "1st Dose Tdap AC52B011 05/02/2019",
                "2nd Dose Shingrix 9ZX3T7 11/20/2020",
                "Booster Shot",
                "mm dd yy",
            ],
        ),
        (
            "intake.pdf",
            vec![
                ("Patient Name:", "Lena Ortiz"),
                ("Date of Birth:", "02/14/1975"),
                ("Asthma", "[X]"),
                ("Seizures", "[ ]"),
            ],
            vec!["NEW PATIENT INTAKE FORM", "Medical history: please check all that apply"],
        ),
        (
            "statement.tif",
            vec![("Account Number:", "009070568735")],
            vec![
                "AnyCompany Banking Services",
                "Your consolidated statement",
                "Call (858) 555-0101",
                "Previous balance $17,037.94",
                "Deposits 5,419.12",
                "New balance $15,619.65",
                "Member FDIC",
            ],
        ),
    ];
    // Scans of their own (a document's identity is its bytes); what is read comes from the responses.
    let scans = ["medication-list-photo.png", "intake-form.jpg", "mixed-progress-note.pdf", "referral-letter.tif"];
    for ((name, fields, lines), scan) in docs.iter().zip(scans) {
        std::fs::copy(samples().join("documents").join(scan), inbox.join(name)).unwrap();
        let body = response(fields, lines);
        std::fs::write(inbox.join(format!("{name}.textract.json")), serde_json::to_vec(&body).unwrap()).unwrap();
    }
    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox));
    let summary = read_json(&out.join("summary.json"));
    let class_of = |name: &str| {
        summary["documents"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["class"].clone()
    };
    assert_eq!(class_of("card.png"), "insurance_card");
    assert_eq!(class_of("shots.jpg"), "immunization_record");
    assert_eq!(class_of("statement.tif"), "non_clinical");
    assert_eq!(class_of("intake.pdf"), "intake_form");
    let bundles = bundles_by_document(&out);

    let card = &bundles["card.png"];
    let patient = resources(card, "Patient")[0];
    assert_eq!(
        (patient["name"][0]["family"].as_str(), patient["name"][0]["given"][0].as_str()),
        (Some("Lopez"), Some("Maria"))
    );
    assert_eq!(patient["identifier"][0]["type"]["coding"][0]["code"], "MB");
    assert!(patient.get("telecom").is_none(), "the PCP's phone is not the member's: {patient}");
    let coverage = resources(card, "Coverage")[0];
    assert_eq!(coverage["subscriberId"], "W99-12345");
    assert_eq!(coverage["beneficiary"]["reference"], format!("Patient/{}", patient["id"].as_str().unwrap()));
    let doc = resources(card, "DocumentReference")[0];
    assert_eq!(doc["category"][0]["coding"][0]["code"], "insurance_card");
    assert!(
        resources(card, "Condition").is_empty() && resources(card, "MedicationStatement").is_empty(),
        "'Rx' is routing, not a drug"
    );

    let shots = &bundles["shots.jpg"];
    let doses = resources(shots, "Immunization");
    assert_eq!(doses.len(), 2, "the empty booster row is no dose: {doses:?}");
    assert_eq!(doses[0]["vaccineCode"]["coding"][0]["code"], "115");
    assert_eq!(doses[0]["occurrenceDateTime"], "2019-05-02");
    assert_eq!(doses[1]["lotNumber"], "9ZX3T7");
    assert!(resources(shots, "Condition").is_empty(), "'Booster Shot' is a row caption, not a firearm accident");

    let intake = &bundles["intake.pdf"];
    let conditions: Vec<&str> =
        resources(intake, "Condition").iter().map(|c| c["code"]["text"].as_str().unwrap()).collect();
    assert_eq!(conditions, ["Asthma"], "the ticked box, and not the blank one");
    let qr = resources(intake, "QuestionnaireResponse")[0];
    let items: Vec<(&str, Option<bool>)> = qr["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["text"].as_str().unwrap(), i["answer"][0]["valueBoolean"].as_bool()))
        .collect();
    assert_eq!(items, [("Asthma", Some(true)), ("Seizures", None)]);

    let statement = &bundles["statement.tif"];
    let types: Vec<&str> = statement["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["DocumentReference", "Provenance"], "no patient and no clinical fact from a bank statement");
    assert!(
        !out.join("review").exists() || std::fs::read_dir(out.join("review")).unwrap().count() == 0,
        "nothing held: nothing clinical to hold"
    );

    validate_fhir(&[&out.join("ndjson")]);
}

/// A real Textract response (FORMS, TABLES, LAYOUT) of a handwritten patient intake form, from
/// amazon-textract-textractor's test fixtures (Apache-2.0; tests/fixtures/textract/NOTICE.md),
/// read through `paperchart run` beside a blank page (the response is what is read): all six
/// demographic fields of the patient and none of the two emergency contacts', the yes/no table's
/// ticked boxes as assertions, and no COVID-19 condition from the questions about contact and
/// travel.
#[test]
fn a_real_intake_forms_textract_response_gives_its_patient_and_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("in");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::copy(samples().join("documents/intake-form.jpg"), inbox.join("intake.jpg")).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/textract/patient_intake_form_sample.json"),
        inbox.join("intake.jpg.textract.json"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox));
    let bundle = &bundles_by_document(&out)["intake.jpg"];
    let patient = resources(bundle, "Patient")[0];
    assert_eq!(
        (patient["name"][0]["given"][0].as_str(), patient["name"][0]["family"].as_str()),
        (Some("Alejandro"), Some("Rosalez")),
        "{patient}"
    );
    assert_eq!((patient["birthDate"].as_str(), patient["gender"].as_str()), (Some("1982-10-10"), Some("male")));
    let a = &patient["address"][0];
    assert_eq!(
        (a["line"][0].as_str(), a["city"].as_str(), a["state"].as_str(), a["postalCode"].as_str()),
        (Some("123 ANY STREET"), Some("ANYTOWN"), Some("CA"), Some("12345"))
    );
    assert_eq!(a["text"], "123 ANY STREET, ANYTOWN, CA, 12345", "the whole address from its fields");
    assert_eq!(patient["telecom"][0]["value"], "646-555-0111", "not an emergency contact's number");
    let conditions: Vec<(String, String)> = resources(bundle, "Condition")
        .iter()
        .map(|c| {
            (
                c["code"]["text"].as_str().unwrap_or("").to_lowercase(),
                c["verificationStatus"]["coding"][0]["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let status = |w: &str| conditions.iter().find(|(t, _)| t.contains(w)).map(|(_, s)| s.as_str());
    assert_eq!(status("fever"), Some("confirmed"), "{conditions:?}");
    assert_eq!(status("cough"), Some("refuted"), "{conditions:?}");
    assert_eq!(status("shortness of breath"), Some("refuted"), "{conditions:?}");
    assert_eq!(status("covid"), None, "contact and travel questions are no diagnosis: {conditions:?}");
    let qr = resources(bundle, "QuestionnaireResponse")[0];
    let answers: Vec<bool> =
        qr["item"].as_array().unwrap().iter().map(|i| i["answer"][0]["valueBoolean"].as_bool().unwrap()).collect();
    assert_eq!(answers, [true, false, false, false, true, false], "each question's ticked box, as it stands");
    validate_fhir(&[&out.join("ndjson")]);
}

/// `paperchart read` of a folder: its files are read side by side (as many as OCR threads) and
/// printed one JSON line each in the order they are listed, a file that cannot be read among them
/// with its error, and the exit status says one failed.
#[test]
fn read_prints_a_folders_files_in_order_each_with_its_document_or_error() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let names: Vec<String> = (0..7).map(|i| format!("scan-{i}.jpg")).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::copy(samples().join("documents/intake-form.jpg"), inbox.join(name)).unwrap();
        if i == 4 {
            // No saved response and no image: Tesseract is asked and the file is refused.
            std::fs::write(inbox.join(name), b"not an image").unwrap();
            continue;
        }
        let body = response(&[], &[&format!("Page number {i}")]);
        std::fs::write(inbox.join(format!("{name}.textract.json")), serde_json::to_vec(&body).unwrap()).unwrap();
    }
    let out = paperchart().env("PAPERCHART__OCR__THREADS", "2").arg("read").arg(&inbox).output().unwrap();
    assert!(!out.status.success(), "one file failed");
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let inputs: Vec<String> = lines
        .iter()
        .map(|l| std::path::Path::new(l["input"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(inputs, names, "in the order listed");
    for (i, line) in lines.iter().enumerate() {
        if i == 4 {
            assert!(line["error"].as_str().is_some_and(|e| !e.is_empty()), "{line}");
            continue;
        }
        let text = line["document"]["pages"][0]["lines"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(text, format!("Page number {i}"), "{line}");
    }
}
