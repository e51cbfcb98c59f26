//! Share links: the whole script, deflated and base64url-encoded, in the URL
//! fragment as `#s=…`, so a link reproduces the script without any server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The fragment (without `#`) that carries `source`.
pub fn encode(source: &str) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(source.as_bytes(), 9);
    format!("s={}", URL_SAFE_NO_PAD.encode(packed))
}

/// The script a fragment such as `#s=…&token=…` carries, if any.
pub fn decode(fragment: &str) -> Option<String> {
    let packed = fragment.trim_start_matches('#').split('&').find_map(|pair| pair.strip_prefix("s="))?;
    let bytes = URL_SAFE_NO_PAD.decode(packed).ok()?;
    // Bounded, so a hostile link cannot make the page inflate gigabytes.
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, 1 << 20).ok()?;
    String::from_utf8(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_round_trips_through_the_fragment() {
        let source = crate::state::ECHO_EXAMPLE;
        let fragment = encode(source);
        assert!(fragment.len() < source.len(), "compressed: {}", fragment.len());
        assert!(fragment.chars().all(|c| c.is_ascii_alphanumeric() || "=-_".contains(c)));
        assert_eq!(decode(&format!("#{fragment}&token=abc")).as_deref(), Some(source));
        assert_eq!(decode("#token=abc"), None);
        assert_eq!(decode("#s=!!!"), None);
    }
}
