//! socklab's playground page: a yew app compiled to wasm32 and embedded in the
//! relay by `relay/build.rs`. Everything but the WebSocket glue is plain Rust
//! and tested natively (`cargo test -p socklab-frontend`).

/// Every allocation is counted, so a script's memory limit keeps the tab alive.
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;

pub mod app;
pub mod components;
pub mod diagram;
pub mod examples;
pub mod fetch;
pub mod highlight;
pub mod lanes;
pub mod lesson;
#[cfg(not(target_arch = "wasm32"))]
pub mod lesson_html;
pub mod links;
pub mod plot;
pub mod relay;
pub mod runner;
pub mod share;
pub mod split;
pub mod state;
pub mod timeline;
pub mod transcript;

/// Entry point the wasm-bindgen glue calls when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    install_step_probe();
    yew::Renderer::<app::App>::new().render();
}

/// `window.__socklabSteps(source)`: runs a script without socket calls with
/// the page's runner (`runner::run_alone`), for the interpreter benchmark
/// (`socklab-bench --bin interp`), which times it with `performance.now()`.
/// Gives `"STEPS\nPRINTED"`, or `"error\nWHY"`.
#[cfg(target_arch = "wasm32")]
fn install_step_probe() {
    use wasm_bindgen::JsValue;
    use wasm_bindgen::closure::Closure;
    let probe = Closure::<dyn Fn(String) -> JsValue>::new(|source: String| {
        let answer = match runner::run_alone(&source) {
            Ok((steps, printed)) => format!("{steps}\n{printed}"),
            Err(why) => format!("error\n{why}"),
        };
        JsValue::from_str(&answer)
    });
    if let Some(window) = web_sys::window() {
        // A window that refuses the property only loses the benchmark's hook.
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str("__socklabSteps"), probe.as_ref());
    }
    probe.forget();
}
