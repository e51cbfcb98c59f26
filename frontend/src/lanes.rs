//! Splits a script into its lanes for the side-by-side editors and joins the
//! edited parts back, so that the script text stays the one source of truth and
//! split-then-join gives back exactly the text that went in.

pub use socklab_lang::lexer::lane_hosts;
use socklab_lang::lexer::{is_lane_name, split_lane_header};

/// One part of the script: the lines before the first `# lane:` header (the
/// implicit `main` lane), or one header and the lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanePart {
    /// The lane's name (`main` for the part before any header).
    pub name: String,
    /// The header line exactly as written (with its newline), if any.
    pub header: Option<String>,
    /// 1-based line number of the first body line in the whole script, so the
    /// gutter numbers and diagnostics line up with the script's own lines.
    pub first_line: u32,
    /// The lane's statements, as typed.
    pub body: String,
}

impl LanePart {
    /// Whether the editor shows this part: the preamble only when it holds
    /// something (or is the whole script).
    pub fn is_shown(&self, parts: usize) -> bool {
        self.header.is_some() || parts == 1 || !self.body.trim().is_empty()
    }
}

/// The lane name a line declares, if it is a `# lane: NAME` (or `# lane: NAME @ HOST`) header.
pub fn header_name(line: &str) -> Option<&str> {
    let (name, host) = split_lane_header(line.strip_prefix('#')?.trim_start().strip_prefix("lane:")?);
    (is_lane_name(name) && host.is_none_or(is_lane_name)).then_some(name)
}

/// The script's parts, always starting with the (possibly empty) preamble.
pub fn split(source: &str) -> Vec<LanePart> {
    let mut parts = vec![LanePart { name: "main".into(), header: None, first_line: 1, body: String::new() }];
    for (index, line) in source.split_inclusive('\n').enumerate() {
        let number = index as u32 + 1;
        match header_name(line.trim_end_matches(['\n', '\r'])) {
            Some(name) => parts.push(LanePart {
                name: name.to_owned(),
                header: Some(line.to_owned()),
                first_line: number + 1,
                body: String::new(),
            }),
            None => parts.last_mut().expect("never empty").body.push_str(line),
        }
    }
    parts
}

/// The script's hosts in order of first appearance (as `lab_hosts` makes them:
/// host `i` has the address `10.0.0.{i+1}`).
pub fn hosts(source: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for (_, host) in lane_hosts(source) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// The script the parts make.
pub fn join(parts: &[LanePart]) -> String {
    let mut source = String::new();
    for part in parts {
        if let Some(header) = &part.header {
            // A body edited to lose its last newline must not swallow the header.
            if !source.is_empty() && !source.ends_with('\n') {
                source.push('\n');
            }
            source.push_str(header);
            if !header.ends_with('\n') && !part.body.is_empty() {
                source.push('\n');
            }
        }
        source.push_str(&part.body);
    }
    source
}

/// The script with part `index`'s body replaced.
pub fn edit(source: &str, index: usize, body: &str) -> String {
    let mut parts = split(source);
    if let Some(part) = parts.get_mut(index) {
        part.body = body.to_owned();
    }
    join(&parts)
}

/// The script with a new, empty lane at the end, named `laneN` (first free N).
pub fn add_lane(source: &str) -> String {
    let parts = split(source);
    let name = (parts.len()..)
        .map(|n| format!("lane{n}"))
        .find(|name| parts.iter().all(|part| &part.name != name))
        .expect("some name is free");
    let mut source = source.to_owned();
    if !source.is_empty() && !source.ends_with('\n') {
        source.push('\n');
    }
    if !source.is_empty() && !source.ends_with("\n\n") {
        source.push('\n');
    }
    source.push_str(&format!("# lane: {name}\n"));
    source
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ECHO_EXAMPLE;

    #[test]
    fn split_then_join_gives_the_same_text() {
        for source in [ECHO_EXAMPLE, "", "x = 1", "a\n# lane: b\n", "# lane: a\r\nx=1\r\n# lane: b", "#lane:   x  \ny\n"] {
            assert_eq!(join(&split(source)), source, "{source:?}");
        }
    }

    #[test]
    fn lanes_know_their_lines_in_the_whole_script() {
        let parts = split(ECHO_EXAMPLE);
        let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
        assert_eq!(names, ["main", "server", "client"]);
        assert_eq!(parts[1].first_line, 2);
        assert_eq!(parts[2].first_line, 13);
        assert!(!parts[0].is_shown(3) && parts[1].is_shown(3));
        assert!(parts[2].body.starts_with("cli = socket"));
    }

    #[test]
    fn editing_a_lane_edits_only_its_part() {
        let source = edit(ECHO_EXAMPLE, 2, "print(1)\n");
        assert!(source.ends_with("# lane: client\nprint(1)\n"));
        assert!(source.starts_with("# lane: server\nsrv = socket"));
        let added = add_lane(&source);
        assert!(added.ends_with("print(1)\n\n# lane: lane3\n"), "{added:?}");
        assert_eq!(split(&added).len(), 4);
        assert_eq!(header_name("# lane: 9x"), None);
    }

    #[test]
    fn hosts_come_in_order_of_first_appearance() {
        let source = "# lane: server @ server\nx = 1\n# lane: client @ laptop\n# lane: other @ server\n# lane: plain\n";
        assert_eq!(hosts(source), ["server", "laptop"]);
        assert_eq!(lane_hosts(source)[1], ("client".to_owned(), "laptop".to_owned()));
        assert!(hosts(ECHO_EXAMPLE).is_empty());
    }
}
