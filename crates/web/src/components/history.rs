//! The client history and its linearizability verdict. The timeline is drawn the way Jepsen
//! draws histories: one lane per client, a bar from invocation to return labelled with the
//! operation and its outcome; a pending operation runs open to the right; an `info` operation
//! (the client never learned the outcome) is dashed. A table lists the same operations.

use crate::model::OpView;
use deepend_core::{ClientId, SimTime};
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
    pub verdict: Rc<String>,
}

/// The verdict's three cases, from the model's text, and a malformed history, which has no
/// verdict (its text is the error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    Linearizable,
    NotLinearizable,
    Unknown,
    Invalid,
}

pub fn verdict_kind(verdict: &str) -> VerdictKind {
    if verdict.starts_with("linearizable") {
        VerdictKind::Linearizable
    } else if verdict.starts_with("NOT") {
        VerdictKind::NotLinearizable
    } else if verdict.starts_with("invalid history") {
        VerdictKind::Invalid
    } else {
        VerdictKind::Unknown
    }
}

/// The verdict's headline and its explanation: `NOT linearizable on k1` and what could not be
/// placed.
pub fn split_verdict(verdict: &str) -> (&str, Option<&str>) {
    match verdict.split_once(": ") {
        Some((head, detail)) => (head, Some(detail)),
        None => (verdict, None),
    }
}

/// The key a NOT-linearizable or unknown verdict names (`k1`).
pub fn verdict_key(verdict: &str) -> Option<&str> {
    let (head, _) = split_verdict(verdict);
    let key = head.rsplit_once(" on ")?.1;
    (key.starts_with('k') && key.len() > 1 && key[1..].bytes().all(|b| b.is_ascii_digit())).then_some(key)
}

/// The operation a NOT-linearizable verdict could not place, as (client, invocation time),
/// read from the checker's explanation ("client 101's read ... (invoked at event 118,
/// t=3050000us; ...").
pub fn verdict_culprit(verdict: &str) -> Option<(ClientId, SimTime)> {
    if verdict_kind(verdict) != VerdictKind::NotLinearizable {
        return None;
    }
    let (_, detail) = split_verdict(verdict);
    let detail = detail?;
    let after = detail.split_once("client ")?.1;
    let client = after.split_once("'s")?.0.parse().ok()?;
    let after = detail.split_once("t=")?.1;
    let us = after.split_once("us")?.0.parse().ok()?;
    Some((client, SimTime(us)))
}

/// An outcome's class: `ok`, `fail`, `info` or `pending`.
pub fn outcome_class(outcome: &str) -> &'static str {
    if outcome.starts_with("ok") {
        "ok"
    } else if outcome.starts_with("fail") {
        "fail"
    } else if outcome.starts_with("pending") {
        "pending"
    } else {
        "info"
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
    clients.sort_unstable();
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
pub fn short_label(op: &str, outcome: &str) -> String {
    let words: Vec<&str> = op.split_whitespace().collect();
    let mut label = match words.as_slice() {
        ["read", key] => match outcome.strip_prefix("ok ") {
            Some(value) => format!("r {key} = {value}"),
            None => format!("r {key}"),
        },
        ["write", key, value] => format!("w {key} {value}"),
        ["cas", key, from, to] => format!("cas {key} {from}→{to}"),
        _ => op.to_string(),
    };
    match outcome_class(outcome) {
        "fail" => label.push_str(" ✗"),
        "info" => label.push_str(" ?"),
        "pending" => label.push_str(" …"),
        _ => {}
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
    let all = &*props.history;
    let pending = all.iter().filter(|o| o.returned.is_none()).count();
    let kind = verdict_kind(&props.verdict);
    let (icon, class) = match kind {
        VerdictKind::Linearizable => ("✓", "ok"),
        VerdictKind::NotLinearizable => ("✗", "bad"),
        VerdictKind::Unknown => ("?", "unknown"),
        VerdictKind::Invalid => ("!", "bad"),
    };
    let (headline, detail) = if all.is_empty() {
        ("linearizable (no operations yet)", None)
    } else {
        split_verdict(&props.verdict)
    };
    // A broken or undecided key: the other keys' operations are dimmed.
    let key = verdict_key(&props.verdict);
    let off_key = |op: &str| key.is_some_and(|k| op.split_whitespace().nth(1) != Some(k));
    let culprit = verdict_culprit(&props.verdict);
    let is_culprit = |o: &OpView| culprit == Some((o.client, o.invoked));

    let body = if all.is_empty() {
        html! { <p class="panel-empty">{ "No client operations yet. Send a request from a node's menu, or turn on load." }</p> }
    } else if *table {
        let shown = &all[all.len().saturating_sub(TABLE_OPS)..];
        // Newest first; rows are not keyed, as the list changes at both ends.
        let rows = shown.iter().rev().map(|o| {
            html! {
                <tr class={classes!(outcome_class(&o.outcome), off_key(&o.op).then_some("dim"),
                    is_culprit(o).then_some("culprit"))}>
                    <th scope="row">{ format!("c{}", o.client) }</th>
                    <td>
                        if is_culprit(o) { <span class="culprit-mark">{ "✗ cannot be placed: " }</span> }
                        { o.op.as_str() }
                    </td>
                    <td class="num">{ millis(o.invoked) }</td>
                    <td class="num">{ o.returned.map_or("—".to_string(), millis) }</td>
                    <td><span class={classes!("outcome", outcome_class(&o.outcome))}>{ o.outcome.as_str() }</span></td>
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
                let outcome = outcome_class(&o.outcome);
                let label = short_label(&o.op, &o.outcome);
                let dim = off_key(&o.op).then_some("dim");
                let culprit = is_culprit(o).then_some("culprit");
                html! {
                    <li class={classes!("op", outcome, b.open.then_some("open"), dim, culprit)}
                        style={format!("left: {:.2}%; width: {:.2}%", b.left, b.width)} title={describe(o)}>
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

    fn op(client: ClientId, invoked: u64, returned: Option<u64>, outcome: &str) -> OpView {
        OpView {
            client,
            op: "write k1 1".into(),
            invoked: SimTime(invoked),
            returned: returned.map(SimTime),
            outcome: outcome.into(),
        }
    }

    #[test]
    fn verdicts_and_outcomes_are_classified() {
        assert_eq!(verdict_kind("linearizable"), VerdictKind::Linearizable);
        assert_eq!(verdict_kind("NOT linearizable on k1: x"), VerdictKind::NotLinearizable);
        assert_eq!(verdict_kind("unknown on k1: budget"), VerdictKind::Unknown);
        assert_eq!(
            verdict_kind("invalid history: event 3: client 2 invokes read k1 while ..."),
            VerdictKind::Invalid
        );
        assert_eq!(
            split_verdict("NOT linearizable on k1: x: y"),
            ("NOT linearizable on k1", Some("x: y"))
        );
        assert_eq!(split_verdict("linearizable"), ("linearizable", None));
        assert_eq!(verdict_key("NOT linearizable on k12: x"), Some("k12"));
        assert_eq!(verdict_key("unknown on k3: budget"), Some("k3"));
        assert_eq!(verdict_key("linearizable"), None);
        let v = "NOT linearizable on k1: client 101's read of key 1 returning 23 (invoked at event 118, \
                 t=3050000us; ok at event 120, t=3125922us) cannot be placed";
        assert_eq!(verdict_culprit(v), Some((101, SimTime(3_050_000))));
        assert_eq!(verdict_culprit("NOT linearizable on k1: something else"), None);
        assert_eq!(verdict_culprit("unknown on k1: client 1's t=5us"), None);
        assert_eq!(verdict_key("NOT linearizable on kx: x"), None);
        assert_eq!(outcome_class("ok 5"), "ok");
        assert_eq!(outcome_class("fail"), "fail");
        assert_eq!(outcome_class("info (unknown)"), "info");
        assert_eq!(outcome_class("pending"), "pending");
        assert_eq!(short_label("read k1", "ok 5"), "r k1 = 5");
        assert_eq!(short_label("read k1", "pending"), "r k1 …");
        assert_eq!(short_label("write k1 5", "ok"), "w k1 5");
        assert_eq!(short_label("cas k1 5 6", "fail"), "cas k1 5→6 ✗");
        assert_eq!(short_label("write k1 5", "info (unknown)"), "w k1 5 ?");
        assert_eq!(short_label("", "ok"), "");
    }

    #[test]
    fn bars_share_one_axis_and_pending_runs_to_the_edge() {
        let ops = [
            op(2, 100, Some(200), "ok"),
            op(1, 150, None, "pending"),
            op(2, 300, Some(1100), "fail"),
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
        assert!(layout(&[op(1, 5, Some(5), "ok")]).3[0].width.is_finite());
    }
}
