//! Trials: one configuration of the chapter, run for one seed, as the seed sweeps, the page's
//! searches ("find the losing run"), its n >= 3m+1 table and its probability chart run it.
//! Which nodes are traitors, and their strategy, come from the seed.

use super::monitor::{AGREEMENT, IC1, IC2};
use super::{General, Mode, Variant, params};
use crate::NodeId;
use crate::net::format_rate_ppm;
use crate::rng::SimRng;
use crate::script::{Header, Script};
use crate::sim::Sim;
use crate::time::SimTime;

/// A configuration to run for many seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trial {
    pub mode: Mode,
    pub nodes: u8,
    /// OM(m), SM(m).
    pub m: u8,
    /// Two Generals: acknowledgements, and messengers per step.
    pub k: u8,
    pub messengers: u8,
    /// The valley's loss, in parts per million.
    pub loss_ppm: u32,
    /// How many traitors (the seed picks which, and their strategy).
    pub traitors: u8,
    pub variant: Variant,
    /// Campaigns per run.
    pub campaigns: u32,
}

impl Default for Trial {
    fn default() -> Self {
        Trial {
            mode: Mode::Om,
            nodes: 4,
            m: 1,
            k: 1,
            messengers: 1,
            loss_ppm: 0,
            traitors: 1,
            variant: Variant::Correct,
            campaigns: 3,
        }
    }
}

/// What a trial showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Campaigns run.
    pub campaigns: u32,
    /// Campaigns in which a property broke.
    pub broken: u32,
    /// The first property that broke.
    pub first: Option<&'static str>,
}

impl Trial {
    /// The run's length: up to the end of its last campaign.
    pub fn until(&self) -> SimTime {
        let p = self.params();
        SimTime(p.campaign_start_us(self.campaigns + 1))
    }

    fn params(&self) -> params::GeneralsParams {
        params::GeneralsParams {
            mode: self.mode,
            k: self.k,
            messengers: self.messengers,
            m: self.m,
            period_us: 1_000,
            variant: self.variant,
            ..params::GeneralsParams::default()
        }
    }

    /// The script of seed `seed`: campaigns back to back (the period stretched to the rounds),
    /// its traitors and their strategy drawn from the seed.
    pub fn script(&self, seed: u64) -> Script {
        let mut rng = SimRng::for_node(seed, 0);
        let mut pool: Vec<NodeId> = (1..=self.nodes).collect();
        let mut traitors = Vec::new();
        for _ in 0..self.traitors.min(self.nodes) {
            let id = pool.remove(rng.range_inclusive(0, pool.len() as u64 - 1) as usize);
            let at = traitors.partition_point(|&t| t < id);
            traitors.insert(at, id);
        }
        let strategy = params::STRATEGIES[rng.range_inclusive(0, 2) as usize];
        let list: Vec<String> = traitors.iter().map(|t| t.to_string()).collect();
        let p = self.params();
        let mut settings = vec![
            ("mode", p.mode_name().to_string()),
            ("period", "1ms".into()),
            ("strategy", strategy.into()),
            ("traitors", if list.is_empty() { "none".into() } else { list.join(",") }),
            ("variant", p.variant_name().into()),
        ];
        match self.mode {
            Mode::TwoGenerals => {
                settings.push(("k", self.k.to_string()));
                settings.push(("messengers", self.messengers.to_string()));
            }
            Mode::Om | Mode::Sm => settings.push(("m", self.m.to_string())),
        }
        if self.loss_ppm > 0 {
            settings.push(("loss", format_rate_ppm(self.loss_ppm)));
        }
        Script {
            header: Header {
                protocol: "generals".into(),
                nodes: self.nodes,
                seed,
                settings: settings.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            },
            actions: Vec::new(),
        }
    }

    /// Runs seed `seed` (without a trace) and says what broke.
    pub fn run(&self, seed: u64) -> Outcome {
        let script = self.script(seed);
        let Ok(mut sim) = Sim::<General>::with_trace(&script, false) else {
            return Outcome::default();
        };
        sim.run_until(self.until());
        let found = sim.violations();
        // Decisions fall inside their campaign, so a violation's time tells its campaign.
        let p = self.params();
        let first_us = p.campaign_start_us(1);
        let mut broken: Vec<u64> = found
            .iter()
            .filter(|f| [AGREEMENT, IC1, IC2].contains(&f.violation.property))
            .map(|f| f.time.as_us().saturating_sub(first_us) / p.campaign_us())
            .collect();
        broken.dedup();
        Outcome {
            campaigns: self.campaigns,
            broken: broken.len() as u32,
            first: found.first().map(|f| f.violation.property),
        }
    }
}
