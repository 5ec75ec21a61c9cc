//! Deep End in the browser.
//!
//! The simulation lives in `deepend-core` and knows nothing of Yew; this crate drives it with a
//! timer and renders what it shows, in the manner of Yew's `game_of_life` example: [`lab`] is
//! the model, [`app`] owns it and the timer, [`ring`] draws the cluster.

mod app;
mod lab;
mod panic;
mod ring;

fn main() {
    panic::install_hook();
    yew::Renderer::<app::App>::new().render();
}
