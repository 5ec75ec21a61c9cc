//! Unit tests of the chapter's pieces that the golden scripts and sweeps do not pin down.

use super::*;
use crate::SimTime;
use crate::protocol::Params;
use crate::script::{Action, parse};
use crate::sim::Sim;

fn sim(text: &str) -> Sim<Txn> {
    Sim::new(&parse(text).expect("a valid script")).expect("a valid run")
}

/// Pays once, captures the service's first answer to the client, and returns the run.
fn pay_and_drop_the_reply(design: &str) -> Sim<Txn> {
    let mut sim = sim(&format!(
        "protocol txn\nnodes 5\nset scenario idempotency\nset design {design}\nset latency 10ms..10ms\n100ms do 5 begin\n"
    ));
    while sim.step() {
        let reply = sim.in_flight().into_iter().find(|m| {
            m.to == 5
                && matches!(
                    sim.trace().messages.get(m.msg as usize).map(|r| r.msg),
                    Some(Msg::PayReply { .. })
                )
        });
        if let Some(reply) = reply {
            sim.act(Action::Drop(reply.msg));
            break;
        }
    }
    sim.run_until(SimTime::from_secs(3));
    sim
}

fn charges(sim: &Sim<Txn>) -> usize {
    match sim.node(4).map(|n| &n.state) {
        Some(State::Processor(p)) => p.charges.len(),
        _ => panic!("n4 is the card processor"),
    }
}

#[test]
fn a_dropped_reply_charges_twice_without_a_key_and_once_with_one() {
    let without = pay_and_drop_the_reply("none");
    assert_eq!(charges(&without), 2, "{}", without.render_trace());
    assert!(
        without
            .violations()
            .iter()
            .any(|f| f.violation.property == monitor::EXACTLY_ONCE)
    );
    for design in ["select-then-insert", "pending-first"] {
        let with = pay_and_drop_the_reply(design);
        assert_eq!(charges(&with), 1, "{design}");
        assert!(with.violations().is_empty(), "{design}");
        let Some(State::PayClient(c)) = with.node(5).map(|n| &n.state) else {
            panic!("n5 is the client")
        };
        assert_eq!(
            c.intents[0].outcome,
            PayOutcome::Paid,
            "{design}: the retry is answered paid"
        );
    }
}

#[test]
fn commands_reach_only_the_nodes_they_are_for() {
    let mut sim = sim("protocol txn\nnodes 5\nset latency 10ms..10ms\n");
    // `begin` at a participant does nothing; at the client it begins t1 on row 2.
    sim.act(Action::Command {
        node: 2,
        verb: "begin".into(),
        arg: None,
    });
    sim.act(Action::Command {
        node: 5,
        verb: "begin-row".into(),
        arg: Some(2),
    });
    sim.run_until(SimTime::from_secs(1));
    assert_eq!(sim.node(5).map(|n| n.describe()), Some("txs=[t1:C]".into()));
    assert!(
        sim.node(2)
            .is_some_and(|n| n.describe().starts_with("rows=[r1=t0 r2=t1 r3=t0]"))
    );
}

#[test]
fn settings_are_checked() {
    let mut p = TxnParams::default();
    assert!(p.set("scenario", "3pc").unwrap_err().contains("2pc, saga, idempotency"));
    assert!(p.set("fail-rate", "101%").is_err());
    assert!(p.set("ask", "10us").is_err());
    p.set("variant", "forget-prepared").unwrap();
    assert_eq!(p.variant, Variant::ForgetPrepared);
    p.set("auto", "off").unwrap();
    assert_eq!(p.auto_us, None);
}

#[test]
fn every_scenario_lays_out_five_nodes() {
    let names = |kind| (1..=5).map(|id| node_name(kind, id, 5)).collect::<Vec<_>>();
    assert_eq!(
        names(Kind::TwoPc),
        ["coordinator", "orders", "payments", "inventory", "client"]
    );
    assert_eq!(
        names(Kind::Saga),
        ["orders", "inventory", "payment", "shipping", "client"]
    );
    assert_eq!(
        names(Kind::Idempotency),
        ["payments-a", "payments-b", "database", "card processor", "client"]
    );
}

#[test]
fn a_slow_charge_lets_retries_race_past_the_select_but_not_a_pending_row() {
    let run = |design: &str| {
        let mut sim = sim(&format!(
            "protocol txn\nnodes 5\nset scenario idempotency\nset design {design}\n\
             set latency 10ms..10ms\n50ms do 4 slow\n100ms do 5 begin\n"
        ));
        sim.run_until(SimTime::from_secs(4));
        sim
    };
    let racy = run("select-then-insert");
    assert_eq!(charges(&racy), 2, "attempts 1 and 2 both passed the SELECT");
    assert!(racy.render_trace().contains("rejects duplicate key 1"));
    let pending = run("pending-first");
    assert_eq!(charges(&pending), 1);
    assert!(pending.violations().is_empty());
}
