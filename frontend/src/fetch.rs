//! Fetching a text file from the relay that served the page.

/// The body of `url` (relative to the page), or why not.
#[cfg(target_arch = "wasm32")]
pub async fn text(url: &str) -> Result<String, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let failed = |e: wasm_bindgen::JsValue| format!("{url}: {}", e.as_string().unwrap_or_else(|| "the request failed".into()));
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url)).await.map_err(failed)?.dyn_into().map_err(failed)?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let body = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?;
    body.as_string().ok_or_else(|| format!("{url}: not text"))
}

/// Native builds (the unit tests) have no page to fetch from.
#[cfg(not(target_arch = "wasm32"))]
pub async fn text(url: &str) -> Result<String, String> {
    Err(format!("{url}: no relay to fetch from"))
}
