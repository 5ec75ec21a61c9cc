//! The Paxos chapter's view: proposers, acceptors and learners by slot, and the controls'
//! variants and toggles.

use super::Toggle;
use crate::model::{Detail, EntryView, LOG_WINDOW, NodeView, Shown, SlotView, common, kv_view};
use deepend_core::chunked::SlotMap;
use deepend_core::kv::Command;
use deepend_core::paxos::{self, Ballot, Paxos, PaxosParams, Phase};
use deepend_core::protocol::{MsgFamily, MsgShape, MsgStyle, Params as _, Protocol as _, TimerKind};
use deepend_core::sim::Sim;
use deepend_core::NodeId;

impl Shown for Paxos {
    const ELECTION_TIMER: TimerKind = paxos::ELECTION_TIMER;
    const TERM: &'static str = "ballot round";
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[
        (MsgStyle::new(MsgFamily::Election, MsgShape::Diamond), "Prepare"),
        (MsgStyle::new(MsgFamily::Election, MsgShape::Circle), "Promise"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square), "Accept"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle), "Accepted"),
        (MsgStyle::new(MsgFamily::Replication, MsgShape::Square).heartbeat(true), "heartbeat"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Circle), "Chosen"),
        (MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond), "CatchUp"),
        (MsgStyle::new(MsgFamily::Other, MsgShape::Circle).negative(true), "Nack"),
    ];
    const VARIANTS: &'static [(&'static str, &'static str)] = &[
        ("correct", "correct (Paxos Made Simple)"),
        ("ignore-promised-values", "broken: ignores values in promises"),
        ("forget-promise-on-restart", "broken: forgets its promise on restart"),
        ("accept-lower-ballot", "broken: accepts a lower ballot"),
    ];
    const TOGGLES: &'static [Toggle] = &[
        Toggle {
            key: "leader",
            label: "Distinguished proposer",
            title: "Proposers take turns through a leader, so dueling proposers converge",
            on: "on",
            off: "off",
            default_on: false,
            scenario: Some("paxos-single"),
        },
        Toggle {
            key: "backoff",
            label: "Random back-off",
            title: "Without it, two proposers that retry after the same delay preempt each other forever",
            on: "random",
            off: "fixed",
            default_on: true,
            scenario: Some("paxos-single"),
        },
    ];

    fn commit_label(slot: u64) -> String {
        format!("slot {slot} chosen")
    }

    fn node_view(sim: &Sim<Paxos>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let params = sim.node(id).map(|p| p.params().clone()).unwrap_or_else(|| {
            let mut params = PaxosParams::default();
            for (k, v) in &sim.script().header.settings {
                let _ = params.set(k, v);
            }
            params
        });
        let mode = params.mode.as_str();
        let proposer = params.is_proposer(id);
        match sim.node(id) {
            Some(p) => {
                let (slots, log) = paxos_slots(p.accepted_all(), p.learned_all(), full);
                NodeView {
                    role: p.role(),
                    term: p.term(),
                    leader: p.leader(),
                    commit_index: p.chosen_prefix(),
                    last_applied: p.last_applied(),
                    last_index: last_slot(p.accepted_all(), p.learned_all()),
                    log,
                    kv: kv_view(p.kv(), full),
                    detail: Detail::Paxos {
                        mode,
                        proposer,
                        promised: p.promised(),
                        phase: phase_name(p.phase()),
                        ballot: p.ballot(),
                        promises: p.promises(),
                        slots,
                    },
                    ..base
                }
            }
            None => {
                let empty = paxos::Stable::default();
                let s = sim.stable(id).unwrap_or(&empty);
                let (slots, log) = paxos_slots(&s.acceptor.accepted, &s.learned, full);
                NodeView {
                    term: s.acceptor.promised.round.max(s.round),
                    last_index: last_slot(&s.acceptor.accepted, &s.learned),
                    log,
                    election_left: None,
                    detail: Detail::Paxos {
                        mode,
                        proposer,
                        promised: s.acceptor.promised,
                        phase: "crashed",
                        ballot: Ballot::ZERO,
                        promises: Vec::new(),
                        slots,
                    },
                    ..base
                }
            }
        }
    }
}

type Slots = SlotMap<(Ballot, Command)>;

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Idle => "idle",
        Phase::Backoff => "backoff",
        Phase::Preparing => "preparing (phase 1)",
        Phase::Accepting => "accepting (phase 2)",
    }
}

/// The highest slot with an accepted or a learned value.
fn last_slot(accepted: &Slots, learned: &Slots) -> u64 {
    let last = |m: &Slots| m.last_key().unwrap_or(0);
    last(accepted).max(last(learned))
}

/// The last [`LOG_WINDOW`] slots with anything in them (none unless `full`), for the inspector, and as log entries
/// for the log panel: a learned value is a committed entry of the round it was learned in; an
/// accepted one is an uncommitted entry of its ballot's round.
fn paxos_slots(accepted: &Slots, learned: &Slots, full: bool) -> (Vec<SlotView>, Vec<EntryView>) {
    if !full {
        return (Vec::new(), Vec::new());
    }
    let last = last_slot(accepted, learned);
    let from = last.saturating_sub(LOG_WINDOW) + 1;
    let slots: Vec<SlotView> = (from..=last)
        .filter_map(|slot| {
            let (a, l) = (accepted.get(slot), learned.get(slot));
            (a.is_some() || l.is_some()).then(|| SlotView {
                slot,
                accepted: a.copied(),
                learned: l.copied(),
            })
        })
        .collect();
    let log = slots
        .iter()
        .filter_map(|s| {
            let (ballot, command, committed) = match (&s.learned, &s.accepted) {
                (Some((b, v)), _) => (b, v, true),
                (None, Some((b, v))) => (b, v, false),
                (None, None) => return None,
            };
            Some(EntryView {
                index: s.slot,
                term: ballot.round,
                committed,
                command: *command,
            })
        })
        .collect();
    (slots, log)
}
