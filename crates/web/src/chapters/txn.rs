//! The transactions chapter's view: each node's part (coordinator, participant, service,
//! client), and a panel with a timeline per transaction, order or payment (with its
//! `data-outcome`), the participants' rows and locks with the requests waiting for them, the
//! sagas' state as each service sees it, and the payments' rows and charges.

use super::Toggle;
use crate::model::{Detail, NodeShape, NodeView, PanelHooks, Shown, common};
use deepend_core::protocol::{Fact, MsgFamily, MsgShape, MsgStyle, Note, Protocol as _, TimerKind};
use deepend_core::sim::Sim;
use deepend_core::trace::EventKind;
use deepend_core::txn::{self, Kind, Part, PayOutcome, State, Txn, TxnParams, facts};
use deepend_core::{NodeId, SimTime};
use std::rc::Rc;
use yew::prelude::*;

impl Shown for Txn {
    const ELECTION_TIMER: TimerKind = txn::DUE_TIMER;
    const TERM: &'static str = "done";
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Other, MsgShape::Diamond), "Begin, Pay"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Diamond), "Prepare"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Circle), "Vote"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "Decision, saga step"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Square), "database query"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Square), "Charge"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Circle).negative(true), "no, abort, compensation"),
    ];
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct"),
        ("no-decision-log", "broken 2PC: decision not logged"),
        ("forget-prepared", "broken 2PC: prepared state not persisted"),
        ("refund-not-idempotent", "broken saga: refund not idempotent"),
        ("forget-compensation", "broken saga: forgets to release stock"),
        ("no-processor-key", "broken payments: no key to the processor"),
    ];
    const TOGGLES: &'static [Toggle] = &[
        Toggle {
            key: "termination",
            label: "Cooperative termination",
            title: "Prepared participants ask each other for the decision when the coordinator is silent",
            on: "on",
            off: "off",
            default_on: false,
            scenario: Some("2pc"),
        },
        Toggle {
            key: "style",
            label: "Orchestrated",
            title: "The orders service commands each step and compensation, instead of services reacting to events",
            on: "orchestration",
            off: "choreography",
            default_on: false,
            scenario: Some("saga"),
        },
    ];
    const CLIENTS: bool = false;
    const LOGS: bool = false;

    fn commit_label(index: u64) -> String {
        format!("{index} done")
    }

    fn node_view(sim: &Sim<Txn>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let params = params(sim);
        let kind = params.kind;
        let n = sim.node_count();
        let part = txn::part(kind, id, n);
        let name = txn::node_name(kind, id, n);
        let shape = match part {
            Part::Coordinator | Part::Participant | Part::Client => NodeShape::Circle,
            Part::Orders if params.style == txn::Style::Orchestration => NodeShape::Circle,
            _ => NodeShape::Square,
        };
        let mut marks = vec![("data-name", name.to_string())];
        if let Some(State::Participant(p)) = state(sim, id) {
            let blocked = p.prepared.iter().any(|p| p.asks > 0);
            marks.push(("data-blocked", blocked.to_string()));
            marks.push(("data-locks", p.rows.iter().filter(|r| r.holder.is_some()).count().to_string()));
        }
        let describe = match sim.node(id) {
            Some(node) if full => node.describe(),
            _ => String::new(),
        };
        let detail = Detail::Fields(vec![("part", name.to_string()), ("state", describe)]);
        match sim.node(id) {
            Some(node) => NodeView {
                role: node.role(),
                term: node.term(),
                detail,
                shape,
                marks,
                caption: Some(name),
                ..base
            },
            None => NodeView {
                role: txn::role(part, params.style),
                election_left: None,
                detail,
                shape,
                marks,
                ..base
            },
        }
    }

    fn panel(sim: &Sim<Txn>) -> Option<Html> {
        let data = Rc::new(panel_data(sim));
        Some(html! { <TxnPanel {data} /> })
    }
}

/// The run's parameters, from a node or else from the script.
fn params(sim: &Sim<Txn>) -> TxnParams {
    (1..=sim.node_count())
        .find_map(|id| sim.node(id).map(|n| n.params().clone()))
        .unwrap_or_else(|| {
            use deepend_core::protocol::Params as _;
            let mut p = TxnParams::default();
            for (k, v) in &sim.script().header.settings {
                let _ = p.set(k, v);
            }
            p
        })
}

/// Node `id`'s state: live, or what it persisted while it is crashed.
fn state(sim: &Sim<Txn>, id: NodeId) -> Option<&State> {
    sim.node(id).map(|n| &n.state).or_else(|| sim.stable(id))
}

/// One transaction, order or payment on the timeline.
#[derive(Clone, PartialEq)]
struct Item {
    id: u64,
    label: String,
    /// committed, aborted, blocked, compensated or pending.
    outcome: &'static str,
    /// What each node did for it, in time order: `(time, text)`.
    steps: Vec<(u64, String)>,
    /// Extra attributes of the item (`data-charges`).
    marks: Marks,
    /// What each node shows of it now, as short cells.
    cells: Vec<String>,
}

/// Extra attributes of an element.
type Marks = Vec<(&'static str, String)>;

/// A node's table: its title, column heads and rows (with the row's attributes).
#[derive(Clone, PartialEq)]
struct Table {
    title: String,
    head: &'static [&'static str],
    rows: Vec<(Marks, Vec<String>)>,
}

#[derive(Clone, PartialEq)]
struct Data {
    scenario: &'static str,
    cells_head: Vec<&'static str>,
    items: Vec<Item>,
    tables: Vec<Table>,
}

/// The timeline keeps this many items, the newest.
const ITEMS: usize = 12;

/// A time or an age in whole milliseconds.
fn ms(us: u64) -> String {
    format!("{}ms", us / 1000)
}

fn panel_data(sim: &Sim<Txn>) -> Data {
    let kind = params(sim).kind;
    let n = sim.node_count();
    let client = state(sim, n);
    let mut items: Vec<Item> = match (kind, client) {
        (Kind::TwoPc, Some(State::TxClient(c))) => c
            .txs
            .iter()
            .map(|&(tx, row, _)| two_pc_item(sim, tx, row))
            .collect(),
        (Kind::Saga, Some(State::Saga(c))) => c.rows.iter().map(|r| saga_item(sim, r.order)).collect(),
        (Kind::Idempotency, Some(State::PayClient(c))) => c
            .intents
            .iter()
            .map(|i| {
                let charges = sim.monitor().charges(i.intent);
                Item {
                    id: i.intent,
                    label: format!("payment p{}", i.intent),
                    outcome: match i.outcome {
                        PayOutcome::Paid => "committed",
                        PayOutcome::GaveUp => "aborted",
                        PayOutcome::Pending => "pending",
                    },
                    steps: Vec::new(),
                    marks: vec![("data-charges", charges.to_string())],
                    cells: vec![
                        format!("{} attempt(s)", i.attempts),
                        format!("{charges} charge(s)"),
                        format!("{:?}", i.outcome).to_lowercase(),
                    ],
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let skip = items.len().saturating_sub(ITEMS);
    items.drain(..skip);
    add_steps(sim, &mut items);
    let (scenario, cells_head): (&str, Vec<&str>) = match kind {
        Kind::TwoPc => ("2pc", (2..n).map(|id| txn::node_name(kind, id, n)).collect()),
        Kind::Saga => ("saga", vec!["inventory", "payment", "shipping"]),
        Kind::Idempotency => ("idempotency", vec!["client", "card", "client sees"]),
    };
    Data {
        scenario,
        cells_head,
        items,
        tables: tables(sim, kind),
    }
}

fn two_pc_item(sim: &Sim<Txn>, tx: u64, row: u8) -> Item {
    let n = sim.node_count();
    let (mut committed, mut aborted, mut blocked) = (false, false, false);
    let mut cells = Vec::new();
    for id in 2..n {
        let cell = match state(sim, id) {
            Some(State::Participant(p)) => match (p.outcome(tx), p.prepared.iter().find(|p| p.tx == tx)) {
                (Some(true), _) => {
                    committed = true;
                    "committed".to_string()
                }
                (Some(false), _) => {
                    aborted = true;
                    "aborted".to_string()
                }
                (None, Some(p)) => {
                    blocked |= p.asks > 0 && sim.node(id).is_some();
                    if p.uncertain != 0 {
                        format!("prepared, asked {}×, peers uncertain", p.asks)
                    } else if p.asks > 0 {
                        format!("prepared, asked {}×", p.asks)
                    } else {
                        "prepared".to_string()
                    }
                }
                (None, None) if p.waiting.iter().any(|w| w.tx == tx) => "waiting for lock".to_string(),
                (None, None) => "—".to_string(),
            },
            _ => "—".to_string(),
        };
        cells.push(cell);
    }
    if let Some(State::Coordinator(c)) = state(sim, 1) {
        match c.decision(tx) {
            Some(true) => committed = true,
            Some(false) => aborted = true,
            None => {}
        }
    }
    let outcome = match (committed, aborted, blocked) {
        (true, _, _) => "committed",
        (_, true, _) => "aborted",
        (_, _, true) => "blocked",
        _ => "pending",
    };
    Item {
        id: tx,
        label: format!("t{tx} · row {row}"),
        outcome,
        steps: Vec::new(),
        marks: Vec::new(),
        cells,
    }
}

fn saga_item(sim: &Sim<Txn>, order: u64) -> Item {
    let row = |id| match state(sim, id) {
        Some(State::Saga(s)) => s.row(order).cloned(),
        _ => None,
    };
    let (inv, pay, ship) = (row(2).unwrap_or_default(), row(3).unwrap_or_default(), row(4).unwrap_or_default());
    let outcome = match row(1).and_then(|r| r.done) {
        Some(true) => "committed",
        Some(false) if inv.reserved || pay.charged => "compensated",
        Some(false) => "aborted",
        None => "pending",
    };
    let pick = |pairs: &[(bool, &str)]| {
        pairs
            .iter()
            .rev()
            .find(|p| p.0)
            .map(|p| p.1)
            .unwrap_or("—")
            .to_string()
    };
    let cells = vec![
        pick(&[(inv.failed, "out of stock"), (inv.reserved, "stock held"), (inv.released, "stock released")]),
        pick(&[
            (pay.failed, "declined"),
            (pay.charged, "money taken"),
            (pay.refunds > 0, "refunded"),
            (pay.refunds > 1, "refunded twice"),
        ]),
        pick(&[(ship.failed, "failed"), (ship.shipped, "shipped")]),
    ];
    Item {
        id: order,
        label: format!("order o{order}"),
        outcome,
        steps: Vec::new(),
        marks: Vec::new(),
        cells,
    }
}

/// Adds each item's steps: the facts the nodes noted about it, from the trace.
fn add_steps(sim: &Sim<Txn>, items: &mut [Item]) {
    let Some(first) = items.first().map(|i| i.id) else {
        return;
    };
    for event in sim.trace().events.iter() {
        let EventKind::Note(Note::Fact(Fact { what, value })) = event.kind else {
            continue;
        };
        if what == facts::RECOVERS || (value as u64) < first {
            continue;
        }
        if let Some(item) = items.iter_mut().find(|i| i.id == value as u64) {
            item.steps.push((event.time.as_us(), format!("n{} {what} {value}", event.node)));
        }
    }
}

fn tables(sim: &Sim<Txn>, kind: Kind) -> Vec<Table> {
    let n = sim.node_count();
    let mut out = Vec::new();
    for id in 1..=n {
        let title = format!("n{id} {}", txn::node_name(kind, id, n));
        let now = sim.local_now_us(id);
        let table = match state(sim, id) {
            Some(State::Participant(p)) => Table {
                title,
                head: &["row", "value", "lock", "waiting"],
                rows: p
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let row = i as u8 + 1;
                        let waiting: Vec<String> = p
                            .waiting
                            .iter()
                            .filter(|w| w.row == row)
                            .map(|w| format!("t{} ({})", w.tx, ms(now.saturating_sub(w.since_us))))
                            .collect();
                        let holder = r.holder.map(|h| format!("t{h}"));
                        (
                            vec![
                                ("data-row", row.to_string()),
                                ("data-holder", holder.clone().unwrap_or_default()),
                                ("data-waiting", waiting.len().to_string()),
                            ],
                            vec![
                                format!("r{row}"),
                                if r.value == 0 { "—".into() } else { format!("t{}", r.value) },
                                holder.unwrap_or_else(|| "free".into()),
                                waiting.join(", "),
                            ],
                        )
                    })
                    .collect(),
            },
            Some(State::Coordinator(c)) => Table {
                title,
                head: &["tx", "decision"],
                rows: c
                    .log
                    .iter()
                    .map(|&(tx, commit)| (Vec::new(), vec![format!("t{tx}"), (if commit { "commit" } else { "abort" }).into()]))
                    .chain(c.running.iter().map(|r| (Vec::new(), vec![format!("t{}", r.tx), "collecting votes".into()])))
                    .collect(),
            },
            Some(State::Database(d)) => Table {
                title,
                head: &["key", "status"],
                rows: d
                    .rows
                    .iter()
                    .map(|r| {
                        let status = if r.done { "done" } else { "pending" };
                        (vec![("data-key", r.key.to_string())], vec![format!("k{}", r.key), status.into()])
                    })
                    .collect(),
            },
            Some(State::Processor(p)) => Table {
                title,
                head: &["charge", "payment", "key"],
                rows: p
                    .charges
                    .iter()
                    .enumerate()
                    .map(|(i, &(intent, key))| {
                        (
                            vec![("data-intent", intent.to_string())],
                            vec![
                                format!("ch{}", i + 1),
                                format!("p{intent}"),
                                key.map_or_else(|| "none".into(), |k| format!("k{k}")),
                            ],
                        )
                    })
                    .collect(),
            },
            _ => continue,
        };
        out.push(table);
    }
    out
}

const CSS: &str = ".txn{display:grid;gap:.6rem;font-size:.8125rem;background:var(--pn-surface);color:var(--pn-ink);\
border:1px solid var(--pn-border);border-radius:8px;padding:.5rem .7rem}\
.txn h3{margin:0;font-size:.75rem;letter-spacing:.06em;text-transform:uppercase;color:var(--pn-muted)}\
.txn table{border-collapse:collapse;width:100%}.txn td,.txn th{text-align:left;padding:.1rem .4rem;border-bottom:1px solid var(--pn-border)}\
.txn-tables{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.6rem}\
.txn-outcome{font-weight:650}[data-outcome=committed] .txn-outcome{color:#2a9d5c}[data-outcome=aborted] .txn-outcome{color:#b0413e}\
[data-outcome=blocked] .txn-outcome{color:#c77d0a}[data-outcome=compensated] .txn-outcome{color:#7a5bc4}\
.txn-steps{display:flex;flex-wrap:wrap;gap:.2rem}.txn-steps button{font:inherit;font-size:.72rem;border:1px solid var(--pn-border);\
border-radius:4px;background:none;color:inherit;padding:0 .3rem;cursor:pointer}\
tr[data-holder]:not([data-holder=\"\"]) td:nth-child(3){color:#c77d0a;font-weight:650}";

#[derive(Properties, PartialEq)]
struct PanelProps {
    data: Rc<Data>,
}

#[function_component]
fn TxnPanel(props: &PanelProps) -> Html {
    let hooks = use_context::<PanelHooks>();
    let d = &props.data;
    let seek = move |at: u64| {
        let hooks = hooks.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(h) = &hooks {
                h.on_seek.emit(SimTime(at));
            }
        })
    };
    let item = |i: &Item| {
        let mut tag = html! {
            <tr class="txn-item" data-tx={i.id.to_string()} data-outcome={i.outcome}>
                <td>{ &i.label }</td>
                <td class="txn-outcome">{ i.outcome }</td>
                { for i.cells.iter().map(|c| html! { <td>{ c }</td> }) }
                <td class="txn-steps">
                    { for i.steps.iter().map(|(at, text)| html! {
                        <button title="Go to this moment" onclick={seek(*at)}>{ format!("{} {text}", ms(*at)) }</button>
                    }) }
                </td>
            </tr>
        };
        mark(&mut tag, &i.marks);
        tag
    };
    html! {
        <div class="txn" data-txn-panel={d.scenario}>
            <style>{ CSS }</style>
            <h3>{ "Timeline" }</h3>
            if d.items.is_empty() {
                <p class="txn-empty">{ "Nothing begun yet: open the client's menu (the last node) and choose Begin." }</p>
            } else {
                <table class="txn-timeline">
                    <thead><tr><th>{ "what" }</th><th>{ "outcome" }</th>
                        { for d.cells_head.iter().map(|h| html! { <th>{ *h }</th> }) }<th>{ "steps" }</th></tr></thead>
                    <tbody>{ for d.items.iter().map(item) }</tbody>
                </table>
            }
            <div class="txn-tables">
                { for d.tables.iter().map(|t| html! {
                    <div class="txn-table">
                        <h3>{ &t.title }</h3>
                        <table>
                            <thead><tr>{ for t.head.iter().map(|h| html! { <th>{ *h }</th> }) }</tr></thead>
                            <tbody>{ for t.rows.iter().map(|(marks, cells)| {
                                let mut tag = html! { <tr>{ for cells.iter().map(|c| html! { <td>{ c }</td> }) }</tr> };
                                mark(&mut tag, marks);
                                tag
                            }) }</tbody>
                        </table>
                    </div>
                }) }
            </div>
        </div>
    }
}

/// Adds attributes to an element.
fn mark(tag: &mut Html, marks: &[(&'static str, String)]) {
    if let Html::VTag(tag) = tag {
        for (name, value) in marks {
            Rc::make_mut(tag).add_attribute(name, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::script::parse;

    fn run(text: &str, until_ms: u64) -> Sim<Txn> {
        let mut sim = Sim::new(&parse(text).expect("a valid script")).expect("a valid run");
        sim.run_until(SimTime::from_ms(until_ms));
        sim
    }

    const TWO_PC: &str = "protocol txn\nnodes 5\nset scenario 2pc\nset latency 10ms..10ms\n\
                          100ms do 5 begin\n105ms do 5 begin\n125ms crash 1\n";

    #[test]
    fn a_crashed_coordinator_leaves_the_transaction_blocked_and_the_next_one_waiting() {
        let data = panel_data(&run(TWO_PC, 1_000));
        let outcomes: Vec<&str> = data.items.iter().map(|i| i.outcome).collect();
        assert_eq!(outcomes, ["blocked", "pending"]);
        assert_eq!(data.items[1].cells, ["waiting for lock"; 3]);
        assert!(data.items[0].steps.iter().any(|(_, s)| s == "n2 prepares 1"));
        // Each participant's row 1 is locked by t1, with t2 waiting since 125ms.
        let participants: Vec<&Table> = data.tables.iter().filter(|t| t.head[0] == "row").collect();
        assert_eq!(participants.len(), 3);
        for t in participants {
            let (marks, cells) = &t.rows[0];
            assert_eq!(marks[1], ("data-holder", "t1".to_string()));
            assert_eq!(cells[3], "t2 (875ms)");
        }
        // After a restart the coordinator presumes abort.
        let data = panel_data(&run(&format!("{TWO_PC}1.5s restart 1\n"), 3_000));
        let outcomes: Vec<&str> = data.items.iter().map(|i| i.outcome).collect();
        assert_eq!(outcomes, ["aborted", "aborted"]);
    }

    #[test]
    fn a_failed_shipment_is_compensated_and_a_lost_reply_without_a_key_charges_twice() {
        let saga = "protocol txn\nnodes 5\nset scenario saga\nset latency 10ms..10ms\n\
                    100ms do 4 fail\n100ms do 5 begin\n";
        let data = panel_data(&run(saga, 2_000));
        assert_eq!(data.items[0].outcome, "compensated");
        assert_eq!(data.items[0].cells, ["stock released", "refunded", "failed"]);
        let pay = "protocol txn\nnodes 5\nset scenario idempotency\nset design none\n\
                   set latency 10ms..10ms\n100ms do 5 begin\n185ms drop 3\n";
        let data = panel_data(&run(pay, 2_000));
        assert_eq!(data.items[0].outcome, "committed");
        assert_eq!(data.items[0].marks, [("data-charges", "2".to_string())]);
    }
}
