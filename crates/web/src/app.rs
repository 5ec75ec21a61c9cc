//! The application: owns the running [`Lab`], advances it on animation frames while playing,
//! turns the reader's gestures into script actions, seeks or new runs, and lays out the stage,
//! the controls and the panels.
//!
//! State follows Yew's `function_todomvc`: plain data in [`State`], changed only by
//! [`Msg`]s through a reducer that hands back the same `Rc` when nothing changed. The `Lab`
//! itself is not state (it is neither plain nor cheap to clone): it lives in a `use_mut_ref`,
//! and every change to it is followed by a fresh [`Snapshot`] sent to the reducer.
//!
//! Work happens only when it shows: the animation loop requests frames only while playing, in
//! a visible tab and (embedded) on screen; no timer runs at all.

use crate::chapters;
use crate::components::controls::{Control, Controls, DEFAULT_SPEED, format_speed};
use crate::components::events::Events;
use crate::components::history::HistoryPanel;
use crate::components::inspector::Inspector;
use crate::components::invariants::Invariants;
use crate::components::logs::Logs;
use crate::components::scrubber::Scrubber;
use crate::components::stage::Stage;
use crate::fixed::seconds;
use crate::model::{Lab, Marker, PanelHooks, Part, Snapshot};
use crate::url;
use deepend_core::protocol::Op;
use deepend_core::script::{Action, Header, Script, TimedAction};
use deepend_core::sim::NodeStatus;
use deepend_core::{NodeId, SimTime};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_render::{AnimationFrame, request_animation_frame};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, IntersectionObserver, IntersectionObserverEntry, KeyboardEvent};
use yew::prelude::*;

/// How often each of the panels' parts follows a playing run, in real milliseconds. The stage
/// and the clock follow every frame; logs, events, history and the inspector cannot be read at
/// sixty changes a second, and re-rendering them every frame would cost most of the frame. The
/// parts take turns, at most one a frame, so that no frame renders them all.
const PANEL_REFRESH_MS: f64 = 100.0;

/// How often a part follows a playing run. The scrubber's marks summarise the whole run and
/// the linearizability verdict reads the whole history (a check of ten thousand operations
/// takes a frame's budget and more), so they follow less often.
fn refresh_ms(part: Part) -> f64 {
    match part {
        Part::Markers => 5.0 * PANEL_REFRESH_MS,
        Part::Verdict => 10.0 * PANEL_REFRESH_MS,
        Part::Nodes | Part::Chapter | Part::Events | Part::History => PANEL_REFRESH_MS,
    }
}

/// The most real time one frame may account for: after a long pause between frames (a busy
/// machine, a debugger) the run moves on by this much times the speed, not by minutes.
const MAX_FRAME_MS: f64 = 100.0;

/// Below this speed a playing run's messages stay on the stage long enough to be pointed at
/// (at 1x one crosses a 10-15 ms link in about a frame).
const POINTABLE_BELOW_SPEED: f64 = 1.0;

/// Below this speed a playing run's timer rings turn slowly enough to be watched: at 10x a
/// 150-300 ms election timeout runs out in one or two frames, and the rings would only
/// flicker, redrawing the stage in every frame.
const TIMERS_BELOW_SPEED: f64 = 10.0;

/// The client that the "client write" button speaks for (load clients are numbered from 100).
const MANUAL_CLIENT: u32 = 1;

/// Everything the page shows, as plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// What the page shows: the stage, scrubber and clock the latest; the panels
    /// ([`Snapshot::panels`]) the latest while paused, at most about [`PANEL_REFRESH_MS`] old
    /// while playing.
    pub snapshot: Snapshot,
    pub header: Rc<Header>,
    /// Whether steady client load is on at the current time.
    pub load_on: bool,
    pub playing: bool,
    /// Times real time.
    pub speed: f64,
    pub selected: Option<NodeId>,
    pub selected_message: Option<u32>,
    pub embed: bool,
    /// Embedded, the run waits for the reader to press play once.
    pub started: bool,
    /// The tab is visible.
    pub visible: bool,
    /// The stage is on screen (tracked in embed mode only).
    pub onscreen: bool,
    /// A message for the reader (a damaged link, a refused copy), dismissible.
    pub banner: Option<String>,
    /// The aria-live text: who leads, after a change.
    pub announcement: String,
    /// The leader last announced and its term.
    pub leader: Option<(NodeId, u64)>,
    /// Set when acting after a rewind discarded the old future: when.
    pub branched_at: Option<SimTime>,
    /// What was just copied, for a status line.
    pub copied: Option<&'static str>,
    /// The markers of the furthest point this branch has reached. The model rescans its trace
    /// after a rewind, which stops at the present; the future it had reached is unchanged until
    /// the reader acts, so its markers stay on the scrubber.
    pub markers: Rc<Vec<Marker>>,
    /// The horizon `markers` are spread over ([`Snapshot::markers_horizon`]).
    pub markers_horizon: SimTime,
}

impl State {
    /// Whether animation frames should run.
    pub fn running(&self) -> bool {
        self.playing && self.visible && (!self.embed || (self.started && self.onscreen))
    }

    /// Shows the snapshot's scrubber markers.
    fn adopt_markers(&mut self, snapshot: &Snapshot) {
        self.markers = snapshot.markers.clone();
        self.markers_horizon = snapshot.markers_horizon;
    }

    fn with_snapshot(&self, snapshot: Snapshot, load_on: bool) -> State {
        let mut next = self.clone();
        if snapshot.markers.len() >= self.markers.len() || snapshot.now >= snapshot.horizon {
            next.adopt_markers(&snapshot);
        }
        let leader = current_leader(&snapshot);
        if leader.is_some() && leader != self.leader {
            let (id, term) = leader.unwrap_or_default();
            next.announcement = format!("n{id} is now leader of term {term}");
        }
        next.leader = leader;
        if next
            .selected_message
            .is_some_and(|m| !snapshot.messages.iter().any(|v| v.id == m))
        {
            next.selected_message = None;
        }
        next.snapshot = snapshot;
        next.load_on = load_on;
        next
    }
}

/// The leader of the highest term among running nodes.
fn current_leader(snapshot: &Snapshot) -> Option<(NodeId, u64)> {
    snapshot
        .nodes
        .iter()
        .filter(|n| n.role.leads && n.status == NodeStatus::Up)
        .map(|n| (n.id, n.term))
        .max_by_key(|&(_, term)| term)
}

/// Whether the script's client load is on at `now`.
fn load_on(script: &Script, now: SimTime) -> bool {
    script
        .actions
        .iter()
        .rev()
        .filter(|a| a.at <= now)
        .find_map(|a| match a.action {
            Action::Load { per_sec, clients, keys } => Some(per_sec > 0 && clients > 0 && keys > 0),
            _ => None,
        })
        .unwrap_or(false)
}

pub enum Msg {
    /// The run moved on (or was moved): what it shows now. `pause` stops playing (a violation,
    /// a seek, a step, the pause control).
    Frame {
        snapshot: Snapshot,
        load_on: bool,
        pause: bool,
    },
    /// The reader acted; `branched` if that discarded the old future.
    Acted {
        snapshot: Snapshot,
        load_on: bool,
        branched: Option<SimTime>,
    },
    /// A new run.
    Reset {
        snapshot: Snapshot,
        header: Header,
        load_on: bool,
    },
    /// Play on, and (embedded) count the run as started by its reader. Pausing is a
    /// [`Msg::Frame`] with the exact snapshot, so the panels catch up.
    Play,
    Speed(f64),
    Select(Option<NodeId>),
    SelectMessage(Option<u32>),
    Visible(bool),
    Onscreen(bool),
    Banner(Option<String>),
    DismissBranched,
    Copied(Option<&'static str>),
}

impl Reducible for State {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let next = match msg {
            Msg::Frame {
                snapshot,
                load_on,
                pause,
            } => {
                let mut next = self.with_snapshot(snapshot, load_on);
                next.playing &= !pause;
                // A pause comes from the reader stepping or seeking (or from a violation while
                // playing): either way, an embedded run has been started.
                next.started |= pause;
                next
            }
            Msg::Acted {
                snapshot,
                load_on,
                branched,
            } => {
                let mut next = self.with_snapshot(snapshot.clone(), load_on);
                // A new branch: its markers are the model's, and the old future's are gone.
                next.adopt_markers(&snapshot);
                if branched.is_some() {
                    next.branched_at = branched;
                }
                next.copied = None;
                next
            }
            Msg::Reset {
                snapshot,
                header,
                load_on,
            } => {
                let mut next = self.with_snapshot(snapshot.clone(), load_on);
                next.adopt_markers(&snapshot);
                next.header = Rc::new(header);
                next.branched_at = None;
                next.selected = next.selected.filter(|&n| n <= next.header.nodes);
                next.copied = None;
                next
            }
            Msg::Play => State {
                playing: true,
                started: true,
                ..(*self).clone()
            },
            Msg::Speed(speed) => State {
                speed,
                ..(*self).clone()
            },
            Msg::Select(selected) => State {
                selected,
                ..(*self).clone()
            },
            Msg::SelectMessage(selected_message) => State {
                selected_message,
                ..(*self).clone()
            },
            Msg::Visible(visible) => State {
                visible,
                ..(*self).clone()
            },
            Msg::Onscreen(onscreen) => State {
                onscreen,
                ..(*self).clone()
            },
            Msg::Banner(banner) => State {
                banner,
                ..(*self).clone()
            },
            Msg::DismissBranched => State {
                branched_at: None,
                ..(*self).clone()
            },
            Msg::Copied(copied) => State {
                copied,
                ..(*self).clone()
            },
        };
        // Returning the same Rc tells Yew that nothing changed.
        if next == *self { self } else { Rc::new(next) }
    }
}

// ----- The browser ---------------------------------------------------------------------------

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn location_search() -> String {
    window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Leaves for another page of the lab (another chapter's), without a history entry.
fn open_page(address: &str) {
    if let Some(w) = window() {
        let _ = w.location().replace(address);
    }
}

/// The page's address without its query: where links point.
fn page_address() -> String {
    window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default()
}

/// Replaces the address bar's query (no new history entry).
fn replace_query(query: &str) {
    let Some(w) = window() else { return };
    let path = w.location().pathname().unwrap_or_default();
    if let Ok(history) = w.history() {
        // Only fails for cross-origin URLs, which this is not.
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}")));
    }
}

fn tab_visible() -> bool {
    window().and_then(|w| w.document()).is_none_or(|d| !d.hidden())
}

/// Test hooks: `window.__deepend.frames` counts animation frame callbacks and
/// `window.__deepend.requested` the frames asked for, so a test can check that nothing runs
/// while paused, hidden or off screen.
mod counters {
    use std::cell::{Cell, OnceCell};
    use wasm_bindgen::JsValue;

    thread_local! {
        static OBJECT: OnceCell<js_sys::Object> = const { OnceCell::new() };
        static FRAMES: Cell<u32> = const { Cell::new(0) };
        static REQUESTED: Cell<u32> = const { Cell::new(0) };
    }

    fn publish(key: &str, value: u32) {
        OBJECT.with(|o| {
            let object = o.get_or_init(|| {
                let object = js_sys::Object::new();
                if let Some(w) = web_sys::window() {
                    let _ = js_sys::Reflect::set(&w, &"__deepend".into(), &object);
                }
                object
            });
            let _ = js_sys::Reflect::set(object, &key.into(), &JsValue::from(value));
        });
    }

    pub fn init() {
        publish("frames", FRAMES.get());
        publish("requested", REQUESTED.get());
    }

    pub fn frame() {
        FRAMES.set(FRAMES.get() + 1);
        publish("frames", FRAMES.get());
    }

    pub fn requested() {
        REQUESTED.set(REQUESTED.get() + 1);
        publish("requested", REQUESTED.get());
    }
}

// ----- The animation loop --------------------------------------------------------------------

/// One run of the animation loop, from play to pause. Each frame asks for the next, so the
/// loop holds itself through its pending frame; `stop` drops that frame (cancelling it) and
/// so the loop.
struct Animation {
    lab: Rc<RefCell<Lab>>,
    dispatcher: UseReducerDispatcher<State>,
    speed: Rc<RefCell<f64>>,
    /// Embedded runs leave the address alone.
    embed: bool,
    frame: RefCell<Option<AnimationFrame>>,
    last_ms: Cell<Option<f64>>,
    /// When each of the panels' parts ([`Part::ALL`], in order) was last refreshed.
    parts_ms: Cell<[Option<f64>; Part::ALL.len()]>,
    /// Simulated microseconds owed from earlier frames (below one microsecond).
    carry_us: Cell<f64>,
    stopped: Cell<bool>,
}

impl Animation {
    fn schedule(self: &Rc<Self>) {
        if self.stopped.get() || crate::panic::has_panicked() {
            return;
        }
        let this = self.clone();
        counters::requested();
        *self.frame.borrow_mut() = Some(request_animation_frame(move |ms| this.on_frame(ms)));
    }

    fn stop(&self) {
        self.stopped.set(true);
        self.frame.borrow_mut().take();
    }

    /// The panels' part to refresh in the frame at `ms`: of those due ([`refresh_ms`]), the
    /// one refreshed longest ago (marked as refreshed now). Embedded, the page shows no panels,
    /// so only the scrubber's markers are kept up.
    fn due_part(&self, ms: f64) -> Option<Part> {
        let mut parts_ms = self.parts_ms.get();
        let (i, last) = parts_ms
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| !self.embed || Part::ALL[*i] == Part::Markers)
            .filter(|(i, last)| last.is_none_or(|last| ms - last >= refresh_ms(Part::ALL[*i])))
            .min_by(|a, b| a.1.unwrap_or(f64::MIN).total_cmp(&b.1.unwrap_or(f64::MIN)))?;
        *last = Some(ms);
        self.parts_ms.set(parts_ms);
        Some(Part::ALL[i])
    }

    fn on_frame(self: &Rc<Self>, ms: f64) {
        if self.stopped.get() || crate::panic::has_panicked() {
            return;
        }
        counters::frame();
        let elapsed_ms = self
            .last_ms
            .get()
            .map_or(0.0, |last| (ms - last).clamp(0.0, MAX_FRAME_MS));
        self.last_ms.set(Some(ms));
        let owed_us = elapsed_ms * 1000.0 * *self.speed.borrow() + self.carry_us.get();
        let advance_us = owed_us.floor();
        self.carry_us.set(owed_us - advance_us);

        let part = self.due_part(ms);
        let (snapshot, load, violated) = {
            let mut lab = self.lab.borrow_mut();
            let found = lab.violation_count();
            let target = lab.now().saturating_add_us(advance_us as u64);
            lab.advance_to(target);
            // A safety property broke: stop at the moment it did.
            let violated = lab.violation_time(found);
            if let Some(t) = violated {
                lab.seek(t);
                if !self.embed {
                    replace_query(&url::format(lab.script(), Some(t), false));
                }
            }
            // A violation pauses the run, so its snapshot is exact.
            let snapshot = if violated.is_some() {
                lab.snapshot()
            } else {
                lab.frame_snapshot(part)
            };
            (snapshot, load_on(lab.script(), lab.now()), violated.is_some())
        };
        self.dispatcher.dispatch(Msg::Frame {
            snapshot,
            load_on: load,
            pause: violated,
        });
        if !violated {
            self.schedule();
        }
    }
}

// ----- The component -------------------------------------------------------------------------

/// What the page opens with, read from the address once.
struct Boot {
    lab: RefCell<Option<Lab>>,
    state: RefCell<Option<State>>,
}

fn boot() -> Boot {
    let search = location_search();
    let (link, problem) = match url::parse(&search) {
        url::Parsed::Here { link, problem } => (link, problem),
        url::Parsed::Elsewhere { page } => {
            // Another chapter's link (an old `/?c=paxos...` one, say): its page runs it.
            open_page(&format!("{page}{search}"));
            let link = url::Link {
                script: url::default_script(),
                time: None,
                embed: false,
            };
            (link, None)
        }
    };
    let mut lab = Lab::new(&link.script).unwrap_or_else(|_| {
        // `url::parse` only hands out scripts that open; the default always does.
        Lab::new(&url::default_script()).expect("the default scenario is a valid run")
    });
    if let Some(t) = link.time {
        lab.advance_to(t);
    }
    if problem.is_some() {
        // Keep what is shown, not the damage: a reload must not show the message again.
        replace_query(&if link.script == url::default_script() && link.time.is_none() {
            if link.embed {
                "?embed=1".to_string()
            } else {
                String::new()
            }
        } else {
            url::format(&link.script, link.time, link.embed)
        });
    }
    let snapshot = lab.snapshot();
    let state = State {
        header: Rc::new(lab.header().clone()),
        load_on: load_on(lab.script(), lab.now()),
        // A link to a moment opens paused there; the full app otherwise starts playing; an
        // embedded run waits for its reader.
        playing: !link.embed && link.time.is_none(),
        speed: DEFAULT_SPEED,
        selected: None,
        selected_message: None,
        embed: link.embed,
        started: false,
        visible: tab_visible(),
        onscreen: true,
        banner: problem,
        announcement: String::new(),
        leader: current_leader(&snapshot),
        branched_at: None,
        copied: None,
        markers: snapshot.markers.clone(),
        markers_horizon: snapshot.markers_horizon,
        snapshot,
    };
    Boot {
        lab: RefCell::new(Some(lab)),
        state: RefCell::new(Some(state)),
    }
}

/// Copies `text`, then reports how it went.
fn copy(text: String, what: &'static str, dispatcher: UseReducerDispatcher<State>) {
    let Some(clipboard) = window().map(|w| w.navigator().clipboard()) else {
        return;
    };
    let promise = clipboard.write_text(&text);
    yew::platform::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => dispatcher.dispatch(Msg::Copied(Some(what))),
            Err(_) => dispatcher.dispatch(Msg::Banner(Some(format!(
                "The browser refused to copy. Here it is to copy by hand: {text}"
            )))),
        }
    });
}

/// Carries out a control. Reads the lab and the state as they are now.
fn run_control(control: Control, lab: &Rc<RefCell<Lab>>, state: &State, dispatcher: &UseReducerDispatcher<State>) {
    if crate::panic::has_panicked() {
        return;
    }
    let seek_msg = |lab: &mut Lab| Msg::Frame {
        snapshot: lab.snapshot(),
        load_on: load_on(lab.script(), lab.now()),
        pause: true,
    };
    let embed = state.embed;
    // The address keeps the script, and the time while paused.
    let sync_url = move |lab: &Lab, paused: bool| {
        if !embed {
            replace_query(&url::format(lab.script(), paused.then(|| lab.now()), false));
        }
    };
    match control {
        Control::TogglePlay if embed && !state.started => dispatcher.dispatch(Msg::Play),
        Control::TogglePlay => {
            let mut lab = lab.borrow_mut();
            sync_url(&lab, state.playing);
            dispatcher.dispatch(if state.playing { seek_msg(&mut lab) } else { Msg::Play });
        }
        Control::StepForward | Control::StepBack => {
            let mut lab = lab.borrow_mut();
            if control == Control::StepForward {
                lab.step_forward();
            } else {
                lab.step_back();
            }
            sync_url(&lab, true);
            dispatcher.dispatch(seek_msg(&mut lab));
        }
        Control::Speed(speed) => dispatcher.dispatch(Msg::Speed(speed)),
        Control::Reset => {
            let script = lab.borrow().script().clone();
            let mut actions = Vec::new();
            if load_on(&script, lab.borrow().now()) {
                actions.push(TimedAction {
                    at: SimTime::ZERO,
                    action: url::DEFAULT_LOAD,
                });
            }
            new_run(
                Script {
                    header: script.header,
                    actions,
                },
                lab,
                state,
                dispatcher,
            );
        }
        Control::NewRun(header) => {
            // Parameters change the run from its start; the reader's actions go, the client
            // load (if on) stays, so that logs keep growing.
            let mut actions = Vec::new();
            if state.load_on {
                actions.push(TimedAction {
                    at: SimTime::ZERO,
                    action: url::DEFAULT_LOAD,
                });
            }
            let script = Script { header, actions };
            if chapters::here(&script.header.protocol) {
                new_run(script, lab, state, dispatcher);
            } else {
                open_page(&format!(
                    "{}{}",
                    url::page_of(&script.header.protocol),
                    url::format(&script, None, false)
                ));
            }
        }
        Control::Act(action) => act(action, lab, state, dispatcher),
        Control::ClientRequest => {
            let random = |n: f64| (js_sys::Math::random() * n) as u64;
            let op = Op::Write {
                key: random(3.0) as u32,
                value: 1 + random(999.0),
            };
            let node = current_leader(&state.snapshot).map(|(id, _)| id);
            act(
                Action::Request {
                    client: MANUAL_CLIENT,
                    op,
                    node,
                },
                lab,
                state,
                dispatcher,
            );
        }
        Control::SetLoad(on) => {
            let action = if on {
                url::DEFAULT_LOAD
            } else {
                Action::Load {
                    per_sec: 0,
                    clients: 0,
                    keys: 0,
                }
            };
            act(action, lab, state, dispatcher);
        }
        Control::CopyLink => {
            let lab = lab.borrow();
            let link = format!(
                "{}{}",
                page_address(),
                url::format(lab.script(), Some(lab.now()), false)
            );
            copy(link, "link copied", dispatcher.clone());
        }
        Control::CopyEmbed => {
            let snippet = url::embed_snippet(&page_address(), lab.borrow().script());
            copy(snippet, "embed snippet copied", dispatcher.clone());
        }
    }
}

fn act(action: Action, lab: &Rc<RefCell<Lab>>, state: &State, dispatcher: &UseReducerDispatcher<State>) {
    let mut lab = lab.borrow_mut();
    let now = lab.now();
    let branched = (now < lab.horizon()).then_some(now);
    lab.act(action);
    if !state.embed {
        replace_query(&url::format(lab.script(), (!state.playing).then(|| lab.now()), false));
    }
    let load = load_on(lab.script(), lab.now());
    dispatcher.dispatch(Msg::Acted {
        snapshot: lab.snapshot(),
        load_on: load,
        branched,
    });
}

fn new_run(script: Script, lab: &Rc<RefCell<Lab>>, state: &State, dispatcher: &UseReducerDispatcher<State>) {
    match Lab::new(&script) {
        Ok(fresh) => {
            let mut lab = lab.borrow_mut();
            *lab = fresh;
            if !state.embed {
                replace_query(&url::format(lab.script(), (!state.playing).then(|| lab.now()), false));
            }
            dispatcher.dispatch(Msg::Reset {
                snapshot: lab.snapshot(),
                header: script.header,
                load_on: load_on(lab.script(), lab.now()),
            });
        }
        Err(e) => dispatcher.dispatch(Msg::Banner(Some(format!("Those parameters cannot run: {e}.")))),
    }
}

fn seek(t: SimTime, lab: &Rc<RefCell<Lab>>, state: &State, dispatcher: &UseReducerDispatcher<State>) {
    if crate::panic::has_panicked() {
        return;
    }
    let mut lab = lab.borrow_mut();
    let t = t.min(lab.horizon());
    lab.seek(t);
    if !state.embed {
        replace_query(&url::format(lab.script(), Some(lab.now()), false));
    }
    let load = load_on(lab.script(), lab.now());
    dispatcher.dispatch(Msg::Frame {
        snapshot: lab.snapshot(),
        load_on: load,
        pause: true,
    });
}

/// The keyboard shortcuts, unless the reader is typing or a control handles the key itself.
fn shortcut(e: &KeyboardEvent, started: bool) -> Option<Control> {
    if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() {
        return None;
    }
    let target: Option<HtmlElement> = e.target().and_then(|t| t.dyn_into().ok());
    let tag = target
        .as_ref()
        .map(|t| t.tag_name().to_ascii_uppercase())
        .unwrap_or_default();
    // A slider has no use for Space: it still plays and pauses there (its arrows are its own).
    let on_slider = target
        .as_ref()
        .is_some_and(|t| t.get_attribute("type").as_deref() == Some("range"));
    if on_slider {
        return (e.key() == " ").then_some(Control::TogglePlay);
    }
    if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA") || target.is_some_and(|t| t.is_content_editable()) {
        return None;
    }
    match e.key().as_str() {
        // Space on a button presses that button.
        " " if matches!(tag.as_str(), "BUTTON" | "A" | "SUMMARY") => None,
        " " => Some(Control::TogglePlay),
        "ArrowRight" if started => Some(Control::StepForward),
        "ArrowLeft" if started => Some(Control::StepBack),
        _ => None,
    }
}

/// Every callback the page hands down, made once so that components whose props did not change
/// are not re-rendered (a `Callback` compares by identity). They read the state as of the latest
/// render through `latest`.
#[derive(Clone)]
struct Handlers {
    on_control: Callback<Control>,
    /// What a chapter's panel may do (given to it as a context).
    hooks: PanelHooks,
    on_action: Callback<Action>,
    on_select: Callback<Option<NodeId>>,
    on_select_message: Callback<Option<u32>>,
    on_seek: Callback<SimTime>,
    on_jump: Callback<usize>,
    dismiss_banner: Callback<MouseEvent>,
    dismiss_branched: Callback<MouseEvent>,
    start: Callback<MouseEvent>,
}

type Latest = Rc<RefCell<Option<UseReducerHandle<State>>>>;
/// Something to do with the lab, the latest state and the dispatcher.
type Job<'a> = &'a dyn Fn(&Rc<RefCell<Lab>>, &State, &UseReducerDispatcher<State>);

impl Handlers {
    fn new(lab: Rc<RefCell<Lab>>, dispatcher: UseReducerDispatcher<State>, latest: Latest) -> Self {
        // Runs `f` with the lab, the latest state and the dispatcher, unless a panic happened.
        let with = {
            let (lab, dispatcher, latest) = (lab.clone(), dispatcher.clone(), latest.clone());
            move |f: Job| {
                if crate::panic::has_panicked() {
                    return;
                }
                let state = latest.borrow().clone();
                if let Some(state) = state {
                    f(&lab, &state, &dispatcher);
                }
            }
        };
        let on_control = {
            let with = with.clone();
            Callback::from(move |control: Control| {
                with(&|lab, state, dispatcher| run_control(control.clone(), lab, state, dispatcher))
            })
        };
        let on_action = {
            let with = with.clone();
            Callback::from(move |a: Action| with(&|lab, state, dispatcher| act(a.clone(), lab, state, dispatcher)))
        };
        let on_seek = {
            let with = with.clone();
            Callback::from(move |t: SimTime| with(&|lab, state, dispatcher| seek(t, lab, state, dispatcher)))
        };
        let on_script = {
            let with = with.clone();
            Callback::from(move |script: Script| {
                with(&|lab, state, dispatcher| new_run(script.clone(), lab, state, dispatcher))
            })
        };
        let hooks = PanelHooks {
            on_action: on_action.clone(),
            on_seek: on_seek.clone(),
            on_script,
        };
        let on_jump = {
            let on_seek = on_seek.clone();
            Callback::from(move |index: usize| {
                let time = lab.borrow().event_time(index);
                if let Some(t) = time {
                    on_seek.emit(t);
                }
            })
        };
        let send = |msg: fn(Option<u32>) -> Msg| {
            let dispatcher = dispatcher.clone();
            Callback::from(move |x: Option<u32>| dispatcher.dispatch(msg(x)))
        };
        let on_select_message = send(Msg::SelectMessage);
        let on_select = {
            let dispatcher = dispatcher.clone();
            Callback::from(move |n: Option<NodeId>| dispatcher.dispatch(Msg::Select(n)))
        };
        let click = |msg: fn() -> Msg| {
            let dispatcher = dispatcher.clone();
            Callback::from(move |_: MouseEvent| dispatcher.dispatch(msg()))
        };
        Handlers {
            on_control,
            hooks,
            on_action,
            on_select,
            on_select_message,
            on_seek,
            on_jump,
            dismiss_banner: click(|| Msg::Banner(None)),
            dismiss_branched: click(|| Msg::DismissBranched),
            start: click(|| Msg::Play),
        }
    }
}

#[function_component]
pub fn App() -> Html {
    let booted = use_memo((), |_| boot());
    let lab = use_mut_ref(|| booted.lab.borrow_mut().take().expect("booted once"));
    let state = use_reducer(|| booted.state.borrow_mut().take().expect("booted once"));
    let dispatcher = state.dispatcher();
    // Shared with the animation loop, so that a new speed does not restart it.
    let speed = use_mut_ref(|| state.speed);
    speed.replace(state.speed);
    let stage_ref = use_node_ref();

    // The state as of the latest render, for handlers made once.
    let latest = use_mut_ref(|| None::<UseReducerHandle<State>>);
    latest.replace(Some(state.clone()));
    let handlers = {
        let (lab, dispatcher, latest) = (lab.clone(), dispatcher.clone(), latest.clone());
        use_memo((), move |_| Handlers::new(lab, dispatcher, latest))
    };

    // The animation loop runs exactly while `running`.
    {
        let (lab, dispatcher, speed) = (lab.clone(), dispatcher.clone(), speed.clone());
        let embed = state.embed;
        use_effect_with(state.running(), move |&running| {
            counters::init();
            let animation = running.then(|| {
                let animation = Rc::new(Animation {
                    lab,
                    dispatcher,
                    speed,
                    embed,
                    frame: RefCell::new(None),
                    last_ms: Cell::new(None),
                    parts_ms: Cell::new([None; Part::ALL.len()]),
                    carry_us: Cell::new(0.0),
                    stopped: Cell::new(false),
                });
                animation.schedule();
                animation
            });
            move || {
                if let Some(a) = animation {
                    a.stop();
                }
            }
        });
    }
    // Keyboard shortcuts and tab visibility.
    {
        let (on_control, dispatcher) = (handlers.on_control.clone(), dispatcher.clone());
        let started = !state.embed || state.started;
        use_effect_with(started, move |&started| {
            let document = window().and_then(|w| w.document());
            let keys = window().map(|w| {
                let options = EventListenerOptions::enable_prevent_default();
                EventListener::new_with_options(&w, "keydown", options, move |e| {
                    if crate::panic::has_panicked() {
                        return;
                    }
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                    if let Some(control) = shortcut(e, started) {
                        e.prevent_default();
                        on_control.emit(control);
                    }
                })
            });
            let visibility = document.map(|d| {
                EventListener::new(&d, "visibilitychange", move |_| {
                    dispatcher.dispatch(Msg::Visible(tab_visible()))
                })
            });
            move || drop((keys, visibility))
        });
    }

    // Embedded, the run rests while its stage is off screen.
    {
        let (dispatcher, stage_ref) = (dispatcher.clone(), stage_ref.clone());
        use_effect_with(state.embed, move |&embed| {
            let observer = embed.then(|| observe_onscreen(&stage_ref, dispatcher)).flatten();
            move || {
                if let Some((observer, _closure)) = observer {
                    observer.disconnect();
                }
            }
        });
    }

    let s = &*state;
    let snapshot = &s.snapshot;
    let Handlers {
        on_control,
        hooks,
        on_action,
        on_select,
        on_select_message,
        on_seek,
        on_jump,
        dismiss_banner,
        dismiss_branched,
        start,
    } = (*handlers).clone();

    let ui = chapters::stage_ui(&s.header.protocol);
    let stage = html! {
        <Stage nodes={snapshot.nodes.clone()} islands={snapshot.islands.clone()} cuts={snapshot.cuts.clone()}
               {ui}
               messages={snapshot.messages.clone()} drops={snapshot.drops.clone()}
               selected={s.selected} selected_message={s.selected_message}
               pointable={!s.playing || s.speed < POINTABLE_BELOW_SPEED}
               timers={!s.playing || s.speed < TIMERS_BELOW_SPEED}
               on_action={on_action.clone()} on_select={on_select.clone()}
               on_select_message={on_select_message.clone()} />
    };
    let scrubber = html! {
        <Scrubber now={snapshot.now} horizon={snapshot.horizon} markers={s.markers.clone()}
                  markers_horizon={s.markers_horizon} on_seek={on_seek.clone()} />
    };
    let clock = html! {
        <p class="clock">
            <span class="label-text">{ "simulated time " }</span>
            <output data-sim-time-us={snapshot.now.as_us().to_string()}>
                { seconds(snapshot.now.as_us()) }
            </output>
            <span class="muted">{ format!(" at {}", format_speed(s.speed)) }</span>
        </p>
    };
    let live = html! { <p class="sr-only" aria-live="polite" role="status">{ s.announcement.clone() }</p> };
    let banner = s.banner.as_ref().map(|text| {
        html! {
            <div class="banner" role="alert">
                <p>{ text.clone() }</p>
                <button type="button" onclick={dismiss_banner} aria-label="Dismiss this message">{ "✕" }</button>
            </div>
        }
    });
    let branched = s.branched_at.map(|t| {
        html! {
            <p class="branched" role="status">
                { format!("Branched at {}: the old future was discarded.", seconds(t.as_us())) }
                <button type="button" onclick={dismiss_branched} aria-label="Dismiss">{ "✕" }</button>
            </p>
        }
    });
    let controls = |compact: bool, open_href: Option<AttrValue>| {
        html! {
            <Controls playing={s.playing} speed={s.speed} header={s.header.clone()} latency_us={snapshot.latency_us}
                      loss_ppm={snapshot.loss_ppm} load_on={s.load_on} copied={s.copied.map(AttrValue::from)}
                      {compact} {open_href} on_control={on_control.clone()} />
        }
    };

    if s.embed {
        let open_href = {
            let lab = lab.borrow();
            let paused_at = (!s.playing && lab.now() > SimTime::ZERO).then(|| lab.now());
            format!("{}{}", page_address(), url::format(lab.script(), paused_at, false))
        };
        return html! {
            <div class="app embed" data-running={s.running().to_string()}>
                { live }
                { for banner }
                <div class="stage-wrap" ref={stage_ref}>
                    // Until the reader starts the run, the play button is the stage's only
                    // control: it comes first and the stage beneath is inert.
                    if !s.started {
                        <div class="embed-start">
                            <button type="button" class="embed-play" onclick={start}>
                                <span aria-hidden="true">{ "▶ " }</span>{ "Play" }
                            </button>
                            <p>{ format!("{}, {} nodes: press play to start.", url::label(&s.header), s.header.nodes) }</p>
                        </div>
                    }
                    <div class="stage-inner" inert={!s.started}>{ stage }</div>
                </div>
                <div class="embed-strip">
                    { controls(true, Some(open_href.into())) }
                    { scrubber }
                    { clock }
                </div>
            </div>
        };
    }

    let panels = &s.snapshot.panels;
    let h = &s.header;
    let variant = crate::components::controls::setting(h, "variant").unwrap_or("correct");
    html! {
        <div class="app" data-running={s.running().to_string()}>
            { live }
            <header class="app-header">
                <h1>{ "Deep End" }</h1>
                <p class="subtitle">
                    { format!("{}, {} nodes, seed {}", url::label(h), h.nodes, h.seed) }
                    if variant != "correct" {
                        <span class="variant-chip">{ format!(" · broken variant: {variant}") }</span>
                    }
                </p>
                { clock }
            </header>
            { for banner }
            <main class="lab-grid">
                <section class="stage-area" aria-label="The cluster and its controls">
                    <div class="stage-wrap" ref={stage_ref}>{ stage }</div>
                    { scrubber }
                    { for branched }
                    { controls(false, None) }
                </section>
                if let Some(panel) = panels.chapter.clone() {
                    <section class="chapter-panel" aria-label="This chapter's views">
                        <ContextProvider<PanelHooks> context={hooks}>{ panel }</ContextProvider<PanelHooks>>
                    </section>
                }
                <div class="side">
                    <Inspector nodes={panels.nodes.clone()} selected={s.selected} messages={panels.messages.clone()}
                               selected_message={s.selected_message} on_action={on_action.clone()} />
                    <Invariants properties={panels.properties.clone()} {on_jump} />
                    // A chapter without clients (clocks, generals, transactions) has no history.
                    if ui.clients {
                        <HistoryPanel history={panels.history.clone()} total={panels.history_total} verdict={panels.verdict.clone()} />
                    }
                </div>
                <div class="below">
                    if ui.logs {
                        <Logs nodes={panels.nodes.clone()} selected={s.selected} />
                    }
                    <Events events={panels.events.clone()} on_seek={on_seek} />
                </div>
            </main>
        </div>
    }
}

/// Watches whether the stage is on screen; the closure must live as long as the observer.
#[allow(clippy::type_complexity)]
fn observe_onscreen(
    stage_ref: &NodeRef,
    dispatcher: UseReducerDispatcher<State>,
) -> Option<(
    IntersectionObserver,
    Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>,
)> {
    let element = stage_ref.cast::<Element>()?;
    let closure = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
        move |entries: js_sys::Array, _: IntersectionObserver| {
            let last = entries
                .iter()
                .last()
                .and_then(|e| e.dyn_into::<IntersectionObserverEntry>().ok());
            if let Some(entry) = last {
                dispatcher.dispatch(Msg::Onscreen(entry.is_intersecting()));
            }
        },
    );
    let observer = IntersectionObserver::new(closure.as_ref().unchecked_ref()).ok()?;
    observer.observe(&element);
    Some((observer, closure))
}
