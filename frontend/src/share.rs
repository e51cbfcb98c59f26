//! Share links: the whole script, deflated and base64url-encoded, in the URL
//! fragment as `#s=…`, so a link reproduces the script without any server;
//! and `#lesson=N`, the open lesson, so a link opens it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The fragment (without `#`) that carries `source` (how the tests build links).
pub fn encode(source: &str) -> String {
    fragment(&miniz_oxide::deflate::compress_to_vec(source.as_bytes(), 9))
}

/// The fragment a Share link carries: the script, and the open lesson if any.
pub async fn link_fragment(source: &str, lesson: Option<u32>) -> Result<String, String> {
    Ok(fragment_with_lesson(&fragment(&deflate(source.as_bytes()).await?), lesson))
}

fn fragment(packed: &[u8]) -> String {
    format!("s={}", URL_SAFE_NO_PAD.encode(packed))
}

/// Raw DEFLATE, as `encode` packs it: in the page by the browser's
/// `CompressionStream`, so the wasm carries only the inflater.
#[cfg(target_arch = "wasm32")]
async fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// The browser's `CompressionStream` (a readable and a writable side).
        #[wasm_bindgen(js_name = CompressionStream)]
        type Compression;
        #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
        fn new(format: &str) -> Result<Compression, JsValue>;
    }

    let packed = async {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(data));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)?;
        let stream = Compression::new("deflate-raw")?;
        let packed = blob.stream().pipe_through(stream.unchecked_ref::<web_sys::ReadableWritablePair>());
        let response = web_sys::Response::new_with_opt_readable_stream(Some(&packed))?;
        let buffer = wasm_bindgen_futures::JsFuture::from(response.array_buffer()?).await?;
        Ok::<_, JsValue>(js_sys::Uint8Array::new(&buffer).to_vec())
    };
    packed.await.map_err(|e| format!("the browser could not compress the script: {e:?}"))
}

#[cfg(not(target_arch = "wasm32"))]
async fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(miniz_oxide::deflate::compress_to_vec(data, 9))
}

/// The script a fragment such as `#s=…&token=…` carries, if any.
pub fn decode(fragment: &str) -> Option<String> {
    let packed = fragment.trim_start_matches('#').split('&').find_map(|pair| pair.strip_prefix("s="))?;
    let bytes = URL_SAFE_NO_PAD.decode(packed).ok()?;
    // Bounded, so a hostile link cannot make the page inflate gigabytes.
    let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, 1 << 20).ok()?;
    String::from_utf8(text).ok()
}

/// The lesson a fragment such as `#lesson=6&token=…` opens, if any.
pub fn lesson_from_fragment(fragment: &str) -> Option<u32> {
    fragment.trim_start_matches('#').split('&').find_map(|pair| pair.strip_prefix("lesson=")?.parse().ok())
}

/// The fragment (without `#`) naming `lesson` (or no lesson), every other
/// pair (`token=`, `s=`) kept as it was, so a teacher can link to a lesson.
pub fn fragment_with_lesson(fragment: &str, lesson: Option<u32>) -> String {
    let mut pairs: Vec<String> = fragment
        .trim_start_matches('#')
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("lesson="))
        .map(str::to_owned)
        .collect();
    pairs.extend(lesson.map(|number| format!("lesson={number}")));
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragment_names_the_open_lesson_and_keeps_the_rest() {
        assert_eq!(lesson_from_fragment("#lesson=6"), Some(6));
        assert_eq!(lesson_from_fragment("#token=abc&lesson=12"), Some(12));
        assert_eq!(lesson_from_fragment("#token=abc"), None);
        assert_eq!(lesson_from_fragment("#lesson=x"), None);
        assert_eq!(fragment_with_lesson("#token=abc", Some(6)), "token=abc&lesson=6");
        assert_eq!(fragment_with_lesson("#token=abc&lesson=6", Some(2)), "token=abc&lesson=2");
        assert_eq!(fragment_with_lesson("#lesson=6&token=abc", None), "token=abc");
        assert_eq!(fragment_with_lesson("", None), "");
        assert_eq!(fragment_with_lesson("#", Some(1)), "lesson=1");
        assert_eq!(crate::relay::token_from_fragment(&fragment_with_lesson("#token=abc", Some(6))).as_deref(), Some("abc"));
    }

    #[test]
    fn a_script_round_trips_through_the_fragment() {
        let source = crate::state::ECHO_EXAMPLE;
        let fragment = encode(source);
        assert!(fragment.len() < source.len(), "compressed: {}", fragment.len());
        assert!(fragment.chars().all(|c| c.is_ascii_alphanumeric() || "=-_".contains(c)));
        assert_eq!(decode(&format!("#{fragment}&token=abc")).as_deref(), Some(source));
        assert_eq!(decode("#token=abc"), None);
        assert_eq!(decode("#s=!!!"), None);
        // Share keeps the open lesson (natively, the fragment is ready at once).
        let link_fragment = |source, lesson| {
            let mut fragment = std::pin::pin!(link_fragment(source, lesson));
            let ready = fragment.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
            let std::task::Poll::Ready(Ok(fragment)) = ready else { panic!("native deflate is at once") };
            fragment
        };
        let with_lesson = link_fragment(source, Some(6));
        assert_eq!((decode(&with_lesson).as_deref(), lesson_from_fragment(&with_lesson)), (Some(source), Some(6)));
        assert_eq!(link_fragment(source, None), fragment);
    }
}
