//! Damaged files against the type detection and the PDF, TIFF, PNG and JPEG decoders: each
//! sample and bad fixture, mutated (bytes flipped, cut, repeated, zeroed, a header overwritten)
//! by a seeded generator, must open and read page by page to a page or a `DecodeError` — never a
//! panic, never a page whose pixels disagree with its size.
//!
//! `make test` runs a fixed seed and 300 mutations; `make fuzz` runs the long search
//! (`PAPERCHART_FUZZ_ITERATIONS`, `PAPERCHART_FUZZ_SEED`) and prints what it found.

use paperchart_model::file::Limits;
use paperchart_read::decode::Opened;
use paperchart_read::decode::PageInput;
use paperchart_testkit::{root, samples, Rng};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [samples().join("documents"), root().join("tests/fixtures/bad")] {
        let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let bytes = std::fs::read(&p).unwrap();
            // The decompression bomb is refused from its header; the huge page renders for long.
            if !bytes.is_empty() && bytes.len() < 8 << 20 {
                out.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
            }
        }
    }
    out
}

/// One mutation of `bytes`, and what it was.
fn mutate(rng: &mut Rng, bytes: &[u8]) -> (Vec<u8>, String) {
    let mut b = bytes.to_vec();
    let at = rng.below(b.len());
    let how = match rng.below(6) {
        0 => {
            let n = 1 + rng.below(16);
            for _ in 0..n {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            format!("{n} bits flipped")
        }
        1 => {
            b.truncate(at);
            format!("cut at {at}")
        }
        2 => {
            let len = 1 + rng.below(4096.min(b.len() - at));
            let chunk = b[at..at + len].to_vec();
            let to = rng.below(b.len());
            b.splice(to..to, chunk);
            format!("{len} bytes from {at} repeated at {to}")
        }
        3 => {
            let len = 1 + rng.below(4096.min(b.len() - at));
            b[at..at + len].fill(0);
            format!("{len} bytes zeroed at {at}")
        }
        4 => {
            // A header field: the first 64 bytes, where sizes and offsets live.
            let i = rng.below(b.len().min(64));
            b[i] = rng.next_u64() as u8;
            format!("header byte {i} overwritten")
        }
        _ => {
            let len = 1 + rng.below(256);
            let noise: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            b.splice(at..at, noise);
            format!("{len} random bytes inserted at {at}")
        }
    };
    (b, how)
}

/// Opens and reads every page (at most three, rendered at 72 dpi to keep the run short).
fn read_all(bytes: Vec<u8>) -> Result<(), String> {
    let limits = Limits { render_dpi: 72, max_pixels_per_page: 20_000_000, ..Limits::default() };
    let opened = match Opened::open(bytes.into(), &limits) {
        Ok(o) => o,
        Err(_) => return Ok(()),
    };
    for n in 1..=opened.page_count().min(3) {
        match opened.page(n) {
            Ok(PageInput::Image(r)) | Ok(PageInput::ImageOverTextLayer(r)) => {
                if r.pixels.len() != r.width as usize * r.height as usize || r.width == 0 || r.height == 0 {
                    return Err(format!("page {n}: {}x{} with {} pixels", r.width, r.height, r.pixels.len()));
                }
            }
            Ok(PageInput::Text(_)) | Err(_) => {}
        }
    }
    Ok(())
}

#[test]
fn damaged_files_give_a_page_or_a_reason_never_a_panic() {
    let iterations: usize =
        std::env::var("PAPERCHART_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seed: u64 = std::env::var("PAPERCHART_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20261206);
    let seeds = seeds();
    assert!(seeds.len() >= 10, "samples and fixtures to start from");
    let mut rng = Rng::new(seed);
    let mut found = Vec::new();
    // The decoders' own panics are caught below and reported together; keep the log short.
    std::panic::set_hook(Box::new(|_| {}));
    for i in 0..iterations {
        let (name, bytes) = &seeds[rng.below(seeds.len())];
        let (mutated, how) = mutate(&mut rng, bytes);
        let outcome = std::panic::catch_unwind(move || read_all(mutated));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(bad)) => found.push(format!("#{i} {name}, {how}: {bad}")),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                found.push(format!("#{i} {name}, {how}: panicked: {msg}"));
            }
        }
    }
    let _ = std::panic::take_hook();
    println!("{iterations} mutations of {} files (seed {seed}): {} found", seeds.len(), found.len());
    assert!(found.is_empty(), "{}", found.join("\n"));
}
