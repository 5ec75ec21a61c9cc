//! The clocks chapter's panel: the space-time diagram, the relation of two picked events, the
//! Lamport pairs that order concurrent events, and the clock table.
//!
//! The diagram draws the latest [`SHOWN`] events of the monitor's record in blocks of
//! [`BLOCK`]; a full block's data is built once and kept (`CACHE`), so while the run plays
//! only the newest block and the panel's small parts re-render, and the diagram's SVG is
//! touched only when events arrive. x is true (simulated) time or each node's wall clock at a
//! fixed scale, so that old blocks never move.

use super::{software_clock, wall_text};
use crate::components::inspector::format_offset;
use crate::components::paced::use_paced;
use deepend_core::clocks::monitor::{AMBIGUOUS, MISORDERS, Recorded};
use deepend_core::clocks::{Clocks, Kind, vc_less, vc_text};
use deepend_core::protocol::{Monitor as _, Protocol as _};
use deepend_core::sim::{NodeStatus, Sim};
use deepend_core::{NodeId, SimTime};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, IdleRequestOptions};
use yew::prelude::*;

/// How many of the latest events the diagram shows.
pub const SHOWN: usize = 2_000;
/// Events per block of the diagram.
const BLOCK: usize = 100;
/// While more than this many events arrive between two refreshes of the panel, the run
/// outpaces reading, and the panel is paced ([`use_paced`]): at 100x nine nodes make some
/// 3,000 events a second, so the 2,000 shown turn over more than once a second and every
/// number of the clock table changes at every refresh (laying the table out again costs half
/// a millisecond).
const FOLLOW: usize = 2 * BLOCK;
/// The longest a block out of view waits for the browser to be idle before it is drawn.
const IDLE_WITHIN_MS: u32 = 1_000;
/// How far beyond the view, at least, a new block is drawn at once.
const MIN_SPARE: i64 = 800;
const ROW_H: i64 = 46;
const TOP: i64 = 26;
const LEFT: i64 = 34;

/// An event as the diagram draws it, with where its message was sent from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    pub index: u32,
    pub e: Recorded,
    /// For a receive: the send's node, true time and wall clock.
    pub send: Option<(NodeId, SimTime, i64)>,
}

/// A block of events; equal when it is the same block (full blocks are shared).
#[derive(Clone, Debug)]
pub struct Block(pub Rc<[Dot]>);

impl PartialEq for Block {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

thread_local! {
    /// Full blocks built so far, by block number.
    static CACHE: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One node's clock, for the clock table.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockRow {
    pub id: NodeId,
    pub up: bool,
    pub server: bool,
    pub wall: i64,
    pub offset_us: i64,
    pub drift_ppm: i32,
    /// The last NTP step and round trip.
    pub sync: Option<(i64, i64)>,
}

/// What the panel shows, rebuilt with the node views.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelData {
    pub n: u8,
    /// The blocks that hold the latest [`SHOWN`] events.
    pub blocks: Vec<Block>,
    pub total: usize,
    /// The first event of `blocks`.
    pub first_kept: usize,
    pub misorders: u64,
    pub ambiguous: u64,
    pub clocks: Vec<ClockRow>,
    pub now: SimTime,
}

fn dot(sim: &Sim<Clocks>, index: usize) -> Dot {
    let events = sim.monitor().events();
    let e = events[index];
    let send = e.from.map(|f| {
        let s = events[f as usize];
        (s.node, s.time, s.wall)
    });
    Dot {
        index: index as u32,
        e,
        send,
    }
}

/// The panel's data for `sim` now.
pub fn data(sim: &Sim<Clocks>) -> PanelData {
    let monitor = sim.monitor();
    let total = monitor.events().len();
    let first_kept = total.saturating_sub(SHOWN) / BLOCK * BLOCK;
    let blocks = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        (first_kept / BLOCK..total.div_ceil(BLOCK))
            .map(|b| {
                let range = b * BLOCK..(b * BLOCK + BLOCK).min(total);
                let full = range.len() == BLOCK;
                if full
                    && let Some(Block(cached)) = cache.get(b)
                    && cached.last().map(|d| d.e) == monitor.events().get(range.end - 1).copied()
                    && cached.first().map(|d| d.e) == monitor.events().get(range.start).copied()
                {
                    return Block(cached.clone());
                }
                let block = Block(range.map(|i| dot(sim, i)).collect());
                if full {
                    if cache.len() <= b {
                        cache.resize(b + 1, Block(Rc::from(Vec::new())));
                    }
                    cache[b] = block.clone();
                }
                block
            })
            .collect()
    });
    let counts = monitor.counts();
    let count = |name: &str| counts.iter().find(|(k, _)| *k == name).map_or(0, |c| c.1);
    let clocks = (1..=sim.node_count())
        .map(|id| {
            let node = sim.node(id);
            let (offset_us, drift_ppm) = software_clock(sim, id);
            ClockRow {
                id,
                up: sim.status(id) != NodeStatus::Crashed,
                server: node.is_some_and(|c| c.is_server() && c.role().name == "time server"),
                wall: node.map_or(0, |c| c.wall_at(sim.local_now_us(id))),
                offset_us,
                drift_ppm,
                sync: node.and_then(|c| c.last_sync()).map(|s| (s.step_us, s.rtt_us)),
            }
        })
        .collect();
    PanelData {
        n: sim.node_count(),
        blocks,
        total,
        first_kept,
        misorders: count(MISORDERS),
        ambiguous: count(AMBIGUOUS),
        clocks,
        now: sim.now(),
    }
}

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub data: Rc<PanelData>,
}

/// The x axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    True,
    Wall,
}

/// Pixels per second of each zoom step.
const ZOOMS: [i64; 5] = [25, 100, 400, 1_600, 6_400];

/// A picked event's cone relative to the first pick.
fn cone(a: &Recorded, e: &Recorded) -> &'static str {
    if (a.node, a.seq) == (e.node, e.seq) {
        "picked"
    } else if e.before(a) {
        "past"
    } else if a.before(e) {
        "future"
    } else {
        ""
    }
}

#[function_component(ClocksPanel)]
pub fn clocks_panel(props: &PanelProps) -> Html {
    let d = &use_paced(&props.data, |shown, latest| latest.total > shown.total + FOLLOW);
    let axis = use_state_eq(|| Axis::True);
    let zoom = use_state_eq(|| 3usize);
    let picks = use_state_eq(|| (None::<u32>, None::<u32>));
    let find = |i: Option<u32>| -> Option<Dot> {
        let i = i? as usize;
        let b = d.blocks.get(i.checked_sub(d.first_kept)? / BLOCK)?;
        b.0.get(i % BLOCK).copied()
    };
    let (a, b) = (find(picks.0), find(picks.1));
    let on_pick = {
        let picks = picks.clone();
        Callback::from(move |i: u32| {
            picks.set(match *picks {
                (Some(a), None) if a == i => (None, None),
                (Some(a), None) => (Some(a), Some(i)),
                _ => (Some(i), None),
            })
        })
    };
    let set_axis = |to: Axis| {
        let axis = axis.clone();
        Callback::from(move |_: MouseEvent| axis.set(to))
    };
    let set_zoom = |by: isize| {
        let zoom = zoom.clone();
        Callback::from(move |_: MouseEvent| zoom.set(zoom.saturating_add_signed(by).min(ZOOMS.len() - 1)))
    };
    let px_per_s = ZOOMS[*zoom];
    html! {
        <div class="ck">
            <style>{ STYLE }</style>
            <div class="ck-head">
                <h2>{ "Space-time diagram" }</h2>
                <div class="ck-tools" role="group" aria-label="Diagram axis and zoom">
                    <button type="button" aria-pressed={(*axis == Axis::True).to_string()} onclick={set_axis(Axis::True)}
                        data-axis="true">{ "x = true time" }</button>
                    <button type="button" aria-pressed={(*axis == Axis::Wall).to_string()} onclick={set_axis(Axis::Wall)}
                        data-axis="wall">{ "x = each node's wall clock" }</button>
                    <button type="button" onclick={set_zoom(-1)} aria-label="Zoom out">{ "−" }</button>
                    <span class="ck-muted">{ format!("{px_per_s} px/s") }</span>
                    <button type="button" onclick={set_zoom(1)} aria-label="Zoom in">{ "+" }</button>
                </div>
                <p class="ck-muted">
                    { format!("{} events", d.total) }
                    if d.total > SHOWN { { format!("; the diagram shows the latest {SHOWN}") } }
                    { ". Click an event, then another. Dots: local ○, send ●, receive ◆, write ■; labels: Lamport time and vector, where they fit. Playing fast, this panel redraws twice a second." }
                </p>
            </div>
            <Diagram blocks={d.blocks.clone()} n={d.n} axis={*axis} {px_per_s} pick={a.map(|a| a.e)}
                     picked_b={b.map(|b| b.index)} on_pick={on_pick} />
            <div class="ck-cols">
                { relation(a, b, d.n) }
                { lamport_pairs(d, a, &picks) }
            </div>
            { clock_table(d) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct DiagramProps {
    blocks: Vec<Block>,
    n: u8,
    axis: Axis,
    px_per_s: i64,
    pick: Option<Recorded>,
    picked_b: Option<u32>,
    on_pick: Callback<u32>,
}

fn x_of(axis: Axis, time: SimTime, wall: i64, px_per_s: i64) -> i64 {
    let us = match axis {
        Axis::True => time.as_us() as i64,
        Axis::Wall => wall,
    };
    LEFT + us * px_per_s / 1_000_000
}

/// The diagram's height for `n` nodes.
fn diagram_height(n: u8) -> i64 {
    TOP + i64::from(n) * ROW_H
}

fn y_of(node: NodeId) -> i64 {
    TOP + i64::from(node - 1) * ROW_H
}

/// One past the last event of `blocks`.
fn end(blocks: &[Block]) -> usize {
    blocks.last().and_then(|b| b.0.last()).map_or(0, |d| d.index as usize + 1)
}

/// The blocks that hold the latest [`SHOWN`] events of `blocks`.
fn shown_blocks(blocks: &[Block]) -> Vec<Block> {
    let from = end(blocks).saturating_sub(SHOWN);
    blocks.iter().filter(|b| b.0.last().is_some_and(|d| d.index as usize >= from)).cloned().collect()
}

/// What the label layer draws, kept for redrawing it when the diagram scrolls, and where the
/// view is: read from scroll and resize events, whose layout is fresh, so that drawing never
/// forces the browser to lay out the page in the middle of a frame.
#[derive(Default, PartialEq)]
struct LabelView {
    blocks: Vec<Block>,
    n: u8,
    axis: Option<Axis>,
    px_per_s: i64,
    /// The diagram's right edge, in its coordinates.
    right: i64,
    height: i64,
    pick: Option<Recorded>,
    picked_b: Option<u32>,
    /// The view's width, and its scroll position: 0 at the right end, negative to the left.
    view_w: i64,
    scroll: i64,
}

#[function_component(Diagram)]
fn diagram(props: &DiagramProps) -> Html {
    let scroller = use_node_ref();
    let canvas = use_node_ref();
    let labels = use_mut_ref(LabelView::default);
    let blocks = shown_blocks(&props.blocks);
    {
        // The view's width, now and whenever the window is resized.
        let (scroller, canvas, labels) = (scroller.clone(), canvas.clone(), labels.clone());
        use_effect_with((), move |()| {
            let measure = move || {
                if let Some(el) = scroller.cast::<Element>() {
                    labels.borrow_mut().view_w = i64::from(el.client_width());
                    draw_labels(&canvas, &labels.borrow(), true);
                }
            };
            measure();
            let window = web_sys::window();
            let listener = window.map(|w| gloo_events::EventListener::new(&w, "resize", move |_| measure()));
            move || drop(listener)
        });
    }
    let onscroll = {
        let (labels, canvas) = (labels.clone(), canvas.clone());
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<Element>() {
                let mut view = labels.borrow_mut();
                view.scroll = i64::from(el.scroll_left());
                view.view_w = i64::from(el.client_width());
                draw_labels(&canvas, &view, false);
            }
        })
    };
    let spans: Vec<(i64, i64)> = blocks.iter().map(|b| span(b, props.axis, props.px_per_s)).collect();
    let (mut lo, mut hi) = blocks
        .iter()
        .flat_map(|b| b.0.iter())
        .map(|d| x_of(props.axis, d.e.time, d.e.wall, props.px_per_s))
        .fold((i64::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
    if lo > hi {
        (lo, hi) = (0, 0);
    }
    // The diagram spans its events (the view box places each block, so none moves when the
    // window does).
    let x0 = (lo - LEFT).max(0);
    let height = diagram_height(props.n);
    let (width, hold, changed, seen) = {
        let mut view = labels.borrow_mut();
        // The diagram ends just after its newest event, and the view is anchored at the right
        // end (the scroller runs right to left): following the run needs no scrolling at all.
        let width = (hi - x0 + 2 * LEFT).max(view.view_w);
        let grown = x0 + width - view.right;
        let hold = view.scroll < -40 && view.right > 0 && grown != 0;
        if hold {
            // The reader scrolled back: keep what they look at in place, while it is drawn;
            // once the window has moved past it, follow the run again.
            view.scroll -= grown;
            if -view.scroll > width - view.view_w {
                view.scroll = 0;
            }
        }
        let next = LabelView {
            blocks: blocks.clone(),
            n: props.n,
            axis: Some(props.axis),
            px_per_s: props.px_per_s,
            right: x0 + width,
            height,
            pick: props.pick,
            picked_b: props.picked_b,
            view_w: view.view_w,
            scroll: view.scroll,
        };
        let changed = *view != next;
        *view = next;
        // What the reader sees, in the diagram's x, with a view's width to spare each side.
        let spare = view.view_w.max(MIN_SPARE);
        let right = x0 + width + view.scroll;
        let seen = (right - view.view_w - spare, right + spare);
        (width, hold.then_some(view.scroll), changed, seen)
    };
    {
        let (scroller, canvas, labels) = (scroller.clone(), canvas.clone(), labels.clone());
        // After a render that changed what is drawn: label what is in view (drawing text
        // brings the page's style up to date, which a render that changed nothing here need
        // not pay for).
        use_effect(move || {
            if let (Some(scroll), Some(el)) = (hold, scroller.cast::<Element>()) {
                el.set_scroll_left(scroll as i32);
            }
            if changed {
                draw_labels(&canvas, &labels.borrow(), false);
            }
        });
    }
    let lines = (1..=props.n).map(|id| {
        let y = y_of(id);
        html! {
            <g class="ck-row">
                <line x1={x0.to_string()} x2={(x0 + width).to_string()} y1={y.to_string()} y2={y.to_string()} />
            </g>
        }
    });
    let names = (1..=props.n).map(|id| html! {
        <div class="ck-name" style={format!("top:{}px", y_of(id) - 9)}>{ format!("n{id}") }</div>
    });
    let block_views = blocks.iter().zip(spans).map(|(b, span)| {
        let first = b.0.first().map_or(0, |d| d.index);
        let in_view = span.0 <= seen.1 && span.1 >= seen.0;
        html! {
            <DiagramBlock key={first} block={b.clone()} {span} axis={props.axis} px_per_s={props.px_per_s}
                          n={props.n} pick={props.pick} picked_b={props.picked_b} {in_view} />
        }
    });
    let onclick = {
        let on_pick = props.on_pick.clone();
        Callback::from(move |e: MouseEvent| {
            let picked = e.target_dyn_into::<Element>().and_then(|target| target.closest("[data-event]").ok()?);
            if let Some(i) = picked.and_then(|ev| ev.get_attribute("data-event")?.parse().ok()) {
                on_pick.emit(i);
            }
        })
    };
    html! {
        <div class="ck-diagram">
            <div class="ck-names">{ for names }</div>
            // Strict containment: what changes elsewhere on the page never lays the diagram out
            // again, nor the diagram the page (its height is fixed by the node count).
            <div class="ck-scroll" ref={scroller} {onscroll} style={format!("height:{}px", height + 16)}>
                <div class="ck-track" style={format!("width:{width}px")}>
                <svg class="ck-rows" width={width.to_string()} height={height.to_string()}
                     viewBox={format!("{x0} 0 {width} {height}")} aria-hidden="true">
                    { for lines }
                </svg>
                // The blocks, each an SVG of its own placed at its x (the layer is shifted by
                // the diagram's left edge, so that no block moves when the window does), in a
                // keyed list: only the blocks that enter and leave are touched.
                <div data-diagram="" class="ck-blocks" style={format!("left:{}px", -x0)} role="img" {onclick}
                     aria-label="Space-time diagram: one line per node, events as dots, messages as arrows">
                    { for block_views }
                </div>
                <canvas ref={canvas} class="ck-labels" aria-hidden="true" />
                </div>
            </div>
        </div>
    }
}

/// How far beyond its events' centres a block's box reaches (the dots' size, arrowheads).
const PAD: i64 = 8;

/// A block's extent along x, its arrows' tails included.
fn span(block: &Block, axis: Axis, px_per_s: i64) -> (i64, i64) {
    let x = |time: SimTime, wall: i64| x_of(axis, time, wall, px_per_s);
    let (lo, hi) = block
        .0
        .iter()
        .flat_map(|d| [Some(x(d.e.time, d.e.wall)), d.send.map(|(_, time, wall)| x(time, wall))])
        .flatten()
        .fold((i64::MAX, i64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (lo - PAD, hi + PAD)
}

#[derive(Properties, PartialEq)]
struct BlockProps {
    block: Block,
    /// Its extent along x ([`span`]).
    span: (i64, i64),
    n: u8,
    axis: Axis,
    px_per_s: i64,
    pick: Option<Recorded>,
    picked_b: Option<u32>,
    /// In or near the reader's view.
    in_view: bool,
}

/// A block of the diagram as one SVG group, written as markup: the browser parses a block's
/// hundred events in one call, where building them node by node through the DOM bindings
/// costs several times as much. Each event is one element (its labels are drawn on the
/// canvas above), and clicks reach the diagram's own handler, which reads `data-event`.
///
/// Parsing is still most of a redraw's cost (about 10 us an event), so a new block out of
/// view is first left out and is drawn when the browser is next idle ([`Idle`]): at 100x a
/// redraw brings some fifteen new blocks, of which the reader sees one or two. Each block is
/// an SVG of its own in a box that the browser skips while it is off screen
/// (`content-visibility`), so that drawing one lays out and paints only that one.
#[function_component(DiagramBlock)]
fn diagram_block(props: &BlockProps) -> Html {
    let drawn = use_state_eq(|| props.in_view);
    let pending = !*drawn && !props.in_view;
    {
        let drawn = drawn.clone();
        use_effect_with(pending, move |&pending| {
            let idle = if pending {
                let drawn = drawn.clone();
                Idle::new(move || drawn.set(true))
            } else {
                drawn.set(true);
                None
            };
            move || drop(idle)
        });
    }
    if pending {
        return html! {};
    }
    let (lo, hi) = props.span;
    html! {
        <div class="ck-block" style={format!("left:{lo}px;width:{}px;height:{}px", hi - lo, diagram_height(props.n))}>
            { Html::from_html_unchecked(block_markup(props).into()) }
        </div>
    }
}

/// Runs a callback once the browser is idle (within [`IDLE_WITHIN_MS`] even if it never is),
/// or after a zero timeout where there is no `requestIdleCallback`. Dropped, it is cancelled.
enum Idle {
    /// The callback's handle, and the closure it calls (kept alive until then).
    Callback { id: u32, _closure: Closure<dyn FnMut()> },
    Timeout { _timer: Timeout },
}

impl Idle {
    fn new(f: impl FnOnce() + 'static) -> Option<Idle> {
        let window = web_sys::window()?;
        if !js_sys::Reflect::has(&window, &JsValue::from_str("requestIdleCallback")).unwrap_or(false) {
            return Some(Idle::Timeout { _timer: Timeout::new(0, f) });
        }
        let closure = Closure::once(f);
        let options = IdleRequestOptions::new();
        options.set_timeout(IDLE_WITHIN_MS);
        let id = window
            .request_idle_callback_with_options(closure.as_ref().unchecked_ref(), &options)
            .ok()?;
        Some(Idle::Callback { id, _closure: closure })
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        if let (Idle::Callback { id, .. }, Some(window)) = (self, web_sys::window()) {
            window.cancel_idle_callback(*id);
        }
    }
}

fn block_markup(props: &BlockProps) -> String {
    let x = |time: SimTime, wall: i64| x_of(props.axis, time, wall, props.px_per_s);
    // The arrows in three paths, by their place in the picked event's cone.
    let mut arrows = [String::new(), String::new(), String::new()];
    for d in props.block.0.iter() {
        let Some((from, time, wall)) = d.send else { continue };
        let which = match props.pick.map(|a| cone(&a, &d.e)) {
            Some("past") => 1,
            Some("future") => 2,
            _ => 0,
        };
        arrow(&mut arrows[which], (x(time, wall), y_of(from)), (x(d.e.time, d.e.wall), y_of(d.e.node)));
    }
    let mut out = String::with_capacity(160 * props.block.0.len());
    let (lo, hi) = props.span;
    let _ = write!(
        out,
        r#"<svg width="{w}" height="{h}" viewBox="{lo} 0 {w} {h}">"#,
        w = hi - lo,
        h = diagram_height(props.n)
    );
    for (class, d) in ["ck-msg", "ck-msg past", "ck-msg future"].iter().zip(&arrows) {
        if !d.is_empty() {
            let _ = write!(out, r#"<path class="{class}" d="{d}"/>"#);
        }
    }
    for d in props.block.0.iter() {
        let e = &d.e;
        let (cx, cy) = (x(e.time, e.wall), y_of(e.node));
        let _ = match e.kind {
            Kind::Local | Kind::Send => write!(out, r#"<circle r="5" cx="{cx}" cy="{cy}""#),
            Kind::Receive => write!(out, r#"<path d="M{cx},{}l6,6l-6,6l-6,-6z""#, cy - 6),
            Kind::Write => write!(out, r#"<rect width="10" height="10" x="{}" y="{}""#, cx - 5, cy - 5),
        };
        let _ = write!(out, r#" class="ck-ev ck-{}"#, e.kind.as_str());
        if let Some(a) = &props.pick {
            let c = cone(a, e);
            if !c.is_empty() {
                let _ = write!(out, " {c}");
            }
        }
        if props.picked_b == Some(d.index) {
            out.push_str(" picked-b");
        }
        let _ = write!(
            out,
            r#"" data-event="{}" data-node="{}" data-lamport="{}" data-vc="{}"/>"#,
            d.index,
            e.node,
            e.lamport,
            vc_text(&e.vc, props.n)
        );
    }
    out.push_str("</svg>");
    out
}

/// Labels every event in view with its Lamport time (above) and vector (below), on the
/// canvas that stays over the diagram's visible part. Labels that would overlap the previous
/// one on their node's line are left out (the picked events' never are), so that a zoomed-out
/// diagram stays readable; canvas text costs a fraction of SVG text, which at 100x would be
/// laid out anew every frame. `restyle` reads the theme's colours again.
fn draw_labels(canvas: &NodeRef, view: &LabelView, restyle: bool) {
    let (Some(canvas), Some(axis)) = (canvas.cast::<HtmlCanvasElement>(), view.axis) else {
        return;
    };
    let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok()) else {
        return;
    };
    let window = web_sys::window();
    let dpr = window.as_ref().map_or(1.0, web_sys::Window::device_pixel_ratio);
    let (w, h) = (view.view_w, view.height);
    let (pw, ph) = ((w as f64 * dpr) as u32, (h as f64 * dpr) as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
        let _ = canvas.set_attribute("style", &format!("width:{w}px;height:{h}px;margin-top:-{h}px"));
        // A resize resets the context, font included. The font is set only then: setting it
        // makes the browser bring the page's style up to date there and then, in the middle
        // of the frame. The vectors' smaller type is the same font scaled.
        ctx.set_font("10px ui-monospace,monospace");
    }
    COLOURS.with(|colours| {
        let mut colours = colours.borrow_mut();
        if restyle || colours.is_empty() {
            let style = window.and_then(|w| w.get_computed_style(&canvas).ok().flatten());
            let var = |name: &str| style.as_ref().and_then(|s| s.get_property_value(name).ok()).unwrap_or_default();
            *colours = [var("--pn-ink"), var("--pn-muted")].map(|c| if c.trim().is_empty() { "#555".into() } else { c });
        }
    });
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, w as f64, h as f64);
    ctx.set_text_align("center");
    let left = view.right - w + view.scroll;
    let n = usize::from(view.n);
    for (scale, char_w, dy) in [(1.0, 6, -9), (0.8, 5, 17)] {
        let _ = ctx.set_transform(dpr * scale, 0.0, 0.0, dpr * scale, 0.0, 0.0);
        // The right end of the last label drawn on each node's line.
        let mut last = vec![i64::MIN; n + 1];
        let mut style = None;
        for d in view.blocks.iter().flat_map(|b| b.0.iter()) {
            let e = &d.e;
            let x = x_of(axis, e.time, e.wall, view.px_per_s) - left;
            if x < -100 || x > w + 100 {
                continue;
            }
            let cone = view.pick.map_or("", |a| cone(&a, e));
            let picked = cone == "picked" || view.picked_b == Some(d.index);
            let text = if dy < 0 { e.lamport.to_string() } else { vc_text(&e.vc, view.n) };
            let half = text.len() as i64 * char_w / 2;
            let row = &mut last[usize::from(e.node).min(n)];
            if x - half < *row + 3 && !picked {
                continue;
            }
            *row = x + half;
            let colour = match cone {
                "past" => 2,
                "future" => 3,
                _ if picked => 0,
                _ => usize::from(dy > 0),
            };
            if style != Some(colour) {
                style = Some(colour);
                COLOURS.with(|c| match colour {
                    0 | 1 => ctx.set_fill_style_str(&c.borrow()[colour]),
                    2 => ctx.set_fill_style_str(PAST),
                    _ => ctx.set_fill_style_str(FUTURE),
                });
            }
            let _ = ctx.fill_text(&text, x as f64 / scale, (y_of(e.node) + dy) as f64 / scale);
        }
    }
}

const PAST: &str = "#1a66d9";
const FUTURE: &str = "#c2410c";

thread_local! {
    /// The theme's ink and muted colours, as the label canvas needs them.
    static COLOURS: RefCell<[String; 2]> = const { RefCell::new([String::new(), String::new()]) };
}

/// Appends to a path's data a line from `from` to just short of the event at `to`, and an
/// arrowhead there.
fn arrow(path: &mut String, from: (i64, i64), to: (i64, i64)) {
    const SHORT: f64 = 6.0;
    const HEAD: f64 = 7.0;
    let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
    let len = (dx * dx + dy * dy).sqrt();
    if len < SHORT + HEAD {
        return;
    }
    let (ux, uy) = (dx / len, dy / len);
    let at = |along: f64, across: f64| {
        let px = to.0 as f64 - ux * along - uy * across;
        let py = to.1 as f64 - uy * along + ux * across;
        (px.round() as i64, py.round() as i64)
    };
    let tip = at(SHORT, 0.0);
    let (l, r) = (at(SHORT + HEAD, 3.5), at(SHORT + HEAD, -3.5));
    let _ = write!(
        path,
        "M{},{}L{},{}M{},{}L{},{}L{},{}z",
        from.0, from.1, tip.0, tip.1, tip.0, tip.1, l.0, l.1, r.0, r.1
    );
}

/// Why `a` and `b` are related as they are, from their vectors.
fn explain(a: &Recorded, b: &Recorded, n: u8) -> String {
    let (va, vb) = (vc_text(&a.vc, n), vc_text(&b.vc, n));
    if vc_less(&a.vc, &b.vc) {
        format!("V(A) = [{va}] ≤ V(B) = [{vb}] in every entry, and they differ: A happened before B.")
    } else if vc_less(&b.vc, &a.vc) {
        format!("V(B) = [{vb}] ≤ V(A) = [{va}] in every entry, and they differ: B happened before A.")
    } else {
        let mut text = format!("V(A) = [{va}] and V(B) = [{vb}] are incomparable");
        let up = (0..usize::from(n)).find(|&i| a.vc[i] > b.vc[i]);
        let down = (0..usize::from(n)).find(|&i| a.vc[i] < b.vc[i]);
        if let (Some(i), Some(j)) = (up, down) {
            let _ = write!(
                text,
                ": A is ahead in n{}'s entry ({} > {}), B in n{}'s ({} > {})",
                i + 1,
                a.vc[i],
                b.vc[i],
                j + 1,
                b.vc[j],
                a.vc[j]
            );
        }
        text.push_str(": neither happened before the other.");
        text
    }
}

fn relation(a: Option<Dot>, b: Option<Dot>, n: u8) -> Html {
    let name = |d: &Dot| format!("n{} event {} (#{})", d.e.node, d.e.seq, d.index);
    let body = match (a, b) {
        (None, _) => html! { <p class="ck-muted">{ "Click an event in the diagram: its causal past and future light up (click it again to let go)." }</p> },
        (Some(a), None) => html! {
            <p>{ format!("A = {}, a {}: Lamport {}, vector [{}], wall clock {} at true time {}{}. Its causal past is blue, its future orange; click another event.",
                name(&a), a.e.kind.as_str(), a.e.lamport, vc_text(&a.e.vc, n), wall_text(a.e.wall),
                wall_text(a.e.time.as_us() as i64), if a.e.stepped { ", just after an NTP step" } else { "" }) }</p>
        },
        (Some(a), Some(b)) => {
            let (rel, word) = if a.e.before(&b.e) {
                ("before", "happened before")
            } else if b.e.before(&a.e) {
                ("after", "happened after")
            } else {
                ("concurrent", "is concurrent with")
            };
            let lamport = match a.e.lamport.cmp(&b.e.lamport) {
                std::cmp::Ordering::Less => "L(A) < L(B)",
                std::cmp::Ordering::Equal => "L(A) = L(B)",
                std::cmp::Ordering::Greater => "L(A) > L(B)",
            };
            let lamport_note = if rel == "concurrent" && a.e.lamport != b.e.lamport {
                " — Lamport time orders them, though neither caused the other"
            } else {
                ""
            };
            let walls_wrong = (rel == "before" && a.e.wall > b.e.wall) || (rel == "after" && a.e.wall < b.e.wall);
            html! {
                <>
                    <p class="ck-relation" data-relation={rel}>
                        <strong>{ format!("A {word} B") }</strong>
                        { format!(" (A = {}, B = {})", name(&a), name(&b)) }
                    </p>
                    <p>{ explain(&a.e, &b.e, n) }</p>
                    <p>{ format!("Lamport: {lamport} ({} vs {}){lamport_note}.", a.e.lamport, b.e.lamport) }</p>
                    <p>{ format!("Wall clocks: A at {}, B at {}.", wall_text(a.e.wall), wall_text(b.e.wall)) }
                        if walls_wrong { <strong class="ck-bad">{ " The wall clocks misorder this causal pair." }</strong> }
                    </p>
                </>
            }
        }
    };
    html! {
        <section class="ck-box" aria-label="Relation of the picked events">
            <h3>{ "Happened before?" }</h3>
            { body }
        </section>
    }
}

/// How many of the latest events the pair list searches.
const PAIRS_FROM: usize = 150;

/// Up to eight concurrent pairs among the latest [`PAIRS_FROM`] events that Lamport time
/// orders, the latest first (with the first pick, if any).
fn lamport_pairs(d: &PanelData, a: Option<Dot>, picks: &UseStateHandle<(Option<u32>, Option<u32>)>) -> Html {
    let recent: Vec<&Dot> = d.blocks.iter().rev().flat_map(|b| b.0.iter().rev()).take(PAIRS_FROM).collect();
    let mut pairs = Vec::new();
    'outer: for (j, y) in recent.iter().enumerate() {
        if a.is_some_and(|a| a.index != y.index) {
            continue;
        }
        for x in recent.iter().skip(if a.is_some() { 0 } else { j + 1 }) {
            if x.index != y.index && !x.e.before(&y.e) && !y.e.before(&x.e) && x.e.lamport != y.e.lamport {
                let (lo, hi) = if x.e.lamport < y.e.lamport { (x, y) } else { (y, x) };
                pairs.push((*lo, *hi));
                if pairs.len() == 8 {
                    break 'outer;
                }
            }
        }
    }
    let items = pairs.iter().map(|(lo, hi)| {
        let picks = picks.clone();
        let (i, k) = (lo.index, hi.index);
        let onclick = Callback::from(move |_: MouseEvent| picks.set((Some(i), Some(k))));
        html! {
            <li><button type="button" {onclick} data-pair={format!("{i},{k}")}>
                { format!("n{} #{} (L={}) < n{} #{} (L={})", lo.e.node, i, lo.e.lamport, hi.e.node, k, hi.e.lamport) }
            </button></li>
        }
    });
    html! {
        <section class="ck-box" aria-label="Lamport-ordered concurrent pairs">
            <h3>{ "L(A) < L(B), yet concurrent" }</h3>
            <p class="ck-muted">{ format!(
                "{} such pairs so far (among events up to 1,000 apart); wall clocks misordered {} causal pairs.",
                d.ambiguous, d.misorders) }</p>
            if pairs.is_empty() { <p class="ck-muted">{ "None among the latest events." }</p> }
            <ul class="ck-pairs">{ for items }</ul>
        </section>
    }
}

/// The clock table, and a chart of each node's offset from true time over the shown events.
fn clock_table(d: &PanelData) -> Html {
    let rows = d.clocks.iter().map(|c| {
        let sync = match c.sync {
            Some((step, rtt)) => html! { <>
                <td>{ format_offset(step) }</td><td>{ format_offset(rtt) }</td><td>{ format!("± {}", format_offset(rtt / 2).trim_start_matches('+')) }</td>
            </> },
            None => html! { <><td>{ "—" }</td><td>{ "—" }</td><td>{ "—" }</td></> },
        };
        html! {
            <tr data-clock-node={c.id.to_string()} data-offset-us={c.offset_us.to_string()}>
                <th scope="row">{ format!("n{}{}", c.id, if c.server { " (time server)" } else { "" }) }</th>
                if c.up {
                    <td>{ wall_text(c.wall) }</td>
                    <td>{ format_offset(c.offset_us) }</td>
                    <td>{ format!("{:+} ppm", c.drift_ppm) }</td>
                    { sync }
                } else {
                    <td colspan="6">{ "crashed" }</td>
                }
            </tr>
        }
    });
    html! {
        <section class="ck-box ck-clocks" aria-label="Clocks">
            <h3>{ format!("Clocks at true time {}", wall_text(d.now.as_us() as i64)) }</h3>
            <div class="ck-table-wrap">
            <table>
                <thead><tr>
                    <th>{ "node" }</th><th>{ "wall clock" }</th><th>{ "offset vs true" }</th><th>{ "drift" }</th>
                    <th>{ "last NTP step" }</th><th>{ "round trip" }</th><th>{ "estimated error" }</th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            { offset_chart(d) }
        </section>
    }
}

/// Each node's offset (wall minus true time) at its shown events, one line per node.
fn offset_chart(d: &PanelData) -> Html {
    const W: i64 = 600;
    const H: i64 = 120;
    let dots = || d.blocks.iter().flat_map(|b| b.0.iter());
    let (Some(first), Some(last)) = (dots().next(), dots().last()) else {
        return html! {};
    };
    let (t0, t1) = (first.e.time.as_us() as i64, last.e.time.as_us().max(first.e.time.as_us() + 1) as i64);
    let off = |dot: &Dot| dot.e.wall - dot.e.time.as_us() as i64;
    let span = dots().map(|x| off(x).abs()).max().unwrap_or(0).max(1_000);
    // At most about 600 points in all: every `stride`-th event.
    let stride = (d.total - d.first_kept).div_ceil(600).max(1);
    let lines = (1..=d.n).map(|id| {
        let mut points = String::new();
        for dot in dots().step_by(stride).filter(|x| x.e.node == id) {
            let x = (dot.e.time.as_us() as i64 - t0) * W / (t1 - t0);
            let y = H / 2 - off(dot) * (H / 2 - 4) / span;
            let _ = write!(points, "{x},{y} ");
        }
        html! { <polyline class={format!("ck-off ck-n{}", (id - 1) % 8)} points={points} data-offset-line={id.to_string()} /> }
    });
    html! {
        <figure class="ck-chart">
            <svg viewBox={format!("-30 0 {} {H}", W + 40)} role="img" aria-label="Each node's offset from true time">
                <line class="ck-zero" x1="0" x2={W.to_string()} y1={(H / 2).to_string()} y2={(H / 2).to_string()} />
                <text x="-28" y="10">{ format!("+{}ms", span / 1000) }</text>
                <text x="-28" y={(H - 2).to_string()}>{ format!("-{}ms", span / 1000) }</text>
                { for lines }
            </svg>
            <figcaption class="ck-muted">{ "Offset from true time at each event (wall − true), per node; steps are NTP." }</figcaption>
        </figure>
    }
}

const STYLE: &str = "
.ck{background:var(--pn-surface);color:var(--pn-ink);border:1px solid var(--pn-border);border-radius:8px;padding:10px 12px}
.ck h2{font-size:1rem;margin:0 12px 0 0;display:inline}.ck h3{font-size:.9rem;margin:0 0 6px}
.ck-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:8px}.ck-head p{flex-basis:100%;margin:4px 0}
.ck-tools{display:flex;gap:4px;align-items:center}.ck-tools button[aria-pressed=true]{background:var(--pn-selected);font-weight:600}
.ck-muted{color:var(--pn-muted);font-size:.85rem}
.ck-diagram{position:relative;display:flex;border:1px solid var(--pn-grid);border-radius:4px;margin:6px 0}
.ck-names{position:relative;width:30px;flex:none;font:600 12px system-ui}.ck-name{position:absolute;left:4px}
.ck-scroll{overflow-x:auto;flex:1;contain:strict}.ck-scroll svg{display:block}
.ck-row line{stroke:var(--pn-border);stroke-width:1.5}
.ck-msg{stroke:var(--pn-muted);fill:var(--pn-muted);stroke-width:1;opacity:.7}.ck-msg.past{stroke:#1a66d9;fill:#1a66d9;opacity:1;stroke-width:2}.ck-msg.future{stroke:#c2410c;fill:#c2410c;opacity:1;stroke-width:2}
.ck-ev{cursor:pointer;fill:var(--pn-ink)}.ck-local{fill:var(--pn-surface);stroke:var(--pn-ink);stroke-width:1.5}.ck-write{fill:#1c7c3c}
.ck-ev.past{fill:#1a66d9}.ck-ev.future{fill:#c2410c}.ck-local.past{fill:var(--pn-surface);stroke:#1a66d9}.ck-local.future{fill:var(--pn-surface);stroke:#c2410c}
.ck-ev.picked,.ck-ev.picked-b{stroke:#b86a12;stroke-width:4;paint-order:stroke}
.ck-scroll{direction:rtl}.ck-track{direction:ltr;position:relative;overflow:clip}.ck-blocks{position:absolute;top:0}
.ck-block{position:absolute;top:0;content-visibility:auto}.ck-block svg{overflow:visible}.ck-labels{display:block;position:sticky;left:0;pointer-events:none}
.ck-cols,.ck-clocks{content-visibility:auto;contain-intrinsic-size:auto 260px}
.ck-cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:10px}
.ck-box{border:1px solid var(--pn-grid);border-radius:6px;padding:8px;margin-top:8px}.ck-box p{margin:4px 0}
.ck-relation{font-size:1rem}.ck-bad{color:var(--pn-bad)}
.ck-pairs{list-style:none;margin:0;padding:0}.ck-pairs button{font:12px ui-monospace,monospace;background:none;border:0;padding:2px;cursor:pointer;color:var(--pn-focus);text-align:left}
.ck-table-wrap{overflow-x:auto}.ck-clocks table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}.ck-clocks th,.ck-clocks td{padding:2px 8px;text-align:right;border-bottom:1px solid var(--pn-grid)}
.ck-chart{margin:6px 0 0}.ck-chart svg{width:100%;max-width:680px;height:auto}.ck-chart text{font:9px system-ui;fill:var(--pn-muted)}
.ck-zero{stroke:var(--pn-border)}.ck-off{fill:none;stroke-width:1.5}
.ck-n0{stroke:hsl(265 45% 45%)}.ck-n1{stroke:hsl(210 70% 38%)}.ck-n2{stroke:hsl(28 85% 38%)}.ck-n3{stroke:hsl(150 65% 27%)}
.ck-n4{stroke:hsl(325 55% 42%)}.ck-n5{stroke:hsl(190 80% 28%)}.ck-n6{stroke:hsl(45 90% 30%)}.ck-n7{stroke:hsl(25 45% 32%)}
";
