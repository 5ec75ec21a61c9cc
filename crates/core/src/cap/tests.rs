use super::figures::{Window, completed, stale, windows};
use super::*;
use crate::history::{Event, EventKind};
use crate::script;
use crate::sim::Sim;

fn event(time_us: u64, client: u32, kind: EventKind, op: Op, read: Option<Value>) -> Event {
    Event {
        time_us,
        client,
        kind,
        op,
        read,
    }
}

#[test]
fn a_read_older_than_a_finished_overwrite_is_stale() {
    use EventKind::*;
    let w = |value| Op::Write { key: 1, value };
    let r = Op::Read { key: 1 };
    let history = History {
        events: vec![
            event(0, 1, Invoke, w(1), None),
            event(10, 1, Ok, w(1), None),
            event(20, 1, Invoke, w(2), None),
            event(30, 1, Ok, w(2), None),
            // Began after the write of 2 finished: 1 is stale, 2 is not.
            event(40, 2, Invoke, r, None),
            event(50, 2, Ok, r, Some(1)),
            event(60, 2, Invoke, r, None),
            event(70, 2, Ok, r, Some(2)),
            // Overlaps the write of 3: either value is fresh.
            event(80, 1, Invoke, w(3), None),
            event(81, 2, Invoke, r, None),
            event(85, 2, Ok, r, Some(2)),
            event(90, 1, Ok, w(3), None),
        ],
    };
    let done = completed(&history);
    assert_eq!(done.len(), 6);
    let flags: Vec<Option<bool>> = stale(&done);
    assert_eq!(flags, [None, None, Some(true), Some(false), Some(false), None]);
    let all = windows(&history, 50, 100);
    assert_eq!(all.len(), 3, "two windows and the whole run");
    assert_eq!((all[2].reads, all[2].stale), (3, 1));
    assert_eq!((all[0].reads, all[1].reads), (0, 3), "by the time a read returned");
    assert_eq!(all[2].p50_us, 10);
}

fn run(text: &str, until_ms: u64) -> Sim<Cap> {
    let script = script::parse(text).expect("a valid script");
    let mut sim = Sim::<Cap>::new(&script).expect("a valid run");
    sim.run_until(crate::SimTime::from_ms(until_ms));
    sim
}

#[test]
fn cp_refuses_on_the_minority_and_ap_answers() {
    let base =
        "protocol cap\nnodes 3\nset client-attempts 1\n100ms partition 1 | 2 3\n200ms request 1 write k1 5 via 1\n";
    let cp = run(&format!("set mode cp\n{base}"), 2_000);
    assert_eq!((cp.monitor().answered, cp.monitor().refused), (0, 1));
    assert_eq!(cp.monitor().availability_permille(), Some(0));
    let ap = run(&format!("set mode ap\n{base}"), 2_000);
    assert_eq!((ap.monitor().answered, ap.monitor().refused), (1, 0));
    assert_eq!(ap.monitor().availability_permille(), Some(1000));
}

#[test]
fn lww_counts_an_acknowledged_write_it_discards_once() {
    let sim = run(
        "protocol cap\nnodes 3\nset mode ap\nset r 1\nset w 1\nset client-attempts 1\n\
         100ms partition 1 | 2 3\n200ms request 1 write k1 5 via 2\n300ms request 2 write k1 6 via 1\n1s heal\n",
        3_000,
    );
    assert_eq!(sim.monitor().lost, 1, "the write of 5 lost to the later stamp");
    for id in 1..=3 {
        let Some(Cap {
            node: Node::Replica(r), ..
        }) = sim.node(id)
        else {
            panic!("n{id} is a replica")
        };
        assert_eq!(r.stable.data.get(&1).map(|v| v.value), Some(6), "n{id}");
        assert_eq!(r.hints(), 0, "n{id} delivered its hints");
    }
}

#[test]
fn the_storage_fences_by_the_highest_token_overall() {
    let text = "protocol cap\nnodes 4\nset mode split-brain\nset fencing on\n10ms timeout 1\n1s pause 1 for 1s\n";
    let sim = run(text, 3_000);
    let Some(Cap {
        node: Node::Storage(s), ..
    }) = sim.node(4)
    else {
        panic!("n4 is the storage")
    };
    assert!(s.rejected > 0 && sim.violations().is_empty());
    assert!(
        s.log
            .iter()
            .any(|e| !e.accepted && e.writer == 1 && e.token < s.max_token)
    );
    let broken = run(
        &text.replace("fencing on\n", "fencing on\nset variant token-per-writer\n"),
        3_000,
    );
    assert!(!broken.violations().is_empty(), "per writer, n1's old token passes");
}

/// PACELC with no partition: the load on five replicas, one far away, under each quorum.
fn pacelc(r: u8, w: u8) -> Window {
    let text = format!(
        "protocol cap\nnodes 5\nseed 7\nset mode ap\nset far 5 40ms\nset client-attempts 1\nset r {r}\nset w {w}\n\
         0s load 40/s clients 5 keys 1\n"
    );
    let sim = run(&text, 20_000);
    *windows(sim.history(), 20_000_000, 20_000_000)
        .last()
        .expect("the whole run")
}

#[test]
fn pacelc_trades_latency_for_fresh_reads() {
    let weak = pacelc(1, 1);
    let strong = pacelc(3, 3);
    let all = pacelc(5, 5);
    assert!(weak.reads > 100 && strong.reads > 100);
    assert!(weak.stale > 0, "R + W <= N reads stale: {weak:?}");
    assert_eq!(strong.stale, 0, "R + W > N: {strong:?}");
    assert_eq!(all.stale, 0, "{all:?}");
    assert!(
        weak.p50_us < strong.p50_us && strong.p99_us < all.p99_us,
        "{weak:?} {strong:?} {all:?}"
    );
}
