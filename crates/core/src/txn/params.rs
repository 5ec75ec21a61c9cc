//! The transactions chapter's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `scenario` | `2pc`, `saga` or `idempotency` | `2pc` |
//! | `termination` | `on` or `off`: 2PC participants ask each other when the coordinator is silent | `off` |
//! | `style` | `choreography` or `orchestration`: how a saga's steps are driven | `choreography` |
//! | `design` | `none`, `select-then-insert` or `pending-first`: how the payment service uses its key | `pending-first` |
//! | `auto` | `off`, or a duration: the client begins a new transaction that often | `off` |
//! | `fail-rate` | a percentage: how often a participant votes no or a saga step fails | `0%` |
//! | `retry-after` | a duration: a paying client retries an unanswered payment | `500ms` |
//! | `vote-timeout` | a duration: a coordinator aborts a transaction missing votes | `500ms` |
//! | `ask` | a duration: a prepared participant asks for the decision | `300ms` |
//! | `redeliver` | a duration: the saga bus redelivers an unacknowledged message | `500ms` |
//! | `processor-delay` | a duration: the card processor takes this long to charge | `50ms` |
//! | `lease` | a duration: a pending payment row older than this may be taken over | `1s` |
//! | `variant` | `correct` or a broken variant (see [`Variant`]) | `correct` |

use crate::protocol::{Params, parse_switch};
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within};

/// Which of the chapter's three systems runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Two-phase commit: a coordinator, participants holding row locks, a client.
    #[default]
    TwoPc,
    /// An order saga: orders, inventory, payment and shipping services, a client.
    Saga,
    /// Payments with idempotency keys: two payment service instances, a database, a card
    /// processor, a client.
    Idempotency,
}

/// How a saga is driven.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// Each service reacts to the previous one's event.
    #[default]
    Choreography,
    /// The orders service commands each step and each compensation.
    Orchestration,
}

/// How the payment service uses the client's idempotency key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Design {
    /// No key: every attempt charges.
    None,
    /// SELECT the key; charge; INSERT the key under a unique constraint (racy).
    SelectThenInsert,
    /// INSERT the key as pending first, charge with the key, then mark it done.
    #[default]
    PendingFirst,
}

/// The correct protocols, or a deliberately broken one that a checker must catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Variant {
    #[default]
    Correct,
    /// The 2PC coordinator sends its decision without logging it: after a crash it presumes
    /// abort for a transaction some participants already committed.
    NoDecisionLog,
    /// A 2PC participant does not persist its prepared state: after a crash it has released
    /// the locks of a transaction whose outcome it does not know.
    ForgetPrepared,
    /// The saga's payment service refunds every refund message it gets, duplicates included.
    RefundNotIdempotent,
    /// A saga's compensation forgets a step: after a refund, the stock is never released.
    ForgetCompensation,
    /// The pending-first payment service does not pass the key to the card processor, so a
    /// payment recovered after a crash is charged again.
    NoProcessorKey,
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant::Correct,
        Variant::NoDecisionLog,
        Variant::ForgetPrepared,
        Variant::RefundNotIdempotent,
        Variant::ForgetCompensation,
        Variant::NoProcessorKey,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::NoDecisionLog => "no-decision-log",
            Variant::ForgetPrepared => "forget-prepared",
            Variant::RefundNotIdempotent => "refund-not-idempotent",
            Variant::ForgetCompensation => "forget-compensation",
            Variant::NoProcessorKey => "no-processor-key",
        }
    }
}

/// The chapter's parameters. Durations are microseconds of the node's local clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnParams {
    pub kind: Kind,
    pub termination: bool,
    pub style: Style,
    pub design: Design,
    pub auto_us: Option<u64>,
    /// Percent of steps (votes, saga steps) that fail.
    pub fail_pct: u64,
    pub retry_us: u64,
    pub vote_timeout_us: u64,
    pub ask_us: u64,
    pub redeliver_us: u64,
    pub processor_delay_us: u64,
    pub lease_us: u64,
    pub variant: Variant,
}

impl Default for TxnParams {
    fn default() -> Self {
        TxnParams {
            kind: Kind::TwoPc,
            termination: false,
            style: Style::Choreography,
            design: Design::PendingFirst,
            auto_us: None,
            fail_pct: 0,
            retry_us: 500_000,
            vote_timeout_us: 500_000,
            ask_us: 300_000,
            redeliver_us: 500_000,
            processor_delay_us: 50_000,
            lease_us: 1_000_000,
            variant: Variant::Correct,
        }
    }
}

/// The keys [`TxnParams`] accepts.
pub const KEYS: &[&str] = &[
    "scenario",
    "termination",
    "style",
    "design",
    "auto",
    "fail-rate",
    "retry-after",
    "vote-timeout",
    "ask",
    "redeliver",
    "processor-delay",
    "lease",
    "variant",
];

/// `value` as one of `names`, or an error listing them.
fn pick<T: Copy>(value: &str, names: &[(&str, T)]) -> Result<T, String> {
    names.iter().find(|(n, _)| *n == value).map(|&(_, v)| v).ok_or_else(|| {
        let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        format!("expected one of {}, got {value:?}", all.join(", "))
    })
}

impl Params for TxnParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let timer = |v: &str| parse_duration_within(v, MIN_TIMER_US, MAX_SETTING_US);
        match key {
            "scenario" => {
                self.kind = pick(
                    value,
                    &[
                        ("2pc", Kind::TwoPc),
                        ("saga", Kind::Saga),
                        ("idempotency", Kind::Idempotency),
                    ],
                )?
            }
            "termination" => self.termination = parse_switch(value)?,
            "style" => {
                self.style = pick(
                    value,
                    &[
                        ("choreography", Style::Choreography),
                        ("orchestration", Style::Orchestration),
                    ],
                )?
            }
            "design" => {
                self.design = pick(
                    value,
                    &[
                        ("none", Design::None),
                        ("select-then-insert", Design::SelectThenInsert),
                        ("pending-first", Design::PendingFirst),
                    ],
                )?
            }
            "auto" => self.auto_us = if value == "off" { None } else { Some(timer(value)?) },
            "fail-rate" => {
                let pct = value
                    .strip_suffix('%')
                    .and_then(|n| n.parse::<u64>().ok())
                    .filter(|&n| n <= 100)
                    .ok_or_else(|| format!("expected a whole percentage from 0% to 100%, got {value:?}"))?;
                self.fail_pct = pct;
            }
            "retry-after" => self.retry_us = timer(value)?,
            "vote-timeout" => self.vote_timeout_us = timer(value)?,
            "ask" => self.ask_us = timer(value)?,
            "redeliver" => self.redeliver_us = timer(value)?,
            "processor-delay" => self.processor_delay_us = timer(value)?,
            "lease" => self.lease_us = timer(value)?,
            "variant" => {
                let names: Vec<(&str, Variant)> = Variant::ALL.iter().map(|v| (v.as_str(), *v)).collect();
                self.variant = pick(value, &names)?;
            }
            _ => return Err(format!("unknown txn setting {key:?}")),
        }
        Ok(())
    }
    fn keys() -> &'static [&'static str] {
        KEYS
    }
}
