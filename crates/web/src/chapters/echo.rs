//! The echo chapter's view: the test chapter's node, its ping count and streak.

use super::Toggle;
use crate::model::{Detail, NodeView, Shown, common};
use deepend_core::echo::{self, Echo};
use deepend_core::protocol::{Protocol as _, TimerKind};
use deepend_core::sim::Sim;
use deepend_core::NodeId;

impl Shown for Echo {
    const ELECTION_TIMER: TimerKind = echo::PING_TIMER;
    const TERM: &'static str = "pings";
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct"),
        ("wrong-echo", "broken: echoes the wrong number"),
    ];
    const TOGGLES: &'static [Toggle] = &[];

    fn commit_label(index: u64) -> String {
        format!("echo {index} heard")
    }

    fn node_view(sim: &Sim<Echo>, id: NodeId, _full: bool) -> NodeView {
        let base = common(sim, id);
        match sim.node(id) {
            Some(e) => NodeView {
                role: e.role(),
                term: e.term(),
                commit_index: e.sent(),
                detail: Detail::Fields(vec![("pings sent", e.sent().to_string()), ("state", e.describe())]),
                ..base
            },
            None => NodeView {
                election_left: None,
                ..base
            },
        }
    }
}
