//! The generals chapter's view: traitors drawn as diamonds, and a panel with each general's
//! decision, the rounds of OM(m) and SM(m) as layers, the message count against the paper's
//! formula, the n >= 3m+1 table the reader fills by running, a search for a failing run, the
//! capture of the last messenger, and the chart of how often Two Generals disagree.
//!
//! Every search and sweep runs in the browser in small chunks, yielding to the page between
//! them (a zero-delay timeout), so the page never freezes; each shows its progress.

use super::Toggle;
use crate::model::{Detail, NodeShape, NodeView, PanelHooks, Shown, common};
use deepend_core::generals::trial::Trial;
use deepend_core::generals::{self, General, GeneralsParams, Message, Mode, Path, Variant, om_message_count};
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Params as _, Protocol as _, TimerKind};
use deepend_core::script::{Action, Script, TimedAction};
use deepend_core::sim::Sim;
use deepend_core::trace::EventKind;
use deepend_core::{NodeId, SimTime};
use std::rc::Rc;
use yew::prelude::*;

impl Shown for General {
    const ELECTION_TIMER: TimerKind = generals::ROUND_TIMER;
    const TERM: &'static str = "campaign";
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct (Lamport, Shostak, Pease)"),
        ("no-recursion", "broken: OM obeys the commander alone"),
        ("sm-no-relay", "broken: SM relays nothing"),
    ];
    const TOGGLES: &'static [Toggle] = &[];
    const CLIENTS: bool = false;
    const LOGS: bool = false;
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "order (round 1)"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Diamond), "relay (round 2)"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond), "round 3"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Circle), "signed relay"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle), "ack"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Circle).negative(true), "retreat"),
    ];

    fn commit_label(campaign: u64) -> String {
        format!("campaign {campaign}")
    }

    fn node_view(sim: &Sim<General>, id: NodeId, _full: bool) -> NodeView {
        let base = common(sim, id);
        // Two Generals has no traitors: a mark there changes nothing, so the stage shows none.
        let marked = match sim.node(id) {
            Some(g) => g.params().mode != Mode::TwoGenerals && (g.is_marked() || g.is_traitor()),
            None => sim.stable(id).copied().unwrap_or(false),
        };
        let shape = if marked { NodeShape::Diamond } else { NodeShape::Circle };
        let mut marks = vec![("data-traitor", marked.to_string())];
        match sim.node(id) {
            Some(g) => {
                marks.push(("data-decision", decision_word(g).into()));
                let mut fields = vec![
                    ("traitor", yes_no(g.is_traitor()).into()),
                    ("marked a traitor", yes_no(g.is_marked()).into()),
                    ("decision", decision_word(g).into()),
                    ("messages this campaign", g.sent().0.to_string()),
                ];
                if let Some(order) = g.order() {
                    fields.insert(0, ("order", word(order).into()));
                }
                NodeView {
                    role: g.role(),
                    term: g.term(),
                    detail: Detail::Fields(fields),
                    shape,
                    marks,
                    ..base
                }
            }
            None => NodeView {
                election_left: None,
                shape,
                marks,
                ..base
            },
        }
    }

    fn panel(sim: &Sim<General>) -> Option<Html> {
        Some(panel(Rc::new(PanelData::of(sim))))
    }
}

fn word(attack: bool) -> &'static str {
    if attack { "attack" } else { "retreat" }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// What a general did in the last campaign it decided: a lieutenant's decision, a loyal
/// commander's order.
fn decision_word(g: &General) -> &'static str {
    match (g.last_decision(), g.order()) {
        (Some((_, attack)), _) | (None, Some(attack)) => word(attack),
        (None, None) => "none",
    }
}

/// One general as the panel shows it.
#[derive(Clone, PartialEq)]
struct Row {
    id: NodeId,
    role: &'static str,
    up: bool,
    traitor: bool,
    decision: &'static str,
    campaign: u32,
    /// OM: the orders received by path; SM: the signed orders that were new.
    received: Vec<(Path, bool)>,
    /// SM: the set V, (retreat, attack).
    seen: [bool; 2],
}

/// Everything the panel reads of a run, compared by value so that Yew redraws only on change.
#[derive(PartialEq)]
struct PanelData {
    params: GeneralsParams,
    n: u8,
    loss_ppm: u32,
    campaign: u32,
    rows: Vec<Row>,
    /// Messages sent in this campaign so far, and in the one before.
    sent: (u32, u32),
    broken: usize,
    script: Rc<Script>,
    now: SimTime,
}

impl PanelData {
    fn of(sim: &Sim<General>) -> PanelData {
        let params = sim.node(1).or_else(|| sim.node(2)).map_or_else(
            || {
                let mut p = GeneralsParams::default();
                for (k, v) in &sim.script().header.settings {
                    let _ = p.set(k, v);
                }
                p
            },
            |g| g.params().clone(),
        );
        let n = sim.node_count();
        let mut sent = (0, 0);
        let mut campaign = 0;
        let rows = (1..=n)
            .map(|id| match sim.node(id) {
                Some(g) => {
                    let (now, last) = g.sent();
                    sent = (sent.0 + now, sent.1 + last);
                    campaign = campaign.max(g.campaign());
                    Row {
                        id,
                        role: g.role().name,
                        up: true,
                        traitor: g.is_traitor(),
                        decision: decision_word(g),
                        campaign: g.last_decision().map_or(g.campaign(), |d| d.0),
                        received: g.received().to_vec(),
                        seen: g.seen(),
                    }
                }
                None => Row {
                    id,
                    role: if id == 1 { "commander" } else { "lieutenant" },
                    up: false,
                    traitor: sim.stable(id).copied().unwrap_or(false),
                    decision: "none",
                    campaign: 0,
                    received: Vec::new(),
                    seen: [false; 2],
                },
            })
            .collect();
        PanelData {
            params,
            n,
            loss_ppm: sim.network().loss_ppm,
            campaign,
            rows,
            sent,
            broken: sim.violations().len(),
            script: Rc::new(sim.script().clone()),
            now: sim.now(),
        }
    }
}

#[derive(Properties, PartialEq)]
struct DataProps {
    data: Rc<PanelData>,
}

fn panel(d: Rc<PanelData>) -> Html {
    let mode = d.params.mode;
    html! {
        <div class="generals" data-mode={d.params.mode_name()}>
            <section class="panel">
                <div class="panel-head"><h2 class="panel-title">{ title(&d) }</h2></div>
                { decisions(&d) }
                <Search data={d.clone()} />
            </section>
            if mode == Mode::TwoGenerals {
                <TwoGenerals data={d.clone()} />
            } else {
                <Layers data={d.clone()} />
                { count(&d) }
                <BoundTable />
            }
            { Html::from_html_unchecked(ASSUMPTIONS.into()) }
            { Html::from_html_unchecked(STYLE.into()) }
        </div>
    }
}

fn title(d: &PanelData) -> String {
    match d.params.mode {
        Mode::TwoGenerals => format!(
            "Two Generals, k = {}, {} messenger(s) a step: campaign {}",
            d.params.k, d.params.messengers, d.campaign
        ),
        Mode::Om => format!("OM({}) among {} generals: campaign {}", d.params.m, d.n, d.campaign),
        Mode::Sm => format!("SM({}) among {} generals: campaign {}", d.params.m, d.n, d.campaign),
    }
}

/// Each general's last decision (a loyal commander's: its order), `data-decision`.
fn decisions(d: &PanelData) -> Html {
    html! {
        <ul class="gen-decisions" aria-label="Decisions">
            { for d.rows.iter().filter(|r| d.params.mode != Mode::TwoGenerals || r.id <= 2).map(|r| html! {
                <li key={r.id} data-general={r.id.to_string()} data-decision={r.decision}
                    data-traitor={r.traitor.to_string()} class={if r.traitor { "gen-decision traitor" } else { "gen-decision" }}>
                    <span class="gen-who">{ format!("n{} {}", r.id, r.role) }</span>
                    <span class="gen-what">{
                        if !r.up { "crashed".to_string() }
                        else if r.traitor { "traitor".to_string() }
                        else if r.decision == "none" { "waiting".to_string() }
                        else { format!("{} (campaign {})", r.decision, r.campaign) }
                    }</span>
                </li>
            }) }
        </ul>
    }
}

/// Yields to the browser: a zero-delay timeout, so a long computation runs in chunks.
async fn breathe() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// How long a search runs a candidate: six campaigns from the start.
fn search_until(p: &GeneralsParams) -> SimTime {
    SimTime(p.campaign_start_us(7))
}

/// Whether `script` breaks a property before `until`.
fn breaks(script: &Script, until: SimTime) -> Option<&'static str> {
    let mut sim = Sim::<General>::with_trace(script, false).ok()?;
    sim.run_until(until);
    sim.violations().first().map(|f| f.violation.property)
}

const SEARCH_SEEDS: u64 = 500;

/// "Find a failing run": the reader's script with other seeds, until one breaks a property;
/// then that run starts.
#[function_component]
fn Search(props: &DataProps) -> Html {
    let status = use_state(|| None::<String>);
    let hooks = use_context::<PanelHooks>();
    let d = &props.data;
    // Byzantine generals without a traitor cannot fail: the search then tries one traitor,
    // a different node for each seed.
    let no_traitors = d.params.mode != Mode::TwoGenerals && d.params.traitors.is_empty()
        && !d.script.actions.iter().any(|a| matches!(&a.action, Action::Command { verb, .. } if verb == "traitor"));
    let onclick = {
        let (status, script, until) = (status.clone(), d.script.clone(), search_until(&d.params));
        Callback::from(move |_| {
            let (status, script) = (status.clone(), script.clone());
            let hooks = hooks.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let first = script.header.seed + 1;
                for seed in first..first + SEARCH_SEEDS {
                    if (seed - first) % 10 == 0 {
                        status.set(Some(format!("searching: seed {seed}")));
                        breathe().await;
                    }
                    let mut candidate = (*script).clone();
                    candidate.header.seed = seed;
                    if no_traitors {
                        let traitor = 1 + seed % u64::from(candidate.header.nodes);
                        candidate.header.settings.push(("traitors".into(), traitor.to_string()));
                    }
                    if let Some(property) = breaks(&candidate, until) {
                        status.set(Some(format!("seed {seed} breaks {property}: playing it")));
                        if let Some(h) = &hooks {
                            h.on_script.emit(candidate);
                        }
                        return;
                    }
                }
                status.set(Some(format!(
                    "none of {SEARCH_SEEDS} seeds broke a property in six campaigns: here the theory holds (or add loss, or traitors)"
                )));
            });
        })
    };
    html! {
        <p class="gen-search">
            <button class="gen-find" {onclick}>{ "Find a failing run" }</button>
            <span class="gen-status" role="status">{ (*status).clone().unwrap_or_default() }</span>
        </p>
    }
}

/// OM: what one lieutenant received, round by round (the layers of the recursion); SM: the
/// signed orders it saw.
#[function_component]
fn Layers(props: &DataProps) -> Html {
    let d = &props.data;
    let picked = use_state(|| 2u8);
    let id = (*picked).clamp(2, d.n.max(2));
    let Some(row) = d.rows.iter().find(|r| r.id == id) else {
        return Html::default();
    };
    let tabs = d.rows.iter().skip(1).map(|r| {
        let picked = picked.clone();
        let rid = r.id;
        html! {
            <button key={rid} aria-pressed={(rid == id).to_string()} onclick={move |_| picked.set(rid)}>
                { format!("n{rid}") }
            </button>
        }
    });
    let rounds = d.params.rounds();
    let layers = (1..=rounds).map(|r| {
        let chips = row.received.iter().filter(|(p, _)| p.len() == r).map(|(p, a)| {
            html! { <li class={if *a { "gen-chip attack" } else { "gen-chip retreat" }} data-path={p.to_string()}>{ format!("{p} {}", word(*a)) }</li> }
        });
        html! {
            <li class="gen-layer" data-round={r.to_string()}>
                <span class="gen-round">{ format!("round {r}") }</span>
                <ul class="gen-chips">{ for chips }</ul>
            </li>
        }
    });
    let how = match d.params.mode {
        Mode::Sm => format!(
            "Signed orders n{id} added to V (signatures, commander first). V = {{{}}}: it obeys {}.",
            [(row.seen[1], "attack"), (row.seen[0], "retreat")]
                .iter()
                .filter(|s| s.0)
                .map(|s| s.1)
                .collect::<Vec<_>>()
                .join(", "),
            if row.seen == [false, true] { "attack" } else { "retreat (choice of V)" }
        ),
        _ => format!(
            "What n{id} heard along each path (commander first): round r holds what OM({}) relays at depth r. A missing order counts as retreat; each level takes the majority, retreat on a tie.",
            d.params.m
        ),
    };
    html! {
        <section class="panel gen-layers">
            <div class="panel-head"><h2 class="panel-title">{ "Rounds as layers" }</h2></div>
            <p class="gen-tabs">{ "Lieutenant: " }{ for tabs }</p>
            <p class="gen-note">{ how }</p>
            <ol class="gen-rounds">{ for layers }</ol>
        </section>
    }
}

/// OM's message count against the formula.
fn count(d: &PanelData) -> Html {
    let (n, m) = (u64::from(d.n), u64::from(d.params.m));
    let formula = om_message_count(n, m);
    let growth = (0..=3u64).map(|m| {
        html! { <li>{ format!("m = {m}: {}", om_message_count(n, m)) }</li> }
    });
    html! {
        <section class="panel gen-count">
            <div class="panel-head"><h2 class="panel-title">{ "Messages per campaign" }</h2></div>
            <p>
                { "This campaign so far: " }<b data-sent-now={d.sent.0.to_string()}>{ d.sent.0 }</b>
                { "; the last one: " }<b data-sent-last={d.sent.1.to_string()}>{ d.sent.1 }</b>
            </p>
            if d.params.mode == Mode::Om {
                <p>
                    { format!("OM({m}) with n = {n}: (n−1) + (n−1)(n−2) + … + (n−1)…(n−m−1) = ") }
                    <b data-formula={formula.to_string()}>{ formula }</b>
                    { " messages: the last term grows as n^(m+1)." }
                </p>
                <ul class="gen-growth" aria-label="OM message counts for this n">{ for growth }</ul>
            } else {
                <p>{ "In SM(m) a lieutenant relays only the orders new to it, two at most (V holds two values): far fewer messages than OM." }</p>
            }
        </section>
    }
}

/// The n >= 3m+1 table: each cell runs 100 seeds of OM(m) or SM(m) with m traitors.
const TABLE_SEEDS: u64 = 100;

#[derive(Clone, Copy, PartialEq)]
enum Cell {
    Empty,
    Running(u64),
    Done(u64),
}

#[function_component]
fn BoundTable() -> Html {
    // Columns: (mode, m); rows: n = 3..=7.
    const COLUMNS: [(Mode, u8); 4] = [(Mode::Om, 1), (Mode::Om, 2), (Mode::Sm, 1), (Mode::Sm, 2)];
    let cells = use_state(|| Rc::new(vec![Cell::Empty; 5 * COLUMNS.len()]));
    let body = (3u8..=7).map(|n| {
        let tds = COLUMNS.iter().enumerate().map(|(c, &(mode, m))| {
            let i = usize::from(n - 3) * COLUMNS.len() + c;
            let theory = mode == Mode::Sm || n > 3 * m;
            let cell = cells[i];
            let onclick = {
                let cells = cells.clone();
                Callback::from(move |_| {
                    let cells = cells.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let trial = Trial {
                            mode,
                            nodes: n,
                            m,
                            traitors: m,
                            ..Trial::default()
                        };
                        let mut broken = 0;
                        for seed in 0..TABLE_SEEDS {
                            if seed % 10 == 0 {
                                let mut next = (**cells).clone();
                                next[i] = Cell::Running(seed);
                                cells.set(Rc::new(next));
                                breathe().await;
                            }
                            broken += u64::from(trial.run(seed).broken > 0);
                        }
                        let mut next = (**cells).clone();
                        next[i] = Cell::Done(broken);
                        cells.set(Rc::new(next));
                    });
                })
            };
            let (text, result) = match cell {
                Cell::Empty => ("run".to_string(), "none"),
                Cell::Running(s) => (format!("{s}/{TABLE_SEEDS}…"), "running"),
                Cell::Done(0) => (format!("held in {TABLE_SEEDS} runs"), "holds"),
                Cell::Done(b) => (format!("broke in {b} of {TABLE_SEEDS}"), "breaks"),
            };
            html! {
                <td key={c} data-cell={format!("{}-{n}-{m}", if mode == Mode::Om { "om" } else { "sm" })}
                    data-result={result} class={if theory { "" } else { "beyond" }}>
                    <button {onclick} disabled={matches!(cell, Cell::Running(_))}
                        title={if theory { "the theory promises agreement" } else { "beyond the bound: traitors may win" }}>
                        { text }
                    </button>
                </td>
            }
        });
        html! { <tr key={n}><th scope="row">{ format!("n = {n}") }</th>{ for tds }</tr> }
    });
    html! {
        <section class="panel gen-bound">
            <div class="panel-head"><h2 class="panel-title">{ "n ≥ 3m + 1, by running" }</h2></div>
            <p>{ "Each cell runs 100 seeds of three campaigns with m traitors, placed and playing as the seed says. OM(m) holds exactly where n ≥ 3m + 1 (shaded cells are beyond it); SM(m) holds for any n." }</p>
            <table class="gen-table">
                <thead><tr><th></th><th>{ "OM(1), 1 traitor" }</th><th>{ "OM(2), 2 traitors" }</th><th>{ "SM(1), 1 traitor" }</th><th>{ "SM(2), 2 traitors" }</th></tr></thead>
                <tbody>{ for body }</tbody>
            </table>
        </section>
    }
}

/// Two Generals: capture the last messenger of the next campaign, and the chart.
#[function_component]
fn TwoGenerals(props: &DataProps) -> Html {
    let d = &props.data;
    let hooks = use_context::<PanelHooks>();
    let note = use_state(|| None::<&'static str>);
    let capture = {
        let (script, now, k, note) = (d.script.clone(), d.now, d.params.k, note.clone());
        let campaign_us = d.params.campaign_us();
        Callback::from(move |_| match capture_last(&script, now, k, campaign_us) {
            Some(next) => {
                if let Some(h) = &hooks {
                    h.on_script.emit(next);
                }
                note.set(Some("captured: the next campaign's last messenger never arrives"));
            }
            None => note.set(Some("no last messenger in the next campaigns: the chain broke earlier")),
        })
    };
    let bystanders = d.n > 2;
    html! {
        <>
            <section class="panel gen-two">
                <div class="panel-head"><h2 class="panel-title">{ "The last messenger" }</h2></div>
                <p>{ format!(
                    "General 1 sends \"attack at dawn\"; each messenger is acknowledged, {} acknowledgement(s) in all. A general attacks only if every messenger addressed to it arrived. Whatever k, the sender of the last messenger cannot tell whether it arrived, so capturing exactly that one leaves it attacking alone.",
                    d.params.k
                ) }</p>
                if bystanders {
                    <p class="gen-note">{ format!("Only n1 and n2 are generals here; the other {} nodes stand by.", d.n - 2) }</p>
                }
                <p>
                    <button class="gen-capture" onclick={capture}>{ "Capture the last messenger" }</button>
                    <span class="gen-status" role="status">{ (*note).unwrap_or_default() }</span>
                </p>
            </section>
            <Chart messengers={d.params.messengers} loss_ppm={d.loss_ppm} />
        </>
    }
}

/// The reader's run, plus the capture of every messenger of the last step of the chain in the
/// first campaign, from `now` on, in which that step is sent.
fn capture_last(script: &Script, now: SimTime, k: u8, campaign_us: u64) -> Option<Script> {
    let mut sim = Sim::<General>::new(script).ok()?;
    sim.run_until(now.saturating_add_us(4 * campaign_us));
    let trace = sim.trace();
    let mut target: Option<(u32, SimTime)> = None;
    let mut ids = Vec::new();
    for e in trace.events.iter().filter(|e| e.time >= now) {
        let EventKind::Send { msg, .. } = e.kind else { continue };
        let Some(record) = trace.messages.get(msg as usize) else { continue };
        let Message::Messenger { campaign, step, .. } = record.msg else { continue };
        if step != k || target.is_some_and(|(c, _)| c != campaign) {
            continue;
        }
        target.get_or_insert((campaign, e.time));
        ids.push(msg);
    }
    let (_, at) = target?;
    let mut next = script.clone();
    next.actions.retain(|a| a.at <= now);
    next.actions.extend(ids.into_iter().map(|id| TimedAction {
        at,
        action: Action::Drop(id),
    }));
    Some(next)
}

#[derive(Properties, PartialEq)]
struct ChartProps {
    messengers: u8,
    loss_ppm: u32,
}

/// Loss rates the chart plots, in ppm, and their colours' classes.
const CHART_LOSS: [(u32, &str); 3] = [(100_000, "l10"), (200_000, "l20"), (300_000, "l30")];
const CHART_SEEDS: u64 = 20;
const CHART_CAMPAIGNS: u32 = 20;
const W: i64 = 360;
const H: i64 = 180;

/// The probability that the generals disagree against k, for three loss rates: measured
/// over a sweep in the browser (points), and the exact q(1−q)^k with q = loss^messengers
/// (dashed). It shrinks with k, never to zero.
#[function_component]
fn Chart(props: &ChartProps) -> Html {
    // Per loss rate, per k: (disagreeing campaigns, campaigns).
    let points = use_state(|| Rc::new(Vec::<(usize, u8, u32, u32)>::new()));
    let progress = use_state(|| None::<u32>);
    let messengers = props.messengers;
    let onclick = {
        let (points, progress) = (points.clone(), progress.clone());
        Callback::from(move |_| {
            let (points, progress) = (points.clone(), progress.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let mut found = Vec::new();
                points.set(Rc::new(Vec::new()));
                let total = CHART_LOSS.len() as u32 * 6;
                for (li, &(loss_ppm, _)) in CHART_LOSS.iter().enumerate() {
                    for k in 0..=5u8 {
                        progress.set(Some(li as u32 * 6 + u32::from(k)));
                        breathe().await;
                        let trial = Trial {
                            mode: Mode::TwoGenerals,
                            nodes: 2,
                            k,
                            messengers,
                            loss_ppm,
                            traitors: 0,
                            campaigns: CHART_CAMPAIGNS,
                            variant: Variant::Correct,
                            ..Trial::default()
                        };
                        let broken: u32 = (0..CHART_SEEDS).map(|s| trial.run(s).broken).sum();
                        found.push((li, k, broken, CHART_CAMPAIGNS * CHART_SEEDS as u32));
                        points.set(Rc::new(found.clone()));
                    }
                }
                progress.set(Some(total));
            });
        })
    };
    // The y axis: up to the largest exact probability, at k = 0 and the highest loss.
    let q_of = |loss_ppm: u32| crate::math::pow(loss_ppm as f64 / 1e6, f64::from(messengers));
    let exact = |loss_ppm: u32, k: u8| q_of(loss_ppm) * crate::math::pow(1.0 - q_of(loss_ppm), f64::from(k));
    let top = exact(CHART_LOSS[2].0, 0).max(0.001) * 1.15;
    let x = |k: u8| 40 + i64::from(k) * (W - 60) / 5;
    let y = |p: f64| H - 25 - ((p / top) * (H - 40) as f64) as i64;
    let curves = CHART_LOSS.iter().map(|&(loss, class)| {
        let d: String = (0..=5u8)
            .map(|k| format!("{}{} {}", if k == 0 { "M" } else { "L" }, x(k), y(exact(loss, k))))
            .collect();
        html! { <path class="gen-exact" data-loss={class} d={d} /> }
    });
    let dots = points.iter().map(|&(li, k, broken, of)| {
        let p = f64::from(broken) / f64::from(of.max(1));
        html! {
            <circle class="gen-dot" data-loss={CHART_LOSS[li].1} cx={x(k).to_string()} cy={y(p).to_string()} r="4"
                data-k={k.to_string()} data-disagree={broken.to_string()} />
        }
    });
    let ticks = (0..=5u8).map(|k| html! { <text class="gen-tick" x={x(k).to_string()} y={(H - 8).to_string()}>{ k }</text> });
    let per_mille = (top * 1000.0) as i64;
    let status = match *progress {
        None => String::new(),
        Some(p) if p >= CHART_LOSS.len() as u32 * 6 => "done: every point is above zero".to_string(),
        Some(p) => format!("running: point {} of {}", p + 1, CHART_LOSS.len() * 6),
    };
    html! {
        <section class="panel gen-chart">
            <div class="panel-head"><h2 class="panel-title">{ "How often they disagree" }</h2></div>
            <p>{ format!(
                "Share of campaigns in which one general attacks alone, against k, for loss 10%, 20% and 30% and {messengers} messenger(s) a step: {CHART_SEEDS} seeds of {CHART_CAMPAIGNS} campaigns a point, run here. Dashed: the exact q(1−q)^k, q = loss^messengers. The valley's loss now: {}.{}%.",
                props.loss_ppm / 10_000, (props.loss_ppm % 10_000) / 1_000
            ) }</p>
            <p>
                <button class="gen-plot" {onclick}>{ "Run the sweep" }</button>
                <span class="gen-status" role="status">{ status }</span>
            </p>
            <svg class="gen-svg" viewBox={format!("0 0 {W} {H}")} role="img" aria-label="Probability of disagreement against k">
                <line class="gen-axis" x1="40" y1={(H - 25).to_string()} x2={(W - 20).to_string()} y2={(H - 25).to_string()} />
                <line class="gen-axis" x1="40" y1="15" x2="40" y2={(H - 25).to_string()} />
                <text class="gen-tick" x="4" y="20">{ format!("{}.{}%", per_mille / 10, per_mille % 10) }</text>
                <text class="gen-tick" x="4" y={(H - 25).to_string()}>{ "0" }</text>
                <text class="gen-tick" x={(W - 12).to_string()} y={(H - 8).to_string()}>{ "k" }</text>
                { for ticks }
                { for curves }
                { for dots }
            </svg>
            <p class="gen-legend"><span class="l10">{ "● loss 10%" }</span>{ " " }<span class="l20">{ "● 20%" }</span>{ " " }<span class="l30">{ "● 30%" }</span></p>
        </section>
    }
}

/// The chapter's styles, shipped with its panel so that no other page carries them.
const STYLE: &str = r#"<style>.generals{display:grid;gap:var(--gap,1rem);}@media (min-width:60rem){.generals{grid-template-columns:repeat(2,minmax(0,1fr));}}.gen-decisions{display:flex;flex-wrap:wrap;gap:0.4rem;list-style:none;padding:0;margin:0.5rem 0;}.gen-decision{border:2px solid var(--pn-border);border-radius:0.4rem;padding:0.2rem 0.5rem;display:grid;}.gen-decision[data-decision="attack"]{border-color:var(--pn-bad);background:var(--pn-bad-bg);}.gen-decision[data-decision="retreat"]{border-style:dashed;}.gen-decision.traitor{border-color:var(--pn-info);border-style:dotted;}.gen-who{font-size:0.8em;color:var(--pn-muted);}.gen-status{margin-left:0.6rem;color:var(--pn-muted);}.gen-tabs button[aria-pressed="true"]{outline:2px solid var(--pn-focus);}.gen-rounds{list-style:none;padding:0;margin:0;display:grid;gap:0.3rem;}.gen-layer{display:grid;grid-template-columns:4.5rem 1fr;gap:0.4rem;align-items:start;}.gen-chips{display:flex;flex-wrap:wrap;gap:0.25rem;list-style:none;padding:0;margin:0;}.gen-chip{font:0.75rem/1.4 ui-monospace,monospace;border-radius:0.3rem;padding:0 0.3rem;border:1px solid var(--pn-border);}.gen-chip.attack{background:var(--pn-bad-bg);border-color:var(--pn-bad);}.gen-chip.retreat{border-style:dashed;}.gen-table{border-collapse:collapse;width:100%;}.gen-table th,.gen-table td{border:1px solid var(--pn-grid);padding:0.2rem;text-align:center;font-size:0.85em;}.gen-table td.beyond{background:var(--pn-sunken);}.gen-table td[data-result="holds"] button{color:var(--pn-ok);}.gen-table td[data-result="breaks"] button{color:var(--pn-bad);font-weight:600;}.gen-svg{width:100%;max-width:32rem;height:auto;}.gen-axis{stroke:var(--pn-muted);}.gen-tick{font-size:10px;fill:var(--pn-muted);}.gen-exact{fill:none;stroke-width:1.5;stroke-dasharray:4 3;}.gen-exact[data-loss="l10"]{stroke:#2f6fb0;} .gen-exact[data-loss="l20"]{stroke:#c76f16;} .gen-exact[data-loss="l30"]{stroke:#8e24aa;}.gen-dot[data-loss="l10"],.gen-legend .l10{fill:#2f6fb0;color:#2f6fb0;}.gen-dot[data-loss="l20"],.gen-legend .l20{fill:#c76f16;color:#c76f16;}.gen-dot[data-loss="l30"],.gen-legend .l30{fill:#8e24aa;color:#8e24aa;}.st-node[data-traitor="true"] .st-body{fill:var(--violation,#8e24aa);stroke:var(--violation,#8e24aa);}</style>"#;

/// What each protocol assumes: the honest part of CFT versus BFT. Static text, so one raw
/// HTML node rather than a tree of elements built in code.
const ASSUMPTIONS: &str = concat!(
    r#"<section class="panel gen-assume"><div class="panel-head"><h2 class="panel-title">What each protocol assumes</h2></div><ul>"#,
    "<li><b>Two Generals:</b> a link that may lose any message. No protocol, with any number of acknowledgements, guarantees agreement; more messengers only make disagreement rarer.</li>",
    "<li><b>OM(m):</b> every message of a loyal general arrives (A1), its receiver knows the sender (A2), a missing message is detected at the end of its round (A3: synchrony). Then m traitors lose if and only if n ≥ 3m + 1. A crashed or paused general breaks A1 and counts as one more traitor.</li>",
    "<li><b>SM(m):</b> the same, plus signatures no traitor can forge (A4). Then any number of traitors up to m lose, with m + 2 generals.</li>",
    r#"<li><b>Raft and Paxos (CFT):</b> nodes may crash, pause and lose messages, but never lie; 2f + 1 nodes survive f crashes. One node that votes for every candidate breaks Raft's Election Safety: try the broken variant "byzantine-voter" on the <a href="raft.html">Raft page</a>. Byzantine fault tolerant protocols (PBFT) pay for lies with 3f + 1 replicas, quorums of 2f + 1 and authenticated messages.</li></ul>"#,
    r#"<p class="gen-props">Checkers: Agreement (both generals attack or neither), IC1 (all loyal lieutenants obey the same order), IC2 (a loyal commander's order is obeyed by every loyal lieutenant).</p></section>"#,
);
