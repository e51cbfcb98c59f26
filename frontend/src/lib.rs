//! socklab's playground page: a yew app compiled to wasm32 and embedded in the
//! relay by `relay/build.rs`. Everything but the WebSocket glue is plain Rust
//! and tested natively (`cargo test -p socklab-frontend`).

pub mod app;
pub mod components;
pub mod diagram;
pub mod examples;
pub mod highlight;
pub mod lanes;
pub mod lesson;
pub mod relay;
pub mod runner;
pub mod share;
pub mod state;
pub mod transcript;

/// Entry point the wasm-bindgen glue calls when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
