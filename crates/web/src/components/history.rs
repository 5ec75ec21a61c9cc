//! The client history and its linearizability verdict. The timeline is drawn the way Jepsen
//! draws histories: one lane per client, a bar from invocation to return labelled with the
//! operation and its outcome; a pending operation runs open to the right; an `info` operation
//! (the client never learned the outcome) is dashed. A table lists the same operations.
//! While the run outpaces reading (all of them replaced between two refreshes), both redraw
//! at most twice a second ([`use_paced`]).

use crate::components::paced::use_paced;
use crate::fixed::fixed;
use crate::model::{OpOutcome, OpView};
use deepend_core::lin::Verdict;
use deepend_core::protocol::Op;
use deepend_core::{ClientId, Key, SimTime};
use std::rc::Rc;
use yew::prelude::*;

/// How many of the latest operations the timeline draws.
pub const TIMELINE_OPS: usize = 16;
/// How many of the latest operations the table lists (all the model hands over).
pub const TABLE_OPS: usize = crate::model::HISTORY_WINDOW;

#[derive(Properties, PartialEq)]
pub struct HistoryProps {
    /// The latest operations.
    pub history: Rc<Vec<OpView>>,
    /// How many operations the whole history holds.
    pub total: usize,
    /// The checker's verdict (`None` before the first check).
    pub verdict: Option<Rc<Checked>>,
}

/// What the checker says of a history: a verdict, or why the history is malformed.
pub type Checked = Result<Verdict, String>;

/// The verdict's three cases and a malformed history, which has no verdict (the page's
/// `data-verdict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    Linearizable,
    NotLinearizable,
    Unknown,
    Invalid,
}

pub fn verdict_kind(verdict: &Checked) -> VerdictKind {
    match verdict {
        Ok(Verdict::Linearizable) => VerdictKind::Linearizable,
        Ok(Verdict::NotLinearizable { .. }) => VerdictKind::NotLinearizable,
        Ok(Verdict::Unknown { .. }) => VerdictKind::Unknown,
        Err(_) => VerdictKind::Invalid,
    }
}

/// The verdict's headline and its explanation: `NOT linearizable on k1` and what could not be
/// placed.
pub fn verdict_text(verdict: &Checked) -> (String, Option<&str>) {
    match verdict {
        Ok(Verdict::Linearizable) => ("linearizable".into(), None),
        Ok(Verdict::NotLinearizable { key, detail, .. }) => {
            (format!("NOT linearizable on k{key}"), Some(detail.as_str()))
        }
        Ok(Verdict::Unknown { key, reason }) => (format!("unknown on k{key}"), Some(reason.as_str())),
        Err(e) => ("invalid history, no verdict".into(), Some(e.as_str())),
    }
}

/// The key a NOT-linearizable or unknown verdict names.
pub fn verdict_key(verdict: &Checked) -> Option<Key> {
    match verdict {
        Ok(Verdict::Linearizable) | Err(_) => None,
        Ok(Verdict::NotLinearizable { key, .. } | Verdict::Unknown { key, .. }) => Some(*key),
    }
}

/// The operation a NOT-linearizable verdict could not place, as (client, invocation time).
pub fn verdict_culprit(verdict: &Checked) -> Option<(ClientId, SimTime)> {
    match verdict {
        Ok(Verdict::NotLinearizable { culprit: Some(c), .. }) => Some((c.client, SimTime(c.invoked_us))),
        _ => None,
    }
}

/// An outcome's class: `ok`, `fail`, `info` or `pending`.
pub fn outcome_class(outcome: OpOutcome) -> &'static str {
    match outcome {
        OpOutcome::Ok { .. } => "ok",
        OpOutcome::Fail => "fail",
        OpOutcome::Pending => "pending",
        OpOutcome::Info => "info",
    }
}

/// One operation placed on the timeline, in percent of its width.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub lane: usize,
    pub left: f64,
    pub width: f64,
    /// Pending: runs to the right edge.
    pub open: bool,
}

/// The share of the timeline kept right of the latest instant, where pending bars run out.
const OPEN_TAIL: f64 = 0.06;

/// Places `ops` on lanes (one per client, in client order) across a common time axis.
/// Returns the clients of the lanes, the axis' start and end, and one bar per operation.
pub fn layout(ops: &[OpView]) -> (Vec<ClientId>, SimTime, SimTime, Vec<Bar>) {
    let mut clients: Vec<ClientId> = ops.iter().map(|o| o.client).collect();
    deepend_core::sort::sort_by_key(&mut clients, |&c| u128::from(c));
    clients.dedup();
    let start = ops.iter().map(|o| o.invoked).min().unwrap_or(SimTime::ZERO);
    let end = ops
        .iter()
        .map(|o| o.returned.unwrap_or(o.invoked))
        .max()
        .unwrap_or(start)
        .max(start);
    let span = (end.as_us() - start.as_us()).max(1) as f64;
    let scale = 100.0 * (1.0 - OPEN_TAIL) / span;
    let bars = ops
        .iter()
        .map(|o| {
            let lane = clients.binary_search(&o.client).unwrap_or(0);
            let left = (o.invoked.as_us() - start.as_us()) as f64 * scale;
            let (width, open) = match o.returned {
                Some(r) => (r.as_us().saturating_sub(o.invoked.as_us()) as f64 * scale, false),
                None => (100.0 - left, true),
            };
            Bar {
                lane,
                left,
                width,
                open,
            }
        })
        .collect();
    (clients, start, end, bars)
}

/// A bar's short label, Jepsen style: `w k1 5`, `r k1 = 5`, `cas k1 5→6`, then `✗` for a
/// failure, `?` for an unknown outcome and `…` while pending.
pub fn short_label(op: &Op, outcome: OpOutcome) -> String {
    let mut label = match *op {
        Op::Read { key } => match outcome {
            OpOutcome::Ok { read: Some(value) } => format!("r k{key} = {value}"),
            _ => format!("r k{key}"),
        },
        Op::Write { key, value } => format!("w k{key} {value}"),
        Op::Cas { key, from, to } => format!("cas k{key} {from}→{to}"),
    };
    match outcome {
        OpOutcome::Fail => label.push_str(" ✗"),
        OpOutcome::Info => label.push_str(" ?"),
        OpOutcome::Pending => label.push_str(" …"),
        OpOutcome::Ok { .. } => {}
    }
    label
}

fn millis(t: SimTime) -> String {
    format!("{}.{:03}", t.as_us() / 1000, t.as_us() % 1000)
}

fn describe(o: &OpView) -> String {
    match o.returned {
        Some(r) => format!(
            "c{}: {} → {} (invoked {}, returned {})",
            o.client, o.op, o.outcome, o.invoked, r
        ),
        None => format!("c{}: {} pending (invoked {})", o.client, o.op, o.invoked),
    }
}

#[function_component(HistoryPanel)]
pub fn history_panel(props: &HistoryProps) -> Html {
    let table = use_state_eq(|| false);
    // Not one of the operations shown at the last refresh is still among the latest: the run
    // outpaces reading (at 100x under load, some 200 operations a refresh).
    let all = &*use_paced(
        &props.history,
        |shown, latest| matches!((shown.last(), latest.first()), (Some(s), Some(l)) if l.invoked > s.invoked),
    );
    let pending = all.iter().filter(|o| o.returned.is_none()).count();
    let verdict = props.verdict.as_deref();
    let kind = verdict.map_or(VerdictKind::Unknown, verdict_kind);
    let (icon, class) = match kind {
        VerdictKind::Linearizable => ("✓", "ok"),
        VerdictKind::NotLinearizable => ("✗", "bad"),
        VerdictKind::Unknown => ("?", "unknown"),
        VerdictKind::Invalid => ("!", "bad"),
    };
    let (headline, detail) = match verdict {
        _ if all.is_empty() => ("linearizable (no operations yet)".to_string(), None),
        Some(verdict) => verdict_text(verdict),
        None => ("not checked yet".to_string(), None),
    };
    // A broken or undecided key: the other keys' operations are dimmed.
    let key = verdict.and_then(verdict_key);
    let off_key = |op: &Op| key.is_some_and(|k| op.key() != k);
    let culprit = verdict.and_then(verdict_culprit);
    let is_culprit = |o: &OpView| culprit == Some((o.client, o.invoked));

    let body = if all.is_empty() {
        html! { <p class="panel-empty">{ "No client operations yet. Send a request from a node's menu, or turn on load." }</p> }
    } else if *table {
        let shown = &all[all.len().saturating_sub(TABLE_OPS)..];
        // Newest first; rows are not keyed, as the list changes at both ends.
        let rows = shown.iter().rev().map(|o| {
            html! {
                <tr class={classes!(outcome_class(o.outcome), off_key(&o.op).then_some("dim"),
                    is_culprit(o).then_some("culprit"))}>
                    <th scope="row">{ format!("c{}", o.client) }</th>
                    <td>
                        if is_culprit(o) { <span class="culprit-mark">{ "✗ cannot be placed: " }</span> }
                        { o.op.to_string() }
                    </td>
                    <td class="num">{ millis(o.invoked) }</td>
                    <td class="num">{ o.returned.map_or("—".to_string(), millis) }</td>
                    <td><span class={classes!("outcome", outcome_class(o.outcome))}>{ o.outcome.to_string() }</span></td>
                </tr>
            }
        });
        html! {
            <div class="hist-table-scroll">
                <table class="hist-table">
                    <caption class="sr-only">{ "Client operations, newest first" }</caption>
                    <thead><tr>
                        <th scope="col">{ "client" }</th><th scope="col">{ "operation" }</th>
                        <th scope="col" class="num">{ "invoke ms" }</th><th scope="col" class="num">{ "return ms" }</th>
                        <th scope="col">{ "outcome" }</th>
                    </tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
        }
    } else {
        let offset = all.len().saturating_sub(TIMELINE_OPS);
        let shown = &all[offset..];
        let (clients, start, end, bars) = layout(shown);
        let lanes = clients.iter().enumerate().map(|(lane, client)| {
            let ops = shown.iter().zip(&bars).filter(|(_, b)| b.lane == lane).map(|(o, b)| {
                let outcome = outcome_class(o.outcome);
                let label = short_label(&o.op, o.outcome);
                let dim = off_key(&o.op).then_some("dim");
                let culprit = is_culprit(o).then_some("culprit");
                html! {
                    <li class={classes!("op", outcome, b.open.then_some("open"), dim, culprit)}
                        style={format!("left: {}%; width: {}%", fixed(b.left, 2), fixed(b.width, 2))} title={describe(o)}>
                        <span class="op-label">{ label }</span>
                    </li>
                }
            });
            html! {
                <div key={*client} class="lane">
                    <span class="lane-name">{ format!("c{client}") }</span>
                    <ul class="lane-track" aria-label={format!("client {client}")}>{ for ops }</ul>
                </div>
            }
        });
        html! {
            <div class="timeline">
                { for lanes }
                <div class="axis" aria-hidden="true">
                    <span>{ format!("{} ms", millis(start)) }</span>
                    <span>{ format!("{} ms", millis(end)) }</span>
                </div>
            </div>
        }
    };
    let views = [(false, "timeline"), (true, "table")].map(|(is_table, name)| {
        let table = table.clone();
        html! {
            <button type="button" class="seg" aria-pressed={(*table == is_table).to_string()}
                onclick={move |_| table.set(is_table)}>{ name }</button>
        }
    });
    let shown_note = {
        let cap = if *table { TABLE_OPS } else { TIMELINE_OPS };
        if props.total.max(all.len()) > cap {
            format!(", the last {cap} shown")
        } else {
            String::new()
        }
    };

    html! {
        <section class="panel history" aria-labelledby="history-title">
            <div class="panel-head">
                <h2 id="history-title" class="panel-title">{ "Client history" }</h2>
                <div class="segmented" role="group" aria-label="History view">{ for views }</div>
            </div>
            <p class={classes!("verdict", class)} data-verdict={format!("{kind:?}").to_lowercase()}>
                <span class="verdict-icon" aria-hidden="true">{ icon }</span>
                <span class="verdict-text">{ headline }</span>
            </p>
            if let Some(detail) = detail {
                <p class={classes!("verdict-detail", class)}>{ detail }</p>
            }
            <p class="muted hist-count">
                { format!("{} operations, {pending} pending{shown_note}", props.total.max(all.len())) }
            </p>
            { body }
            <p class="hist-legend" aria-hidden="true">
                <span class="chip ok">{ "ok" }</span><span class="chip fail">{ "fail" }</span>
                <span class="chip info">{ "info: outcome unknown" }</span><span class="chip pending">{ "pending" }</span>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::lin::Culprit;

    fn op(client: ClientId, invoked: u64, returned: Option<u64>, outcome: OpOutcome) -> OpView {
        OpView {
            client,
            op: Op::Write { key: 1, value: 1 },
            invoked: SimTime(invoked),
            returned: returned.map(SimTime),
            outcome,
        }
    }

    #[test]
    fn verdicts_and_outcomes_are_classified() {
        let not: Checked = Ok(Verdict::NotLinearizable {
            key: 1,
            detail: "x: y".into(),
            culprit: Some(Culprit {
                client: 101,
                invoked_us: 3_050_000,
            }),
        });
        let unknown: Checked = Ok(Verdict::Unknown {
            key: 3,
            reason: "budget".into(),
        });
        let fine: Checked = Ok(Verdict::Linearizable);
        let invalid: Checked = Err("event 3: client 2 invokes read k1 while its write is open".into());
        assert_eq!(verdict_kind(&fine), VerdictKind::Linearizable);
        assert_eq!(verdict_kind(&not), VerdictKind::NotLinearizable);
        assert_eq!(verdict_kind(&unknown), VerdictKind::Unknown);
        assert_eq!(verdict_text(&not), ("NOT linearizable on k1".to_string(), Some("x: y")));
        assert_eq!(verdict_text(&unknown), ("unknown on k3".to_string(), Some("budget")));
        assert_eq!(verdict_text(&fine), ("linearizable".to_string(), None));
        assert_eq!(verdict_key(&not), Some(1));
        assert_eq!(verdict_key(&unknown), Some(3));
        assert_eq!(verdict_key(&fine), None);
        assert_eq!(verdict_culprit(&not), Some((101, SimTime(3_050_000))));
        let no_culprit: Checked = Ok(Verdict::NotLinearizable {
            key: 1,
            detail: "no order of the operations on key 1 is legal.".into(),
            culprit: None,
        });
        assert_eq!(verdict_kind(&invalid), VerdictKind::Invalid);
        assert_eq!(
            verdict_text(&invalid),
            (
                "invalid history, no verdict".to_string(),
                Some("event 3: client 2 invokes read k1 while its write is open")
            )
        );
        assert_eq!((verdict_key(&invalid), verdict_culprit(&invalid)), (None, None));
        assert_eq!(verdict_culprit(&no_culprit), None);
        assert_eq!(verdict_culprit(&unknown), None);
        assert_eq!(outcome_class(OpOutcome::Ok { read: Some(5) }), "ok");
        assert_eq!(outcome_class(OpOutcome::Fail), "fail");
        assert_eq!(outcome_class(OpOutcome::Info), "info");
        assert_eq!(outcome_class(OpOutcome::Pending), "pending");
        assert_eq!(OpOutcome::Ok { read: Some(5) }.to_string(), "ok 5");
        assert_eq!(OpOutcome::Info.to_string(), "info (unknown)");
        let read = Op::Read { key: 1 };
        let write = Op::Write { key: 1, value: 5 };
        assert_eq!(short_label(&read, OpOutcome::Ok { read: Some(5) }), "r k1 = 5");
        assert_eq!(short_label(&read, OpOutcome::Pending), "r k1 …");
        assert_eq!(short_label(&write, OpOutcome::Ok { read: None }), "w k1 5");
        assert_eq!(
            short_label(&Op::Cas { key: 1, from: 5, to: 6 }, OpOutcome::Fail),
            "cas k1 5→6 ✗"
        );
        assert_eq!(short_label(&write, OpOutcome::Info), "w k1 5 ?");
    }

    #[test]
    fn bars_share_one_axis_and_pending_runs_to_the_edge() {
        let ok = OpOutcome::Ok { read: None };
        let ops = [
            op(2, 100, Some(200), ok),
            op(1, 150, None, OpOutcome::Pending),
            op(2, 300, Some(1100), OpOutcome::Fail),
        ];
        let (clients, start, end, bars) = layout(&ops);
        assert_eq!(clients, vec![1, 2]);
        assert_eq!((start, end), (SimTime(100), SimTime(1100)));
        assert_eq!(bars[0].lane, 1);
        assert_eq!(bars[1].lane, 0);
        assert!(bars[0].left.abs() < 1e-9);
        assert!((bars[2].left + bars[2].width - 94.0).abs() < 1e-9);
        assert!(bars[1].open && (bars[1].left + bars[1].width - 100.0).abs() < 1e-9);
        assert_eq!(layout(&[]).3, vec![]);
        // One instant: no division by zero.
        assert!(layout(&[op(1, 5, Some(5), ok)]).3[0].width.is_finite());
    }
}
