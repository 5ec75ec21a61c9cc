//! The partitions chapter's view: replicas, Raft members and the storage service on the
//! stage, and a panel with the store's availability and consistency readouts, the PACELC plot
//! and its quorum buttons, or the storage's write log and the fencing readout.

use super::Toggle;
use crate::model::{Detail, NodeShape, NodeView, Shown, common};
use deepend_core::NodeId;
use deepend_core::cap::figures::{self, Window};
use deepend_core::cap::{Cap, CapMonitor, Mode, Node};
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Protocol as _, TimerKind};
use deepend_core::sim::Sim;
use deepend_core::{Key, Value};
use std::fmt::Write as _;
use yew::prelude::*;

/// A `set KEY on|off` checkbox of one scenario.
const fn toggle(key: &'static str, label: &'static str, title: &'static str, scenario: &'static str) -> Toggle {
    Toggle {
        key,
        label,
        title,
        on: "on",
        off: "off",
        // Repairs and hints are on unless set off; fencing is off unless set on.
        default_on: key.len() != "fencing".len(),
        scenario: Some(scenario),
    }
}

const READ_REPAIR: &str = "In CP a read writes the newest version back to W replicas before it answers; in AP it repairs older replicas after";
const HINTS: &str = "A coordinator keeps resending a write to the replicas that have not acknowledged it";
const FENCING: &str = "The storage rejects a write whose token is lower than the highest it has accepted";

/// How wide a window of the PACELC plot is.
const WINDOW_US: u64 = 1_000_000;

impl Shown for Cap {
    const ELECTION_TIMER: TimerKind = deepend_core::raft::ELECTION_TIMER;
    const TERM: &'static str = "term or token";
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond), "get"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "put"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle), "ack"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Square), "storage write"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Triangle).negative(true), "rejected"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Diamond), "Raft vote"),
    ];
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct"),
        ("token-per-writer", "broken: the storage fences per writer"),
    ];
    const TOGGLES: &'static [Toggle] = &[
        toggle("read-repair", "Read repair", READ_REPAIR, "cp"),
        toggle("hinted-handoff", "Hinted handoff", HINTS, "cp"),
        toggle("read-repair", "Read repair", READ_REPAIR, "pacelc"),
        toggle("hinted-handoff", "Hinted handoff", HINTS, "pacelc"),
        toggle("read-repair", "Read repair", READ_REPAIR, "ap"),
        toggle("hinted-handoff", "Hinted handoff", HINTS, "ap"),
        toggle("fencing", "Fencing tokens", FENCING, "split-brain"),
        toggle("fencing", "Fencing tokens", FENCING, "fencing"),
        toggle("fencing", "Fencing tokens", FENCING, "lease"),
    ];

    fn commit_label(index: u64) -> String {
        format!("commit {index}")
    }

    fn node_view(sim: &Sim<Cap>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let Some(cap) = sim.node(id) else {
            let storage = sim.params().mode == Mode::SplitBrain && id == sim.node_count();
            return NodeView {
                election_left: None,
                shape: if storage { NodeShape::Square } else { NodeShape::Circle },
                ..base
            };
        };
        let mut view = NodeView {
            role: cap.role(),
            term: cap.term(),
            ..base
        };
        let mut fields = Vec::new();
        match &cap.node {
            Node::Replica(r) => {
                view.kv = r.stable.data.iter().map(|(k, v)| (*k, v.value)).collect();
                if full {
                    fields.push(("requests in progress", r.in_progress().to_string()));
                    fields.push(("hints held", r.hints().to_string()));
                }
            }
            Node::Member(m) => {
                if let Some(raft) = &m.raft {
                    view.leader = raft.leader();
                    view.commit_index = raft.commit_index();
                    view.last_index = raft.log().last_index();
                }
                if full {
                    let token = m.writing.map_or("none".to_string(), |t| t.to_string());
                    fields.push(("token of the write in progress", token));
                    fields.push(("writes sent", m.written.to_string()));
                    if let Some(l) = m.lease {
                        fields.push(("lease number", l.token.to_string()));
                        fields.push(("lease ends (local µs)", l.until_local.to_string()));
                    }
                }
            }
            Node::Storage(s) => {
                view.shape = NodeShape::Square;
                let fencing = if cap.params().fencing { "on" } else { "off" };
                view.marks.push(("data-fencing", fencing.into()));
                if full {
                    fields.push(("highest token", s.max_token.to_string()));
                    fields.push(("accepted", s.accepted.to_string()));
                    fields.push(("rejected", s.rejected.to_string()));
                }
            }
        }
        view.detail = Detail::Fields(fields);
        view
    }

    /// The panel is written as one HTML string of numbers and the chapter's own words (no
    /// text from elsewhere), which costs the page far less than a tree of `html!` nodes.
    fn panel(sim: &Sim<Cap>) -> Option<Html> {
        let mut out = String::from("<section class=\"panel cap\" aria-labelledby=\"cap-title\">");
        if sim.params().mode == Mode::SplitBrain {
            write_log(sim, &mut out);
        } else {
            store(sim, &mut out);
        }
        out.push_str("</section>");
        Some(Html::from_html_unchecked(out.into()))
    }
}

/// A share in per cent with no decimals ("—" of nothing).
fn percent(part: u64, all: u64) -> String {
    (part * 100).checked_div(all).map_or("—".into(), |p| format!("{p}%"))
}

/// The quorum links (each opens a new run of this script with that quorum), the readouts,
/// the PACELC plot and each replica's copy of each key.
fn store(sim: &Sim<Cap>, out: &mut String) {
    let p = sim.params();
    let n = sim.node_count();
    let (r, w) = (p.r.min(n), p.w.min(n));
    let m: &CapMonitor = sim.monitor();
    let windows = figures::windows(sim.history(), WINDOW_US, sim.now().as_us());
    let whole = windows.last().copied().unwrap_or_default();
    let requests = m.answered + m.refused;
    let sum = u16::from(r) + u16::from(w);
    let (overlap, relation, meaning) = if sum > u16::from(n) {
        ("overlap", ">", "every read quorum meets every write quorum")
    } else {
        ("no-overlap", "≤", "a read may miss the latest write")
    };
    let _ = write!(out, "<h2 id=\"cap-title\" class=\"panel-title\">Quorum store</h2><p>New run with:");
    for q in 1..=n {
        for (which, qr, qw) in [("R", q, w), ("W", r, q)] {
            let mut script = sim.script().clone();
            let settings = &mut script.header.settings;
            settings.retain(|(k, _)| k != "r" && k != "w");
            settings.push(("r".into(), qr.to_string()));
            settings.push(("w".into(), qw.to_string()));
            let href = crate::url::format(&script, None, false).replace('&', "&amp;");
            let current = if (qr, qw) == (r, w) { " aria-current=\"true\"" } else { "" };
            let _ = write!(out, " <a href=\"{href}\"{current}>{which}={}</a>", if which == "R" { qr } else { qw });
        }
    }
    let _ = write!(
        out,
        "</p><p data-quorum=\"{overlap}\">R + W = {sum} {relation} N = {n}: {meaning}</p>\
         <p data-availability=\"{avail}\" data-stale-reads=\"{stale}\" data-lost-writes=\"{lost}\" \
         data-p50-us=\"{p50}\" data-p99-us=\"{p99}\">Answered {answered} of {requests} requests ({avail}), \
         refused {refused}. Stale reads: {stale} of {reads}. Lost writes: {lost}. Latency p50 {p50ms} ms, p99 {p99ms} ms.</p>",
        avail = percent(m.answered, requests),
        stale = whole.stale,
        lost = m.lost,
        p50 = whole.p50_us,
        p99 = whole.p99_us,
        answered = m.answered,
        refused = m.refused,
        reads = whole.reads,
        p50ms = whole.p50_us / 1000,
        p99ms = whole.p99_us / 1000,
    );
    plot(&windows, out);
    let replicas: Vec<_> = (1..=n)
        .map(|id| match sim.node(id).map(|c| &c.node) {
            Some(Node::Replica(r)) => Some(r),
            _ => None,
        })
        .collect();
    // Keys in order, without a sort: each time the smallest above the last.
    let above = |last: Option<Key>| {
        let keys = replicas.iter().flatten().flat_map(|r| r.stable.data.keys().copied());
        keys.filter(|&k| last.is_none_or(|l| k > l)).min()
    };
    out.push_str("<ul>");
    let mut next = above(None);
    while let Some(k) = next {
        next = above(Some(k));
        let values: Vec<Option<Value>> =
            replicas.iter().map(|r| r.and_then(|r| r.stable.data.get(&k)).map(|v| v.value)).collect();
        let first = values.iter().flatten().next();
        let diverged = values.iter().flatten().any(|v| Some(v) != first);
        let _ = write!(out, "<li data-key=\"{k}\" data-diverged=\"{diverged}\">k{k}:");
        for (i, v) in values.iter().enumerate() {
            let _ = match v {
                Some(v) => write!(out, " n{}={v}", i + 1),
                None => write!(out, " n{}=—", i + 1),
            };
        }
        out.push_str(if diverged { " (diverged)</li>" } else { "</li>" });
    }
    out.push_str("</ul>");
    let mut lost = String::new();
    for (k, v) in replicas.iter().flatten().flat_map(|r| r.discarded.iter()) {
        let text = format!(" k{k}={} via n{}", v.value, v.stamp.node);
        if m.acknowledged(v.stamp.packed()) && !lost.contains(&text) {
            lost.push_str(&text);
        }
    }
    if !lost.is_empty() {
        let _ = write!(out, "<p class=\"cap-lost\">Lost, acknowledged then discarded by last-writer-wins:{lost}</p>");
    }
}

/// Latency percentiles (lines) and stale reads (bars) per second of the run.
fn plot(windows: &[Window], out: &mut String) {
    let per_second = &windows[..windows.len().saturating_sub(1)];
    let (width, height) = (600u64, 120u64);
    let top_us = per_second.iter().map(|w| w.p99_us).max().unwrap_or(0).max(1_000);
    let top_stale = u64::from(per_second.iter().map(|w| w.stale).max().unwrap_or(0).max(1));
    let count = per_second.len().max(1) as u64;
    let x = |i: usize| (i as u64 * 2 + 1) * width / (count * 2);
    let y = |us: u64| height - us.min(top_us) * height / top_us;
    let (mut p50, mut p99, mut bars) = (String::new(), String::new(), String::new());
    for (i, w) in per_second.iter().enumerate() {
        let _ = write!(p50, "{},{} ", x(i), y(w.p50_us));
        let _ = write!(p99, "{},{} ", x(i), y(w.p99_us));
        let h = u64::from(w.stale) * height / 2 / top_stale;
        let _ = write!(bars, "M{} {}v-{h}", x(i), height);
    }
    let top = top_us / 1000;
    let _ = write!(
        out,
        "<svg class=\"cap-plot\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Latency p50 (solid) and p99 (dashed) and stale reads (bars), per second; top {top} ms\">\
         <path d=\"{bars}\" stroke=\"currentColor\" stroke-width=\"8\" opacity=\"0.3\"/>\
         <polyline points=\"{p99}\" stroke=\"currentColor\" stroke-dasharray=\"5 4\" fill=\"none\"/>\
         <polyline points=\"{p50}\" stroke=\"currentColor\" stroke-width=\"2\" fill=\"none\"/>\
         <text x=\"2\" y=\"10\" font-size=\"10\" fill=\"currentColor\">{top} ms</text>\
         <text x=\"2\" y=\"{height}\" font-size=\"10\" fill=\"currentColor\">0</text></svg>"
    );
}

/// The storage's write log, newest first, and whether it fences.
fn write_log(sim: &Sim<Cap>, out: &mut String) {
    let p = sim.params();
    let fencing = if p.fencing { "on" } else { "off" };
    let token = if p.lease_us.is_some() { "lease number" } else { "Raft term" };
    let Some(Node::Storage(s)) = sim.node(sim.node_count()).map(|c| &c.node) else {
        let _ = write!(out, "<p data-fencing=\"{fencing}\">The storage is down.</p>");
        return;
    };
    let _ = write!(
        out,
        "<h2 id=\"cap-title\" class=\"panel-title\">Storage write log</h2><p data-fencing=\"{fencing}\">Fencing {fencing}. \
         Each write carries its writer's token (its {token}); accepted {}, rejected {}. Newest first:</p><ul>",
        s.accepted, s.rejected
    );
    for e in s.log.iter().rev().take(12) {
        let verdict = if e.accepted { "accepted" } else { "rejected: token too old" };
        let _ = write!(
            out,
            "<li data-token=\"{}\" data-writer=\"{}\" data-accepted=\"{}\">token {} from n{}, value {}: {verdict}</li>",
            e.token, e.writer, e.accepted, e.token, e.writer, e.value
        );
    }
    out.push_str("</ul>");
}
