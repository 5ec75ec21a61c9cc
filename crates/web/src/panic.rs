//! A panic shows on the page, not only in the console: the stage stops updating, so the reader
//! must be told why and offered a way out. The way out drops the link's script: if the link
//! itself leads to the panic, reloading it would only panic again.

use std::sync::atomic::{AtomicBool, Ordering};

const OVERLAY_ID: &str = "panic-overlay";

static PANICKED: AtomicBool = AtomicBool::new(false);

/// Logs panics to the console with their message and location (console_error_panic_hook), then
/// covers the page with the message and a reload button. Yew's renderer replaces any hook set
/// with `std::panic::set_hook` by its own, hence `yew::set_custom_panic_hook`.
pub fn install_hook() {
    yew::set_custom_panic_hook(Box::new(|info| {
        PANICKED.store(true, Ordering::Relaxed);
        console_error_panic_hook::hook(info);
        show_overlay(&info.to_string());
    }));
}

/// Whether a panic has happened. With `panic = "abort"` nothing unwinds, so state that was
/// borrowed at the time stays borrowed: callbacks should not touch it again.
pub fn has_panicked() -> bool {
    PANICKED.load(Ordering::Relaxed)
}

fn show_overlay(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    // The first panic is the one that matters; later ones are usually its echoes.
    if document.get_element_by_id(OVERLAY_ID).is_some() {
        return;
    }
    // Nothing more can be done if the DOM refuses; the console already has the message.
    let _ = build_overlay(&document, message);
}

fn build_overlay(document: &web_sys::Document, message: &str) -> Result<(), wasm_bindgen::JsValue> {
    let overlay = document.create_element("div")?;
    overlay.set_id(OVERLAY_ID);
    overlay.set_class_name("panic-overlay");
    overlay.set_attribute("role", "alertdialog")?;
    overlay.set_attribute("aria-labelledby", "panic-title")?;
    overlay.set_attribute("data-panic", "")?;

    let title = document.create_element("h2")?;
    title.set_id("panic-title");
    title.set_text_content(Some("Deep End stopped"));
    let explanation = document.create_element("p")?;
    explanation.set_text_content(Some(
        "The simulation hit a bug and cannot go on. Reset opens the default scenario (the link's own script is dropped, in case it is what went wrong).",
    ));
    let details = document.create_element("pre")?;
    details.set_text_content(Some(message));
    let reload = document.create_element("button")?;
    reload.set_attribute("type", "button")?;
    // Plain JavaScript: after a panic the wasm module must not be entered again. Embed mode
    // stays embedded.
    reload.set_attribute(
        "onclick",
        "location.replace(location.pathname + (/[?&]embed=1/.test(location.search) ? '?embed=1' : ''))",
    )?;
    reload.set_attribute("data-panic-reset", "")?;
    reload.set_text_content(Some("Reset to the default scenario"));

    for child in [&title, &explanation, &details, &reload] {
        overlay.append_child(child)?;
    }
    let parent = document
        .body()
        .map(web_sys::Node::from)
        .or_else(|| document.document_element().map(Into::into));
    if let Some(parent) = parent {
        parent.append_child(&overlay)?;
    }
    // Keyboard readers land on the way out.
    if let Some(button) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&reload) {
        button.focus()?;
    }
    Ok(())
}
