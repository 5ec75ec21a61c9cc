//! The cluster stage: nodes on a ring (islands apart when the network is split), the links
//! between them, messages in flight, messages dying where they were lost, and the gestures that
//! change the network: drag a node to partition, click a link to cut it, click a node for its
//! menu.
//!
//! Everything drawn is a function of the props and the pure geometry in [`layout`]; the only
//! state here is the gesture in progress and which menu is open. Every change to the simulation
//! goes up as a core `Action` through `on_action`.
//!
//! Rendering is cheap enough for every animation frame: the SVG is built from small components
//! with plain-data props (a node, a link, a legend) that Yew skips when nothing changed, and the
//! messages, which do change every frame, are a keyed list of a few elements each. Pointer,
//! click and key events are handled once, on the SVG, and find their node, link or message from
//! the event's target, so that no per-item callbacks break the props' equality.

use super::layout::{self, DropTarget, Layout, LinkState, NODE_R, Point, View};
use super::node_menu::NodeMenu;
use crate::chapters::StageUi;
use crate::fixed::{fixed, short};
use crate::math;
use crate::model::{DropView, MessageView, NodeShape, NodeView};
use deepend_core::NodeId;
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Role};
use deepend_core::script::Action;
use deepend_core::sim::NodeStatus;
use gloo_events::EventListener;
use gloo_render::{AnimationFrame, request_animation_frame};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// A pointer that moved less than this (CSS pixels) between press and release clicked.
const CLICK_SLOP_PX: f64 = 5.0;
/// Links and messages start and end this far from a node's centre, at its rim.
const RIM: f64 = NODE_R + 4.0;

#[derive(Properties, PartialEq)]
pub struct StageProps {
    pub nodes: Rc<Vec<NodeView>>,
    pub islands: Rc<Vec<Vec<NodeId>>>,
    pub cuts: Rc<Vec<(NodeId, NodeId)>>,
    pub messages: Rc<Vec<MessageView>>,
    pub drops: Rc<Vec<DropView>>,
    pub selected: Option<NodeId>,
    pub selected_message: Option<u32>,
    /// Whether messages can be pointed at: each gets a hover description and a wide hit area.
    /// Off while a run plays fast, when a message crosses the stage in a frame or two; those
    /// elements would be made and thrown away every frame for nobody.
    pub pointable: bool,
    /// Whether the nodes' timer rings show: off while a run plays so fast that a timer runs
    /// out in a frame or two.
    pub timers: bool,
    pub on_action: Callback<Action>,
    pub on_select: Callback<Option<NodeId>>,
    pub on_select_message: Callback<Option<u32>>,
    /// What the chapter shows and offers on the stage (legend, menu commands).
    pub ui: StageUi,
}

/// A node being pressed or dragged.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Drag {
    pointer: i32,
    node: NodeId,
    /// The node's place in the layout.
    home: Point,
    /// Where the pointer is, in viewBox units.
    at: Point,
    start_client: (f64, f64),
    /// Moved further than a click would.
    moved: bool,
}

/// How long nodes take to glide to their new places when the islands change.
const GLIDE_MS: f64 = 380.0;

/// Nodes gliding from their old places to a new layout.
#[derive(Default)]
struct Glide {
    /// The layout last drawn (to notice a new one).
    layout: Option<Rc<Layout>>,
    /// Where each node was last drawn.
    shown: Vec<Point>,
    /// Where the glide started, while one is under way.
    from: Option<Vec<Point>>,
    /// The first frame's time stamp.
    start: Option<f64>,
    /// 0 at the start, 1 done.
    progress: f64,
    frame: Option<AnimationFrame>,
}

fn ease(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    if t < 0.5 {
        4.0 * t * t * t
    } else {
        1.0 - (-2.0 * t + 2.0).powi(3) / 2.0
    }
}

/// Whether the reader asked for less motion (then nodes jump to their new places).
fn reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The gesture state, mutated by pointer events between renders.
#[derive(Default)]
struct Gesture {
    drag: Option<Drag>,
    /// The click event that follows a node's press and release is the node's, not the
    /// background's.
    swallow_click: bool,
}

#[function_component]
pub fn Stage(props: &StageProps) -> Html {
    let n = props.nodes.len();
    let root_ref = use_node_ref();
    // The stage's shape follows its box: portrait on phones and in tall frames.
    let view = use_state_eq(|| View::LANDSCAPE);
    {
        let (root_ref, view) = (root_ref.clone(), view.clone());
        use_effect_with((), move |_| {
            let measure = move || {
                if let Some(el) = root_ref.cast::<Element>() {
                    let r = el.get_bounding_client_rect();
                    let height_is_free = el.closest(".embed").ok().flatten().is_some();
                    let shape = View::for_box(r.width(), r.height(), height_is_free);
                    if r.width() > 0.0 {
                        view.set(shape);
                    }
                }
            };
            measure();
            let listener = web_sys::window().map(|w| EventListener::new(&w, "resize", move |_| measure()));
            move || drop(listener)
        });
    }
    let view = *view;
    let layout = use_memo((view, n, props.islands.clone()), |(view, n, islands)| {
        layout::layout(*view, *n, islands)
    });
    let gesture = use_mut_ref(Gesture::default);
    let redraw = use_force_update();
    let svg_ref = use_node_ref();
    // The node whose menu is open (shown while it is also the selected node).
    let menu_for = use_state(|| None::<NodeId>);
    // The one link in the tab order; arrow keys move it (a roving tabindex).
    let link_focus = use_state(|| None::<(NodeId, NodeId)>);

    // When the islands change, the nodes glide from where they were shown to their new places
    // (the dragged node from where it was let go).
    let glide = use_mut_ref(Glide::default);
    {
        let mut g = glide.borrow_mut();
        let changed = g.layout.as_ref().is_some_and(|l| !Rc::ptr_eq(l, &layout));
        if changed && g.shown.len() == layout.nodes.len() && !reduced_motion() {
            g.from = Some(std::mem::take(&mut g.shown));
            g.start = None;
            g.progress = 0.0;
        }
        g.layout = Some(layout.clone());
    }
    let drag = gesture.borrow().drag.filter(|d| d.moved);
    let mut positions: Vec<Point> = {
        let g = glide.borrow();
        match &g.from {
            Some(from) if from.len() == layout.nodes.len() => {
                let t = ease(g.progress);
                from.iter().zip(&layout.nodes).map(|(a, b)| a.lerp(*b, t)).collect()
            }
            _ => layout.nodes.clone(),
        }
    };
    if let Some(d) = drag
        && let Some(slot) = positions.get_mut(usize::from(d.node).wrapping_sub(1))
    {
        *slot = clamp_to_stage(view, d.at);
    }
    glide.borrow_mut().shown.clone_from(&positions);
    // Islands fade in as their nodes arrive.
    let islands_opacity = {
        let g = glide.borrow();
        g.from.as_ref().map(|_| fixed(ease(g.progress), 2))
    };
    {
        // Ask for the glide's next frame after this render, if it is still under way.
        let (glide, redraw) = (glide.clone(), redraw.clone());
        use_effect(move || {
            let mut g = glide.borrow_mut();
            if g.from.is_some() && g.frame.is_none() {
                let glide2 = glide.clone();
                g.frame = Some(request_animation_frame(move |now_ms| {
                    let mut g = glide2.borrow_mut();
                    g.frame = None;
                    let start = *g.start.get_or_insert(now_ms);
                    g.progress = ((now_ms - start) / GLIDE_MS).clamp(0.0, 1.0);
                    if g.progress >= 1.0 {
                        g.from = None;
                    }
                    drop(g);
                    redraw.force_update();
                }));
            }
        });
    }
    let target = drag.map(|d| (d, layout::drop_target(view, &layout.nodes, d.node, d.home, d.at)));

    let onpointerdown = {
        let (gesture, layout, svg_ref, redraw) = (gesture.clone(), layout.clone(), svg_ref.clone(), redraw.clone());
        Callback::from(move |e: PointerEvent| {
            gesture.borrow_mut().swallow_click = false;
            if e.button() != 0 || gesture.borrow().drag.is_some() {
                return;
            }
            // Messages are clicked, not dragged; links sit away from the nodes' centres.
            if closest(&e, "[data-msg]").is_some() {
                return;
            }
            let Some(p) = view_point(view, &svg_ref, &e) else {
                return;
            };
            let pressed = closest(&e, "[data-node]")
                .and_then(|el| el.get_attribute("data-node"))
                .and_then(|v| v.parse::<NodeId>().ok())
                .or_else(|| layout::node_at(&layout.nodes, p));
            let Some(node) = pressed else { return };
            let Some(home) = layout.position(node) else { return };
            if let Some(svg) = svg_ref.cast::<Element>() {
                let _ = svg.set_pointer_capture(e.pointer_id());
            }
            e.prevent_default();
            // The pressed node takes the focus (so that Escape can cancel the drag).
            focus_selector(&svg_ref, &format!("[data-node=\"{node}\"]"));
            gesture.borrow_mut().drag = Some(Drag {
                pointer: e.pointer_id(),
                node,
                home,
                at: p,
                start_client: (f64::from(e.client_x()), f64::from(e.client_y())),
                moved: false,
            });
            redraw.force_update();
        })
    };

    let onpointermove = {
        let (gesture, svg_ref, redraw) = (gesture.clone(), svg_ref.clone(), redraw.clone());
        Callback::from(move |e: PointerEvent| {
            let mut g = gesture.borrow_mut();
            let Some(d) = g.drag.as_mut().filter(|d| d.pointer == e.pointer_id()) else {
                return;
            };
            let Some(p) = view_point(view, &svg_ref, &e) else {
                return;
            };
            let (dx, dy) = (
                f64::from(e.client_x()) - d.start_client.0,
                f64::from(e.client_y()) - d.start_client.1,
            );
            d.moved |= math::hypot(dx, dy) > CLICK_SLOP_PX;
            d.at = p;
            let moved = d.moved;
            drop(g);
            if moved {
                redraw.force_update();
            }
        })
    };

    let onpointerup = {
        let (gesture, layout, redraw) = (gesture.clone(), layout.clone(), redraw.clone());
        let (islands, on_action, on_select) = (props.islands.clone(), props.on_action.clone(), props.on_select.clone());
        let (menu_for, selected, svg_ref) = (menu_for.clone(), props.selected, svg_ref.clone());
        Callback::from(move |e: PointerEvent| {
            let mut g = gesture.borrow_mut();
            let Some(d) = g.drag.filter(|d| d.pointer == e.pointer_id()) else {
                return;
            };
            g.drag = None;
            g.swallow_click = true;
            drop(g);
            let at = view_point(view, &svg_ref, &e).unwrap_or(d.at);
            if d.moved {
                let target = layout::drop_target(view, &layout.nodes, d.node, d.home, at);
                if let Some(groups) = layout::regroup(layout.nodes.len(), &islands, d.node, target) {
                    on_action.emit(layout::partition_action(groups));
                }
            } else {
                // A click: select the node and toggle its menu.
                let open = *menu_for == Some(d.node) && selected == Some(d.node);
                menu_for.set(if open { None } else { Some(d.node) });
                on_select.emit(Some(d.node));
                focus_selector(&svg_ref, &format!("[data-node=\"{}\"]", d.node));
            }
            redraw.force_update();
        })
    };

    let oncancel = {
        let (gesture, redraw) = (gesture.clone(), redraw.clone());
        Callback::from(move |_: PointerEvent| {
            if gesture.borrow_mut().drag.take().is_some() {
                redraw.force_update();
            }
        })
    };

    let onclick = {
        let (gesture, layout) = (gesture.clone(), layout.clone());
        let (cuts, on_action, on_select, on_select_message) = (
            props.cuts.clone(),
            props.on_action.clone(),
            props.on_select.clone(),
            props.on_select_message.clone(),
        );
        let (menu_for, link_focus) = (menu_for.clone(), link_focus.clone());
        Callback::from(move |e: MouseEvent| {
            if std::mem::take(&mut gesture.borrow_mut().swallow_click) {
                return;
            }
            if let Some(id) = closest(&e, "[data-msg]").and_then(|el| attr_parse::<u32>(&el, "data-msg")) {
                on_select_message.emit(Some(id));
            } else if let Some((lo, hi)) = closest(&e, "[data-link]").and_then(|el| link_of(&el)) {
                link_focus.set(Some((lo, hi)));
                for action in layout::link_cycle(lo, hi, layout::link_state(&layout, &cuts, lo, hi)) {
                    on_action.emit(action);
                }
            } else if closest(&e, "[data-node]").is_none() {
                // The background: deselect and close the menu.
                menu_for.set(None);
                on_select.emit(None);
                on_select_message.emit(None);
            }
        })
    };

    let clickable_links: Vec<(NodeId, NodeId)> = pairs(n)
        .filter(|&(lo, hi)| layout::link_state(&layout, &props.cuts, lo, hi) != LinkState::Partitioned)
        .collect();
    let focus_link = link_focus
        .filter(|l| clickable_links.contains(l))
        .or_else(|| clickable_links.first().copied());

    let onkeydown = {
        let (gesture, layout, redraw, svg_ref) = (gesture.clone(), layout.clone(), redraw.clone(), svg_ref.clone());
        let (cuts, on_action, on_select) = (props.cuts.clone(), props.on_action.clone(), props.on_select.clone());
        let (menu_for, link_focus, clickable_links) = (menu_for.clone(), link_focus.clone(), clickable_links.clone());
        let selected = props.selected;
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            if key == "Escape" && gesture.borrow_mut().drag.take().is_some() {
                e.prevent_default();
                e.stop_propagation();
                redraw.force_update();
                return;
            }
            if let Some(node) = closest(&e, "[data-node]").and_then(|el| attr_parse::<NodeId>(&el, "data-node")) {
                match key.as_str() {
                    "Enter" | " " => {
                        e.prevent_default();
                        e.stop_propagation();
                        let open = *menu_for == Some(node) && selected == Some(node);
                        menu_for.set(if open { None } else { Some(node) });
                        on_select.emit(Some(node));
                    }
                    "Escape" if menu_for.is_some() => {
                        e.stop_propagation();
                        menu_for.set(None);
                    }
                    _ => {}
                }
            } else if let Some((lo, hi)) = closest(&e, "[data-link]").and_then(|el| link_of(&el)) {
                let i = clickable_links.iter().position(|&l| l == (lo, hi));
                let len = clickable_links.len();
                let next = match (key.as_str(), i) {
                    ("Enter" | " ", _) => {
                        e.prevent_default();
                        e.stop_propagation();
                        for action in layout::link_cycle(lo, hi, layout::link_state(&layout, &cuts, lo, hi)) {
                            on_action.emit(action);
                        }
                        return;
                    }
                    ("ArrowRight" | "ArrowDown", Some(i)) => clickable_links.get((i + 1) % len),
                    ("ArrowLeft" | "ArrowUp", Some(i)) => clickable_links.get((i + len - 1) % len),
                    ("Home", _) => clickable_links.first(),
                    ("End", _) => clickable_links.last(),
                    _ => return,
                };
                if let Some(&(a, b)) = next {
                    e.prevent_default();
                    e.stop_propagation();
                    link_focus.set(Some((a, b)));
                    focus_selector(&svg_ref, &format!("[data-link=\"{a}-{b}\"]"));
                }
            }
        })
    };

    let on_menu_close = {
        let (menu_for, svg_ref) = (menu_for.clone(), svg_ref.clone());
        Callback::from(move |()| {
            if let Some(node) = *menu_for {
                focus_selector(&svg_ref, &format!("[data-node=\"{node}\"]"));
            }
            menu_for.set(None);
        })
    };

    // Every chapter draws the same stage: the node that leads (Raft's leader, Paxos's
    // distinguished proposer, a commander) is crowned, and its term has the chapter's word.
    let term_word = props.ui.term_word;
    let leader = props
        .nodes
        .iter()
        .filter(|v| v.role.leads && v.status != NodeStatus::Crashed)
        .map(|v| format!("n{} leads {term_word} {}", v.id, v.term))
        .collect::<Vec<_>>();
    let aria = format!(
        "{} cluster of {n} nodes; {}; {}",
        props.ui.title,
        if leader.is_empty() {
            "no leader".to_string()
        } else {
            leader.join(", ")
        },
        match layout.islands.len() {
            0 | 1 => "network whole".to_string(),
            k => format!("network split into {k} islands"),
        }
    );

    let drag_node = drag.map(|d| d.node);
    let target_island = match target {
        Some((_, DropTarget::Join(other))) => layout.island_of(other),
        _ => None,
    };
    let join_node = match target {
        Some((_, DropTarget::Join(other))) => Some(other),
        _ => None,
    };

    let menu = (*menu_for)
        .filter(|&m| props.selected == Some(m) && drag.is_none())
        .and_then(|m| props.nodes.iter().find(|v| v.id == m))
        .and_then(|v| {
            let p = layout.position(v.id)?;
            let side = if p.x > view.w * 0.58 { "st-left" } else { "st-right" };
            let vertical = if p.y > view.h * 0.55 { "st-above" } else { "st-below" };
            let style = format!("--x:{};--y:{}", f(p.x), f(p.y));
            Some(html! {
                <div class={classes!("st-menu-anchor", side, vertical)} {style}>
                    <NodeMenu
                        key={v.id}
                        node={v.id}
                        role={v.role}
                        status={v.status}
                        term={v.term}
                        pre_candidate={v.pre_candidate()}
                        clock={(v.clock_offset_us, v.clock_drift_ppm)}
                        islands={props.islands.clone()}
                        node_count={n}
                        commands={props.ui.commands}
                        clients={props.ui.clients}
                        on_action={props.on_action.clone()}
                        on_close={on_menu_close.clone()}
                    />
                </div>
            })
        });

    html! {
        <div
            class={classes!("raft-stage", view.is_portrait().then_some("st-portrait"), drag.is_some().then_some("st-dragging"))}
            style={format!("--vw:{};--vh:{}", short(view.w), short(view.h))}
            data-stage="raft"
            ref={root_ref}
        >
            <svg
                ref={svg_ref}
                class="st-svg"
                viewBox={format!("0 0 {} {}", short(view.w), short(view.h))}
                role="group"
                aria-label={aria}
                {onpointerdown}
                {onpointermove}
                {onpointerup}
                onpointercancel={oncancel.clone()}
                onlostpointercapture={oncancel}
                {onclick}
                {onkeydown}
            >
                <rect class="st-bg" width={short(view.w)} height={short(view.h)} />
                // Links across islands first, so that the islands' blobs cover them: they show
                // only in the water between the islands.
                <Links layer={LinkLayer::Across} layout={layout.clone()} positions={positions.clone()}
                       cuts={props.cuts.clone()} {focus_link} />
                if layout.is_split() {
                    <g class="st-islands" aria-hidden="true" opacity={islands_opacity}>
                        { for layout.islands.iter().enumerate().map(|(i, isle)| html! {
                            <IslandBlob
                                key={isle.members[0]}
                                d={Rc::<str>::from(layout::hull_path(&isle.hull))}
                                anchor={isle.anchor}
                                size={isle.members.len()}
                                total={n}
                                target={target_island == Some(i)}
                            />
                        }) }
                    </g>
                }
                <Links layer={LinkLayer::Within} layout={layout.clone()} positions={positions.clone()}
                       cuts={props.cuts.clone()} {focus_link} />
                // Under the nodes, so that a press near a node always reaches the node.
                <Links layer={LinkLayer::Hits} layout={layout.clone()} positions={positions.clone()}
                       cuts={props.cuts.clone()} {focus_link} />
                <g class="st-nodes">
                    { for props.nodes.iter().filter_map(|v| {
                        let p = *positions.get(usize::from(v.id).wrapping_sub(1))?;
                        Some(html! {
                            <NodeGlyph
                                key={v.id}
                                id={v.id}
                                role={v.role}
                                status={v.status}
                                term={v.term}
                                term_word={term_word}
                                pre_candidate={v.pre_candidate()}
                                commit_index={v.commit_index}
                                last_index={v.last_index}
                                timer={v.election_left.filter(|_| props.timers).map(|t| (t.clamp(0.0, 1.0) * 1000.0).round() as u16)}
                                at={p}
                                selected={props.selected == Some(v.id)}
                                menu_open={*menu_for == Some(v.id) && props.selected == Some(v.id)}
                                dragging={drag_node == Some(v.id)}
                                target={join_node == Some(v.id) || target_island.is_some_and(|i| layout.islands[i].members.contains(&v.id))}
                                shape={v.shape}
                                marks={v.marks.clone()}
                                caption={v.caption}
                            />
                        })
                    }) }
                </g>
                <g class="st-drops" aria-hidden="true">
                    { for props.drops.iter().filter_map(|d| drop_mark(d, &positions)) }
                </g>
                <g class="st-messages">
                    { for props.messages.iter().filter_map(|m| message_mark(m, &positions, props.selected_message, props.pointable)) }
                </g>
                { drag_overlay(view, target, &layout) }
                <Legend split={layout.is_split()} items={props.ui.legend} {view} />
            </svg>
            // One child whether or not the menu is open: Yew matches unkeyed children from the
            // end, so a child that comes and goes here would make it rebuild the whole SVG.
            { menu.unwrap_or_default() }
        </div>
    }
}

/// The link layers of the stage, drawn at different depths.
#[derive(Clone, Copy, PartialEq)]
enum LinkLayer {
    /// Links between islands, under the islands' blobs: they show only in the water between.
    Across,
    /// Links within islands.
    Within,
    /// Every link's hit area and focus target, under the nodes.
    Hits,
}

#[derive(Properties, PartialEq)]
struct LinksProps {
    layer: LinkLayer,
    layout: Rc<Layout>,
    /// Where the nodes are drawn now (gliding or dragged ones differ from the layout).
    positions: Vec<Point>,
    cuts: Rc<Vec<(NodeId, NodeId)>>,
    focus_link: Option<(NodeId, NodeId)>,
}

/// One layer of links. Its own component so that a frame in which no node moved and no link
/// changed (nearly every frame of a playing run) skips the whole layer with one comparison.
#[function_component]
fn Links(props: &LinksProps) -> Html {
    let LinksProps {
        layer,
        layout,
        positions,
        cuts,
        focus_link,
    } = props;
    let at = |id: NodeId| positions[usize::from(id) - 1];
    let links = pairs(positions.len()).filter_map(|(lo, hi)| {
        let key = u32::from(lo) << 8 | u32::from(hi);
        let across = layout.island_of(lo) != layout.island_of(hi);
        Some(match layer {
            LinkLayer::Across if across => html! {
                <Link {key} {lo} {hi} a={at(lo)} b={at(hi)} state={LinkState::Partitioned} />
            },
            LinkLayer::Within if !across => html! {
                <Link {key} {lo} {hi} a={at(lo)} b={at(hi)} state={layout::link_state(layout, cuts, lo, hi)} />
            },
            LinkLayer::Hits => html! {
                <LinkHit {key} {lo} {hi} a={at(lo)} b={at(hi)} state={layout::link_state(layout, cuts, lo, hi)}
                         focusable={*focus_link == Some((lo, hi))} />
            },
            _ => return None,
        })
    });
    match layer {
        LinkLayer::Across => html! { <g class="st-links st-links-across" aria-hidden="true">{ for links }</g> },
        LinkLayer::Within => html! { <g class="st-links" aria-hidden="true">{ for links }</g> },
        LinkLayer::Hits => html! { <g class="st-linkhits">{ for links }</g> },
    }
}

/// Every pair of nodes, lower id first.
fn pairs(n: usize) -> impl Iterator<Item = (NodeId, NodeId)> {
    let n = n.min(usize::from(NodeId::MAX)) as NodeId;
    (1..=n).flat_map(move |lo| (lo + 1..=n).map(move |hi| (lo, hi)))
}

fn clamp_to_stage(view: View, p: Point) -> Point {
    Point::new(
        math::clamp(p.x, NODE_R, view.w - NODE_R),
        math::clamp(p.y, NODE_R, view.h - NODE_R),
    )
}

/// The pointer's position in viewBox units.
fn view_point(view: View, svg: &NodeRef, e: &MouseEvent) -> Option<Point> {
    let el = svg.cast::<Element>()?;
    let r = el.get_bounding_client_rect();
    let rect = layout::Rect {
        left: r.left(),
        top: r.top(),
        width: r.width(),
        height: r.height(),
    };
    layout::client_to_view(view, rect, f64::from(e.client_x()), f64::from(e.client_y()))
}

/// The nearest ancestor of the event's target (or the target) matching `selector`.
fn closest(e: &Event, selector: &str) -> Option<Element> {
    e.target()?.dyn_into::<Element>().ok()?.closest(selector).ok().flatten()
}

fn attr_parse<T: std::str::FromStr>(el: &Element, name: &str) -> Option<T> {
    el.get_attribute(name)?.parse().ok()
}

fn link_of(el: &Element) -> Option<(NodeId, NodeId)> {
    let v = el.get_attribute("data-link")?;
    let (a, b) = v.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Focuses the element under the SVG matching `selector` (SVG elements have `focus()` too).
fn focus_selector(svg: &NodeRef, selector: &str) {
    if let Some(el) = svg
        .cast::<Element>()
        .and_then(|s| s.query_selector(selector).ok().flatten())
    {
        let _ = el.unchecked_into::<HtmlElement>().focus();
    }
}

/// The two ends of a link, trimmed to the nodes' rims (or `None` when the nodes overlap).
fn rim_segment(a: Point, b: Point) -> Option<(Point, Point)> {
    let len = a.distance(b);
    if len <= 2.0 * RIM + 1.0 {
        return None;
    }
    let t = RIM / len;
    Some((a.lerp(b, t), a.lerp(b, 1.0 - t)))
}

fn f(v: f64) -> String {
    fixed(v, 1)
}

// ----- Islands ---------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct IslandBlobProps {
    d: Rc<str>,
    anchor: Point,
    size: usize,
    total: usize,
    target: bool,
}

#[function_component]
fn IslandBlob(props: &IslandBlobProps) -> Html {
    let majority = 2 * props.size > props.total;
    let caption = format!(
        "{} · {} of {}",
        if majority { "majority" } else { "minority" },
        props.size,
        props.total
    );
    html! {
        <g class={classes!("st-island", majority.then_some("st-majority"), props.target.then_some("st-target"))}>
            <path class="st-island-blob" d={props.d.to_string()} style={format!("stroke-width:{}", short(2.0 * layout::ISLAND_PAD))} />
            <text class="st-island-caption" x={f(props.anchor.x)} y={f(props.anchor.y)}>{ caption }</text>
        </g>
    }
}

// ----- Links -----------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct LinkProps {
    lo: NodeId,
    hi: NodeId,
    a: Point,
    b: Point,
    state: LinkState,
}

#[function_component]
fn Link(props: &LinkProps) -> Html {
    let Some((a, b)) = rim_segment(props.a, props.b) else {
        return html! {};
    };
    let class = classes!("st-link", format!("st-{}", props.state.as_str()));
    let mid = a.lerp(b, 0.5);
    let angle = math::atan2(b.y - a.y, b.x - a.x).to_degrees();
    let line = |p: Point, q: Point| html! { <line x1={f(p.x)} y1={f(p.y)} x2={f(q.x)} y2={f(q.y)} /> };
    match props.state {
        LinkState::Whole => html! { <g {class}>{ line(a, b) }</g> },
        LinkState::Partitioned => {
            // Dashed, with a gap in the middle; the islands' blobs cover all but the stretch
            // over open water.
            let len = a.distance(b);
            let gap = (14.0 / len).min(0.2);
            html! {
                <g {class}>
                    { line(a, a.lerp(b, 0.5 - gap)) }
                    { line(a.lerp(b, 0.5 + gap), b) }
                </g>
            }
        }
        LinkState::CutBoth => {
            // Cut in the middle: two dashed halves with a gap, a bar at each side of it.
            let len = a.distance(b);
            let gap = (12.0 / len).min(0.2);
            let (p, q) = (a.lerp(b, 0.5 - gap), a.lerp(b, 0.5 + gap));
            html! {
                <g {class}>
                    { line(a, p) }
                    { line(q, b) }
                    <g class="st-cut-mark" transform={format!("translate({} {}) rotate({})", f(mid.x), f(mid.y), f(angle))}>
                        <line x1="-12" y1="-9" x2="-12" y2="9" />
                        <line x1="12" y1="-9" x2="12" y2="9" />
                    </g>
                </g>
            }
        }
        LinkState::CutForward | LinkState::CutBackward => {
            // One way still works: the line stays, and a stop sign (an arrow into a bar) on the
            // blocked direction's lane says which way messages die.
            let towards_hi = props.state == LinkState::CutForward;
            let angle = if towards_hi { angle } else { angle + 180.0 };
            html! {
                <g {class}>
                    { line(a, b) }
                    <g class="st-cut-mark" transform={format!("translate({} {}) rotate({})", f(mid.x), f(mid.y), f(angle))}>
                        <line class="st-cut-shaft" x1="-26" y1={f(layout::LANE)} x2="-8" y2={f(layout::LANE)} />
                        <path class="st-cut-arrow" d={format!("M-1 {}L-12 {}L-12 {}Z", f(layout::LANE), f(layout::LANE - 7.0), f(layout::LANE + 7.0))} />
                        <line x1="3" y1={f(layout::LANE - 11.0)} x2="3" y2={f(layout::LANE + 11.0)} />
                    </g>
                </g>
            }
        }
    }
}

#[derive(Properties, PartialEq)]
struct LinkHitProps {
    lo: NodeId,
    hi: NodeId,
    a: Point,
    b: Point,
    state: LinkState,
    focusable: bool,
}

/// The wide invisible band that takes a link's clicks and focus (drawn above the nodes, from
/// rim to rim, so it never covers one), lit up on hover and focus.
#[function_component]
fn LinkHit(props: &LinkHitProps) -> Html {
    let Some((a, b)) = rim_segment(props.a, props.b) else {
        return html! {};
    };
    let (lo, hi) = (props.lo, props.hi);
    let label = match props.state {
        LinkState::Whole => format!("link n{lo} to n{hi}: whole. Activate to cut n{lo} to n{hi}"),
        LinkState::CutForward => {
            format!("link n{lo} to n{hi}: cut from n{lo} to n{hi}. Activate to cut from n{hi} to n{lo} instead")
        }
        LinkState::CutBackward => format!("link n{lo} to n{hi}: cut from n{hi} to n{lo}. Activate to cut both ways"),
        LinkState::CutBoth => format!("link n{lo} to n{hi}: cut both ways. Activate to restore"),
        LinkState::Partitioned => format!("link n{lo} to n{hi}: partitioned. Drag the nodes together to heal"),
    };
    let interactive = props.state != LinkState::Partitioned;
    html! {
        <g
            class={classes!("st-linkhit", format!("st-{}", props.state.as_str()))}
            data-link={format!("{lo}-{hi}")}
            data-link-state={props.state.as_str()}
            role={interactive.then_some("button")}
            tabindex={interactive.then_some(if props.focusable { "0" } else { "-1" })}
            aria-label={label.clone()}
            aria-disabled={(!interactive).then_some("true")}
        >
            <title>{ label }</title>
            <line x1={f(a.x)} y1={f(a.y)} x2={f(b.x)} y2={f(b.y)} />
        </g>
    }
}

// ----- Nodes -----------------------------------------------------------------------------

#[derive(Properties, PartialEq)]
struct NodeGlyphProps {
    id: NodeId,
    role: Role,
    status: NodeStatus,
    term: u64,
    /// "term", or Paxos's "round".
    term_word: &'static str,
    pre_candidate: bool,
    /// For tests and tools reading the page: how far the log and its committed prefix reach.
    commit_index: u64,
    last_index: u64,
    /// The election timer's share left, in thousandths.
    timer: Option<u16>,
    at: Point,
    selected: bool,
    menu_open: bool,
    dragging: bool,
    /// The island a drag would drop into.
    target: bool,
    shape: NodeShape,
    /// The chapter's extra attributes of the node's element.
    marks: Vec<(&'static str, String)>,
    /// Written under the node instead of its role.
    caption: Option<&'static str>,
}

#[function_component]
fn NodeGlyph(props: &NodeGlyphProps) -> Html {
    let (id, role, status) = (props.id, props.role.as_str(), props.status.as_str());
    let r = NODE_R;
    let up = props.status == NodeStatus::Up;
    let crashed = props.status == NodeStatus::Crashed;
    // A pre-candidate (PreVote) counts as a candidate but has not raised its term yet.
    let shown_role = if props.pre_candidate { "pre-candidate" } else { role };
    let caption = if up {
        props.caption.unwrap_or(shown_role)
    } else {
        status
    };
    let aria = format!("n{id}, {shown_role}, {} {}, {status}", props.term_word, props.term);
    let halo = match (props.role, crashed) {
        (_, true) => html! {},
        (role, _) if role.leads => html! {
            <>
                <circle class="st-halo" r={f(r + 5.5)} />
                <path class="st-crown" d="M-13 -6L-15 -21L-7 -13L0 -25L7 -13L15 -21L13 -6Z" transform={format!("translate(0 {})", f(-r - 4.0))} />
            </>
        },
        (_, _) if props.pre_candidate => html! { <circle class="st-halo st-dotted" r={f(r + 5.5)} /> },
        (role, _) if role == Role::CANDIDATE => html! { <circle class="st-halo st-dashed" r={f(r + 5.5)} /> },
        _ => html! {},
    };
    let timer = match props.timer {
        Some(left) if !crashed => {
            let left = f64::from(left) / 10.0;
            html! {
                <g class="st-timer">
                    <circle class="st-timer-track" r={f(r + 11.0)} />
                    <circle class="st-timer-left" r={f(r + 11.0)} pathLength="100" stroke-dasharray={format!("{} 100", f(left))} transform="rotate(-90)" />
                </g>
            }
        }
        _ => html! {},
    };
    let mut glyph = html! {
        <g
            class={classes!(
                "st-node",
                props.role.leads.then_some("st-leads"),
                format!("st-role-{role}"),
                format!("st-status-{status}"),
                props.pre_candidate.then_some("st-pre-candidate"),
                props.selected.then_some("st-selected"),
                props.dragging.then_some("st-dragging"),
                props.target.then_some("st-target"),
            )}
            transform={format!("translate({} {})", f(props.at.x), f(props.at.y))}
            data-node={id.to_string()}
            data-role={role}
            data-status={status}
            data-term={props.term.to_string()}
            data-commit-index={props.commit_index.to_string()}
            data-last-index={props.last_index.to_string()}
            tabindex="0"
            role="button"
            aria-label={aria.clone()}
            aria-haspopup="dialog"
            aria-expanded={if props.menu_open { "true" } else { "false" }}
            aria-pressed={if props.selected { "true" } else { "false" }}
        >
            <title>{ format!("{aria}. Drag to move it to another island; click for its menu.") }</title>
            <circle class="st-hit" r={f(layout::HIT_R)} />
            <circle class="st-select-ring" r={f(r + 17.0)} />
            <circle class="st-target-ring" r={f(r + 17.0)} />
            { timer }
            { halo }
            { body(props.shape, r) }
            if crashed {
                <path class="st-cross" d="M-19 -19L19 19M19 -19L-19 19" />
            }
            <text class="st-name" dy="0.36em">{ format!("n{id}") }</text>
            if props.status == NodeStatus::Paused {
                <g class="st-pause" transform={format!("translate({} {})", f(r * 0.78), f(-r * 0.78))}>
                    <circle r="11" />
                    <rect x="-5" y="-6" width="3.5" height="12" rx="1" />
                    <rect x="1.5" y="-6" width="3.5" height="12" rx="1" />
                </g>
            }
            <text class="st-caption" y={f(r + 27.0)}>{ caption }</text>
            <text class="st-term" y={f(r + 46.0)}>{ format!("{} {}", props.term_word, props.term) }</text>
        </g>
    };
    if let Html::VTag(tag) = &mut glyph {
        for (name, value) in &props.marks {
            Rc::make_mut(tag).add_attribute(name, value.clone());
        }
    }
    glyph
}

/// A node's body: a circle, a square (a service) or a diamond, of about the same area.
fn body(shape: NodeShape, r: f64) -> Html {
    match shape {
        NodeShape::Circle => html! { <circle class="st-body" r={f(r)} /> },
        NodeShape::Square => {
            let h = r * 0.9;
            html! { <rect class="st-body" x={f(-h)} y={f(-h)} width={f(2.0 * h)} height={f(2.0 * h)} rx="4" /> }
        }
        NodeShape::Diamond => {
            let d = r * 1.2;
            html! { <path class="st-body" d={format!("M0 {}L{} 0L0 {}L{} 0Z", f(-d), f(d), f(d), f(-d))} /> }
        }
    }
}

// ----- Messages --------------------------------------------------------------------------

/// The stylesheet's colour class of a message family.
fn family_class(family: MsgFamily) -> &'static str {
    match family {
        MsgFamily::Election => "st-vote",
        MsgFamily::PreElection => "st-prevote",
        MsgFamily::Replication => "st-append",
        MsgFamily::Learning => "st-chosen",
        MsgFamily::Other => "st-other",
    }
}

fn shape_html(shape: MsgShape, small: bool) -> Html {
    let s = if small { 0.72 } else { 1.0 };
    match shape {
        MsgShape::Diamond => {
            html! { <path class="st-shape" d={format!("M0 {}L{} 0L0 {}L{} 0Z", f(-9.5 * s), f(9.5 * s), f(9.5 * s), f(-9.5 * s))} /> }
        }
        MsgShape::Circle => html! { <circle class="st-shape" r={f(7.0 * s)} /> },
        MsgShape::Square => {
            let h = 7.0 * s;
            html! { <rect class="st-shape" x={f(-h)} y={f(-h)} width={f(2.0 * h)} height={f(2.0 * h)} rx="1.5" /> }
        }
        // Pointing along the direction of travel (the group is rotated).
        MsgShape::Triangle => html! { <path class="st-shape" d="M9 0L-6 -8L-6 8Z" /> },
    }
}

fn message_mark(m: &MessageView, positions: &[Point], selected: Option<u32>, pointable: bool) -> Option<Html> {
    let a = *positions.get(usize::from(m.from).wrapping_sub(1))?;
    let b = *positions.get(usize::from(m.to).wrapping_sub(1))?;
    let (a, b) = rim_segment(a, b)?;
    let p = layout::message_point(a, b, f64::from(m.progress));
    let MsgStyle {
        family,
        shape,
        negative,
        heartbeat,
        ..
    } = m.style;
    let transform = if shape == MsgShape::Triangle {
        format!(
            "translate({} {}) rotate({})",
            f(p.x),
            f(p.y),
            fixed(math::atan2(b.y - a.y, b.x - a.x).to_degrees(), 0)
        )
    } else {
        format!("translate({} {})", f(p.x), f(p.y))
    };
    let is_selected = selected == Some(m.id);
    Some(html! {
        <g
            key={m.id}
            class={classes!(
                "st-msg",
                family_class(family),
                negative.then_some("st-no"),
                heartbeat.then_some("st-heartbeat"),
                m.lost.then_some("st-lost"),
                is_selected.then_some("st-selected"),
            )}
            {transform}
            data-msg={m.id.to_string()}
            data-kind={m.kind}
        >
            if pointable {
                <title>{ format!("n{} → n{}: {}{}", m.from, m.to, m.label, if m.lost { " (will be lost)" } else { "" }) }</title>
                <circle class="st-msg-hit" r="13" />
            }
            if is_selected {
                <circle class="st-msg-ring" r="15" />
            }
            { shape_html(shape, heartbeat) }
        </g>
    })
}

fn drop_mark(d: &DropView, positions: &[Point]) -> Option<Html> {
    let a = *positions.get(usize::from(d.from).wrapping_sub(1))?;
    let b = *positions.get(usize::from(d.to).wrapping_sub(1))?;
    let (a, b) = rim_segment(a, b)?;
    let p = layout::message_point(a, b, f64::from(d.at));
    let fade = d.fade.clamp(0.0, 1.0);
    // The burst grows as it fades.
    let scale = 1.0 + 0.6 * (1.0 - fade);
    Some(html! {
        <g
            key={d.id}
            class="st-drop"
            transform={format!("translate({} {}) scale({})", f(p.x), f(p.y), fixed(f64::from(scale), 2))}
            opacity={fixed(f64::from(fade), 2)}
            data-drop={d.id.to_string()}
        >
            <title>{ format!("{} n{} → n{} lost ({})", d.kind, d.from, d.to, d.reason.as_str()) }</title>
            <circle class="st-drop-ring" r="8.5" />
            <path class="st-drop-cross" d="M-4.5 -4.5L4.5 4.5M4.5 -4.5L-4.5 4.5" />
        </g>
    })
}

// ----- Drag feedback and legend ----------------------------------------------------------

fn drag_overlay(view: View, target: Option<(Drag, DropTarget)>, layout: &Layout) -> Html {
    let Some((d, target)) = target else { return html! {} };
    let p = clamp_to_stage(view, d.at);
    let (class, text) = match target {
        DropTarget::Alone => ("st-alone", "new island".to_string()),
        DropTarget::Join(other) => {
            let members = layout.island_of(other).map(|i| &layout.islands[i].members);
            let names = members.map_or_else(
                || format!("n{other}"),
                |m| m.iter().map(|id| format!("n{id}")).collect::<Vec<_>>().join(" "),
            );
            ("st-join", format!("join {names}"))
        }
        DropTarget::Cancel => ("st-cancel", "release to cancel".to_string()),
    };
    html! {
        <g class={classes!("st-drag", class)} aria-hidden="true" transform={format!("translate({} {})", f(p.x), f(p.y))}>
            if target == DropTarget::Alone {
                <circle class="st-drag-ghost" r={f(layout::ISLAND_PAD)} />
            }
            <text class="st-drag-label" y={f(-NODE_R - 34.0)}>{ text }</text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct LegendProps {
    split: bool,
    items: &'static [(MsgStyle, &'static str)],
    view: View,
}

#[function_component]
fn Legend(props: &LegendProps) -> Html {
    // The message shapes along the bottom (one line, or two on a portrait stage); the hint on
    // how to act along the top.
    let portrait = props.view.is_portrait();
    let (mut x, mut y) = (0.0, 0.0);
    let marks = props
        .items
        .iter()
        .enumerate()
        .map(|(i, &(style, text))| {
            if portrait && i == 3 {
                (x, y) = (0.0, 22.0);
            }
            let at = (x, y);
            // The mark, a gap and the text at about 7 units a character.
            x += 42.0 + 7.2 * text.chars().count() as f64;
            let MsgStyle {
                family,
                shape,
                negative,
                heartbeat,
                ..
            } = style;
            let class = classes!(
                "st-msg",
                family_class(family),
                negative.then_some("st-no"),
                heartbeat.then_some("st-heartbeat")
            );
            html! {
                <g transform={format!("translate({} {})", short(at.0), short(at.1))}>
                    <g {class} transform="translate(8 0)">{ shape_html(shape, heartbeat) }</g>
                    <text x="21" dy="0.35em">{ text }</text>
                </g>
            }
        })
        .collect::<Html>();
    let hint = match (props.split, portrait) {
        (true, false) => "Drag a node onto another island to move it there; all in one island heals the network.",
        (false, false) => {
            "Drag a node to empty space to cut it off; click a link to cut it; click a node for its menu."
        }
        (true, true) => "Drag a node onto another island to move it; all in one heals.",
        (false, true) => "Drag a node away to cut it off · tap a link to cut it",
    };
    let bottom = props.view.h - if portrait { 39.0 } else { 17.0 };
    html! {
        <g class="st-legend" aria-hidden="true">
            <g transform={format!("translate(14 {})", short(bottom))}>{ marks }</g>
            <text class="st-hint" x="14" y="18" dy="0.35em">{ hint }</text>
        </g>
    }
}
