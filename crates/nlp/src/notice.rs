//! Legal notices: the confidentiality boilerplate on fax cover sheets, e-mail footers and lab
//! reports ("This facsimile may contain information relating to HIV, substance abuse or mental
//! health treatment that is privileged and confidential. If you have received this in error …").
//! They name conditions the patient need not have, so the clinical reading sees them blanked
//! (byte for byte, line breaks kept, so every offset holds); PHI is still found in them.
//!
//! A sentence is a notice when it holds one of the phrases only notices use ("intended
//! recipient", "received this … in error", "42 CFR", "privileged and confidential") or two of
//! their words ("confidential", "privileged", "disclosure", "prohibited", "recipient" …). One such
//! word alone ("requests confidential HIV testing") is clinical text.

use std::sync::OnceLock;

use regex::Regex;

struct Patterns {
    strong: Regex,
    weak: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        strong: Regex::new(concat!(
            r"(?i)\bintended\s+(?:only\s+)?(?:for|recipients?)\b|\bconfidentiality\s+(?:notice|statement|warning)\b",
            r"|\breceived\s+this\b[^.]{0,80}\bin\s+error\b|\b42\s*C\.?\s*F\.?\s*R\b|\bre-?disclos",
            r"|\bnotify\s+(?:the\s+)?sender\b|\bprivileged\s+and\s+confidential\b|\bstrictly\s+prohibited\b",
        ))
        .expect("notice phrases"),
        weak: Regex::new(concat!(
            r"(?i)\b(?:confidential(?:ity)?|privileged|disclos(?:e|ed|ure|ing)|dissemination|prohibited|destroy",
            r"|recipients?|addressee|unauthori[sz]ed|hipaa|protected\s+health\s+information|legally)\b",
        ))
        .expect("notice words"),
    })
}

/// The sentences of `text`: byte spans ending after `.`, `!` or `?` followed by white space, or
/// at a blank line.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..bytes.len() {
        let end_mark = matches!(bytes[i], b'.' | b'!' | b'?') && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace);
        let blank_line = bytes[i] == b'\n' && bytes.get(i + 1) == Some(&b'\n');
        if end_mark || blank_line {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

/// The byte spans of `text`'s notice sentences.
pub fn spans(text: &str) -> Vec<(usize, usize)> {
    let p = patterns();
    sentences(text)
        .into_iter()
        .filter(|&(s, e)| {
            let sentence = &text[s..e];
            p.strong.is_match(sentence) || p.weak.find_iter(sentence).take(2).count() == 2
        })
        .collect()
}

/// `text` with `spans` blanked ([`crate::engine::mask`]) line by line, so their line breaks stay.
pub fn blank(text: &str, spans: &[(usize, usize)]) -> String {
    let pieces = spans.iter().flat_map(|&(start, end)| {
        let mut at = start;
        text[start..end].split('\n').map(move |line| {
            let piece = (at, at + line.len());
            at += line.len() + 1;
            piece
        })
    });
    crate::engine::mask(text, pieces, b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notices(text: &str) -> Vec<&str> {
        spans(text).into_iter().map(|(s, e)| text[s..e].trim()).collect()
    }

    #[test]
    fn confidentiality_boilerplate_is_a_notice() {
        let text = "Assessment: asthma, well controlled.\n\nCONFIDENTIALITY NOTICE: This facsimile may contain \
                    information relating to HIV, substance abuse or mental health treatment that is privileged and \
                    confidential. Federal rules (42 CFR Part 2) prohibit further disclosure. If you have received this \
                    fax in error, please notify the sender and destroy the documents.";
        let found = notices(text);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("CONFIDENTIALITY NOTICE"));
        let blanked = blank(text, &spans(text));
        assert_eq!(blanked.len(), text.len());
        assert!(blanked.starts_with("Assessment: asthma") && !blanked.contains("HIV"));
        assert!(notices("The information in this e-mail is intended only for the addressee.").len() == 1);
        assert!(notices("Unauthorized disclosure is prohibited by HIPAA.").len() == 1);
    }

    #[test]
    fn clinical_sentences_with_one_such_word_are_not() {
        assert!(notices("Patient requests confidential HIV testing.").is_empty());
        assert!(notices("Disclosed her diagnosis of depression to her sister.").is_empty());
        assert!(notices("Prior authorization for insulin was denied. Family history of diabetes.").is_empty());
        assert!(notices("Recipient of a kidney transplant in 2019, on tacrolimus.").is_empty());
    }

    #[test]
    fn blanking_keeps_line_breaks_and_characters_whole() {
        let text = "Plan: rest.\nConfidential and privileged: née Müller.\nEnd";
        let s = spans(text);
        let blanked = blank(text, &s);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked.lines().count(), 3);
        assert!(blanked.starts_with("Plan: rest.\n") && blanked.ends_with("\nEnd"));
    }
}
