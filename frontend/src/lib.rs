//! socklab's playground page: a yew app compiled to wasm32 and embedded in the
//! relay by `relay/build.rs`. The relay parses and runs the scripts
//! (`socklab_run`); the page edits them and shows what happened. Everything
//! but the WebSocket glue is plain Rust and tested natively
//! (`cargo test -p socklab-frontend`).

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
pub mod num;
pub mod plot;
pub mod relay;
pub mod share;
pub mod split;
pub mod state;
pub mod timeline;

/// Entry point the wasm-bindgen glue calls when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        let shared = share::decode(&app::fragment()).await;
        yew::Renderer::<app::App>::with_props(app::AppProps { shared }).render();
    });
}
