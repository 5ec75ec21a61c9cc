//! Expectations a script states about its own outcome, as comment lines:
//!
//! ```text
//! # expect: violations none
//! # expect: leader n3 term 1
//! # expect: committed 4 on all
//! ```
//!
//! The golden tests check them against the finished run, independently of the trace and
//! summary they compare with `*.expected`: regenerating a golden file with `UPDATE_GOLDEN=1`
//! cannot make a scenario stop showing what its comments say it shows. The script parser
//! ignores comments, so expectations change nothing about a run. The vocabulary is in
//! `docs/script-format.md`.

use crate::{Render, WithRun, operations, verdict_text};
use deepend_core::lin::{self, Verdict};
use deepend_core::protocol::Protocol;
use deepend_core::protocol::{Monitor, Note};
use deepend_core::script::Script;
use deepend_core::sim::Sim;
use deepend_core::trace::EventKind;
use deepend_core::{Key, NodeId, SimTime, Value};
use std::fmt::Write as _;

/// Which nodes an expectation is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nodes {
    All,
    These(Vec<NodeId>),
}

/// One expectation about a finished run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// `violations none`: every safety property held.
    NoViolation,
    /// `violation "Leader Completeness"`: the monitor reported this property broken.
    Violation(String),
    /// `holds "Clock Condition"`: the monitor never reported this property broken.
    Holds(String),
    /// `count "wall-clock misorders" 3`, `count "..." at least 1`: a figure the monitor counts
    /// ([`Monitor::counts`]) is exactly, or at least, this.
    Count { name: String, at_least: bool, value: u64 },
    /// `noted n2 "clock stepped by (us)"`: the node noted this fact of its chapter at least once.
    Noted(NodeId, String),
    /// `linearizable`: the client history is linearizable.
    Linearizable,
    /// `not linearizable`: the checker found the client history not linearizable.
    NotLinearizable,
    /// `facts "refused client" 2`: the nodes noted this chapter fact exactly this many times.
    Facts(String, u64),
    /// `operations 3`: the clients invoked this many operations.
    Operations(u64),
    /// `leader n4 term 2`: the node is up and the only leader, of that term;
    /// `leader none`: no node that is up is a leader.
    Leader(Option<(NodeId, u64)>),
    /// `status n1 crashed`: the node is up, crashed or paused.
    Status(NodeId, String),
    /// `committed 4 on n1 n2`: each node has committed (Raft) or learned the prefix of
    /// (Paxos) exactly this many entries or slots.
    Committed(u64, Nodes),
    /// `kv k1=6 k2=3 on all`, `kv empty on n2`: each node's key-value map is exactly this.
    Kv(Vec<(Key, Value)>, Nodes),
    /// `state n2 has "prepared=[t1]"`: the node is up and its one-line state (the run
    /// summary's, `Protocol::describe`) contains the text.
    State(NodeId, String),
    /// `fact n2 "attacks in campaign" 3`: the node noted this chapter fact with this value
    /// (read from the trace).
    Fact(NodeId, String, i64),
}

/// An expectation with the line it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    pub line: usize,
    pub text: String,
    pub what: Expectation,
}

const PREFIX: &str = "expect:";

const VOCABULARY: &str = "violations none, violation \"PROPERTY\", holds \"PROPERTY\", \
                          count \"NAME\" N, count \"NAME\" at least N, noted nI \"FACT\", linearizable, operations N, \
                          leader nI term T, leader none, status nI up|crashed|paused, \
                          committed N on NODES, kv kK=V ... on NODES, kv empty on NODES, \
                          state nI has \"TEXT\", fact nI \"WHAT\" V, not linearizable, facts \"FACT\" N";

/// The expectations of a script's text: every whole-line comment `# expect: ...`. The error
/// names the line of the first one that is not in the vocabulary.
pub fn parse(text: &str) -> Result<Vec<Expect>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(comment) = line.trim().strip_prefix('#') else {
            continue;
        };
        let Some(body) = comment.trim_start().strip_prefix(PREFIX) else {
            continue;
        };
        let body = body.trim();
        let what = parse_one(body).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(Expect {
            line: i + 1,
            text: body.to_string(),
            what,
        });
    }
    Ok(out)
}

fn parse_one(body: &str) -> Result<Expectation, String> {
    let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rest = rest.trim();
    let words: Vec<&str> = rest.split_whitespace().collect();
    let what = match (word, words.as_slice()) {
        ("violations", ["none"]) => Expectation::NoViolation,
        ("violation" | "holds", _) => {
            let name = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|n| !n.is_empty() && !n.contains('"'))
                .ok_or_else(|| {
                    format!("{word} names its property in quotes, like {word} \"Election Safety\", not {rest:?}")
                })?;
            if word == "holds" {
                Expectation::Holds(name.to_string())
            } else {
                Expectation::Violation(name.to_string())
            }
        }
        ("count", _) => {
            let quoted = || {
                format!(
                    "count names its figure in quotes and then a number, like count \"lost writes\" at least 1, not {rest:?}"
                )
            };
            let (name, after) = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(quoted)?;
            let (at_least, value) = match after.split_whitespace().collect::<Vec<_>>().as_slice() {
                [n] => (false, number(n)?),
                ["at", "least", n] => (true, number(n)?),
                _ => return Err(quoted()),
            };
            Expectation::Count {
                name: name.to_string(),
                at_least,
                value,
            }
        }
        ("noted", [node, ..]) => {
            let what = rest[node.len()..]
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|n| !n.is_empty() && !n.contains('"'))
                .ok_or_else(|| {
                    format!("noted names a node and a fact in quotes, like noted n2 \"decided\", not {rest:?}")
                })?;
            Expectation::Noted(node_id(node)?, what.to_string())
        }
        ("linearizable", []) => Expectation::Linearizable,
        ("not", ["linearizable"]) => Expectation::NotLinearizable,
        ("facts", [.., n]) => {
            let name = rest[..rest.len() - n.len()]
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|f| !f.is_empty() && !f.contains('"'))
                .ok_or_else(|| format!("a fact is named in quotes, like facts \"refused client\" 2, not {rest:?}"))?;
            Expectation::Facts(name.to_string(), number(n)?)
        }
        ("operations", [n]) => Expectation::Operations(number(n)?),
        ("leader", ["none"]) => Expectation::Leader(None),
        ("leader", [node, "term", term]) => Expectation::Leader(Some((node_id(node)?, number(term)?))),
        ("status", [node, status @ ("up" | "crashed" | "paused")]) => {
            Expectation::Status(node_id(node)?, (*status).to_string())
        }
        ("committed", [n, "on", nodes @ ..]) => Expectation::Committed(number(n)?, node_list(nodes)?),
        ("state", [node, "has", ..]) => {
            let text = rest.split_once("has").map_or("", |(_, t)| t.trim());
            let text = text
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .filter(|t| !t.is_empty() && !t.contains('"'))
                .ok_or_else(|| {
                    format!("a state names its text in quotes, like state n2 has \"prepared=[]\", not {text:?}")
                })?;
            Expectation::State(node_id(node)?, text.to_string())
        }
        ("fact", [node, ..]) => {
            let quoted = rest[node.len()..].trim();
            let (what, value) = quoted
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .filter(|(w, _)| !w.is_empty())
                .ok_or_else(|| {
                    format!("a fact names what in quotes, like fact n2 \"attacks in campaign\" 3, not {rest:?}")
                })?;
            let value = value
                .trim()
                .parse()
                .map_err(|_| format!("expected a whole number after the fact, got \"{}\"", value.trim()))?;
            Expectation::Fact(node_id(node)?, what.to_string(), value)
        }
        ("kv", _) if words.contains(&"on") => {
            let on = words.iter().position(|&w| w == "on").unwrap_or(words.len());
            Expectation::Kv(kv_pairs(&words[..on])?, node_list(&words[on + 1..])?)
        }
        _ => {
            return Err(format!(
                "unknown expectation \"{body}\"; the vocabulary is: {VOCABULARY}"
            ));
        }
    };
    Ok(what)
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("expected a whole number, got \"{text}\""))
}

fn node_id(text: &str) -> Result<NodeId, String> {
    text.strip_prefix('n')
        .and_then(|n| n.parse().ok())
        .filter(|&n: &NodeId| n >= 1)
        .ok_or_else(|| format!("expected a node like n3, got \"{text}\""))
}

fn node_list(words: &[&str]) -> Result<Nodes, String> {
    match words {
        [] => Err("expected the nodes after \"on\": all, or a list like n1 n2 n3".into()),
        ["all"] => Ok(Nodes::All),
        _ => Ok(Nodes::These(
            words.iter().map(|w| node_id(w)).collect::<Result<_, _>>()?,
        )),
    }
}

fn kv_pairs(words: &[&str]) -> Result<Vec<(Key, Value)>, String> {
    if words == ["empty"] {
        return Ok(Vec::new());
    }
    if words.is_empty() {
        return Err("expected the key-value pairs, like k1=6 k2=3, or empty".into());
    }
    let mut pairs: Vec<(Key, Value)> = words
        .iter()
        .map(|w| {
            w.split_once('=')
                .and_then(|(k, v)| Some((k.strip_prefix('k')?.parse().ok()?, v.parse().ok()?)))
                .ok_or_else(|| format!("expected a pair like k1=6, got \"{w}\""))
        })
        .collect::<Result<_, _>>()?;
    pairs.sort_unstable();
    Ok(pairs)
}

/// Checks `expects` against a finished run: one sentence per expectation that does not hold.
pub fn check<P: Protocol>(expects: &[Expect], sim: &Sim<P>) -> Vec<String> {
    expects
        .iter()
        .filter_map(|e| unmet(&e.what, sim).map(|why| format!("line {}: expected \"{}\", but {why}", e.line, e.text)))
        .collect()
}

/// Why `what` does not hold of `sim`, if it does not.
fn unmet<P: Protocol>(what: &Expectation, sim: &Sim<P>) -> Option<String> {
    let n = sim.node_count();
    match what {
        Expectation::NoViolation => {
            let names: Vec<&str> = sim.violations().iter().map(|f| f.violation.property).collect();
            (!names.is_empty()).then(|| format!("the monitor reported {}", names.join(", ")))
        }
        Expectation::Violation(name) | Expectation::Holds(name) => {
            if !P::Monitor::properties().contains(&name.as_str()) {
                return Some(format!(
                    "{} has no property named \"{name}\"; its properties are {}",
                    P::NAME,
                    P::Monitor::properties().join(", ")
                ));
            }
            let reported = sim.violations().iter().filter(|f| f.violation.property == name).count();
            match what {
                Expectation::Holds(_) => (reported > 0).then(|| format!("the monitor reported it {reported} times")),
                _ => (reported == 0).then(|| "the monitor never reported it".to_string()),
            }
        }
        Expectation::Count { name, at_least, value } => {
            let counts = sim.monitor().counts();
            let Some(&(_, got)) = counts.iter().find(|(n, _)| n == name) else {
                let names: Vec<&str> = counts.iter().map(|(n, _)| *n).collect();
                return Some(format!(
                    "{} counts no figure named \"{name}\"; its figures are: {}",
                    P::NAME,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            let holds = if *at_least { got >= *value } else { got == *value };
            (!holds).then(|| format!("the monitor counted {got}"))
        }
        Expectation::Noted(id, what) => {
            let noted =
                sim.trace().events.iter().any(|e| {
                    e.node == *id && matches!(e.kind, EventKind::Note(Note::Fact(f)) if f.what == what.as_str())
                });
            (!noted).then(|| format!("n{id} never noted it"))
        }
        Expectation::Linearizable => match sim.check_history(lin::DEFAULT_BUDGET) {
            Ok(Verdict::Linearizable) => None,
            verdict => Some(format!("the history is {}", verdict_text(&verdict))),
        },
        Expectation::NotLinearizable => match sim.check_history(lin::DEFAULT_BUDGET) {
            Ok(Verdict::NotLinearizable { .. }) => None,
            verdict => Some(format!("the history is {}", verdict_text(&verdict))),
        },
        Expectation::Facts(name, want) => {
            let got = sim
                .trace()
                .events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Note(Note::Fact(f)) if f.what == name))
                .count() as u64;
            (got != *want).then(|| format!("the nodes noted it {got} times"))
        }
        Expectation::Operations(want) => {
            let got = operations(sim.history());
            (got != *want).then(|| format!("the clients invoked {got}"))
        }
        Expectation::Leader(want) => {
            let leaders: Vec<(NodeId, u64)> = (1..=n)
                .filter_map(|id| sim.node(id).filter(|p| p.role().leads).map(|p| (id, p.term())))
                .collect();
            let expected: Vec<(NodeId, u64)> = want.iter().copied().collect();
            (leaders != expected).then(|| match leaders.as_slice() {
                [] => "no node is a leader".to_string(),
                _ => leaders
                    .iter()
                    .map(|(id, term)| format!("n{id} is leader of term {term}"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            })
        }
        Expectation::Status(id, want) => match in_range(*id, n) {
            Err(why) => Some(why),
            Ok(()) => {
                let got = sim.status(*id).as_str();
                (got != want).then(|| format!("n{id} is {got}"))
            }
        },
        Expectation::Fact(id, what, value) => {
            if let Err(why) = in_range(*id, n) {
                return Some(why);
            }
            let noted = sim.trace().events.iter().any(|e| {
                e.node == *id && matches!(e.kind, EventKind::Note(Note::Fact(f)) if f.what == what && f.value == *value)
            });
            (!noted).then(|| format!("n{id} never noted it"))
        }
        Expectation::Committed(want, nodes) => each_node(sim, nodes, |p| {
            let got = p.committed();
            (got != *want).then(|| format!("has committed {got}"))
        }),
        Expectation::State(id, want) => each_node(sim, &Nodes::These(vec![*id]), |p| {
            let got = p.describe();
            (!got.contains(want.as_str())).then(|| format!("is {got}"))
        }),
        Expectation::Kv(want, nodes) => each_node(sim, nodes, |p| {
            let Some(kv) = p.state_machine() else {
                return Some("has no key-value store".to_string());
            };
            let got: Vec<(Key, Value)> = kv.data().iter().map(|(&k, &v)| (k, v)).collect();
            (got != *want).then(|| {
                let mut text = String::from("has");
                for (k, v) in &got {
                    let _ = write!(text, " k{k}={v}");
                }
                if got.is_empty() {
                    text.push_str(" an empty map");
                }
                text
            })
        }),
    }
}

fn in_range(id: NodeId, n: u8) -> Result<(), String> {
    if id <= n {
        Ok(())
    } else {
        Err(format!("the cluster has only {n} nodes, so there is no n{id}"))
    }
}

/// Applies `unmet` to each of `nodes`; a node that is down fails too, having no state to read.
fn each_node<P: Protocol>(sim: &Sim<P>, nodes: &Nodes, unmet: impl Fn(&P) -> Option<String>) -> Option<String> {
    let ids: Vec<NodeId> = match nodes {
        Nodes::All => (1..=sim.node_count()).collect(),
        Nodes::These(ids) => ids.clone(),
    };
    let reasons: Vec<String> = ids
        .iter()
        .filter_map(|&id| {
            if let Err(why) = in_range(id, sim.node_count()) {
                return Some(why);
            }
            match sim.node(id) {
                None => Some(format!("n{id} is {}", sim.status(id).as_str())),
                Some(p) => unmet(p).map(|why| format!("n{id} {why}")),
            }
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// Renders a finished run as [`Render`] does (trace and summary) and checks expectations
/// against it.
pub struct RenderAndCheck<'a> {
    pub expects: &'a [Expect],
}

impl WithRun for RenderAndCheck<'_> {
    /// The rendered trace and summary, and what did not hold.
    type Output = (String, Vec<String>);
    fn finished<P: Protocol>(self, sim: &Sim<P>) -> Self::Output {
        let (text, _) = Render { with_trace: true }.finished(sim);
        (text, check(self.expects, sim))
    }
}

/// Runs `script` to `until`, and returns its trace and summary and the expectations of
/// `text` (the script's source) that did not hold.
pub fn run_checked(text: &str, script: &Script, until: SimTime) -> Result<(String, Vec<String>), String> {
    let expects = parse(text)?;
    crate::run_with(script, until, RenderAndCheck { expects: &expects })
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::script;

    /// The first election of golden/first_election.script: n3 leads term 1 at 700ms, the
    /// three nodes have committed its no-op, no client ran.
    const ELECTION: &str = "protocol raft\nnodes 3\nseed 1\n";

    fn failures(expectations: &str) -> Vec<String> {
        let text = format!("{ELECTION}{expectations}");
        let script = script::parse(&text).expect("a valid script");
        run_checked(&text, &script, SimTime::from_ms(700))
            .expect("the run and its expectations are valid")
            .1
    }

    #[test]
    fn true_expectations_hold() {
        let all = "# expect: violations none\n# expect: linearizable\n# expect: operations 0\n\
                   #expect: leader n3 term 1\n# expect: status n2 up\n# expect: committed 1 on all\n\
                   # expect: kv empty on n1 n2 n3\n";
        assert_eq!(failures(all), Vec::<String>::new());
    }

    #[test]
    fn a_state_expectation_reads_the_node_summary() {
        assert_eq!(failures("# expect: state n3 has \"log=[1@1]\"\n"), Vec::<String>::new());
        let unmet = failures("# expect: state n3 has \"log=[1@2]\"\n");
        assert_eq!(unmet.len(), 1);
        assert!(
            unmet[0].starts_with(r#"line 4: expected "state n3 has "log=[1@2]"", but n3 is "#),
            "{unmet:?}"
        );
        assert!(parse("# expect: state n3 has log").is_err());
    }

    #[test]
    fn a_wrong_expectation_is_reported_with_its_line_and_what_happened() {
        assert_eq!(
            failures("# expect: violations none\n# expect: leader n1 term 1\n"),
            [r#"line 5: expected "leader n1 term 1", but n3 is leader of term 1"#]
        );
        assert_eq!(
            failures("# expect: committed 2 on n1 n4\n"),
            [
                r#"line 4: expected "committed 2 on n1 n4", but n1 has committed 1; the cluster has only 3 nodes, so there is no n4"#
            ]
        );
        assert_eq!(
            failures("# expect: kv k1=5 on n2\n# expect: violation \"Election Safety\"\n# expect: operations 2\n"),
            [
                r#"line 4: expected "kv k1=5 on n2", but n2 has an empty map"#,
                r#"line 5: expected "violation "Election Safety"", but the monitor never reported it"#,
                r#"line 6: expected "operations 2", but the clients invoked 0"#,
            ]
        );
        assert_eq!(
            failures("# expect: not linearizable\n# expect: facts \"heard echo\" 1\n"),
            [
                r#"line 4: expected "not linearizable", but the history is linearizable"#,
                r#"line 5: expected "facts "heard echo" 1", but the nodes noted it 0 times"#,
            ]
        );
        assert_eq!(
            failures("# expect: leader none\n# expect: status n3 crashed\n# expect: violation \"Agreement\"\n"),
            [
                r#"line 4: expected "leader none", but n3 is leader of term 1"#,
                r#"line 5: expected "status n3 crashed", but n3 is up"#,
                r#"line 6: expected "violation "Agreement"", but raft has no property named "Agreement"; its properties are Election Safety, Log Matching, Leader Completeness, State Machine Safety"#,
            ]
        );
        assert_eq!(
            failures("# expect: holds \"Election Safety\"\n# expect: count \"lost writes\" at least 1\n"),
            [
                r#"line 5: expected "count "lost writes" at least 1", but raft counts no figure named "lost writes"; its figures are: none"#
            ]
        );
        assert_eq!(
            failures("# expect: noted n3 \"decided\"\n"),
            [r#"line 4: expected "noted n3 "decided"", but n3 never noted it"#]
        );
    }

    #[test]
    fn unknown_or_malformed_expectations_are_errors_naming_the_line() {
        let error = |text: &str| parse(text).expect_err("not in the vocabulary");
        assert!(
            error("seed 1\n# expect: elected n1\n")
                .starts_with("line 2: unknown expectation \"elected n1\"; the vocabulary is: violations none")
        );
        assert!(error("# expect: linearizable please").starts_with("line 1: unknown expectation"));
        assert_eq!(
            error("# expect: committed x on all"),
            "line 1: expected a whole number, got \"x\""
        );
        assert_eq!(
            error("# expect: leader 3 term 1"),
            "line 1: expected a node like n3, got \"3\""
        );
        assert_eq!(
            error("# expect: kv k1:5 on all"),
            "line 1: expected a pair like k1=6, got \"k1:5\""
        );
        assert_eq!(
            error("# expect: violation Election Safety"),
            "line 1: violation names its property in quotes, like violation \"Election Safety\", not \"Election Safety\""
        );
        assert!(
            error("# expect: count \"misorders\" at most 3").starts_with("line 1: count names its figure in quotes")
        );
        assert!(error("# expect: count misorders 1").starts_with("line 1: count names its figure in quotes"));
        assert_eq!(
            error("# expect: facts refused 2"),
            "line 1: a fact is named in quotes, like facts \"refused client\" 2, not \"refused 2\""
        );
        assert_eq!(
            error("# expect: committed 1 on"),
            "line 1: expected the nodes after \"on\": all, or a list like n1 n2 n3"
        );
    }

    #[test]
    fn a_fact_is_read_from_the_trace() {
        let text = "protocol generals\nnodes 2\nset mode two-generals\nset k 1\n";
        let script = script::parse(text).expect("a valid script");
        let check = |e: &str| {
            run_checked(&format!("{text}{e}"), &script, SimTime::from_ms(1_100))
                .expect("valid")
                .1
        };
        assert!(check("# expect: fact n2 \"attacks in campaign\" 1\n").is_empty());
        assert_eq!(
            check("# expect: fact n2 \"retreats in campaign\" 1\n"),
            [r#"line 5: expected "fact n2 "retreats in campaign" 1", but n2 never noted it"#]
        );
        assert_eq!(
            parse("# expect: fact n2 attacks 1").unwrap_err(),
            "line 1: a fact names what in quotes, like fact n2 \"attacks in campaign\" 3, not \"n2 attacks 1\""
        );
    }

    #[test]
    fn only_whole_line_comments_that_start_with_expect_count() {
        let got = parse("# expected to elect n3\n# Expect: nothing\n10ms timeout 1 # expect: linearizable\n  #  expect:  kv k2=1 k1=3 on all \n")
            .expect("one expectation");
        assert_eq!(
            got,
            [Expect {
                line: 4,
                text: "kv k2=1 k1=3 on all".into(),
                what: Expectation::Kv(vec![(1, 3), (2, 1)], Nodes::All),
            }]
        );
    }
}
