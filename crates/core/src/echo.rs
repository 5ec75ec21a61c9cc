//! Echo: the smallest chapter there is, used only to test the chapter registry.
//!
//! Every node pings its next neighbour (node `n` pings `n + 1`, the last pings the first) on
//! a timer of its local clock, counting its pings; the neighbour answers with an echo that
//! carries the ping's number back. The node that has heard the most echoes in a row "leads".
//! It has one safety property, Echo Matches: an echo answers a ping its receiver really sent.
//! The broken `variant wrong-echo` answers with the next number instead, which the monitor
//! catches.
//!
//! Adding it touched exactly the places a chapter needs: this module (and its `mod` line), a
//! golden directory `tests/golden/echo/`, a view module in the web crate and one line in
//! [`crate::chapters!`].

use crate::NodeId;
use crate::protocol::{
    ClientReply, ClientRequest, Ctx, Fact, Monitor, MsgFamily, MsgShape, MsgStyle, Note, Params, Protocol, Role,
    Scenario, TimerInfo, TimerKind, Violation,
};
use crate::time::parse_duration_us;
use std::fmt;

/// The ping timer.
pub const PING_TIMER: TimerKind = 0;
/// The fact a node notes when it hears an echo, with the echo's number: the chapter's own
/// note, which its monitor reads.
pub const HEARD: &str = "heard echo";

/// The messages of the echo chapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// "Are you there?", with the sender's ping count.
    Ping { seq: u64 },
    /// "I am", answering ping `seq`.
    Echo { seq: u64 },
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Ping { seq } => write!(f, "Ping {seq}"),
            Message::Echo { seq } => write!(f, "Echo {seq}"),
        }
    }
}

/// The echo chapter's parameters: `period` (a duration) and `variant` (`correct` or
/// `wrong-echo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoParams {
    pub period_us: u64,
    pub wrong_echo: bool,
}

impl Default for EchoParams {
    fn default() -> Self {
        EchoParams {
            period_us: 100_000,
            wrong_echo: false,
        }
    }
}

impl Params for EchoParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "period" => {
                self.period_us = parse_duration_us(value).map_err(|e| format!("period: {e}"))?;
                if self.period_us == 0 {
                    return Err("period: must be above 0".into());
                }
            }
            "variant" => {
                self.wrong_echo = match value {
                    "correct" => false,
                    "wrong-echo" => true,
                    _ => return Err(format!("variant: expected correct or wrong-echo, got {value:?}")),
                }
            }
            _ => return Err(format!("unknown echo setting {key:?}")),
        }
        Ok(())
    }
    fn keys() -> &'static [&'static str] {
        &["period", "variant"]
    }
}

/// One echo node.
#[derive(Clone, Debug)]
pub struct Echo {
    params: EchoParams,
    /// Pings sent; persisted, so that numbers never repeat.
    sent: u64,
    /// Echoes heard in a row without a missed one.
    streak: u64,
}

impl Echo {
    fn next(ctx: &Ctx<Message>) -> NodeId {
        ctx.id() % ctx.cluster_size() + 1
    }
    /// The highest ping number this node has sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

impl Protocol for Echo {
    type Msg = Message;
    type Stable = u64;
    type Params = EchoParams;
    type Monitor = EchoMonitor;
    type Workload = crate::workload::Registers;
    const NAME: &'static str = "echo";
    const SCENARIOS: &'static [Scenario] = &[Scenario {
        value: "echo",
        label: "Echo",
        settings: &[],
    }];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Ping",
            "A node asks its next neighbour whether it is there, numbering the ping.",
        ),
        ("Echo", "The neighbour's answer, carrying the ping's number back."),
    ];
    const TIMERS: &'static [TimerInfo] = &[TimerInfo::new("ping", false)];

    fn start(_: NodeId, params: &EchoParams, ctx: &mut Ctx<Message>) -> Self {
        Echo::restart(0, params, 0, ctx)
    }
    fn restart(_: NodeId, params: &EchoParams, sent: u64, ctx: &mut Ctx<Message>) -> Self {
        ctx.set_timer(PING_TIMER, params.period_us);
        Echo {
            params: params.clone(),
            sent,
            streak: 0,
        }
    }
    fn stable(&self) -> u64 {
        self.sent
    }
    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        match msg {
            Message::Ping { seq } => ctx.send(
                from,
                Message::Echo {
                    seq: seq + u64::from(self.params.wrong_echo),
                },
            ),
            Message::Echo { seq } => {
                self.streak = if seq == self.sent { self.streak + 1 } else { 0 };
                ctx.note(Note::Fact(Fact {
                    what: HEARD,
                    value: seq as i64,
                }));
                if self.streak == 3 {
                    ctx.note(Note::Role {
                        role: self.role(),
                        term: self.sent,
                    });
                }
            }
        }
    }
    fn on_timer(&mut self, _: TimerKind, ctx: &mut Ctx<Message>) {
        self.sent += 1;
        ctx.send(Echo::next(ctx), Message::Ping { seq: self.sent });
        ctx.set_timer(PING_TIMER, self.params.period_us);
    }
    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        ctx.reply(req, ClientReply::NotLeader { leader: None });
    }
    fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        self.on_timer(PING_TIMER, ctx);
    }
    fn role(&self) -> Role {
        if self.streak >= 3 {
            Role::new("steady", true)
        } else {
            Role::new("pinger", false)
        }
    }
    fn term(&self) -> u64 {
        self.sent
    }
    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::Ping { .. } => "Ping",
            Message::Echo { .. } => "Echo",
        }
    }
    fn msg_style(msg: &Message) -> MsgStyle {
        match msg {
            Message::Ping { .. } => MsgStyle::new(MsgFamily::Other, MsgShape::Diamond),
            Message::Echo { .. } => MsgStyle::new(MsgFamily::Other, MsgShape::Circle),
        }
    }
    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        match msg {
            Message::Ping { seq } => vec![("ping", seq.to_string())],
            Message::Echo { seq } => vec![("answers ping", seq.to_string())],
        }
    }
    fn describe(&self) -> String {
        format!("sent={} streak={}", self.sent, self.streak)
    }
}

/// Checks Echo Matches: every echo a node hears answers a ping it has sent.
#[derive(Clone, Debug, Default)]
pub struct EchoMonitor;

impl Monitor<Echo> for EchoMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Echo>], out: &mut Vec<Violation>) {
        let Some(Some(me)) = nodes.get(usize::from(node) - 1) else {
            return;
        };
        for note in notes {
            if let Note::Fact(Fact { what: HEARD, value }) = *note
                && value as u64 > me.sent
            {
                let index = value;
                out.push(Violation {
                    property: "Echo Matches",
                    nodes: vec![node],
                    detail: format!("n{node} heard echo {index} but has sent only {} pings", me.sent),
                });
            }
        }
    }
    fn properties() -> &'static [&'static str] {
        &["Echo Matches"]
    }
}
