use super::monitor::{AGREEMENT, IC1, IC2};
use super::*;
use crate::script::parse;
use crate::sim::Sim;
use crate::time::SimTime;

fn run(text: &str, until_ms: u64) -> Sim<General> {
    let script = parse(text).expect("a valid script");
    let mut sim = Sim::<General>::new(&script).expect("a valid run");
    sim.run_until(SimTime::from_ms(until_ms));
    sim
}

fn properties(sim: &Sim<General>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = sim.violations().iter().map(|f| f.violation.property).collect();
    names.dedup();
    names
}

fn decisions(sim: &Sim<General>) -> Vec<Option<(u32, bool)>> {
    (1..=sim.node_count())
        .map(|id| sim.node(id).and_then(|g| g.last_decision()))
        .collect()
}

#[test]
fn paths_and_majority_follow_the_paper() {
    assert_eq!(paths(4, 1, 2), vec![Path::COMMANDER]);
    let two: Vec<String> = paths(4, 2, 2).iter().map(|p| p.to_string()).collect();
    assert_eq!(two, ["1:3", "1:4"]);
    assert_eq!(paths(7, 3, 2).len(), 5 * 4);
    assert!(majority([true, true, false]));
    assert!(!majority([true, false]), "a tie is the default, retreat");
    assert!(!majority([]));
    assert_eq!(om_message_count(4, 1), 3 + 6);
    assert_eq!(om_message_count(7, 2), 6 + 30 + 120);
}

#[test]
fn two_generals_agree_on_a_reliable_valley() {
    let sim = run("protocol generals\nnodes 2\nset mode two-generals\nset k 3\n", 3_000);
    assert!(sim.violations().is_empty());
    assert_eq!(decisions(&sim), [Some((3, true)), Some((3, true))]);
}

#[test]
fn two_generals_disagree_when_the_last_messenger_is_lost() {
    // k = 1: the order reaches general 2, its acknowledgement never reaches general 1.
    let sim = run(
        "protocol generals\nnodes 2\nset mode two-generals\nset k 1\n0s cut 2 -> 1\n",
        1_100,
    );
    assert_eq!(properties(&sim), [AGREEMENT]);
    assert_eq!(decisions(&sim), [Some((1, false)), Some((1, true))]);
    // An earlier loss leaves both at home: they agree.
    let sim = run(
        "protocol generals\nnodes 2\nset mode two-generals\nset k 2\n0s cut 2 -> 1\n",
        1_100,
    );
    assert!(sim.violations().is_empty());
    assert_eq!(decisions(&sim), [Some((1, false)), Some((1, false))]);
}

#[test]
fn om_with_three_generals_and_a_traitorous_lieutenant_breaks_ic2() {
    let sim = run(
        "protocol generals\nnodes 3\nset mode om\nset order attack\nset strategy retreat\nset traitors 3\n",
        1_100,
    );
    assert_eq!(properties(&sim), [IC2]);
    assert_eq!(decisions(&sim)[1], Some((1, false)));
}

#[test]
fn om_with_four_generals_survives_one_traitor_anywhere() {
    for traitor in 1..=4 {
        for strategy in ["random", "split", "retreat"] {
            let sim = run(
                &format!(
                    "protocol generals\nnodes 4\nseed {traitor}\nset mode om\nset strategy {strategy}\nset traitors {traitor}\n"
                ),
                5_100,
            );
            assert!(
                sim.violations().is_empty(),
                "traitor {traitor} {strategy}: {:?}",
                sim.violations()
            );
            let decided = decisions(&sim).iter().flatten().filter(|d| d.0 == 5).count();
            let loyal_lieutenants = if traitor == 1 { 3 } else { 2 };
            assert_eq!(decided, loyal_lieutenants, "traitor {traitor} {strategy}");
        }
    }
}

#[test]
fn om_without_recursion_is_split_by_a_traitorous_commander() {
    let sim = run(
        "protocol generals\nnodes 4\nset mode om\nset variant no-recursion\nset traitors 1\n",
        1_100,
    );
    assert_eq!(properties(&sim), [IC1]);
}

#[test]
fn om_sends_the_papers_message_count() {
    let sim = run("protocol generals\nnodes 7\nset mode om\nset m 2\n", 2_100);
    let sent: u32 = (1..=7).map(|id| sim.node(id).unwrap().sent().1).sum();
    assert_eq!(u64::from(sent), om_message_count(7, 2));
    assert!(sim.violations().is_empty());
}

#[test]
fn sm_survives_a_traitorous_commander_with_three_generals_and_fails_without_relays() {
    let text = "protocol generals\nnodes 3\nset mode sm\nset traitors 1\n";
    let sim = run(text, 3_100);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    assert_eq!(decisions(&sim)[1..], [Some((3, false)), Some((3, false))]);
    let sim = run(&format!("{text}set variant sm-no-relay\n"), 1_100);
    assert_eq!(properties(&sim), [IC1]);
}

#[test]
fn a_traitor_mark_takes_effect_at_the_next_campaign_and_survives_a_crash() {
    let mut sim = run(
        "protocol generals\nnodes 3\nset mode om\nset order attack\nset strategy retreat\n",
        500,
    );
    assert!(sim.violations().is_empty());
    // Marked mid-campaign 1 (through a restart, which keeps the mark).
    let script = parse(
        "protocol generals\nnodes 3\nset mode om\nset order attack\nset strategy retreat\nset traitors 3\n600ms crash 3\n700ms restart 3\n",
    )
    .unwrap();
    sim = Sim::new(&script).unwrap();
    sim.run_until(SimTime::from_ms(2_100));
    assert!(sim.node(3).unwrap().is_traitor());
    assert_eq!(properties(&sim), [IC2]);
}

#[test]
fn the_readers_traitor_command_turns_a_lieutenant_at_the_next_campaign() {
    let text = "protocol generals\nnodes 3\nset mode om\nset order attack\nset strategy retreat\n500ms do 3 traitor\n";
    let sim = run(text, 1_000);
    assert!(sim.violations().is_empty(), "campaign 1 ran with n3 loyal");
    assert!(sim.node(3).unwrap().is_marked() && !sim.node(3).unwrap().is_traitor());
    let sim = run(text, 1_300);
    assert!(sim.node(3).unwrap().is_traitor());
    assert_eq!(properties(&sim), [IC2]);
    let sim = run(&format!("{text}1.5s do 3 loyal\n"), 3_300);
    assert!(!sim.node(3).unwrap().is_traitor());
    assert_eq!(sim.violations().len(), 1, "only campaign 2 broke");
    let err = Sim::<General>::new(&parse("protocol generals\nnodes 3\n0s do 3 lie\n").unwrap()).err();
    assert!(err.is_some_and(|e| e.contains("traitor")));
}
