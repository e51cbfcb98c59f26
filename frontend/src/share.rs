//! Share links: the whole script, deflated and base64url-encoded, in the URL
//! fragment as `#s=…`, so a link reproduces the script without any server;
//! and `#lesson=N`, the open lesson, so a link opens it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The fragment (without `#`) that carries `source` (how the tests build links).
#[cfg(not(target_arch = "wasm32"))]
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

/// At most this much script comes out of a link, so a hostile link cannot
/// make the page inflate gigabytes.
const MAX_SCRIPT: usize = 1 << 20;

/// Raw DEFLATE, as `encode` packs it.
async fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    platform::through(Way::Deflate, data, usize::MAX)
        .await
        .map_err(|e| format!("the browser could not compress the script: {e}"))
}

/// The script a fragment such as `#s=…&token=…` carries, if any.
pub async fn decode(fragment: &str) -> Option<String> {
    let packed = fragment.trim_start_matches('#').split('&').find_map(|pair| pair.strip_prefix("s="))?;
    let bytes = URL_SAFE_NO_PAD.decode(packed).ok()?;
    let text = platform::through(Way::Inflate, &bytes, MAX_SCRIPT).await.ok()?;
    String::from_utf8(text).ok()
}

/// Which way `platform::through` runs raw DEFLATE.
enum Way {
    Deflate,
    Inflate,
}

/// In the page the browser's `CompressionStream` and `DecompressionStream`
/// do the work, so the wasm carries no DEFLATE code.
#[cfg(target_arch = "wasm32")]
mod platform {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    use super::Way;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = CompressionStream)]
        type Compression;
        #[wasm_bindgen(constructor, js_class = "CompressionStream", catch)]
        fn new(format: &str) -> Result<Compression, JsValue>;
        #[wasm_bindgen(js_name = DecompressionStream)]
        type Decompression;
        #[wasm_bindgen(constructor, js_class = "DecompressionStream", catch)]
        fn new(format: &str) -> Result<Decompression, JsValue>;
    }

    /// `data` through the browser's raw-DEFLATE stream, read chunk by chunk
    /// and given up past `limit` bytes.
    pub async fn through(way: Way, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        let out = async {
            let pair: JsValue = match way {
                Way::Deflate => Compression::new("deflate-raw")?.into(),
                Way::Inflate => Decompression::new("deflate-raw")?.into(),
            };
            let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(data));
            let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)?;
            let stream = blob.stream().pipe_through(pair.unchecked_ref::<web_sys::ReadableWritablePair>());
            let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
            let mut out = Vec::new();
            loop {
                let chunk = JsFuture::from(reader.read()).await?;
                if js_sys::Reflect::get(&chunk, &"done".into())?.is_truthy() {
                    return Ok(Ok(out));
                }
                let value: js_sys::Uint8Array = js_sys::Reflect::get(&chunk, &"value".into())?.unchecked_into();
                if out.len() + value.length() as usize > limit {
                    let _ = reader.cancel();
                    return Ok(Err(format!("more than {limit} bytes")));
                }
                out.extend(value.to_vec());
            }
        };
        out.await.map_err(|e: JsValue| format!("{e:?}"))?
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod platform {
    use super::Way;

    pub async fn through(way: Way, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
        match way {
            Way::Deflate => Ok(miniz_oxide::deflate::compress_to_vec(data, 9)),
            Way::Inflate => miniz_oxide::inflate::decompress_to_vec_with_limit(data, limit).map_err(|e| e.to_string()),
        }
    }
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

    /// A native future here is ready at once.
    fn now<T>(future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("native DEFLATE is at once"),
        }
    }

    #[test]
    fn a_script_round_trips_through_the_fragment() {
        let source = crate::state::ECHO_EXAMPLE;
        let fragment = encode(source);
        assert!(fragment.len() < source.len(), "compressed: {}", fragment.len());
        assert!(fragment.chars().all(|c| c.is_ascii_alphanumeric() || "=-_".contains(c)));
        assert_eq!(now(decode(&format!("#{fragment}&token=abc"))).as_deref(), Some(source));
        assert_eq!(now(decode("#token=abc")), None);
        assert_eq!(now(decode("#s=!!!")), None);
        // A link that inflates past 1 MiB opens nothing.
        let bomb = encode(&" ".repeat(MAX_SCRIPT + 1));
        assert!(bomb.len() < 4096, "{}", bomb.len());
        assert_eq!(now(decode(&bomb)), None);
        assert_eq!(now(decode(&encode(&" ".repeat(MAX_SCRIPT)))).map(|s| s.len()), Some(MAX_SCRIPT));
        // Share keeps the open lesson.
        let with_lesson = now(link_fragment(source, Some(6))).unwrap();
        assert_eq!((now(decode(&with_lesson)).as_deref(), lesson_from_fragment(&with_lesson)), (Some(source), Some(6)));
        assert_eq!(now(link_fragment(source, None)).unwrap(), fragment);
    }
}
