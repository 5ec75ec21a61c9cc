//! The clocks chapter's view: each node's software clock against true time, its Lamport and
//! vector clocks, its last NTP exchange and its register.

mod panel;

use super::Toggle;
use crate::components::inspector::format_offset;
use crate::model::{Detail, NodeView, Shown, common};
use deepend_core::NodeId;
use deepend_core::clocks::{self, Clocks, Store};
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Protocol as _, TimerKind};
use deepend_core::sim::Sim;
use std::rc::Rc;
use yew::{Html, html};

impl Shown for Clocks {
    const ELECTION_TIMER: TimerKind = clocks::WORK_TIMER;
    const TERM: &'static str = "Lamport time";
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Other, MsgShape::Circle), "message"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond), "NTP request"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Circle), "NTP reply"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "replicate"),
    ];
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct (Lamport 1978, Fidge/Mattern)"),
        ("lamport-no-max", "broken: Lamport receive just ticks"),
        ("vc-no-increment", "broken: vector merge forgets to tick"),
        ("vc-receiver-only", "broken: vector keeps the receiver's copy"),
    ];
    const TOGGLES: &'static [Toggle] = &[Toggle {
        key: "sync",
        label: "NTP sync",
        title: "Nodes 2.. set their clocks from node 1's every 2 s, to its time plus half the round trip",
        on: "on",
        off: "off",
        default_on: true,
        scenario: None,
    }];

    const CLIENTS: bool = false;
    const LOGS: bool = false;

    fn panel(sim: &Sim<Clocks>) -> Option<Html> {
        let data = Rc::new(panel::data(sim));
        Some(html! { <panel::ClocksPanel {data} /> })
    }

    fn commit_label(index: u64) -> String {
        format!("Lamport {index}")
    }

    fn node_view(sim: &Sim<Clocks>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let Some(c) = sim.node(id) else {
            return NodeView {
                election_left: None,
                ..base
            };
        };
        let (offset, drift) = software_clock(sim, id);
        let mut fields = Vec::new();
        if full {
            let n = c.cluster_size();
            fields.push(("wall clock", wall_text(c.wall_at(sim.local_now_us(id)))));
            fields.push(("vector clock", format!("[{}]", clocks::vc_text(c.vc(), n))));
            if let Some(s) = c.last_sync() {
                fields.push(("last NTP step", format_offset(s.step_us)));
                fields.push(("NTP round trip", format_offset(s.rtt_us)));
            }
            if c.store() != Store::Off {
                fields.push(("register", versions_text(c)));
            }
        }
        let mut marks = vec![("data-lamport", c.lamport().to_string())];
        if c.store() != Store::Off {
            let mut values: Vec<u64> = c.versions().iter().map(|v| v.value).collect();
            deepend_core::sort::sort_by_key(&mut values, |&v| u128::from(v));
            let values: Vec<String> = values.iter().map(u64::to_string).collect();
            marks.push(("data-versions", values.join(",")));
        }
        NodeView {
            marks,
            role: c.role(),
            term: c.term(),
            commit_index: c.lamport(),
            clock_offset_us: offset,
            clock_drift_ppm: drift,
            detail: Detail::Fields(fields),
            ..base
        }
    }
}

/// Node `id`'s software clock now: how far it is ahead of true time, and its drift (the
/// quartz's and any skew the reader added).
pub fn software_clock(sim: &Sim<Clocks>, id: NodeId) -> (i64, i32) {
    let (_, hw_drift) = sim.clock(id);
    sim.node(id).map_or((0, hw_drift), |c| {
        let offset = c.wall_at(sim.local_now_us(id)) - sim.now().as_us() as i64;
        (offset, hw_drift + c.drift_ppm() as i32)
    })
}

/// A wall-clock reading in seconds with microseconds (`1.234567 s`).
pub fn wall_text(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let abs = us.unsigned_abs();
    format!("{sign}{}.{:06} s", abs / 1_000_000, abs % 1_000_000)
}

/// The register's versions: `7 (n2)`, siblings separated by a bar.
pub fn versions_text(c: &Clocks) -> String {
    let all: Vec<String> = c.versions().iter().map(|v| format!("{} (n{})", v.value, v.node)).collect();
    if all.is_empty() { "empty".into() } else { all.join(" | ") }
}
