//! Deep End in the browser.
//!
//! The simulation lives in `deepend-core` and knows nothing of Yew. [`model`] turns a running
//! simulation into plain data (a `Snapshot`); [`app`] owns it, advances it on animation frames
//! and turns readers' gestures into script actions; the components render snapshots. [`url`]
//! reads and writes links, which hold the whole script.

mod app;
mod chapters;
mod components;
mod fixed;
mod math;
mod model;
mod panic;
#[cfg(test)]
mod tests;
mod url;

fn main() {
    panic::install_hook();
    yew::Renderer::<app::App>::new().render();
}
