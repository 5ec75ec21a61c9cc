//! The control strip: play, step and speed; the scenario's parameters (which start a new run);
//! live network and client actions; links. Everything goes up as a [`Control`]; the app turns
//! it into a core action at the current time, a seek, or a new run.

use crate::chapters::{self, Toggle};
use crate::fixed::{fixed, short};
use crate::math;
use crate::url;
use deepend_core::script::{Action, Header};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Slowest and fastest speeds, as powers of ten of real time.
pub const SPEED_LOG_MIN: f64 = -2.0;
pub const SPEED_LOG_MAX: f64 = 2.0;
/// Slow enough to follow single messages: a 10-15 ms hop takes 0.2-0.3 s.
pub const DEFAULT_SPEED: f64 = 0.05;

/// What a control asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    TogglePlay,
    StepForward,
    StepBack,
    /// Times real time.
    Speed(f64),
    /// The same scenario again, without the reader's actions.
    Reset,
    /// A new run with these parameters.
    NewRun(Header),
    /// A core action at the current time.
    Act(Action),
    /// A write of a random key, sent to the leader.
    ClientRequest,
    SetLoad(bool),
    CopyLink,
    CopyEmbed,
}

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub playing: bool,
    pub speed: f64,
    pub header: Rc<Header>,
    pub latency_us: (u64, u64),
    pub loss_ppm: u32,
    pub load_on: bool,
    /// What was just copied ("link copied", ...), for a polite status line.
    #[prop_or_default]
    pub copied: Option<AttrValue>,
    /// Embed mode: only play, step and speed, and a link to the full lab.
    #[prop_or_default]
    pub compact: bool,
    #[prop_or_default]
    pub open_href: Option<AttrValue>,
    pub on_control: Callback<Control>,
}

/// `0.05×`, `0.1×`, `3.2×`, `100×`.
pub fn format_speed(speed: f64) -> String {
    let digits = if speed >= 10.0 {
        0
    } else if speed >= 1.0 {
        1
    } else {
        (1.0 - math::log10(speed).floor()) as u8
    };
    let text = fixed(speed, digits);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}×")
}

/// The value of a `set` line, if the header has one.
pub fn setting<'a>(header: &'a Header, key: &str) -> Option<&'a str> {
    header.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The header with `key` set to `value`, or without `key` when `value` is the default (links
/// stay short).
pub fn with_setting(header: &Header, key: &str, value: &str, default: &str) -> Header {
    let mut next = header.clone();
    next.settings.retain(|(k, _)| k != key);
    if value != default {
        next.settings.push((key.to_string(), value.to_string()));
    }
    next
}

// Icons are drawn, not taken from a font: symbol fonts vary, and some have no step glyphs.
const PLAY: &str = "M4 2v12l10-6z";
const PAUSE: &str = "M3 2h4v12H3zM9 2h4v12H9z";
const STEP_BACK: &str = "M2 3h2v10H2zM14 3v10L5 8z";
const STEP_FORWARD: &str = "M12 3h2v10h-2zM2 3v10l9-5z";

fn icon(path: &'static str) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <path d={path} fill="currentColor" />
        </svg>
    }
}

/// A new header from the old one and a change event, if the change makes one.
type HeaderEdit = Box<dyn Fn(&Header, &Event) -> Option<Header>>;

fn input_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// A number or range input's value as a number (the browser's parse, so the page carries no
/// float parser of its own); `None` when it holds no number.
fn input_number(e: &Event) -> Option<f64> {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value_as_number())
        .filter(|v| !v.is_nan())
}

fn input_checked(e: &Event) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

fn select_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

#[function_component]
pub fn Controls(props: &ControlsProps) -> Html {
    let emit = |control: Control| {
        let on_control = props.on_control.clone();
        Callback::from(move |_: MouseEvent| on_control.emit(control.clone()))
    };
    let on_speed = {
        let on_control = props.on_control.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(log) = input_number(&e) {
                on_control.emit(Control::Speed(math::pow(10.0, log.clamp(SPEED_LOG_MIN, SPEED_LOG_MAX))));
            }
        })
    };
    let speed_text = format_speed(props.speed);

    let transport = html! {
        <div class="control-group transport" role="group" aria-label="Playback">
            <button type="button" class="play" onclick={emit(Control::TogglePlay)}
                    aria-keyshortcuts="Space" title="Play or pause (Space)">
                { icon(if props.playing { PAUSE } else { PLAY }) }
                <span class="btn-text">{ if props.playing { "Pause" } else { "Play" } }</span>
            </button>
            <button type="button" onclick={emit(Control::StepBack)} aria-keyshortcuts="ArrowLeft"
                    aria-label="Step back to the previous event" title="Step back (Left arrow)">
                { icon(STEP_BACK) }
            </button>
            <button type="button" onclick={emit(Control::StepForward)} aria-keyshortcuts="ArrowRight"
                    aria-label="Step to the next event" title="Step to the next event (Right arrow)">
                { icon(STEP_FORWARD) }
            </button>
            <label class="speed">
                <span class="label-text">{ "Speed" }</span>
                <input type="range" min={short(SPEED_LOG_MIN)} max={short(SPEED_LOG_MAX)} step="0.05"
                       list="speed-ticks" value={short(math::log10(props.speed))} oninput={on_speed} aria-label="Speed"
                       aria-valuetext={format!("{speed_text} real time")} />
                <datalist id="speed-ticks">
                    <option value="-2"></option><option value="-1"></option><option value="0"></option>
                    <option value="1"></option><option value="2"></option>
                </datalist>
                <output class="speed-value">{ speed_text }</output>
            </label>
        </div>
    };
    if props.compact {
        return html! {
            <div class="controls compact">
                { transport }
                if let Some(href) = &props.open_href {
                    <a class="open-full" href={href.clone()} target="_blank" rel="noopener">
                        <span class="btn-text">{ "Open in Deep End" }</span><span aria-hidden="true">{ " ↗" }</span>
                    </a>
                }
            </div>
        };
    }

    let header = props.header.clone();
    let on_control = props.on_control.clone();
    let new_run = move |f: HeaderEdit| {
        let (header, on_control) = (header.clone(), on_control.clone());
        Callback::from(move |e: Event| {
            if let Some(next) = f(&header, &e)
                && next != *header
            {
                on_control.emit(Control::NewRun(next));
            }
        })
    };
    let on_seed = new_run(Box::new(|h, e| {
        let seed = input_value(e).trim().parse::<u64>().ok()?;
        Some(Header { seed, ..h.clone() })
    }));
    let on_random_seed = {
        let (header, on_control) = (props.header.clone(), props.on_control.clone());
        Callback::from(move |_: MouseEvent| {
            let seed = (js_sys::Math::random() * 1_000_000.0) as u64 + 1;
            on_control.emit(Control::NewRun(Header {
                seed,
                ..(*header).clone()
            }));
        })
    };
    let on_nodes = new_run(Box::new(|h, e| {
        let nodes = select_value(e).parse::<u8>().ok()?;
        Some(Header { nodes, ..h.clone() })
    }));
    let on_variant = new_run(Box::new(|h, e| {
        Some(with_setting(h, "variant", &select_value(e), "correct"))
    }));
    let toggle = |t: &'static Toggle| {
        new_run(Box::new(move |h, e| {
            let value = if input_checked(e) { t.on } else { t.off };
            Some(with_setting(h, t.key, value, if t.default_on { t.on } else { t.off }))
        }))
    };
    // A new scenario: its default parameters, the same cluster size and seed. One of another
    // chapter's makes the app open that chapter's page.
    let on_kind = new_run(Box::new(|h, e| {
        let (listed, scenario) = chapters::by_value(&select_value(e))?;
        Some(url::scenario_header(listed, scenario, h.nodes, h.seed))
    }));

    let (min_us, max_us) = props.latency_us;
    let on_latency = |which: u8| {
        let on_control = props.on_control.clone();
        Callback::from(move |e: Event| {
            let Some(ms) = input_number(&e) else {
                return;
            };
            let us = (ms.clamp(0.0, 10_000.0) * 1000.0).round() as u64;
            let (lo, hi) = if which == 0 {
                (us, max_us.max(us))
            } else {
                (min_us.min(us), us)
            };
            if (lo, hi) != (min_us, max_us) {
                on_control.emit(Control::Act(Action::Latency { min_us: lo, max_us: hi }));
            }
        })
    };
    let loss_percent = short(f64::from(props.loss_ppm) / 10_000.0);
    let on_loss = {
        let (on_control, current) = (props.on_control.clone(), props.loss_ppm);
        Callback::from(move |e: Event| {
            let Some(percent) = input_number(&e) else {
                return;
            };
            let ppm = (percent.clamp(0.0, 100.0) * 10_000.0).round() as u32;
            if ppm != current {
                on_control.emit(Control::Act(Action::Loss { ppm }));
            }
        })
    };
    let on_load = {
        let on_control = props.on_control.clone();
        Callback::from(move |e: Event| on_control.emit(Control::SetLoad(input_checked(&e))))
    };

    let h = &props.header;
    let variant = setting(h, "variant").unwrap_or("correct");
    let scenario = chapters::scenario_of(&h.protocol, &h.settings);
    let (variants, toggles) = chapters::controls(&h.protocol);
    let toggles: Vec<Html> = toggles
        .iter()
        .filter(|t| t.scenario.is_none() || t.scenario == scenario.map(|s| s.value))
        .map(|t| {
            let checked = setting(h, t.key).map_or(t.default_on, |v| v == t.on);
            html! {
                <label class="check" title={t.title}>
                    <input type="checkbox" {checked} onchange={toggle(t)} />
                    <span class="label-text">{ t.label }</span>
                </label>
            }
        })
        .collect();
    let mut node_counts: Vec<u8> = (3..=9).collect();
    if !node_counts.contains(&h.nodes) {
        node_counts.insert(0, h.nodes);
    }
    let ms = |us: u64| short(us as f64 / 1000.0);

    html! {
        <div class="controls">
            { transport }
            <fieldset class="control-group run">
                <legend>{ "Scenario " }<small>{ "(changing these starts a new run)" }</small></legend>
                <button type="button" onclick={emit(Control::Reset)}
                        title="Start this scenario over, without your actions">{ "Reset" }</button>
                <label>
                    <span class="label-text">{ "Seed" }</span>
                    <input type="number" min="0" step="1" inputmode="numeric" class="seed"
                           value={h.seed.to_string()} onchange={on_seed} aria-label="Seed" />
                </label>
                <label>
                    <span class="label-text">{ "Protocol" }</span>
                    <select onchange={on_kind} aria-label="Protocol" data-control="protocol">
                        { for chapters::ALL.iter().flat_map(|l| l.scenarios).map(|k| html! {
                            <option value={k.value} selected={Some(k) == scenario}>{ k.label }</option>
                        }) }
                    </select>
                </label>
                <button type="button" onclick={on_random_seed} title="A new run with a random seed">{ "Random seed" }</button>
                <label>
                    <span class="label-text">{ "Nodes" }</span>
                    <select onchange={on_nodes} aria-label="Nodes">
                        { for node_counts.iter().map(|&n| html! {
                            <option value={n.to_string()} selected={n == h.nodes}>{ n }</option>
                        }) }
                    </select>
                </label>
                <label>
                    <span class="label-text">{ "Variant" }</span>
                    <select onchange={on_variant} aria-label="Variant">
                        { for variants.iter().map(|&(value, text)| html! {
                            <option value={value} selected={value == variant}>{ text }</option>
                        }) }
                    </select>
                </label>
                { for toggles }
            </fieldset>
            <fieldset class="control-group network">
                <legend>{ "Network " }<small>{ "(applies now)" }</small></legend>
                <label>
                    <span class="label-text">{ "Latency from" }</span>
                    <input type="number" min="0" max="10000" step="1" class="ms" value={ms(min_us)}
                           onchange={on_latency(0)} aria-label="Latency from, in milliseconds" />
                </label>
                <label>
                    <span class="label-text">{ "to" }</span>
                    <input type="number" min="0" max="10000" step="1" class="ms" value={ms(max_us)}
                           onchange={on_latency(1)} aria-label="Latency to, in milliseconds" />
                    <span class="unit">{ "ms" }</span>
                </label>
                <label>
                    <span class="label-text">{ "Loss" }</span>
                    <input type="range" min="0" max="50" step="1" value={loss_percent.clone()} onchange={on_loss} aria-label="Loss"
                           aria-valuetext={format!("{loss_percent}% of messages lost")} />
                    <output>{ format!("{loss_percent}%") }</output>
                </label>
                <button type="button" onclick={emit(Control::Act(Action::Heal))}
                        title="Remove every partition and cut">{ "Heal" }</button>
            </fieldset>
            if crate::chapters::menu(&props.header.protocol).1 {
            <fieldset class="control-group clients">
                <legend>{ "Clients" }</legend>
                <button type="button" onclick={emit(Control::ClientRequest)}
                        title="A client writes a random key, sent to the leader">{ "Client write" }</button>
                <label class="check">
                    <input type="checkbox" checked={props.load_on} onchange={on_load} />
                    <span class="label-text">{ "Steady load" }</span>
                </label>
            </fieldset>
            }
            <div class="control-group share" role="group" aria-label="Share">
                <button type="button" onclick={emit(Control::CopyLink)}>{ "Copy link" }</button>
                <button type="button" onclick={emit(Control::CopyEmbed)}>{ "Copy embed snippet" }</button>
                <span class="copied" role="status">{ props.copied.clone().unwrap_or_default() }</span>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_read_like_a_person_would_write_them() {
        let cases = [
            (0.01, "0.01×"),
            (0.05, "0.05×"),
            (0.1, "0.1×"),
            (0.316, "0.32×"),
            (1.0, "1×"),
            (3.16, "3.2×"),
        ];
        for (speed, text) in cases {
            assert_eq!(format_speed(speed), text);
        }
        assert_eq!(format_speed(100.0), "100×");
        assert_eq!(format_speed(10f64.powf(1.5)), "32×");
    }

    #[test]
    fn default_settings_leave_the_header() {
        let h = Header::default();
        let on = with_setting(&h, "prevote", "on", "off");
        assert_eq!(setting(&on, "prevote"), Some("on"));
        assert_eq!(with_setting(&on, "prevote", "off", "off"), h);
    }
}
