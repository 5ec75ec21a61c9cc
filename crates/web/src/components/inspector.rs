//! The inspector: every field of Figure 2 of the Raft paper for the selected node (persistent
//! state, volatile state, and a leader's nextIndex[] and matchIndex[]), its state machine and
//! clock, buttons for its faults; and the selected message with its arguments under their
//! Figure 2 names.

#[cfg(feature = "raft")]
use crate::fixed::fixed;
#[cfg(feature = "paxos")]
use crate::model::SlotView;
use crate::model::{Detail, MessageView, NodeView};
use deepend_core::NodeId;
use deepend_core::script::Action;
use deepend_core::sim::NodeStatus;
use std::rc::Rc;
use yew::prelude::*;

/// How long the Pause button freezes a node, in simulated microseconds.
pub const PAUSE_US: u64 = 500_000;

#[derive(Properties)]
pub struct InspectorProps {
    pub nodes: Rc<Vec<NodeView>>,
    pub selected: Option<NodeId>,
    pub messages: Rc<Vec<MessageView>>,
    pub selected_message: Option<u32>,
    pub on_action: Callback<Action>,
}

/// Only the selected node and message take part, and moving values only in the steps the
/// panel shows, so that a frame which moved other things does not render the inspector.
impl PartialEq for InspectorProps {
    fn eq(&self, other: &Self) -> bool {
        fn node(p: &InspectorProps) -> Option<&NodeView> {
            p.selected.and_then(|id| p.nodes.iter().find(|n| n.id == id))
        }
        fn message(p: &InspectorProps) -> Option<&MessageView> {
            p.selected_message.and_then(|id| p.messages.iter().find(|m| m.id == id))
        }
        let same_node = match (node(self), node(other)) {
            (Some(a), Some(b)) => {
                percent(a.election_left) == percent(b.election_left)
                    && a.id == b.id
                    && a.role == b.role
                    && a.status == b.status
                    && a.term == b.term
                    && a.leader == b.leader
                    && a.commit_index == b.commit_index
                    && a.last_applied == b.last_applied
                    && a.last_index == b.last_index
                    && a.log.last() == b.log.last()
                    && a.detail == b.detail
                    && a.kv == b.kv
                    && a.clock_offset_us == b.clock_offset_us
                    && a.clock_drift_ppm == b.clock_drift_ppm
            }
            (a, b) => a.is_none() && b.is_none(),
        };
        let same_message = match (message(self), message(other)) {
            (Some(a), Some(b)) => {
                a.id == b.id
                    && a.label == b.label
                    && a.lost == b.lost
                    && percent(Some(a.progress)) == percent(Some(b.progress))
            }
            (a, b) => a.is_none() && b.is_none(),
        };
        self.selected == other.selected
            && self.selected_message == other.selected_message
            && self.on_action == other.on_action
            && same_node
            && same_message
    }
}

/// A share 0..1 as a whole percentage.
fn percent(share: Option<f32>) -> Option<u8> {
    share.map(|s| (s.clamp(0.0, 1.0) * 100.0).round() as u8)
}

#[function_component(Inspector)]
pub fn inspector(props: &InspectorProps) -> Html {
    let node = props.selected.map(|id| (id, props.nodes.iter().find(|n| n.id == id)));
    let message = props
        .selected_message
        .map(|id| (id, props.messages.iter().find(|m| m.id == id)));
    let empty = node.is_none() && message.is_none();
    html! {
        <section class="panel inspector" aria-labelledby="inspector-title">
            <h2 id="inspector-title" class="panel-title">{ "Inspector" }</h2>
            if empty {
                <p class="panel-empty">{ "Select a node or a message on the stage to see its state here." }</p>
            }
            { node.map(|(id, view)| match view {
                Some(n) => node_html(n, &props.on_action),
                None => html! { <p class="panel-empty">{ format!("There is no node n{id} in this run.") }</p> },
            }) }
            { message.map(|(id, view)| match view {
                Some(m) => message_html(m, &props.on_action),
                None => html! {
                    <p class="panel-empty">{ format!("Message #{id} has arrived or been dropped.") }</p>
                },
            }) }
        </section>
    }
}

fn node_html(n: &NodeView, on_action: &Callback<Action>) -> Html {
    let crashed = n.status == NodeStatus::Crashed;
    let role = if crashed {
        "crashed"
    } else if n.pre_candidate() {
        "pre-candidate"
    } else {
        n.role.as_str()
    };
    let action = |label: String, name: &'static str, action: Action, class: &'static str| {
        let on_action = on_action.clone();
        html! {
            <button type="button" class={classes!("btn", class)} aria-label={label}
                onclick={move |_| on_action.emit(action.clone())}>{ name }</button>
        }
    };
    let id = n.id;
    let buttons = html! {
        <div class="inspector-actions" role="group" aria-label={format!("Faults for n{id}")}>
            if crashed {
                { action(format!("Restart n{id}"), "Restart", Action::Restart(id), "") }
            } else {
                { action(format!("Crash n{id}"), "Crash", Action::Crash(id), "danger") }
            }
            if n.status == NodeStatus::Paused {
                { action(format!("Resume n{id}"), "Resume", Action::Resume(id), "") }
            } else if !crashed {
                { action(format!("Pause n{id} for {} ms", PAUSE_US / 1000), "Pause 500 ms",
                    Action::Pause { node: id, for_us: Some(PAUSE_US) }, "") }
            }
            if !crashed {
                { action(format!("Force an election timeout on n{id}"), "Timeout", Action::Timeout(id), "") }
            }
        </div>
    };
    let kv = if crashed {
        html! { <p class="muted">{ "Lost in the crash; rebuilt by replaying the log after a restart." }</p> }
    } else if n.kv.is_empty() {
        html! { <p class="muted">{ "empty" }</p> }
    } else {
        html! {
            <ul class="kv">
                { for n.kv.iter().map(|(k, v)| html! { <li key={*k}><span>{ format!("k{k}") }</span>{ " = " }<b>{ v }</b></li> }) }
            </ul>
        }
    };
    let timer = n.election_left.map(|left| {
        let pct = percent(Some(left)).unwrap_or(0);
        html! {
            <>
                <dt>{ "election timer" }</dt>
                <dd>
                    <span class="timer-bar" role="img" aria-label={format!("{pct}% of the timeout left")}>
                        <span style={format!("width: {pct}%")} />
                    </span>
                    { format!(" {pct}% left") }
                </dd>
            </>
        }
    });
    html! {
        <div class="inspector-node" data-inspected-node={id.to_string()}>
            <p class="inspector-head">
                <span class={classes!("role-badge", format!("role-{role}"))}>
                    <span aria-hidden="true">{ role_glyph(role) }</span>{ format!(" n{id} {role}") }
                </span>
                <span class="muted">{ format!("{} {}", if n.has_slots() { "round" } else { "term" }, n.term) }</span>
                if n.status == NodeStatus::Paused { <span class="badge warn">{ "paused" }</span> }
            </p>
            { buttons }
            <dl class="fields">
                <dt>{ "status" }</dt><dd>{ n.status.as_str() }</dd>
                <dt>{ "known leader" }</dt>
                <dd>{ if crashed { "—".to_string() } else { n.leader.map_or("none".to_string(), |l| format!("n{l}")) } }</dd>
                { for timer }
            </dl>
            { protocol_sections(n, crashed) }
            <h3 class="inspector-section">{ "State machine" }</h3>
            { kv }
            <h3 class="inspector-section">{ "Clock" }</h3>
            <dl class="fields">
                <dt>{ "offset" }</dt><dd>{ format_offset(n.clock_offset_us) }</dd>
                <dt>{ "drift" }</dt><dd>{ format!("{:+} ppm", n.clock_drift_ppm) }</dd>
            </dl>
        </div>
    }
}

/// The protocol's own state: Raft's Figure 2, or Paxos's acceptor, proposer and learner.
// Only the register chapters have sections that show what a crash lost.
#[cfg_attr(not(any(feature = "raft", feature = "paxos")), allow(unused_variables))]
fn protocol_sections(n: &NodeView, crashed: bool) -> Html {
    #[cfg(any(feature = "raft", feature = "paxos"))]
    let volatile = |v: u64| {
        if crashed {
            "— (lost)".to_string()
        } else {
            v.to_string()
        }
    };
    #[cfg(any(feature = "raft", feature = "paxos"))]
    let on_disk = html! {
        if crashed { <span class="muted">{ " (on disk)" }</span> }
    };
    match &n.detail {
        Detail::Fields(fields) => html! {
            <dl class="fields">
                { for fields.iter().map(|(label, value)| html! { <><dt>{ *label }</dt><dd>{ value.clone() }</dd></> }) }
            </dl>
        },
        #[cfg(feature = "raft")]
        Detail::Raft {
            voted_for, replication, ..
        } => {
            let last_term = n.log.last().map_or(0, |e| e.term);
            let leader_state = (n.role.leads && !crashed && !replication.is_empty()).then(|| {
                let rows = replication.iter().map(|&(peer, next, matched)| {
                    let share = if n.last_index == 0 {
                        1.0
                    } else {
                        matched as f64 / n.last_index as f64
                    };
                    html! {
                        <tr key={peer}>
                            <th scope="row">{ format!("n{peer}") }</th>
                            <td>{ next }</td>
                            <td>{ matched }</td>
                            <td aria-hidden="true">
                                <span class="match-bar">
                                    <span style={format!("width: {}%", fixed(f64::from(share.clamp(0.0, 1.0) * 100.0), 0))} />
                                </span>
                            </td>
                        </tr>
                    }
                });
                html! {
                    <>
                        <h3 class="inspector-section">{ "Leader state" }</h3>
                        <table class="replication">
                            <thead><tr>
                                <th scope="col">{ "peer" }</th>
                                <th scope="col" title="next log index to send to the peer">{ "nextIndex" }</th>
                                <th scope="col" title="highest index known replicated on the peer">{ "matchIndex" }</th>
                                <th scope="col"><span class="sr-only">{ "replicated share" }</span></th>
                            </tr></thead>
                            <tbody>{ for rows }</tbody>
                        </table>
                    </>
                }
            });
            html! {
                <>
                    <h3 class="inspector-section">{ "Persistent state" }{ on_disk }</h3>
                    <dl class="fields">
                        <dt>{ "currentTerm" }</dt><dd>{ n.term }</dd>
                        <dt>{ "votedFor" }</dt><dd>{ voted_for.map_or("null".to_string(), |v| format!("n{v}")) }</dd>
                        <dt>{ "log[]" }</dt>
                        <dd>
                            { format!("{} {}", n.last_index, if n.last_index == 1 { "entry" } else { "entries" }) }
                            if n.last_index > 0 { { format!(", last {}@{}", n.last_index, last_term) } }
                        </dd>
                    </dl>
                    <h3 class="inspector-section">{ "Volatile state" }</h3>
                    <dl class="fields">
                        <dt>{ "commitIndex" }</dt><dd>{ volatile(n.commit_index) }</dd>
                        <dt>{ "lastApplied" }</dt><dd>{ volatile(n.last_applied) }</dd>
                    </dl>
                    { for leader_state }
                </>
            }
        }
        #[cfg(feature = "paxos")]
        Detail::Paxos {
            mode,
            proposer,
            promised,
            phase,
            ballot,
            promises,
            slots,
        } => {
            let ballot_text = |b: &deepend_core::paxos::Ballot| {
                if b.round == 0 {
                    "none".to_string()
                } else {
                    b.to_string()
                }
            };
            let proposer_fields = if !proposer {
                html! { <p class="muted">{ "Not a proposer: an acceptor and learner only." }</p> }
            } else if crashed {
                html! { <p class="muted">{ "Lost in the crash (the highest round used is on disk)." }</p> }
            } else {
                html! {
                    <dl class="fields">
                        <dt>{ "phase" }</dt><dd data-paxos-phase={*phase}>{ *phase }</dd>
                        <dt>{ "ballot" }</dt><dd data-paxos-ballot={ballot.to_string()}>{ ballot_text(ballot) }</dd>
                        if !promises.is_empty() {
                            <dt>{ "promises" }</dt>
                            <dd>{ promises.iter().map(|p| format!("n{p}")).collect::<Vec<_>>().join(" ") }</dd>
                        }
                    </dl>
                }
            };
            let cell = |v: &Option<(deepend_core::paxos::Ballot, deepend_core::kv::Command)>| match v {
                Some((b, value)) => html! { <><span class="muted">{ format!("{b} ") }</span>{ value.to_string() }</> },
                None => html! { <span class="muted">{ "—" }</span> },
            };
            let rows = slots.iter().rev().map(|s: &SlotView| {
                html! {
                    <tr key={s.slot} class={classes!(s.learned.is_some().then_some("chosen"))}>
                        <th scope="row">{ s.slot }</th>
                        <td>{ cell(&s.accepted) }</td>
                        <td>{ cell(&s.learned) }</td>
                    </tr>
                }
            });
            html! {
                <>
                    <h3 class="inspector-section">{ "Acceptor" }{ on_disk }</h3>
                    <dl class="fields">
                        <dt>{ "mode" }</dt><dd>{ if *mode == "multi" { "Multi-Paxos" } else { "single-decree" } }</dd>
                        <dt>{ "promised" }</dt><dd data-paxos-promised={promised.to_string()}>{ ballot_text(promised) }</dd>
                    </dl>
                    <h3 class="inspector-section">{ "Proposer" }</h3>
                    { proposer_fields }
                    <h3 class="inspector-section">{ "Learner" }</h3>
                    <dl class="fields">
                        <dt>{ "chosen prefix" }</dt><dd>{ volatile(n.commit_index) }</dd>
                    </dl>
                    if slots.is_empty() {
                        <p class="muted">{ "No slot accepted or learned yet." }</p>
                    } else {
                        <table class="replication paxos-slots">
                            <thead><tr>
                                <th scope="col">{ "slot" }</th>
                                <th scope="col" title="the acceptor's highest accepted proposal: ballot and value">{ "accepted" }</th>
                                <th scope="col" title="the value this learner learned as chosen, and the ballot">{ "chosen" }</th>
                            </tr></thead>
                            <tbody>{ for rows }</tbody>
                        </table>
                    }
                </>
            }
        }
    }
}

fn role_glyph(role: &str) -> &'static str {
    match role {
        "leader" => "★",
        "candidate" | "pre-candidate" => "◆",
        "crashed" => "✕",
        _ => "●",
    }
}

/// `+30.000 ms`, `-1.500 ms`, `0 ms`.
pub fn format_offset(us: i64) -> String {
    if us == 0 {
        return "0 ms".to_string();
    }
    let sign = if us < 0 { '-' } else { '+' };
    let abs = us.unsigned_abs();
    format!("{sign}{}.{:03} ms", abs / 1000, abs % 1000)
}

fn message_html(m: &MessageView, on_action: &Callback<Action>) -> Html {
    let capture = {
        let (on_action, id) = (on_action.clone(), m.id);
        Callback::from(move |_: MouseEvent| on_action.emit(Action::Drop(id)))
    };
    let fields = m.fields.iter().map(|(k, v)| {
        html! { <><dt>{ *k }</dt><dd>{ v.clone() }</dd></> }
    });
    let pct = percent(Some(m.progress)).unwrap_or(0);
    html! {
        <div class="inspector-message" data-inspected-message={m.id.to_string()}>
            <p class="inspector-head">
                <span class={classes!("msg-badge", format!("msg-{}", m.kind))}>{ m.kind }</span>
                { format!(" n{} → n{}", m.from, m.to) }
                if m.lost { <span class="badge bad">{ "will be lost" }</span> }
            </p>
            <p class="muted">{ m.meaning }</p>
            <dl class="fields">
                { for fields }
                <dt>{ "in flight" }</dt><dd>{ format!("{pct}% of the way") }</dd>
            </dl>
            <p class="label-full"><code>{ m.label.as_str() }</code></p>
            if !m.lost {
                <button type="button" class="capture" onclick={capture}
                    title="Drop it here, as a messenger caught on the way (a drop action)">
                    { "Capture this message" }
                </button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::kv::Command;
    use deepend_core::paxos::Paxos;
    use deepend_core::protocol::Protocol;
    use deepend_core::raft::{Entry, Message, Raft};

    fn pairs<P: Protocol>(msg: &P::Msg) -> Vec<(String, String)> {
        P::msg_fields(msg)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn raft_messages_read_as_figure_2_arguments() {
        let entry = |term| Entry {
            term,
            command: Command::Noop,
        };
        let append = |entries: Vec<Entry>| Message::AppendEntries {
            term: 2,
            prev_log_index: 4,
            prev_log_term: 1,
            entries,
            leader_commit: 4,
        };
        let p = pairs::<Raft>(&append(vec![entry(2), entry(2)]));
        let want = [
            ("term", "2"),
            ("prevLogIndex", "4"),
            ("prevLogTerm", "1"),
            ("entries[]", "5@2 6@2"),
            ("leaderCommit", "4"),
        ];
        assert_eq!(p, want.map(|(a, b)| (a.to_string(), b.to_string())));
        assert_eq!(pairs::<Raft>(&append(Vec::new()))[3].1, "none (heartbeat)");
        let vote = Message::Vote {
            term: 3,
            granted: true,
            pre_vote: false,
        };
        assert_eq!(pairs::<Raft>(&vote)[1], ("voteGranted".into(), "true".into()));
        let reply = |success, conflict_index| Message::AppendEntriesReply {
            term: 2,
            success,
            prev_log_index: 5,
            match_index: 0,
            conflict_index,
        };
        let conflict = pairs::<Raft>(&reply(false, 3));
        assert_eq!(conflict[1], ("success".into(), "false (log mismatch)".into()));
        assert_eq!(conflict[2], ("answers prevLogIndex".into(), "5".into()));
        assert_eq!(conflict[3], ("conflict: retry at".into(), "3".into()));
        assert_eq!(pairs::<Raft>(&reply(false, 0))[1].1, "false (sender's term is old)");
        assert_eq!(pairs::<Raft>(&reply(true, 0))[1].1, "true");
        let request = Message::RequestVote {
            term: 3,
            last_log_index: 7,
            last_log_term: 2,
            pre_vote: false,
        };
        assert_eq!(pairs::<Raft>(&request)[1], ("lastLogIndex".into(), "7".into()));
    }

    /// Regression: the inspector read this message's display form, and took each word
    /// without a `=` for a Raft reply's "success".
    #[test]
    fn a_paxos_accept_reads_as_ballot_slot_and_value() {
        use deepend_core::paxos::{Ballot, Message};
        use deepend_core::protocol::{ClientRequest, Op};
        let value = Command::Client(ClientRequest {
            client: 1,
            seq: 1,
            op: Op::Write { key: 1, value: 5 },
        });
        let msg = Message::Accept {
            ballot: Ballot { round: 3, node: 1 },
            slot: 2,
            value,
        };
        assert_eq!(msg.to_string(), "Accept b=3.1 slot=2 write k1 5");
        let want = [("ballot", "3.1"), ("slot", "2"), ("value", "write k1 5")];
        assert_eq!(pairs::<Paxos>(&msg), want.map(|(a, b)| (a.to_string(), b.to_string())));
    }

    #[test]
    fn offsets_have_a_sign_and_milliseconds() {
        assert_eq!(format_offset(0), "0 ms");
        assert_eq!(format_offset(30_000), "+30.000 ms");
        assert_eq!(format_offset(-1_500), "-1.500 ms");
        assert_eq!(format_offset(i64::MIN).chars().next(), Some('-'));
    }
}
