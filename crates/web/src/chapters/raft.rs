//! The Raft chapter's view: a node as the paper's Figure 2 has it, and the controls'
//! variants and toggles.

use super::Toggle;
use crate::model::{Detail, EntryView, LOG_WINDOW, NodeView, Shown, common, kv_view};
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Protocol as _};
use deepend_core::raft::{self, Raft};
use deepend_core::sim::Sim;
use deepend_core::{NodeId, protocol::TimerKind};

impl Shown for Raft {
    const ELECTION_TIMER: TimerKind = raft::ELECTION_TIMER;
    const TERM: &'static str = "term";
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Election, MsgShape::Diamond), "RequestVote"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Circle), "Vote"),
        (MsgStyle::new(MsgFamily::PreElection, MsgShape::Diamond), "PreVote"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "AppendEntries"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square).heartbeat(true), "heartbeat"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle), "reply"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Circle).negative(true), "denied / failed"),
    ];
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct (Figure 2)"),
        ("commit-old-terms", "broken: commits old terms by counting"),
        ("vote-without-log-check", "broken: votes without the log check"),
        ("forget-term-on-restart", "broken: forgets its term on restart"),
        ("byzantine-voter", "broken: n1 lies, voting for every candidate"),
    ];
    const TOGGLES: &'static [Toggle] = &[
        Toggle {
            key: "prevote",
            label: "PreVote",
            title: "A candidate first asks whether it could win, so a node cut off does not raise its term (section 9.6 of the thesis)",
            on: "on",
            off: "off",
            default_on: false,
            scenario: None,
        },
        Toggle {
            key: "checkquorum",
            label: "CheckQuorum",
            title: "A leader that has not heard from a majority for an election timeout steps down",
            on: "on",
            off: "off",
            default_on: false,
            scenario: None,
        },
    ];

    fn commit_label(index: u64) -> String {
        format!("index {index} committed")
    }

    fn node_view(sim: &Sim<Raft>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let window = |log: &raft::Log, committed: u64| {
            if !full {
                return Vec::new();
            }
            let from = log.last_index().saturating_sub(LOG_WINDOW) + 1;
            (from..=log.last_index())
                .filter_map(|index| {
                    let e = log.get(index)?;
                    Some(EntryView {
                        index,
                        term: e.term,
                        committed: index <= committed,
                        command: e.command,
                    })
                })
                .collect::<Vec<_>>()
        };
        match sim.node(id) {
            Some(r) => NodeView {
                role: r.role(),
                term: r.term(),
                leader: r.leader(),
                commit_index: r.commit_index(),
                last_applied: r.last_applied(),
                last_index: r.log().last_index(),
                log: window(r.log(), r.commit_index()),
                kv: kv_view(r.kv(), full),
                detail: Detail::Raft {
                    voted_for: r.voted_for(),
                    pre_candidate: r.is_pre_candidate(),
                    replication: (1..=sim.node_count())
                        .filter(|&p| full && p != id)
                        .filter_map(|p| Some((p, r.next_index(p)?, r.match_index(p)?)))
                        .collect(),
                },
                ..base
            },
            None => match sim.stable(id) {
                Some(s) => NodeView {
                    term: s.current_term,
                    last_index: s.log.last_index(),
                    log: window(&s.log, 0),
                    detail: Detail::Raft {
                        voted_for: s.voted_for,
                        pre_candidate: false,
                        replication: Vec::new(),
                    },
                    election_left: None,
                    ..base
                },
                None => NodeView {
                    election_left: None,
                    ..base
                },
            },
        }
    }
}
