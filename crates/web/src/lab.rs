//! The running simulation and the plain data the stage renders from it. No Yew here.

use deepend_core::protocol::Role;
use deepend_core::raft::Raft;
use deepend_core::script::Script;
use deepend_core::sim::{NodeStatus, Sim};
use deepend_core::{NodeId, Protocol, SimTime};

/// One node as the stage shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeView {
    pub id: NodeId,
    pub role: Role,
    pub status: NodeStatus,
    /// The node's current term; while it is crashed, the last term it was seen in.
    pub term: u64,
}

/// The whole cluster at one simulated instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    pub now: SimTime,
    pub nodes: Vec<NodeView>,
}

/// A Raft run and its latest view.
pub struct Lab {
    sim: Sim<Raft>,
    view: ClusterView,
}

impl Lab {
    pub fn new(script: &Script) -> Result<Self, String> {
        // The live view reads node states only, so it runs without a trace, which would
        // otherwise grow for as long as the page plays.
        let sim = Sim::with_trace(script, false)?;
        let mut lab = Lab {
            sim,
            view: ClusterView {
                now: SimTime::ZERO,
                nodes: Vec::new(),
            },
        };
        lab.refresh();
        Ok(lab)
    }

    pub fn view(&self) -> &ClusterView {
        &self.view
    }

    /// Runs the simulation `by_us` simulated microseconds further.
    pub fn advance(&mut self, by_us: u64) -> &ClusterView {
        self.sim.run_until(self.sim.now().saturating_add_us(by_us));
        self.refresh();
        &self.view
    }

    fn refresh(&mut self) {
        let nodes = (1..=self.sim.node_count())
            .map(|id| {
                let status = self.sim.status(id);
                match self.sim.node(id) {
                    Some(node) => NodeView {
                        id,
                        role: node.role(),
                        status,
                        term: node.term(),
                    },
                    // A crashed node has no volatile state; it will come back as a follower.
                    None => {
                        let last_term = self.view.nodes.iter().find(|n| n.id == id).map_or(0, |n| n.term);
                        NodeView {
                            id,
                            role: Role::Follower,
                            status,
                            term: last_term,
                        }
                    }
                }
            })
            .collect();
        self.view = ClusterView {
            now: self.sim.now(),
            nodes,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::script::{Action, TimedAction};

    fn run(lab: &mut Lab, until_us: u64) {
        while lab.view().now.as_us() < until_us {
            lab.advance(10_000);
        }
    }

    #[test]
    fn the_default_run_elects_exactly_one_leader() {
        let mut lab = Lab::new(&Script::default()).unwrap();
        run(&mut lab, 2_000_000);
        let view = lab.view();
        assert_eq!(view.now, SimTime::from_secs(2));
        assert_eq!(view.nodes.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        let leaders: Vec<_> = view.nodes.iter().filter(|n| n.role == Role::Leader).collect();
        assert_eq!(leaders.len(), 1, "{view:?}");
        assert!(leaders[0].term >= 1);
    }

    #[test]
    fn a_crashed_node_keeps_its_last_term_on_the_stage() {
        let mut script = Script::default();
        let crash = TimedAction {
            at: SimTime::from_secs(1),
            action: Action::Crash(2),
        };
        script.actions.push(crash);
        let mut lab = Lab::new(&script).unwrap();
        run(&mut lab, 990_000);
        let term_before = lab.view().nodes[1].term;
        assert!(term_before >= 1);
        run(&mut lab, 1_010_000);
        let node = lab.view().nodes[1];
        assert_eq!(node.status, NodeStatus::Crashed);
        assert_eq!((node.role, node.term), (Role::Follower, term_before));
    }
}
