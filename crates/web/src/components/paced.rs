//! A view's pace when the run outpaces reading: at 100x nine nodes make thousands of events a
//! second, so a list of the latest lines, a table of clocks or a diagram of the latest events
//! would change completely at every refresh. Redrawn ten times a second, it is a blur that
//! costs a frame layout and paint each time; redrawn twice a second, it stays still long
//! enough to be read, and its cost falls on two frames a second.

use gloo_timers::callback::Timeout;
use std::rc::Rc;
use yew::prelude::*;

/// How often at most a paced view redraws while the run outpaces it.
pub const REDRAW_MS: u32 = 500;

/// What a paced view shows, since when, and the timer of its next redraw.
struct Pace<T> {
    shown: Option<Rc<T>>,
    at: f64,
    timer: Option<Timeout>,
}

/// What a view draws of its `latest` data: `latest` itself, unless the run outpaces reading
/// (`outpaced(shown, latest)`: too much arrived since what the view shows), in which case the
/// view keeps what it shows until [`REDRAW_MS`] have passed since it last drew, and a timer
/// then draws the latest, even if the run has stopped in between.
#[hook]
pub fn use_paced<T: 'static>(latest: &Rc<T>, outpaced: fn(&T, &T) -> bool) -> Rc<T> {
    let pace = use_mut_ref(|| Pace {
        shown: None,
        at: 0.0,
        timer: None,
    });
    let redraw = use_force_update();
    let mut p = pace.borrow_mut();
    let now = js_sys::Date::now();
    let wait = f64::from(REDRAW_MS) - (now - p.at);
    if let Some(shown) = p.shown.clone()
        && wait > 0.0
        && outpaced(&shown, latest)
    {
        if p.timer.is_none() {
            let pace = pace.clone();
            p.timer = Some(Timeout::new(wait as u32, move || {
                pace.borrow_mut().timer = None;
                redraw.force_update();
            }));
        }
        return shown;
    }
    p.shown = Some(latest.clone());
    p.at = now;
    p.timer = None;
    latest.clone()
}
