//! The menu of one node, opened from the stage: crash and restart, pause and resume, force an
//! election timeout, send a client request through it, skew its clock, and move it between
//! islands (the keyboard's way to partition), and the chapter's own commands. Only the actions that make sense for the node's
//! state are enabled. Every button emits a core `Action`; Escape closes the menu.

use super::layout::{self, DropTarget};
use deepend_core::protocol::{Command, CommandArg, Op, Role};
use deepend_core::script::Action;
use deepend_core::sim::NodeStatus;
use deepend_core::{Key, NodeId, Value};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The client that menu requests come from.
const MENU_CLIENT: u32 = 1;
/// Keys the menu offers.
const KEYS: [Key; 3] = [1, 2, 3];
/// Pause lengths offered, in simulated microseconds (`None`: until resumed).
const PAUSES: [(Option<u64>, &str); 4] = [
    (Some(100_000), "100 ms"),
    (Some(300_000), "300 ms"),
    (Some(1_000_000), "1 s"),
    (None, "until resumed"),
];
/// Clock steps offered, in microseconds: a skew moves the clock by its offset, once.
const OFFSETS: [(i64, &str); 5] = [
    (-200_000, "step −200 ms"),
    (-50_000, "step −50 ms"),
    (0, "no step"),
    (50_000, "step +50 ms"),
    (200_000, "step +200 ms"),
];
/// Clock drifts offered, in parts per million.
const DRIFTS: [(i32, &str); 5] = [
    (-200_000, "20% slow"),
    (-50_000, "5% slow"),
    (0, "exact"),
    (50_000, "5% fast"),
    (200_000, "20% fast"),
];

#[derive(Properties, PartialEq)]
pub struct NodeMenuProps {
    pub node: NodeId,
    pub role: Role,
    pub status: NodeStatus,
    pub term: u64,
    #[prop_or_default]
    pub pre_candidate: bool,
    /// The node's clock: how far ahead it is (microseconds) and its drift (parts per million).
    #[prop_or_default]
    pub clock: (i64, i32),
    pub islands: Rc<Vec<Vec<NodeId>>>,
    pub node_count: usize,
    /// The chapter's own commands, one row of buttons.
    #[prop_or_default]
    pub commands: &'static [Command],
    /// Whether to offer key-value client requests.
    #[prop_or(true)]
    pub clients: bool,
    pub on_action: Callback<Action>,
    pub on_close: Callback<()>,
}

#[function_component]
pub fn NodeMenu(props: &NodeMenuProps) -> Html {
    let id = props.node;
    let menu_ref = use_node_ref();
    let key = use_state(|| KEYS[0]);
    let value = use_state(|| 1 as Value);
    let offset = use_state(|| 0_i64);
    let drift = use_state(|| props.clock.1);
    let number = use_state(|| 1_u64);

    // On opening, the first enabled control takes the focus, so the keyboard lands in the menu.
    {
        let menu_ref = menu_ref.clone();
        use_effect_with(id, move |_| focus_first(&menu_ref));
    }
    // A button that just did its job may now be disabled (Crash, once crashed), and a disabled
    // button drops the focus: give it back to the menu rather than to the page.
    {
        let menu_ref = menu_ref.clone();
        use_effect_with(props.status, move |_| {
            let lost = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .is_none_or(|a| a.tag_name().eq_ignore_ascii_case("body") || a.has_attribute("disabled"));
            if lost {
                focus_first(&menu_ref);
            }
        });
    }

    let up = props.status == NodeStatus::Up;
    let crashed = props.status == NodeStatus::Crashed;
    let paused = props.status == NodeStatus::Paused;
    let act = |action: Action| {
        let on_action = props.on_action.clone();
        Callback::from(move |_: MouseEvent| on_action.emit(action.clone()))
    };

    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                e.stop_propagation();
                on_close.emit(());
            } else {
                // Keys typed in the menu are the menu's: the app's shortcuts (Space plays) stay out.
                e.stop_propagation();
            }
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };

    let write = {
        let (on_action, key, value) = (props.on_action.clone(), key.clone(), value.clone());
        Callback::from(move |_: MouseEvent| {
            on_action.emit(Action::Request {
                client: MENU_CLIENT,
                op: Op::Write {
                    key: *key,
                    value: *value,
                },
                node: Some(id),
            });
            // The next write writes something new, so that reads can tell writes apart.
            value.set(value.saturating_add(1));
        })
    };
    let read = act(Action::Request {
        client: MENU_CLIENT,
        op: Op::Read { key: *key },
        node: Some(id),
    });
    let on_key = {
        let key = key.clone();
        Callback::from(move |e: Event| {
            if let Some(k) = input_value(&e).and_then(|v| v.parse::<Key>().ok()) {
                key.set(k);
            }
        })
    };
    let on_value = {
        let value = value.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(v) = input_value(&e).and_then(|v| v.parse::<Value>().ok()) {
                value.set(v);
            }
        })
    };
    let on_number = {
        let number = number.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(v) = input_value(&e).and_then(|v| v.parse::<u64>().ok()) {
                number.set(v);
            }
        })
    };
    let on_offset = {
        let offset = offset.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = input_value(&e).and_then(|v| v.parse::<i64>().ok()) {
                offset.set(v);
            }
        })
    };
    let on_drift = {
        let drift = drift.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = input_value(&e).and_then(|v| v.parse::<i32>().ok()) {
                drift.set(v);
            }
        })
    };
    let skew_changed = *offset != 0 || *drift != props.clock.1;
    let skew = act(Action::Skew {
        node: id,
        offset_us: *offset,
        drift_ppm: *drift,
    });

    // Moving between islands: alone, or into any other island.
    let groups = layout::normalize_islands(props.node_count, &props.islands);
    let alone = groups.iter().any(|g| g.len() == 1 && g[0] == id);
    let move_to = |target: DropTarget| {
        layout::regroup(props.node_count, &props.islands, id, target).map(|g| act(layout::partition_action(g)))
    };
    let isolate = move_to(DropTarget::Alone);
    let can_isolate = !alone && isolate.is_some();
    let joins: Vec<Html> = groups
        .iter()
        .filter(|g| !g.contains(&id))
        .filter_map(|g| {
            let names = g.iter().map(|m| format!("n{m}")).collect::<Vec<_>>().join(" ");
            let onclick = move_to(DropTarget::Join(g[0]))?;
            Some(html! {
                <button type="button" {onclick} aria-label={format!("Move n{id} into the island of {names}")}>
                    { format!("join {names}") }
                </button>
            })
        })
        .collect();

    let role_text = if props.pre_candidate {
        "pre-candidate"
    } else {
        props.role.as_str()
    };
    let heading_id = format!("st-menu-title-{id}");
    html! {
        <div class="st-menu" role="dialog" aria-labelledby={heading_id.clone()} ref={menu_ref} {onkeydown}>
            <div class="st-menu-head">
                <h3 id={heading_id}>
                    <span class="st-menu-name">{ format!("n{id}") }</span>
                    <span class="st-menu-sub">{ format!("{role_text} · term {} · {}", props.term, props.status.as_str()) }</span>
                </h3>
                <button type="button" class="st-menu-close" aria-label={format!("Close the menu of n{id}")} onclick={close}>{ "×" }</button>
            </div>

            <div class="st-menu-row" role="group" aria-label="Node">
                <span class="st-menu-label" aria-hidden="true">{ "Node" }</span>
                <div class="st-menu-ctrls">
                    <button type="button" disabled={crashed} onclick={act(Action::Crash(id))}>{ "Crash" }</button>
                    <button type="button" disabled={!crashed} onclick={act(Action::Restart(id))}>{ "Restart" }</button>
                    <button type="button" disabled={!up || props.role.leads} onclick={act(Action::Timeout(id))}
                        aria-label={format!("Force an election timeout on n{id}")} title="Fire its election timer now">
                        { "Time out" }
                    </button>
                </div>
            </div>

            <div class="st-menu-row" role="group" aria-label="Pause">
                <span class="st-menu-label" aria-hidden="true">{ "Pause" }</span>
                <div class="st-menu-ctrls">
                    { for PAUSES.iter().map(|&(for_us, text)| html! {
                        <button type="button" disabled={!up} onclick={act(Action::Pause { node: id, for_us })}
                            aria-label={format!("Pause n{id} {}", if for_us.is_some() { format!("for {text}") } else { text.to_string() })}>
                            { if for_us.is_some() { text } else { "∞" } }
                        </button>
                    }) }
                    <button type="button" disabled={!paused} onclick={act(Action::Resume(id))}>{ "Resume" }</button>
                </div>
            </div>

            if !props.commands.is_empty() {
                <div class="st-menu-row" role="group" aria-label="Chapter actions">
                    <span class="st-menu-label" aria-hidden="true">{ "Act" }</span>
                    <div class="st-menu-ctrls">
                        { for props.commands.iter().map(|c| command_buttons(c, id, props.node_count, up || paused, *number, &act)) }
                        if props.commands.iter().any(|c| matches!(c.arg, CommandArg::Number { .. })) {
                            <input type="number" min="0" value={number.to_string()} oninput={on_number}
                                aria-label="Number for the actions" class="st-menu-number" />
                        }
                    </div>
                </div>
            }

            if props.clients {
            <div class="st-menu-row" role="group" aria-label={format!("Client request through n{id}")}>
                <span class="st-menu-label" aria-hidden="true">{ "Client" }</span>
                <div class="st-menu-ctrls">
                    <select onchange={on_key} aria-label="Key">
                        { for KEYS.iter().map(|&k| html! {
                            <option value={k.to_string()} selected={*key == k}>{ format!("k{k}") }</option>
                        }) }
                    </select>
                    <span aria-hidden="true">{ "=" }</span>
                    <input type="number" min="0" value={value.to_string()} oninput={on_value} aria-label="Value to write" />
                    <button type="button" onclick={write} aria-label={format!("Write k{} = {} through n{id}", *key, *value)}>{ "Write" }</button>
                    <button type="button" onclick={read} aria-label={format!("Read k{} through n{id}", *key)}>{ "Read" }</button>
                </div>
            </div>
            }

            <div class="st-menu-row" role="group" aria-label="Clock">
                <span class="st-menu-label" aria-hidden="true">{ "Clock" }</span>
                <div class="st-menu-ctrls">
                    <select onchange={on_offset} aria-label="Clock step">
                        { for OFFSETS.iter().map(|&(v, text)| html! {
                            <option value={v.to_string()} selected={*offset == v}>{ text }</option>
                        }) }
                    </select>
                    <select onchange={on_drift} aria-label="Clock rate">
                        { for DRIFTS.iter().map(|&(v, text)| html! {
                            <option value={v.to_string()} selected={*drift == v}>{ text }</option>
                        }) }
                        if !DRIFTS.iter().any(|&(v, _)| v == *drift) {
                            <option value={drift.to_string()} selected=true>{ format!("{} ppm", *drift) }</option>
                        }
                    </select>
                    <button type="button" disabled={!skew_changed} onclick={skew}
                        aria-label={format!("Apply this clock to n{id}")}>
                        { "Set" }
                    </button>
                </div>
            </div>

            <div class="st-menu-row" role="group" aria-label="Network">
                <span class="st-menu-label" aria-hidden="true">{ "Network" }</span>
                <div class="st-menu-ctrls">
                    <button type="button" disabled={!can_isolate} onclick={isolate}
                        aria-label={format!("Cut n{id} off into an island of its own")}>
                        { "isolate" }
                    </button>
                    { joins.into_iter().collect::<Html>() }
                </div>
            </div>
        </div>
    }
}

/// The buttons of one chapter command at node `id`: one, or one per other node.
fn command_buttons(
    command: &Command,
    id: NodeId,
    nodes: usize,
    enabled: bool,
    number: u64,
    act: &dyn Fn(Action) -> Callback<MouseEvent>,
) -> Html {
    let action = |arg: Option<u64>| Action::Command {
        node: id,
        verb: command.verb.to_string(),
        arg,
    };
    match command.arg {
        CommandArg::None => html! {
            <button type="button" disabled={!enabled} onclick={act(action(None))}
                aria-label={format!("{} (n{id})", command.label)}>{ command.label }</button>
        },
        CommandArg::Number { max } => html! {
            <button type="button" disabled={!enabled || number > max} onclick={act(action(Some(number)))}
                aria-label={format!("{} {number} (n{id})", command.label)}>{ command.label }</button>
        },
        CommandArg::Node => (1..=nodes as NodeId)
            .filter(|&to| to != id)
            .map(|to| {
                html! {
                    <button type="button" disabled={!enabled} onclick={act(action(Some(u64::from(to))))}
                        aria-label={format!("{} n{to} (from n{id})", command.label)}>
                        { format!("{} n{to}", command.label) }
                    </button>
                }
            })
            .collect(),
    }
}

/// Focuses the menu's first enabled action.
fn focus_first(menu_ref: &NodeRef) {
    if let Some(first) = menu_ref.cast::<Element>().and_then(|m| {
        m.query_selector("button:not([disabled]):not(.st-menu-close)")
            .ok()
            .flatten()
    }) {
        let _ = first.unchecked_into::<HtmlElement>().focus();
    }
}

/// The value of the input or select an event came from.
fn input_value(e: &Event) -> Option<String> {
    let target = e.target()?;
    if let Some(select) = target.dyn_ref::<HtmlSelectElement>() {
        return Some(select.value());
    }
    Some(target.dyn_ref::<HtmlInputElement>()?.value())
}
