//! One set of rules for text a person enters — through the API, a page form
//! or a roster cell: trimmed, no invisible or direction-changing characters,
//! at most so many characters for its kind.
//!
//! Why refuse rather than strip: a NUL or a right-to-left override in a name
//! is either a copy-paste accident the clerk should see, or an attempt to make
//! a list show something other than what is stored. PostgreSQL refuses NUL in
//! text outright, so letting one through would fail a whole import at commit.

use crate::error::ErrorCode;

/// What a piece of text is; each kind has its length limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A person's name (农户姓名), a signer.
    Name,
    /// Plot codes, voucher and receipt numbers, bank references.
    Code,
    Phone,
    BankAccount,
    /// Villages, bank names, varieties, places: short single-line text.
    Place,
    /// A short reason recorded with a correction.
    Reason,
    /// Free-text notes and descriptions: the only kind that may hold line breaks.
    Notes,
}

impl TextKind {
    /// Most characters (not bytes). Name and code match the limits the API
    /// had before these rules, so nothing accepted before is refused now.
    pub fn max_chars(self) -> usize {
        match self {
            TextKind::Name => 30,
            TextKind::Code => 40,
            TextKind::Phone => 30,
            TextKind::BankAccount => 40,
            TextKind::Place => 100,
            TextKind::Reason => 200,
            TextKind::Notes => 2_000,
        }
    }

    pub fn multiline(self) -> bool {
        matches!(self, TextKind::Notes)
    }
}

/// Why a text was refused, with a stable code and a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextProblem {
    pub code: ErrorCode,
    pub message: String,
}

/// Bidirectional embeddings, overrides and isolates: they make text display
/// in an order other than the one stored.
/// Full-width ASCII forms (digits, letters, punctuation) and the ideographic
/// space to their half-width forms.
pub fn halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// Zero-width and invisible formatting characters, the byte-order mark and
/// the line/paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{2028}' | '\u{2029}'
    )
}

fn char_name(c: char) -> String {
    match c {
        '\0' => "空字符NUL".to_string(),
        '\u{7}' => "响铃符BEL".to_string(),
        '\t' => "制表符".to_string(),
        '\n' | '\r' => "换行符".to_string(),
        _ => format!("U+{:04X}", u32::from(c)),
    }
}

/// Trim `s` and check it against the rules for `kind`; `label` names the
/// field in the message ("姓名"). Returns the trimmed text.
pub fn check(label: &str, s: &str, kind: TextKind) -> Result<String, TextProblem> {
    check_str(label, s, kind).map(str::to_string)
}

/// [`check`] without a copy: the trimmed text, borrowed from `s`.
pub fn check_str<'s>(label: &str, s: &'s str, kind: TextKind) -> Result<&'s str, TextProblem> {
    let t = s.trim();
    let max = kind.max_chars();
    // Most cells are short printable ASCII: one pass over the bytes decides.
    if t.is_ascii() && !t.bytes().any(|b| b.is_ascii_control()) {
        if t.len() > max {
            return Err(TextProblem {
                code: ErrorCode::TextTooLong,
                message: format!("{label}不能超过{max}个字（现为{}个字）", t.len()),
            });
        }
        return Ok(t);
    }
    for (i, c) in t.chars().enumerate() {
        let allowed_break = kind.multiline() && matches!(c, '\n' | '\r' | '\t');
        let why = if c.is_control() && !allowed_break {
            Some((
                ErrorCode::TextControlChar,
                if matches!(c, '\n' | '\r') {
                    "不能换行".to_string()
                } else {
                    "含有不可见的控制字符".to_string()
                },
            ))
        } else if is_bidi_control(c) {
            Some((
                ErrorCode::TextBidiChar,
                "含有改变文字方向的控制字符".to_string(),
            ))
        } else if is_invisible(c) {
            Some((
                ErrorCode::TextInvisibleChar,
                "含有零宽或不可见字符".to_string(),
            ))
        } else {
            None
        };
        if let Some((code, what)) = why {
            return Err(TextProblem {
                code,
                message: format!(
                    "{label}{what}（第{}个字符，{}），请删除后重新填写",
                    i + 1,
                    char_name(c)
                ),
            });
        }
    }
    let n = t.chars().count();
    if n > max {
        return Err(TextProblem {
            code: ErrorCode::TextTooLong,
            message: format!("{label}不能超过{max}个字（现为{n}个字）"),
        });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str, kind: TextKind) -> ErrorCode {
        check("姓名", s, kind).unwrap_err().code
    }

    #[test]
    fn trims_and_keeps_good_text() {
        assert_eq!(check("姓名", "  王芳 ", TextKind::Name), Ok("王芳".into()));
        assert_eq!(check("姓名", "", TextKind::Name), Ok(String::new()));
        assert_eq!(
            check("备注", "第一行\n第二行", TextKind::Notes),
            Ok("第一行\n第二行".into())
        );
        // Emoji, accents and rare CJK are text, not controls.
        assert!(check("姓名", "José 𠀀😀", TextKind::Name).is_ok());
    }

    #[test]
    fn refuses_controls_bidi_and_invisibles() {
        assert_eq!(code("王\0芳", TextKind::Name), "text_control_char");
        assert_eq!(code("王\u{7}芳", TextKind::Name), "text_control_char");
        assert_eq!(code("王\u{85}芳", TextKind::Name), "text_control_char");
        assert_eq!(code("王\u{7F}芳", TextKind::Name), "text_control_char");
        assert_eq!(code("王\n芳", TextKind::Name), "text_control_char");
        assert_eq!(code("王\u{0}芳", TextKind::Notes), "text_control_char");
        assert_eq!(code("王\u{202E}芳", TextKind::Name), "text_bidi_char");
        assert_eq!(code("王\u{2066}芳", TextKind::Notes), "text_bidi_char");
        assert_eq!(code("王\u{200B}芳", TextKind::Name), "text_invisible_char");
        assert_eq!(code("王\u{FEFF}芳", TextKind::Code), "text_invisible_char");
        let m = check("姓名", "王\0芳", TextKind::Name).unwrap_err().message;
        assert!(m.contains("第2个字符") && m.contains("NUL"), "{m}");
    }

    #[test]
    fn lengths_in_characters_per_kind() {
        assert!(check("姓名", &"王".repeat(30), TextKind::Name).is_ok());
        assert_eq!(code(&"王".repeat(31), TextKind::Name), "text_too_long");
        assert!(check("编号", &"a".repeat(40), TextKind::Code).is_ok());
        assert_eq!(code(&"a".repeat(41), TextKind::Code), "text_too_long");
        assert!(check("备注", &"字".repeat(2_000), TextKind::Notes).is_ok());
        assert_eq!(code(&"字".repeat(2_001), TextKind::Notes), "text_too_long");
        let m = check("姓名", &"王".repeat(10_000), TextKind::Name)
            .unwrap_err()
            .message;
        assert_eq!(m, "姓名不能超过30个字（现为10000个字）");
    }
}
