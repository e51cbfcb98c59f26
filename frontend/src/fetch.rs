//! Fetching text from the relay that served the page.

/// The body of `url` (relative to the page), or why not.
#[cfg(target_arch = "wasm32")]
pub async fn text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    answer(url, window.fetch_with_str(url)).await
}

/// The relay's answer to `body` POSTed to `url` (relative to the page), with
/// `token` as its bearer token; else why not (an HTTP error's status and body).
#[cfg(target_arch = "wasm32")]
pub async fn post_text(url: &str, body: &str, token: Option<&str>) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let failed = failed(url);
    let headers = web_sys::Headers::new().map_err(failed)?;
    if let Some(token) = token {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(failed)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    answer(url, window.fetch_with_str_and_init(url, &init)).await
}

/// The body of the response `request` resolves to, or why not.
#[cfg(target_arch = "wasm32")]
async fn answer(url: &str, request: js_sys::Promise) -> Result<String, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let failed = failed(url);
    let response: web_sys::Response = JsFuture::from(request).await.map_err(failed)?.dyn_into().map_err(failed)?;
    let body = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?;
    let body = body.as_string().ok_or_else(|| format!("{url}: not text"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}: {}", response.status(), body.trim_end()));
    }
    Ok(body)
}

/// A JavaScript error about `url`, as text.
#[cfg(target_arch = "wasm32")]
fn failed(url: &str) -> impl Fn(wasm_bindgen::JsValue) -> String + Copy + '_ {
    move |e| format!("{url}: {}", e.as_string().unwrap_or_else(|| "the request failed".into()))
}

/// Native builds (the unit tests) have no page to fetch from.
#[cfg(not(target_arch = "wasm32"))]
pub async fn text(url: &str) -> Result<String, String> {
    Err(format!("{url}: no relay to fetch from"))
}

/// Native builds (the unit tests) have no relay to post to.
#[cfg(not(target_arch = "wasm32"))]
pub async fn post_text(url: &str, _body: &str, _token: Option<&str>) -> Result<String, String> {
    Err(format!("{url}: no relay to post to"))
}
