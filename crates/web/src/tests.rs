//! Model-level tests of what the app relies on: the default scenario, links that replay, and
//! branching after a rewind. (The old `lab.rs` tests, moved onto `model::Lab`.)

use crate::model::{Lab, LineClass, Part, Snapshot, line_class};
use crate::url;
use deepend_core::SimTime;
use deepend_core::protocol::Role;
use deepend_core::script::{Action, Script, TimedAction};
use deepend_core::sim::NodeStatus;

#[test]
fn the_default_run_elects_exactly_one_leader_and_commits_client_writes() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_secs(3));
    let snapshot = lab.snapshot();
    assert_eq!(snapshot.now, SimTime::from_secs(3));
    assert_eq!(snapshot.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let leaders: Vec<_> = snapshot.nodes.iter().filter(|n| n.role == Role::LEADER).collect();
    assert_eq!(leaders.len(), 1, "{:?}", snapshot.nodes);
    assert!(leaders[0].term >= 1);
    assert!(
        leaders[0].commit_index > 1,
        "the client load grows the log: {:?}",
        leaders[0]
    );
}

#[test]
fn a_playing_frame_refreshes_one_panel_part_and_the_stage_gets_summaries() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_secs(2));
    let exact = lab.snapshot();
    assert!(
        exact.panels.nodes.iter().all(|n| !n.log.is_empty()),
        "the panels get full views"
    );
    assert!(
        exact.nodes.iter().all(|n| n.log.is_empty() && n.kv.is_empty()),
        "the stage gets summaries"
    );

    lab.advance_to(SimTime::from_secs(3));
    let events_only = lab.frame_snapshot(Some(Part::Events));
    assert_ne!(events_only.panels.events, exact.panels.events);
    assert_eq!(events_only.panels.nodes, exact.panels.nodes);
    assert_eq!(events_only.panels.history, exact.panels.history);
    let nodes_too = lab.frame_snapshot(Some(Part::Nodes));
    assert_ne!(nodes_too.panels.nodes, exact.panels.nodes);
    assert_eq!(nodes_too.panels.events, events_only.panels.events);
    assert_eq!(lab.frame_snapshot(None).panels, nodes_too.panels);
    assert_eq!(
        lab.snapshot().panels.nodes,
        nodes_too.panels.nodes,
        "nothing moved since"
    );
}

/// The clocks chapter's lab, its exact snapshot at 2 s, and the lab played on to 4 s.
fn clocks_lab_from_2s_to_4s() -> (Lab, Snapshot) {
    let clocks = crate::chapters::find("clocks").unwrap();
    let mut lab = Lab::new(&url::chapter_script(clocks)).unwrap();
    lab.advance_to(SimTime::from_secs(2));
    let first = lab.snapshot();
    lab.advance_to(SimTime::from_secs(4));
    (lab, first)
}

#[test]
fn a_chapters_panel_refreshes_in_a_turn_of_its_own() {
    let (mut lab, first) = clocks_lab_from_2s_to_4s();
    assert!(first.panels.chapter.is_some());
    let nodes = lab.frame_snapshot(Some(Part::Nodes));
    assert_ne!(nodes.panels.nodes, first.panels.nodes);
    assert_eq!(
        nodes.panels.chapter, first.panels.chapter,
        "the node views' turn leaves the chapter's panel alone"
    );
    let chapter = lab.frame_snapshot(Some(Part::Chapter));
    assert_ne!(chapter.panels.chapter, first.panels.chapter);
    assert_eq!(chapter.panels.nodes, nodes.panels.nodes);
}

#[test]
fn the_numbers_under_the_nodes_follow_the_node_views_turn_while_playing() {
    let (mut lab, first) = clocks_lab_from_2s_to_4s();
    let lamport = |s: &Snapshot| s.nodes.iter().map(|n| n.term).collect::<Vec<_>>();
    let exact = lamport(&lab.snapshot());
    assert_ne!(exact, lamport(&first), "Lamport times moved on in two seconds");
    // Back to where the last exact snapshot was, then on again in frames.
    lab.seek(SimTime::from_secs(2));
    assert_eq!(lamport(&lab.snapshot()), lamport(&first));
    lab.advance_to(SimTime::from_secs(4));
    let frame = lab.frame_snapshot(Some(Part::Events));
    assert_eq!(
        lamport(&frame),
        lamport(&first),
        "a frame without the node views keeps the numbers shown"
    );
    assert_eq!(lamport(&lab.frame_snapshot(Some(Part::Nodes))), exact);
}

#[test]
fn a_crashed_node_keeps_its_last_term_on_the_stage() {
    let mut script = Script::default();
    script.actions.push(TimedAction {
        at: SimTime::from_secs(1),
        action: Action::Crash(2),
    });
    let mut lab = Lab::new(&script).unwrap();
    lab.advance_to(SimTime::from_us(990_000));
    let term_before = lab.snapshot().nodes[1].term;
    assert!(term_before >= 1);
    lab.advance_to(SimTime::from_us(1_010_000));
    let node = lab.snapshot().nodes[1].clone();
    assert_eq!(node.status, NodeStatus::Crashed);
    assert_eq!((node.role, node.term), (Role::FOLLOWER, term_before));
}

#[test]
fn a_copied_link_reopens_the_same_state() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_us(1_234_567));
    lab.act(Action::Partition(vec![vec![1, 2, 3], vec![4, 5]]));
    lab.advance_to(SimTime::from_us(2_500_001));
    let query = url::format(lab.script(), Some(lab.now()), false);

    let url::Parsed::Here { link, problem: None } = url::parse(&query) else {
        panic!("{query} reopens here without a problem")
    };
    let mut reopened = Lab::new(&link.script).unwrap();
    reopened.advance_to(link.time.unwrap());
    assert_eq!(reopened.snapshot(), lab.snapshot());
    assert_eq!(reopened.trace_digest(), lab.trace_digest());
}

#[test]
fn acting_after_a_rewind_branches_and_the_link_holds_only_the_new_branch() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_secs(1));
    lab.act(Action::Crash(1));
    lab.advance_to(SimTime::from_secs(2));
    lab.seek(SimTime::from_us(500_000));
    assert_eq!(lab.horizon(), SimTime::from_secs(2), "rewinding keeps the future");
    lab.act(Action::Crash(3));
    assert_eq!(lab.horizon(), SimTime::from_us(500_000), "acting discards it");
    let actions: Vec<_> = lab.script().actions.iter().map(|a| a.action.clone()).collect();
    assert_eq!(actions, [url::DEFAULT_LOAD, Action::Crash(3)]);
}

/// The example page's two embedded runs open, and show what its text says they show.
#[test]
fn the_embed_example_runs_do_what_the_page_says() {
    let page = include_str!("../../../www/embed-example.html");
    let queries: Vec<&str> = page
        .split("src=\"raft.html")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .collect();
    assert_eq!(queries.len(), 2, "two embedded runs");
    let mut labs = Vec::new();
    for query in &queries {
        let url::Parsed::Here { link, problem: None } = url::parse(&query.replace("&amp;", "&")) else {
            panic!("{query} opens here without a problem")
        };
        assert!(link.embed, "{query}");
        let mut lab = Lab::new(&link.script).unwrap();
        lab.advance_to(SimTime::from_secs(6));
        labs.push(lab.snapshot());
    }
    let leader = |s: &crate::model::Snapshot| s.nodes.iter().find(|n| n.role == Role::LEADER).map(|n| (n.id, n.term));
    // The leader crash: n1 led term 1, crashed and came back; someone else leads a later term.
    let (id, term) = leader(&labs[0]).expect("a leader after the crash");
    assert!(id != 1 && term > 1, "n{id} term {term}");
    assert_eq!(labs[0].nodes[0].status, NodeStatus::Up);
    // The partition healed: one leader, of a term above 1, and every node agrees on it.
    let (id, term) = leader(&labs[1]).expect("a leader after the heal");
    assert!(term > 1, "n{id} term {term}");
    assert!(
        labs[1].nodes.iter().all(|n| n.leader == Some(id)),
        "{:?}",
        labs[1].nodes
    );
}

/// The echo test chapter, added through the registry alone, runs in the lab model (built with
/// `--features echo`).
#[cfg(feature = "echo")]
#[test]
fn the_echo_chapter_runs_in_the_lab() {
    let listed = crate::chapters::find("echo").unwrap();
    let mut lab = Lab::new(&url::chapter_script(listed)).unwrap();
    lab.advance_to(SimTime::from_secs(2));
    let snapshot = lab.snapshot();
    assert_eq!(snapshot.nodes.len(), 5);
    assert!(
        snapshot.nodes.iter().all(|n| n.role.name == "steady" && n.role.leads),
        "{:?}",
        snapshot.nodes
    );
    assert!(snapshot.panels.properties.iter().all(|p| p.broken.is_none()));
    assert!(!snapshot.markers.is_empty(), "echo marks on the scrubber");
    let events = &snapshot.panels.events;
    assert!(
        events.iter().any(|l| l.text.ends_with(" ping timer fires")),
        "{events:?}"
    );
    let messages = &snapshot.panels.messages;
    assert!(
        messages.iter().all(|m| !m.meaning.is_empty() && !m.fields.is_empty()),
        "{messages:?}"
    );
}

#[test]
fn trace_lines_are_classed_by_their_event_and_the_protocols_style() {
    use deepend_core::history::EventKind as Outcome;
    use deepend_core::net::DropReason;
    use deepend_core::paxos::{self, Ballot, Paxos};
    use deepend_core::protocol::{ClientReply, Note};
    use deepend_core::raft::{Entry, Message, Raft};
    use deepend_core::trace::EventKind;

    let append = |entries: Vec<Entry>| Message::AppendEntries {
        term: 1,
        prev_log_index: 1,
        prev_log_term: 1,
        entries,
        leader_commit: 1,
    };
    let heartbeat = append(Vec::new());
    let entries = append(vec![Entry {
        term: 1,
        command: deepend_core::kv::Command::Noop,
    }]);
    let reply = |success, conflict_index| Message::AppendEntriesReply {
        term: 1,
        success,
        prev_log_index: 1,
        match_index: 1,
        conflict_index,
    };
    let (ok, conflict) = (reply(true, 0), reply(false, 3));
    let send = EventKind::Send {
        msg: 0,
        deliver_at: SimTime::ZERO,
    };
    let drop = EventKind::Drop {
        msg: 0,
        reason: DropReason::Partition,
    };
    let raft = |kind: &EventKind, msg: Option<&Message>| line_class::<Raft>(kind, msg);
    let cases = [
        (raft(&EventKind::Action { index: 0 }, None), LineClass::Action),
        (
            raft(
                &EventKind::Note(Note::Role {
                    role: Role::LEADER,
                    term: 1,
                }),
                None,
            ),
            LineClass::Role,
        ),
        (raft(&EventKind::ForcedTimeout, None), LineClass::Role),
        (raft(&EventKind::Violation { index: 0 }, None), LineClass::Violation),
        (raft(&send, Some(&heartbeat)), LineClass::Heartbeat),
        (raft(&EventKind::Deliver { msg: 0 }, Some(&ok)), LineClass::Heartbeat),
        (raft(&drop, Some(&heartbeat)), LineClass::Heartbeat),
        (raft(&EventKind::Timer { kind: 1 }, None), LineClass::Heartbeat),
        (raft(&EventKind::Timer { kind: 0 }, None), LineClass::Other),
        (raft(&drop, Some(&entries)), LineClass::Drop),
        (raft(&EventKind::ClientDrop { client: 1 }, None), LineClass::Drop),
        (raft(&send, Some(&entries)), LineClass::Message),
        (raft(&send, Some(&conflict)), LineClass::Message),
        (
            raft(
                &EventKind::ClientReply {
                    client: 1,
                    reply: ClientReply::NotLeader { leader: Some(2) },
                },
                None,
            ),
            LineClass::Client,
        ),
        (raft(&EventKind::Note(Note::Truncate { from: 3 }), None), LineClass::Log),
        (
            raft(
                &EventKind::Return {
                    client: 1,
                    outcome: Outcome::Ok,
                },
                None,
            ),
            LineClass::Client,
        ),
    ];
    for (i, (got, want)) in cases.into_iter().enumerate() {
        assert_eq!(got, want, "case {i}");
    }
    let ballot = Ballot { round: 1, node: 1 };
    let paxos_heartbeat = paxos::Message::Heartbeat { ballot, chosen: 1 };
    assert_eq!(line_class::<Paxos>(&send, Some(&paxos_heartbeat)), LineClass::Heartbeat);
    let nack = paxos::Message::Nack {
        ballot,
        promised: ballot,
    };
    assert_eq!(line_class::<Paxos>(&send, Some(&nack)), LineClass::Message);
    assert_eq!(
        line_class::<Paxos>(&EventKind::Timer { kind: 2 }, None),
        LineClass::Other
    );
}

#[test]
fn event_lines_come_without_their_time_and_say_timers_in_words() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_secs(1));
    let events = lab.snapshot().panels.events;
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|l| l.text.starts_with(['n', 'c', 'a', 'V'])),
        "no time in front: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.class == LineClass::Heartbeat && l.text.ends_with(" heartbeat timer fires")),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|l| l.text.contains(" timer 0") || l.text.contains(" timer 1"))
    );
}

#[test]
fn messages_carry_their_style_and_the_panels_copy_their_fields() {
    let mut lab = Lab::new(&url::default_script()).unwrap();
    lab.advance_to(SimTime::from_us(1_500_000));
    let snapshot = lab.snapshot();
    assert!(!snapshot.messages.is_empty(), "messages in flight");
    assert!(
        snapshot.messages.iter().all(|m| m.fields.is_empty()),
        "the stage builds no fields"
    );
    let panels = &snapshot.panels.messages;
    assert_eq!(panels.len(), snapshot.messages.len());
    for m in panels.iter() {
        assert!(
            !m.meaning.is_empty() && m.fields.first().map(|(k, _)| *k) == Some("term"),
            "{m:?}"
        );
        if m.kind == "AppendEntries" {
            let empty = m
                .fields
                .iter()
                .any(|(k, v)| *k == "entries[]" && v == "none (heartbeat)");
            assert_eq!(m.style.heartbeat, empty, "{m:?}");
        }
    }
    // Every kind of either chapter says what it is for.
    let paxos = crate::chapters::find("paxos").unwrap();
    let mut lab = Lab::new(&url::chapter_script(paxos)).unwrap();
    let mut kinds = Vec::new();
    for ms in (100..3_000).step_by(7) {
        lab.advance_to(SimTime::from_us(ms * 1_000));
        for m in lab.snapshot().panels.messages.iter() {
            assert!(!m.meaning.is_empty() && !m.fields.is_empty(), "{m:?}");
            if !kinds.contains(&m.kind) {
                kinds.push(m.kind);
            }
        }
    }
    assert!(kinds.len() >= 4, "{kinds:?}");
}
