//! The generals' checkers, per campaign.
//!
//! - Agreement (Two Generals): both generals attack, or neither does.
//! - IC1 (Byzantine generals): all loyal lieutenants obey the same order.
//! - IC2: if the commander is loyal, every loyal lieutenant obeys the order it sends.
//!
//! Loyal generals note their decisions (and a loyal commander its order) as facts whose value
//! is the campaign; traitors note none, so the checkers compare loyal generals only. A general
//! that crashes or pauses during a campaign is not a traitor here, but it does fail the
//! algorithms' assumptions (its orders go missing), as a traitor would.

use super::{ATTACKS, General, Mode, ORDERS_ATTACK, ORDERS_RETREAT, RETREATS};
use crate::NodeId;
use crate::protocol::{Fact, Monitor, Note, Violation};

pub const AGREEMENT: &str = "Agreement";
pub const IC1: &str = "IC1";
pub const IC2: &str = "IC2";

/// Campaigns older than this many before the newest decision are forgotten.
const KEEP_CAMPAIGNS: u32 = 3;

#[derive(Clone, Debug, Default)]
pub struct GeneralsMonitor {
    /// Recent decisions: (campaign, general, attack).
    decisions: Vec<(u32, NodeId, bool)>,
    /// Recent orders of a loyal commander: (campaign, attack).
    orders: Vec<(u32, bool)>,
    /// (campaign, property) pairs already reported, so that a campaign reports each once.
    reported: Vec<(u32, &'static str)>,
}

fn word(attack: bool) -> &'static str {
    super::word(attack)
}

impl GeneralsMonitor {
    fn report(&mut self, campaign: u32, property: &'static str, violation: Violation, out: &mut Vec<Violation>) {
        if !self.reported.contains(&(campaign, property)) {
            self.reported.push((campaign, property));
            out.push(violation);
        }
    }

    fn decided(&mut self, node: NodeId, c: u32, attack: bool, mode: Mode, out: &mut Vec<Violation>) {
        let other = self
            .decisions
            .iter()
            .find(|&&(c2, n2, a2)| c2 == c && n2 != node && a2 != attack)
            .copied();
        if let Some((_, n2, a2)) = other {
            let (property, who) = match mode {
                Mode::TwoGenerals => (AGREEMENT, "general"),
                Mode::Om | Mode::Sm => (IC1, "loyal lieutenant"),
            };
            let violation = Violation {
                property,
                nodes: vec![n2, node],
                detail: format!(
                    "campaign {c}: {who} n{node} decides to {} but n{n2} decided to {}",
                    word(attack),
                    word(a2)
                ),
            };
            self.report(c, property, violation, out);
        }
        if mode != Mode::TwoGenerals
            && let Some(&(_, order)) = self.orders.iter().find(|&&(c2, _)| c2 == c)
            && order != attack
        {
            let violation = Violation {
                property: IC2,
                nodes: vec![1, node],
                detail: format!(
                    "campaign {c}: the loyal commander ordered {} but loyal lieutenant n{node} decides to {}",
                    word(order),
                    word(attack)
                ),
            };
            self.report(c, IC2, violation, out);
        }
        self.decisions.push((c, node, attack));
        let oldest = c.saturating_sub(KEEP_CAMPAIGNS);
        self.decisions.retain(|d| d.0 >= oldest);
        self.orders.retain(|o| o.0 >= oldest);
        self.reported.retain(|r| r.0 >= oldest);
    }
}

impl Monitor<General> for GeneralsMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<General>], out: &mut Vec<Violation>) {
        let Some(Some(me)) = nodes.get(usize::from(node) - 1) else {
            return;
        };
        let mode = me.params().mode;
        for note in notes {
            let Note::Fact(Fact { what, value }) = *note else {
                continue;
            };
            let c = u32::try_from(value).unwrap_or(0);
            match what {
                ORDERS_ATTACK | ORDERS_RETREAT => self.orders.push((c, what == ORDERS_ATTACK)),
                ATTACKS | RETREATS => self.decided(node, c, what == ATTACKS, mode, out),
                _ => {}
            }
        }
    }
    fn properties() -> &'static [&'static str] {
        &[AGREEMENT, IC1, IC2]
    }
}
