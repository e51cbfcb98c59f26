//! The built playground page, embedded in the binary at build time by `build.rs`.
//!
//! JS, wasm and CSS have content-hashed names and may be cached forever;
//! `index.html` names them and is revalidated on every load, so a new relay
//! build is picked up by a plain reload.

/// One embedded file, with what is needed to serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file as built.
    pub bytes: &'static [u8],
    /// The same bytes gzip-compressed, present only when that is smaller: sent with
    /// `Content-Encoding: gzip` to clients whose `Accept-Encoding` allows it.
    pub gzip: Option<&'static [u8]>,
    /// The same bytes brotli-compressed (smaller still), when that is smaller.
    pub br: Option<&'static [u8]>,
    pub content_type: &'static str,
    /// The `Cache-Control` header value.
    pub cache_control: &'static str,
    /// A weak `ETag` (`W/"…"`, a hash of `bytes`) for `If-None-Match`: weak because
    /// the gzip and identity bodies share it.
    pub etag: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/assets_table.rs"));

/// The asset served at `path` (`/` is `index.html`).
pub fn lookup(path: &str) -> Option<Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    TABLE.iter().find(|(name, _)| *name == path).map(|(_, asset)| *asset)
}

impl Asset {
    /// The body to send and its `Content-Encoding`, given the request's
    /// `Accept-Encoding`: the smallest copy the client accepts. Either way the
    /// response needs `Vary: Accept-Encoding`.
    pub fn body_for(&self, accept_encoding: Option<&str>) -> (&'static [u8], Option<&'static str>) {
        let header = accept_encoding.unwrap_or_default();
        match (self.br, self.gzip) {
            (Some(br), _) if accepts(header, "br") => (br, Some("br")),
            (_, Some(gzip)) if accepts(header, "gzip") => (gzip, Some("gzip")),
            _ => (self.bytes, None),
        }
    }
}

/// Whether an `Accept-Encoding` value allows `coding` (`coding;q=0` refuses it).
fn accepts(header: &str, coding: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let named = parts.next().unwrap_or_default();
        let refused = parts.any(|param| {
            param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q == 0.0)
        });
        (named.eq_ignore_ascii_case(coding) || named == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_the_index_page() {
        let index = lookup("/").expect("index.html is embedded");
        assert_eq!(lookup("/index.html"), Some(index));
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert_eq!(index.cache_control, "no-cache");
        assert!(std::str::from_utf8(index.bytes).unwrap().contains("<title>socklab"));
    }

    #[test]
    fn every_file_the_index_names_is_embedded_and_immutable() {
        let index = std::str::from_utf8(lookup("/").unwrap().bytes).unwrap();
        // A placeholder build (SOCKLAB_SKIP_FRONTEND) names no files.
        for name in index.split(['"', '\'']).filter(|s| s.starts_with("./")) {
            let asset = lookup(&name[1..]).unwrap_or_else(|| panic!("{name} is named by index.html but not embedded"));
            assert!(asset.cache_control.contains("immutable"), "{name}");
        }
    }

    #[test]
    fn the_page_as_served_to_chromium_is_at_most_200_kib() {
        let index = std::str::from_utf8(lookup("/").unwrap().bytes).unwrap();
        let chromium = Some("gzip, deflate, br, zstd");
        let mut files = vec!["/".to_owned()];
        files.extend(index.split(['"', '\'']).filter(|s| s.starts_with("./")).map(|name| name[1..].to_owned()));
        files.sort();
        files.dedup();
        let sizes: Vec<(String, usize)> = files.into_iter().map(|path| (path.clone(), lookup(&path).unwrap().body_for(chromium).0.len())).collect();
        let total: usize = sizes.iter().map(|(_, size)| size).sum();
        // A placeholder build (SOCKLAB_SKIP_FRONTEND) has only the index.
        assert!(total <= 200 * 1024, "the page is {total} bytes as served, over 204,800: {sizes:?}");
    }

    #[test]
    fn every_lesson_s_texts_are_served_beside_the_page() {
        // A placeholder build (SOCKLAB_SKIP_FRONTEND) has no page and no lesson texts.
        if !std::str::from_utf8(lookup("/").unwrap().bytes).unwrap().contains("./socklab-") {
            return;
        }
        for lesson in socklab_lessons::all() {
            let path = format!("/lessons/{}.json", lesson.number());
            let asset = lookup(&path).unwrap_or_else(|| panic!("{path} is not embedded"));
            assert_eq!(asset.content_type, "application/json");
            let texts: serde_json::Value = serde_json::from_slice(asset.bytes).unwrap();
            assert_eq!(texts["steps"].as_array().map(Vec::len), Some(lesson.steps().len()), "{path}");
            assert!(texts["explanation"][1].as_str().is_some_and(|zh| !zh.is_empty()), "{path}");
        }
        assert_eq!(lookup("/lessons/99.json"), None);
    }

    #[test]
    fn unknown_paths_are_not_found() {
        assert_eq!(lookup("/nope.js"), None);
        assert_eq!(lookup(""), None);
    }

    #[test]
    fn encodings_are_negotiated() {
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5", "gzip"));
        assert!(accepts("*", "br"));
        assert!(!accepts("gzip;q=0", "gzip"));
        assert!(!accepts("br, deflate", "gzip"));
        assert!(!accepts("", "gzip"));
        let asset = Asset {
            bytes: b"plain",
            gzip: Some(b"zipped"),
            br: Some(b"brotli"),
            content_type: "",
            cache_control: "",
            etag: "",
        };
        assert_eq!(asset.body_for(Some("gzip, deflate, br, zstd")), (&b"brotli"[..], Some("br")));
        assert_eq!(asset.body_for(Some("gzip, br;q=0")), (&b"zipped"[..], Some("gzip")));
        assert_eq!(asset.body_for(None), (&b"plain"[..], None));
        let no_br = Asset { br: None, ..asset };
        assert_eq!(no_br.body_for(Some("br, gzip")), (&b"zipped"[..], Some("gzip")));
    }
}
