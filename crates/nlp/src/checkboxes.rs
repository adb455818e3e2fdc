//! Check boxes and the answers they give. A form asks with boxes, not sentences: "Diabetes
//! [ ] Yes [X] No" is a refuted diabetes, "☒ Asthma ☐ Seizures" an asthma and nothing about
//! seizures, and a question left blank asserts nothing.
//!
//! Boxes come two ways: typed or OCR'd marks in the text (`[X]`, `[ ]`, `☒`, `☐`, `✓`), and
//! selection elements an engine found beside their captions (Textract's SELECTION_ELEMENT as the
//! value of a key/value pair). Both give [`Answer`]s: the question as written, with its byte span
//! in the text, and `Some(true)` (yes, or a ticked item), `Some(false)` (no) or `None` (blank,
//! or `unread`: boxes OCR could not make out, or yes and no both ticked).
//! [`apply`] then gives every finding inside a question its answer's assertion.

use std::sync::OnceLock;

use paperchart_model::document::{BBox, Document};
use paperchart_model::findings::{Answer, Assertion, Entity, EntityType};
use regex::Regex;

fn box_pattern() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| {
        Regex::new(r"(?i)\[\s*[x✓✔]\s*\]|\(\s*x\s*\)|[☒☑✓✔■]|\[[\s_]*\]|[☐□]|\byes\b|\bno\b").expect("box pattern")
    })
}

fn exposure_cue() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| {
        Regex::new(concat!(
            r"\b(?:contact\s+with|exposed\s+to|exposure\s+to|been\s+around|living\s+with|caring\s+for",
            r"|(?:anyone|someone)\s+(?:with|who|diagnosed|that)",
            // Travel asks where the patient went, never what they have.
            r"|travel(?:l?ed|l?ing|s)?|visit(?:ed)?\s+(?:any|a|an)\s|regions?\s+affected|affected\s+by)\b"
        ))
        .expect("exposure cue")
    })
}

/// A box, or an option a box stands by ("Yes", "No", "M", "F"), in the order a row holds them.
/// The one vocabulary of the readers of boxes: rows of this module, a question's answer
/// (`gates`), a sex field's choice (`phi`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Token<T> {
    Checked,
    Empty,
    Word(T),
}

/// The box a mark is (`[X]`, `☒`, `✓`, `(x)` ticked; `[ ]`, `[_]`, `☐` empty), or `None` for a
/// word.
pub(crate) fn box_token<T>(mark: &str) -> Option<Token<T>> {
    let t = mark.to_lowercase();
    if matches!(t.as_str(), "☐" | "□") || t.starts_with('[') && t.trim_matches(['[', ']', ' ', '_']).is_empty() {
        return Some(Token::Empty);
    }
    let boxed = t.starts_with('[') || t.starts_with('(') || t.chars().any(|c| "☒☑✓✔■".contains(c));
    boxed.then_some(Token::Checked)
}

/// The options whose box is ticked, in order, a repeat kept once: a box belongs to the option on
/// its side — after it when the row starts with a box, before it otherwise.
pub(crate) fn ticked<T: Copy + PartialEq>(tokens: &[Token<T>]) -> Vec<T> {
    let box_first = matches!(tokens.first(), Some(Token::Checked | Token::Empty));
    let mut out: Vec<T> = tokens
        .windows(2)
        .filter_map(|p| {
            let (b, option) = if box_first { (p[0], p[1]) } else { (p[1], p[0]) };
            match (b, option) {
                (Token::Checked, Token::Word(w)) => Some(w),
                _ => None,
            }
        })
        .collect();
    out.dedup();
    out
}

/// A mark of a row: a box, or the yes (`true`) or no (`false`) it stands by.
fn mark(token: &str) -> Token<bool> {
    match token.to_lowercase().as_str() {
        "yes" => Token::Word(true),
        "no" => Token::Word(false),
        t => box_token(t).unwrap_or(Token::Checked),
    }
}

/// A question's words: the caption without its punctuation, and its span.
fn caption(line: &str, at: usize, from: usize, to: usize) -> Option<(String, usize, usize)> {
    let raw = &line[from..to];
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || ":?-–|*".contains(c));
    if trimmed.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return None;
    }
    let start = from + raw.find(trimmed).unwrap_or(0);
    Some((trimmed.to_string(), at + start, at + start + trimmed.len()))
}

/// The answers typed in the text's lines.
fn from_text(text: &str) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut previous: Option<(usize, &str)> = None;
    for (at, line) in crate::text::lines_at(text) {
        let marks: Vec<(Token<bool>, usize, usize)> =
            box_pattern().find_iter(line).map(|m| (mark(m.as_str()), m.start(), m.end())).collect();
        let boxes = marks.iter().filter(|(m, ..)| !matches!(m, Token::Word(_))).count();
        if boxes > 0 {
            let words = marks.iter().any(|(m, ..)| matches!(m, Token::Word(_)));
            if words {
                // A yes/no row: the question stands before its first mark, or on the line above.
                let first = marks[0].1;
                let question =
                    caption(line, at, 0, first).or_else(|| previous.and_then(|(p_at, p)| caption(p, p_at, 0, p.len())));
                if let Some((q, s, e)) = question {
                    let tokens: Vec<Token<bool>> = marks.iter().map(|m| m.0).collect();
                    let ticked = ticked(&tokens);
                    let answer = if let [one] = ticked[..] { Some(one) } else { None };
                    // Yes and No both ticked: the boxes contradict each other.
                    let unread = ticked.len() > 1;
                    out.push(Answer { question: q, answer, unread, start: s, end: e });
                }
            } else {
                // A checklist: each box with the caption beside it (after it when the line starts
                // with a box, else before it).
                let box_first = marks[0].1 == line.len() - line.trim_start().len();
                for (i, &(m, s, e)) in marks.iter().enumerate() {
                    let (from, to) = if box_first {
                        (e, marks.get(i + 1).map_or(line.len(), |n| n.1))
                    } else {
                        (if i == 0 { 0 } else { marks[i - 1].2 }, s)
                    };
                    if let Some((q, qs, qe)) = caption(line, at, from, to) {
                        let answer = (m == Token::Checked).then_some(true);
                        out.push(Answer { question: q, answer, unread: false, start: qs, end: qe });
                    }
                }
            }
        }
        if boxes == 0 {
            if let Some(a) = unreadable_row(line, at, &marks) {
                out.push(a);
            } else {
                previous = Some((at, line));
            }
        }
    }
    out
}

/// A yes/no row whose boxes OCR did not read as marks ("Asthma Yes L] No [J", "Stroke Yes No"):
/// a question whose answer is not known, so its finding is withheld rather than read as said.
fn unreadable_row(line: &str, at: usize, marks: &[(Token<bool>, usize, usize)]) -> Option<Answer> {
    let words: Vec<Token<bool>> = marks.iter().map(|m| m.0).collect();
    if !(words.contains(&Token::Word(true)) && words.contains(&Token::Word(false))) {
        return None;
    }
    let first = marks[0].1;
    // After the caption, nothing but the answers and what OCR made of empty boxes.
    let rest = box_pattern().replace_all(&line[first..], " ");
    if rest.split_whitespace().any(|w| w.chars().filter(|c| c.is_alphanumeric()).count() > 2) {
        return None;
    }
    let (question, start, end) = caption(line, at, 0, first)?;
    (question.split_whitespace().count() <= 12).then_some(Answer { question, answer: None, unread: true, start, end })
}

fn overlaps_row(a: BBox, b: BBox) -> bool {
    let (a0, a1, b0, b1) = (a.top, a.top + a.height, b.top, b.top + b.height);
    a0.max(b0) < a1.min(b1)
}

/// The answers an engine's selection elements give: a key/value pair whose value is a box.
fn from_fields(document: &Document, text: &str) -> Vec<Answer> {
    let mut out = Vec::new();
    let offsets = document.line_offsets();
    for (page, line_at) in document.pages.iter().zip(&offsets) {
        // Where a caption stands in the text: in a line on its row that holds it.
        let locate = |words: &str, bbox: Option<BBox>| -> Option<(usize, usize)> {
            page.lines.iter().zip(line_at).find_map(|(l, &la)| {
                let row = match (bbox, l.bbox) {
                    (Some(a), Some(b)) => overlaps_row(a, b),
                    _ => true,
                };
                let i = l.text.find(words).filter(|_| row)?;
                Some((la + i, la + i + words.len()))
            })
        };
        let boxed: Vec<_> = page.key_values.iter().filter(|kv| kv.value.selected.is_some()).collect();
        let is_yes_no = |t: &str| matches!(t.to_lowercase().as_str(), "yes" | "no");
        let mut rows_done: Vec<BBox> = Vec::new();
        for kv in &boxed {
            let key = kv.key_name();
            if !is_yes_no(key) {
                if key.chars().filter(|c| c.is_alphabetic()).count() < 2 {
                    continue;
                }
                let Some((s, e)) = locate(key, kv.key.bbox) else { continue };
                let answer = (kv.value.selected == Some(true)).then_some(true);
                out.push(Answer { question: key.to_string(), answer, unread: false, start: s, end: e });
                continue;
            }
            // A yes/no pair: the question is the text on the boxes' row, left of them.
            let Some(kb) = kv.key.bbox else { continue };
            if rows_done.iter().any(|r| overlaps_row(*r, kb)) {
                continue;
            }
            rows_done.push(kb);
            let on_row: Vec<_> = boxed.iter().filter(|o| o.key.bbox.is_some_and(|b| overlaps_row(b, kb))).collect();
            let yes: Vec<bool> = on_row
                .iter()
                .filter(|o| o.value.selected == Some(true))
                .map(|o| o.key.text.trim().to_lowercase().starts_with('y'))
                .collect();
            let answer = if let [one] = yes[..] { Some(one) } else { None };
            let unread = yes.len() > 1;
            let question = page.lines.iter().zip(line_at).find_map(|(l, &la)| {
                let b = l.bbox?;
                (overlaps_row(b, kb) && b.left < kb.left).then(|| {
                    let cut = l.text.to_lowercase().find(" yes").unwrap_or(l.text.len());
                    caption(&l.text, la, 0, cut)
                })?
            });
            if let Some((q, s, e)) = question {
                out.push(Answer { question: q, answer, unread, start: s, end: e });
            }
        }
    }
    out.retain(|a| a.end <= text.len());
    out
}

/// Every question a document's boxes answer, in text order, one per span.
pub fn answers(document: &Document, text: &str) -> Vec<Answer> {
    // An engine's selection elements are read from the boxes themselves: they win over what the
    // text says of the same question.
    let mut all = from_fields(document, text);
    for a in from_text(text) {
        if !all.iter().any(|b| b.start < a.end && a.start < b.end) {
            all.push(a);
        }
    }
    all.sort_by_key(|a| a.start);
    all
}

/// Gives each finding inside a question its answer: yes keeps what its words say unless they
/// withheld it, no refutes, blank withholds (a hypothetical condition is not written; a blank
/// medication question says nothing, so the medication is dropped).
pub fn apply(answers: &[Answer], entities: &mut Vec<Entity>) {
    let asked = |e: &Entity| answers.iter().find(|a| a.start <= e.start && e.end <= a.end);
    // "Have you been in contact with anyone with COVID-19?" asks about an exposure, not the
    // patient's disease: whatever the answer, the disease is not the patient's finding (the
    // answer stays in the questionnaire).
    let exposure = |e: &Entity| {
        asked(e).is_some_and(|a| {
            let before = a.question.get(..e.start.saturating_sub(a.start)).unwrap_or("").to_lowercase();
            exposure_cue().is_match(&before)
        })
    };
    entities.retain(|e| !(e.kind == EntityType::Condition && exposure(e)));
    entities.retain(|e| !(e.kind == EntityType::Medication && asked(e).is_some_and(|a| a.answer.is_none())));
    for e in entities.iter_mut().filter(|e| e.kind != EntityType::Phi) {
        let Some(a) = asked(e) else { continue };
        e.assertion = match a.answer {
            Some(true) if !matches!(e.assertion, Assertion::Absent | Assertion::Hypothetical | Assertion::Possible) => {
                e.assertion
            }
            Some(true) => Assertion::Present,
            Some(false) => Assertion::Absent,
            None => Assertion::Hypothetical,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperchart_model::document::{Field, KeyValue, Line, Page, ReadBy};

    fn read(text: &str) -> Vec<(String, Option<bool>)> {
        from_text(text).into_iter().map(|a| (a.question, a.answer)).collect()
    }

    #[test]
    fn typed_boxes_answer_their_questions() {
        assert_eq!(read("Diabetes [ ] Yes [X] No"), [("Diabetes".into(), Some(false))]);
        assert_eq!(read("High blood pressure: Yes [X] No [ ]"), [("High blood pressure".into(), Some(true))]);
        assert_eq!(
            read("Have you had contact with a COVID-19 case?\n[ ] Yes [ ] No"),
            [("Have you had contact with a COVID-19 case".into(), None)]
        );
        assert_eq!(
            read("☒ Asthma ☐ Seizures ☑ Migraine"),
            [("Asthma".into(), Some(true)), ("Seizures".into(), None), ("Migraine".into(), Some(true))]
        );
        assert_eq!(read("Employed [X]  Student [ ]"), [("Employed".into(), Some(true)), ("Student".into(), None)]);
        assert!(read("Blood pressure 120/80, no fever.").is_empty(), "no box, no answer");
        assert_eq!(read("Asthma Yes L] No [J"), [("Asthma".into(), None)], "boxes OCR could not read: not known");
        assert!(read("Yes, she has no fever today").is_empty(), "a sentence is no row of boxes");
        let text = "Past history:\nStroke [X] Yes [ ] No";
        let a = &from_text(text)[0];
        assert_eq!(&text[a.start..a.end], "Stroke");
    }

    #[test]
    fn a_question_about_an_exposure_gives_no_condition() {
        let cond = |text: &str, w: &str| {
            let at = text.find(w).unwrap();
            Entity {
                kind: EntityType::Condition,
                subtype: None,
                start: at,
                end: at + w.len(),
                text: w.into(),
                codes: vec![],
                assertion: Assertion::Present,
                attrs: Default::default(),
                confidence: None,
                section: None,
            }
        };
        for (question, disease) in [
            ("Did you travel in the past 14 days to any regions affected by COVID-19?", "COVID-19"),
            ("Were you in contact with any confirmed COVID-19 positive patients?", "COVID-19"),
            ("Have you visited any area with an outbreak of measles?", "measles"),
        ] {
            let text = format!("{question} [ ] Yes [X] No");
            let mut entities = vec![cond(&text, disease)];
            apply(&from_text(&text), &mut entities);
            assert!(entities.is_empty(), "{question}: {entities:?}");
        }
        let text = "Have you been in contact with anyone with COVID-19? [ ] Yes [X] No\nAsthma [X] Yes [ ] No";
        let answers = from_text(text);
        let mut entities = vec![cond(text, "COVID-19"), cond(text, "Asthma")];
        apply(&answers, &mut entities);
        let kept: Vec<(&str, Assertion)> = entities.iter().map(|e| (e.text.as_str(), e.assertion)).collect();
        assert_eq!(
            kept,
            [("Asthma", Assertion::Present)],
            "a question about the patient's own disease keeps its answer"
        );
    }

    #[test]
    fn selection_elements_answer_theirs() {
        let b = |left: f32, top: f32| Some(BBox { left, top, width: 0.05, height: 0.02 });
        let field = |t: &str, bbox, selected| Field { text: t.into(), bbox, confidence: 99.0, selected };
        let line = |t: &str, bbox| Line { bbox, ..Line::from_text(t, 99.0) };
        let page = Page {
            number: 1,
            read_by: ReadBy::Textract,
            lines: vec![
                line("Do you smoke? Yes No", Some(BBox { left: 0.05, top: 0.1, width: 0.5, height: 0.02 })),
                line("Asthma", b(0.1, 0.2)),
                line("Diabetes", b(0.1, 0.25)),
            ],
            key_values: vec![
                KeyValue { key: field("Yes", b(0.4, 0.1), None), value: field("[ ]", b(0.45, 0.1), Some(false)) },
                KeyValue { key: field("No", b(0.5, 0.1), None), value: field("[X]", b(0.55, 0.1), Some(true)) },
                KeyValue { key: field("Asthma", b(0.1, 0.2), None), value: field("[X]", b(0.05, 0.2), Some(true)) },
                KeyValue {
                    key: field("Diabetes", b(0.1, 0.25), None),
                    value: field("[ ]", b(0.05, 0.25), Some(false)),
                },
            ],
            tables: vec![],
            text_layer_rejected: false,
            prepared: Vec::new(),
        };
        let doc = Document { pages: vec![page], ..Default::default() };
        let text = doc.text();
        let got: Vec<(String, Option<bool>)> =
            answers(&doc, &text).into_iter().map(|a| (a.question, a.answer)).collect();
        assert_eq!(
            got,
            [("Do you smoke".into(), Some(false)), ("Asthma".into(), Some(true)), ("Diabetes".into(), None)]
        );
    }
}
