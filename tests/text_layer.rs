//! A PDF text layer is read as it is only when it is real text: a scanner's garbage OCR layer over
//! the page image is replaced by OCR of the page, and the summary says so.

use paperchart_testkit::*;

/// A one-page PDF: a JPEG scan filling the page, and an invisible text layer (render mode 3, as
/// scanners write theirs) holding `layer`, one string per line; with `pad_mb` MB of a second,
/// uncompressed image the page does not show.
fn scan_with_layer(jpeg: &[u8], width: u32, height: u32, layer: &[&str], pad_mb: usize) -> Vec<u8> {
    let mut text = String::from("BT 3 Tr /F1 10 Tf 72 740 Td 12 TL");
    for l in layer {
        let escaped = l.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        text.push_str(&format!(" ({escaped}) Tj T*"));
    }
    text.push_str(" ET");
    let content = format!("q 612 0 0 792 0 0 cm /Im0 Do Q {text}");
    let mut body: Vec<u8> = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |body: &mut Vec<u8>, n: usize, payload: &[u8]| {
        offsets.push(body.len());
        body.extend(format!("{n} 0 obj\n").as_bytes());
        body.extend(payload);
        body.extend(b"\nendobj\n");
    };
    obj(&mut body, 1, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut body, 2, b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>");
    obj(
        &mut body,
        3,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> /Contents 4 0 R >>",
    );
    obj(&mut body, 4, format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()).as_bytes());
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        jpeg.len()
    )
    .into_bytes();
    image.extend(jpeg);
    image.extend(b"\nendstream");
    obj(&mut body, 5, &image);
    obj(&mut body, 6, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    if pad_mb > 0 {
        let mut pad = format!(
            "<< /Type /XObject /Subtype /Image /Width 1024 /Height {} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
            pad_mb * 1024,
            pad_mb << 20
        )
        .into_bytes();
        pad.extend((0..pad_mb << 20).map(|i| (i % 251) as u8));
        pad.extend(b"\nendstream");
        obj(&mut body, 7, &pad);
    }
    let xref = body.len();
    body.extend(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in &offsets {
        body.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    body.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
    );
    body
}

#[test]
fn a_garbage_text_layer_is_replaced_by_ocr_and_a_real_one_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // The sample intake form (2550 x 3300, grey) under two layers: garbage as a phone scanner
    // writes it, and the form's own words.
    let jpeg = std::fs::read(samples().join("documents/intake-form.jpg")).unwrap();
    let garbage = [
        "NEWPATlENTlNTAKEFoRM PatientSelnDet,h as adhuittd",
        "wnrtkq lhe pxtlent rrrhf cAmPlaint oF sHortnes brcrthh",
        "adn cjest pian ht hsa hx fo hyptrtnsn mdctns lsnprl",
        "tkn dly wth fd nd wtr sbjctv rprts xqzt Dtae fo Brth",
    ];
    let real = [
        "NEW PATIENT INTAKE FORM",
        "Name: Priya N. Raman",
        "Date of Birth: 06/30/1986 Sex: Female",
        "Reason for Visit: Migraine headaches with nausea and sensitivity to light",
        "Medical History: Migraine, Anxiety, Asthma",
    ];
    std::fs::write(inbox.join("garbage-layer.pdf"), scan_with_layer(&jpeg, 2550, 3300, &garbage, 0)).unwrap();
    std::fs::write(inbox.join("real-layer.pdf"), scan_with_layer(&jpeg, 2550, 3300, &real, 0)).unwrap();
    // Over 16 MB: read in place (mapped), its text layer through a copy without the images.
    std::fs::write(inbox.join("real-layer-big.pdf"), scan_with_layer(&jpeg, 2550, 3300, &real, 18)).unwrap();
    let out = tmp.path().join("out");
    run_ok(paperchart().args(["run", "--no-progress", "--out"]).arg(&out).arg(&inbox));
    let summary = read_json(&out.join("summary.json"));
    let doc = |name: &str| summary["documents"].as_array().unwrap().iter().find(|d| d["name"] == name).unwrap().clone();

    let g = doc("garbage-layer.pdf");
    assert_eq!(g["read_by"]["text_layer_rejected"], 1, "{g}");
    assert_eq!(g["read_by"]["tesseract"], 1, "read by OCR instead: {g}");
    assert!(g["read_by"].get("text_layer").is_none(), "{g}");
    let bundle = &bundles_by_document(&out)["garbage-layer.pdf"];
    let patient = resources(bundle, "Patient")[0];
    assert_eq!(patient["name"][0]["family"], "Raman", "OCR read the page the garbage hid: {patient}");

    let r = doc("real-layer.pdf");
    assert_eq!(r["read_by"]["text_layer"], 1, "a real layer is read as it is: {r}");
    assert!(r["read_by"].get("text_layer_rejected").is_none(), "{r}");

    let big = doc("real-layer-big.pdf");
    assert_eq!(big["read_by"]["text_layer"], 1, "the big file's layer is read the same: {big}");
    let by_doc = bundles_by_document(&out);
    let conditions = |name: &str| {
        let mut c: Vec<String> = resources(&by_doc[name], "Condition").iter().map(|c| c["code"].to_string()).collect();
        c.sort();
        c
    };
    assert!(!conditions("real-layer.pdf").is_empty());
    assert_eq!(conditions("real-layer-big.pdf"), conditions("real-layer.pdf"), "the same findings from the big file");
}
