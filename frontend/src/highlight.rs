//! Syntax highlighting of one script line, as classed spans, plus the wavy
//! underline of a parse error at a column. Pure, so it is tested natively.

use socklab_lang::lexer::is_keyword;

/// What a piece of a line is; the view turns it into a CSS class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Plain,
    Keyword,
    Builtin,
    Constant,
    Number,
    String,
    Comment,
    /// A `# lane: NAME` header.
    Lane,
}

impl Class {
    pub fn css(self) -> &'static str {
        match self {
            Class::Plain => "t",
            Class::Keyword => "kw",
            Class::Builtin => "bi",
            Class::Constant => "cn",
            Class::Number => "nu",
            Class::String => "st",
            Class::Comment => "cm",
            Class::Lane => "ln",
        }
    }
}

/// A run of characters with one class; `error` marks the parse error's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub class: Class,
    pub text: String,
    pub error: bool,
}

const BUILTINS: &[&str] = &[
    "socket", "len", "range", "print", "sleep", "gethostbyname", "time", "str", "int", "hex", "select",
    "icmp_echo_request", "icmp_parse", "checksum", "lab_peer", "OSError",
];

fn word_class(word: &str) -> Class {
    if is_keyword(word) || matches!(word, "None" | "True" | "False") {
        Class::Keyword
    } else if BUILTINS.contains(&word) {
        Class::Builtin
    } else if word.len() > 1 && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
        Class::Constant
    } else {
        Class::Plain
    }
}

/// The line's spans; `error_col` (1-based, in characters) underlines the word
/// or character there, or a blank at the end if the column is past the text.
pub fn line(text: &str, error_col: Option<u32>) -> Vec<Span> {
    let chars: Vec<char> = text.chars().collect();
    let mut classes = vec![Class::Plain; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let class = if c == '#' {
            i = chars.len();
            let rest: String = chars[start..].iter().collect();
            if crate::lanes::header_name(&rest).is_some() { Class::Lane } else { Class::Comment }
        } else if c == '"' || c == '\'' || ((c == 'b' || c == 'B') && matches!(chars.get(i + 1), Some('"' | '\''))) {
            if c == 'b' || c == 'B' {
                i += 1;
            }
            let quote = chars[i];
            i += 1;
            while i < chars.len() && chars[i] != quote {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            Class::String
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
            Class::Number
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // An attribute (`.close`) is not a builtin even if named like one.
            if start > 0 && chars[start - 1] == '.' { Class::Plain } else { word_class(&word) }
        } else {
            i += 1;
            Class::Plain
        };
        classes[start..i].fill(class);
    }
    let mut error = vec![false; chars.len()];
    let mut past_end = false;
    if let Some(col) = error_col {
        let at = col.saturating_sub(1) as usize;
        if at >= chars.len() {
            past_end = true;
        } else {
            let word = |c: char| c.is_alphanumeric() || c == '_';
            let mut end = at + 1;
            if word(chars[at]) {
                while end < chars.len() && word(chars[end]) {
                    end += 1;
                }
            }
            error[at..end].fill(true);
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    for (index, c) in chars.iter().enumerate() {
        match spans.last_mut() {
            Some(span) if span.class == classes[index] && span.error == error[index] => span.text.push(*c),
            _ => spans.push(Span { class: classes[index], text: c.to_string(), error: error[index] }),
        }
    }
    if past_end {
        spans.push(Span { class: Class::Plain, text: " ".into(), error: true });
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(Class, String)> {
        line(text, None).into_iter().filter(|s| s.text.trim() != "").map(|s| (s.class, s.text)).collect()
    }

    #[test]
    fn keywords_builtins_constants_strings_numbers_and_comments() {
        let spans = classes("srv = socket(AF_INET, SOCK_STREAM)  # make it");
        assert!(spans.contains(&(Class::Builtin, "socket".into())));
        assert!(spans.contains(&(Class::Constant, "AF_INET".into())));
        assert!(spans.contains(&(Class::Comment, "# make it".into())));
        let spans = classes("while n < 0x10: x = b\"hi\\\"\" + 'a'");
        assert_eq!(spans[0], (Class::Keyword, "while".into()));
        assert!(spans.contains(&(Class::Number, "0x10".into())));
        assert!(spans.contains(&(Class::String, "b\"hi\\\"\"".into())));
        assert!(spans.contains(&(Class::String, "'a'".into())));
        assert_eq!(classes("# lane: server"), [(Class::Lane, "# lane: server".into())]);
        assert_eq!(classes("cli.send(x)")[0].0, Class::Plain);
        // An f-string's text, braces included, is a string; the prefix stays plain as `r` does.
        let spans = classes("print(f\"{x!r:>{w}} {{ok}}\", rf'\\d{y}')");
        assert!(spans.contains(&(Class::String, "\"{x!r:>{w}} {{ok}}\"".into())));
        assert!(spans.contains(&(Class::String, "'\\d{y}'".into())));
    }

    #[test]
    fn the_whole_text_survives_and_the_error_word_is_marked() {
        let text = "srv.bind((\"127.0.0.1\", 5500)";
        let spans = line(text, Some(5));
        assert_eq!(spans.iter().map(|s| s.text.as_str()).collect::<String>(), text);
        let marked: Vec<&str> = spans.iter().filter(|s| s.error).map(|s| s.text.as_str()).collect();
        assert_eq!(marked, ["bind"]);
        let spans = line("x = (", Some(6));
        assert!(spans.last().unwrap().error, "an error past the end gets a blank to underline");
    }
}
