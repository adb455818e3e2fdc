//! Fax transmission lines: what a fax machine prints at the top or foot of each page it sends
//! ("DEC-03-2026 10:42  FROM: HEART FAILURE CLINIC  5551234567  P.002/005", "Sent By: HP
//! LaserJet; 555 222 3333; Dec-3-26 10:42AM; Page 2/5"). They say who sent the pages and when,
//! never what the patient has: the clinical reading sees them blanked (byte for byte, so every
//! offset holds), PHI is still found in them (a sender is someone), and the page numbers they give
//! tell whether the transmission arrived whole.
//!
//! A line is a transmission line when it is the first or last line of a page or block (pages are
//! joined by a blank line), is not prose (at most two lower-case words besides the fax words), and
//! carries a clock time with "page n of m", or a labelled fax number ("FROM:", "TO:", "FAX",
//! "Sent By", "Received" and a phone number) with a clock time or a page marker. Words that also
//! open clinical lines ("from home", "to Dr", "Rx#", "P112", a titer's "1:160") are not enough.
//!
//! A fax's cover sheet says how many pages were sent ("Pages (including cover): 4"): read from
//! the document's first lines when they name themselves a cover or transmittal sheet, it counts as
//! announced too ([`cover_sheet_pages`]).

use std::sync::OnceLock;

use paperchart_model::findings::{Entity, FaxFacts, Subtype};
use regex::Regex;

/// One transmission line: its byte span in the text and the page numbers it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct FaxLine {
    pub start: usize,
    pub end: usize,
    /// "P.002/005" → 2.
    pub page: Option<u32>,
    /// "P.002/005" → 5.
    pub of: Option<u32>,
}

struct Patterns {
    cover: Regex,
    to: Regex,
    from: Regex,
    count: Regex,
    time: Regex,
    page: Regex,
    fax_word: Regex,
    number: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // A cover sheet names itself: "FAX COVER SHEET", "Facsimile Transmittal", "Cover Page",
        // or a title line that is only "FAX" / "FACSIMILE" / "FAX TRANSMISSION" (no punctuation:
        // a letterhead's "Fax: 555-…" or a form's "Fax #" is none of these).
        cover: Regex::new(concat!(
            r"(?i)\b(?:fax|facsimile|telefax)\s+(?:cover|transmittal|transmission\s+cover)\b",
            r"|\bcover\s+(?:sheet|page)\b|\btransmittal\s+(?:sheet|form)\b",
            r"|(?m:^[ \t]*(?:fax|facsimile)(?:[ \t]+(?:transmission|message))?[ \t]*$)",
        ))
        .expect("cover"),
        // A cover sheet's addressing: "To:" and "From:" (or "Attn:", "Sender:").
        to: Regex::new(r"(?im)(?:^|[ \t])(?:to|attn|attention|recipient)[ \t]*:").expect("to"),
        from: Regex::new(r"(?im)(?:^|[ \t])(?:from|sender)[ \t]*:").expect("from"),
        // The count of pages sent, labelled: "Pages: 4", "No. of pages (including cover): 4",
        // "Number of Pages incl. cover sheet: 3", "Total pages: 5", "# of pages 3 (not including
        // cover)", "Pgs: 2 + cover". Never "Page: 1 of 4" (a page's own number), "Pages: 12-15" (a
        // range of pages) or "Pages: 3 4" (what is meant is not known).
        count: Regex::new(&format!(
            concat!(
                r"(?i)(?:(?:\b(?:total|no\.?|number|num\.?)|\#)\s*(?:of\s+)?{label}(?:\s+sent)?(?P<i1>{incl})?\s*[:\#]?\s*",
                r"|\b{label}(?:\s+sent)?(?P<i2>{incl})?\s*:\s*)",
                r"(?P<n>\d{{1,3}})\b(?P<more>\s*(?:/|of|[-–])\s*\d|[ \t]+\d)?(?P<i3>{incl})?",
            ),
            label = r"(?:pages|pgs\.?|page\(s\))",
            incl = r"\s*\(?(?:including|incl\.?|with|w/|not\s+including|excluding|excl\.?|plus|\+)\s*(?:the\s+|this\s+)?(?:cover|page)(?:\s+(?:sheet|page))?\)?"
        ))
        .expect("page count"),
        // A clock time, whole: "10:42", "09:14:05", "10:42AM" (not the "1:16" of a titer 1:160).
        time: Regex::new(r"\b(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*[AaPp]\.?[Mm]\b|\b)").expect("time"),
        // "Page 2 of 5", "PAGE 02/05", "Pg. 3", "P.002/005", "P.2", "P2/5" — never a bare "P2"
        // (a pulse, a parity).
        page: Regex::new(concat!(
            r"(?:\b(?i:page|pg\.?|p\.)\s*0*(\d{1,3})(?:\s*(?i:/|of)\s*0*(\d{1,3}))?\b)",
            r"|(?:\bP0*(\d{1,3})\s*/\s*0*(\d{1,3})\b)",
        ))
        .expect("page marker"),
        // What a fax machine labels: "FROM:", "TO:", "FAX", "Sent By", "Received".
        fax_word: Regex::new(
            r"(?i)\b(?:fax|facsimile|sent\s+by|sender|received|rcvd|recv'?d|transmitted|transmission)\b|\b(?:from|to)\s*:",
        )
        .expect("fax word"),
        // A phone or fax number, or a machine's long digit run.
        number: Regex::new(r"\(?\d{3}\)?[\s.-]*\d{3}[\s.-]*\d{4}\b|\b\d{7,}\b").expect("number"),
    })
}

/// The words a fax line may hold besides names: they do not make it prose.
const LINE_WORDS: &[&str] = &["from", "to", "sent", "by", "fax", "received", "page", "and", "for", "the", "of"];

/// Is `line` a transmission line's text (position aside)? Gives its page numbers when it is.
fn transmission(line: &str) -> Option<(Option<u32>, Option<u32>)> {
    if line.len() > 200 || line.trim().is_empty() {
        return None;
    }
    let prose = line
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.len() >= 3 && w.chars().all(char::is_lowercase) && !LINE_WORDS.contains(w))
        .count();
    if prose >= 3 {
        return None;
    }
    let p = patterns();
    let time = p.time.is_match(line);
    let page = p.page.captures(line);
    let num = |i: usize| page.as_ref().and_then(|c| c.get(i)).and_then(|m| m.as_str().parse::<u32>().ok());
    let n = num(1).or(num(3));
    let of = num(2).or(num(4)).filter(|&m| n.is_none_or(|n| n <= m));
    let faxed = p.fax_word.is_match(line) && p.number.is_match(line);
    // A time with "page n of m", or a labelled fax number with a time or a page.
    if !((time && of.is_some()) || (faxed && (time || page.is_some()))) {
        return None;
    }
    Some((n, of))
}

/// The transmission lines of `text`, in order.
pub fn transmission_lines(text: &str) -> Vec<FaxLine> {
    // A blank line is a page's (or block's) edge.
    let lines: Vec<(usize, usize)> = crate::text::lines(text).collect();
    let blank: Vec<bool> = lines.iter().map(|&(s, e)| text[s..e].trim().is_empty()).collect();
    let mut out = Vec::new();
    for (i, &(s, e)) in lines.iter().enumerate() {
        // The first or last line of a page (or of a block, in plain text).
        let first = i == 0 || blank[i - 1];
        let last = i + 1 == lines.len() || blank[i + 1];
        if blank[i] || !(first || last) {
            continue;
        }
        if let Some((page, of)) = transmission(&text[s..e]) {
            out.push(FaxLine { start: s, end: e, page, of });
        }
    }
    out
}

/// How many lines from the top a cover sheet's title, addressing and page count are looked for:
/// a cover sheet's own, not the next page's.
const COVER_LINES: usize = 25;

/// The number of pages a fax cover sheet at the start of `text` says were sent, the cover
/// included ("Pages: 4 (including cover)" → 4; "Pages: 3 (not including cover)" → 4): `None`
/// unless the first lines name a cover or transmittal sheet, address it ("To:" and "From:") and
/// give one count.
pub fn cover_sheet_pages(text: &str) -> Option<u32> {
    let end = crate::text::lines(text).nth(COVER_LINES).map_or(text.len(), |(s, _)| s);
    let top = &text[..end];
    let p = patterns();
    if !(p.cover.is_match(top) && p.to.is_match(top) && p.from.is_match(top)) {
        return None;
    }
    let counts: Vec<u32> = p
        .count
        .captures_iter(top)
        // "Pages: 2 of 5" numbers a page, "Pages: 12-15" gives a range: neither counts them.
        .filter(|c| c.name("more").is_none())
        .filter_map(|c| {
            let n: u32 = c["n"].parse().ok().filter(|n| (1..=500).contains(n))?;
            let incl = ["i1", "i2", "i3"].iter().find_map(|g| c.name(g)).map(|m| m.as_str().to_lowercase());
            let incl = incl.unwrap_or_default();
            let without_cover = ["not", "exclud", "excl", "plus", "+"].iter().any(|w| incl.contains(w));
            Some(if without_cover { n + 1 } else { n })
        })
        .collect();
    // Two different counts (a form's blank label and a number elsewhere): no count.
    match counts.as_slice() {
        [n, rest @ ..] if rest.iter().all(|m| m == n) => Some(*n),
        _ => None,
    }
}

/// What the lines and the cover sheet say of the transmission: `None` without either.
pub fn facts(lines: &[FaxLine], cover_pages: Option<u32>) -> Option<FaxFacts> {
    (!lines.is_empty() || cover_pages.is_some()).then(|| FaxFacts {
        lines: lines.len(),
        pages: lines.iter().filter_map(|l| l.page).collect(),
        announced: lines.iter().filter_map(|l| l.of).max(),
        cover_pages,
    })
}

/// The PHI of the transmission lines, in `text`'s offsets: what [`crate::phi::extract`] finds in
/// each, and every number on them as a phone (on a fax line a number is the sender's or the
/// receiver's, whatever words stand before it).
pub fn phi(text: &str, lines: &[FaxLine]) -> Vec<Entity> {
    let mut out = Vec::new();
    for l in lines {
        let mut found = crate::phi::extract_at(text, (l.start, l.end));
        for m in patterns().number.find_iter(&text[l.start..l.end]) {
            let (start, end) = (l.start + m.start(), l.start + m.end());
            if !found.iter().any(|e| e.start < end && start < e.end) {
                found.push(crate::phi::entity(Subtype::Phone, start, end, text, None));
            }
        }
        out.extend(found);
    }
    out
}

/// `text` with each line blanked (spaces, byte for byte).
pub fn blank(text: &str, lines: &[FaxLine]) -> String {
    crate::engine::mask(text, lines.iter().map(|l| (l.start, l.end)), b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(line: &str) -> Option<(Option<u32>, Option<u32>)> {
        transmission(line)
    }

    #[test]
    fn what_fax_machines_print_is_a_transmission_line() {
        assert_eq!(
            pages("12/03/2026 10:42 AM  FROM: Heart Failure Clinic  (555) 123-4567  TO: 5559876543  P.002/005"),
            Some((Some(2), Some(5)))
        );
        assert_eq!(
            pages("Dec-03-2026 10:42  DIABETES CENTER  555 123 4567  #4410 P.003/004"),
            Some((Some(3), Some(4)))
        );
        assert_eq!(
            pages("Sent By: HP LaserJet 3050; 555 222 3333; Dec-3-26 10:42AM; Page 2/5"),
            Some((Some(2), Some(5)))
        );
        assert_eq!(pages("FROM: STROKE CENTER FAX NO. : 555-123-4567   Dec. 03 2026 10:42AM P2"), Some((None, None)));
        assert_eq!(
            pages("Received: 12/3/2026 10:42AM; 555-123-4567 -> Cancer Institute; Page 3"),
            Some((Some(3), None))
        );
        assert_eq!(pages("FROM: Riverbend Cardiology  FAX: (541) 555-0199   PAGE 1 OF 3"), Some((Some(1), Some(3))));
        assert_eq!(pages("03/08/2024 14:05  5415550199  LAKESIDE FM  PAGE 02/03"), Some((Some(2), Some(3))));
    }

    #[test]
    fn clinical_lines_with_times_and_numbers_are_not() {
        assert_eq!(pages("Called pharmacy at 10:42 from 555-123-4567 to confirm the dose"), None, "prose");
        assert_eq!(pages("BP 138/84 at 10:42, HR 78"), None);
        assert_eq!(pages("G3P2 at 38 weeks, seen 10:42"), None, "an obstetric history is no page");
        assert_eq!(pages("Medications reviewed 10:42 AM"), None);
        assert_eq!(pages("Call (541) 555-0110 with questions"), None, "no time, no page");
        assert_eq!(pages("ARRIVED 10:42 FROM HOME. CHEST PAIN, SOB. PCP DR LEE 555-123-4567"), None);
        assert_eq!(pages("RX# 4410237 METFORMIN 500MG TAB FILLED 03/08/24 10:42"), None);
        assert_eq!(pages("14:05 Metoprolol 5 mg IV given -> HR 88. Pharmacy 555-123-4567"), None);
        assert_eq!(pages("T 101.2 P112 R24 BP 88/50 at 03:10 - SEPSIS suspected"), None, "a pulse is no page");
        assert_eq!(pages("G2 P1 SVD 03:15 POSTPARTUM HEMORRHAGE, EBL 1200"), None);
        assert_eq!(pages("ANA 1:160 SPECKLED - CALL RESULTS TO DR LEE 555-123-4567"), None, "a titer is no time");
        assert_eq!(pages("Page 2 of 3"), None, "a page footer alone");
    }

    #[test]
    fn only_lines_at_a_page_edge_count_and_blanking_keeps_offsets() {
        let text = "03/08/2024 14:05  FROM: ASTHMA CLINIC 5415550199  P.001/003\nReferral Letter\nSeen at 10:42 from 555-123-4567 p.2\nAsthma.\nEnd\nOf\nletter\n\n03/08/2024 14:05  FROM: ASTHMA CLINIC 5415550199  P.002/003\nPlan";
        let lines = transmission_lines(text);
        assert_eq!(lines.iter().map(|l| l.page).collect::<Vec<_>>(), [Some(1), Some(2)], "{lines:?}");
        let f = facts(&lines, None).unwrap();
        assert_eq!((f.lines, f.pages.clone(), f.announced), (2, vec![1, 2], Some(3)));
        let blanked = blank(text, &lines);
        assert_eq!(blanked.len(), text.len());
        assert!(blanked.starts_with("     ") && blanked.contains("\nReferral Letter\n") && !blanked.contains("CLINIC"));
        assert!(facts(&[], None).is_none());
    }

    #[test]
    fn a_cover_sheet_says_how_many_pages_were_sent() {
        let cover = |count: &str| {
            format!("FAX COVER SHEET\nTo: Dr. Lee\nFrom: Lakeside Family Medicine\nFax: (541) 555-0199\n{count}\nRe: referral\n\nReferral letter\nAssessment: asthma.")
        };
        assert_eq!(cover_sheet_pages(&cover("Pages: 4")), Some(4));
        assert_eq!(cover_sheet_pages(&cover("Number of pages (including cover): 3")), Some(3));
        assert_eq!(cover_sheet_pages(&cover("No. of Pages incl. cover sheet: 5")), Some(5));
        assert_eq!(cover_sheet_pages(&cover("# of pages: 2 (not including cover)")), Some(3));
        assert_eq!(cover_sheet_pages(&cover("Total pages 6")), Some(6));
        assert_eq!(cover_sheet_pages(&cover("Date: 12/03/2026     Pages: 4     Urgent [X]")), Some(4));
        let titled = "FACSIMILE\nTO: Riverside Cardiology\nPAGES: 3\nPatient: see attached";
        assert_eq!(cover_sheet_pages(titled), None, "no sender: not addressed as a cover sheet");
        let titled = "FACSIMILE\nTO: Riverside Cardiology\nFROM: Lakeside FM\nPAGES: 3\nPatient: see attached";
        assert_eq!(cover_sheet_pages(titled), Some(3));
        assert_eq!(cover_sheet_pages(&cover("Pages: 3 (excluding this page)")), Some(4));
        assert_eq!(cover_sheet_pages(&cover("Pgs: 2 + cover")), Some(3));
        assert_eq!(cover_sheet_pages(&cover("Page(s): 3")), Some(3));
        assert_eq!(cover_sheet_pages(&cover("Pages (w/ cover): 3")), Some(3));
        assert_eq!(cover_sheet_pages(&cover("Pages: 12-15")), None, "a range of pages");
        assert_eq!(cover_sheet_pages(&cover("Pages: 3 4")), None, "OCR noise: not known");
        // A form's empty "Fax:" label alone on its line, a letterhead's label column, and a cover
        // sheet named in passing are no cover sheet.
        assert_eq!(cover_sheet_pages("Phone:\nFax:\nTo: A\nFrom: B\nPages: 3\nHistory"), None);
        assert_eq!(cover_sheet_pages("Phone\nFax #\n(541) 555-0199\nPages: 3"), None);
        assert_eq!(cover_sheet_pages("Insurance cover sheet on file.\nTotal pages: 4\nAssessment: asthma"), None);
        // No cover sheet: a letterhead's fax number and a page count are not one.
        let letter = "Lakeside Family Medicine\nPhone (541) 555-0110  Fax (541) 555-0199\nPages: 3\nDear Dr. Lee,";
        assert_eq!(cover_sheet_pages(letter), None);
        // A page's own number, an empty label, two counts: no count.
        assert_eq!(cover_sheet_pages(&cover("Page: 1 of 4")), None);
        assert_eq!(cover_sheet_pages(&cover("Pages: ____")), None);
        assert_eq!(cover_sheet_pages(&cover("Pages: 4\nTotal pages: 5")), None);
        // Far down a long document, a "cover page" is not this document's cover sheet.
        let long = format!("{}Fax cover sheet\nTo: A\nFrom: B\nPages: 3", "Progress note line.\n".repeat(30));
        assert_eq!(cover_sheet_pages(&long), None);
    }
}
