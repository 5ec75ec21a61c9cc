//! Action scripts: a run's scenario header and its timed actions.
//!
//! Every fault and every client request, whether typed in a test, loaded from a preset or
//! clicked in the UI, is an action at a simulated time. A run is a pure function of its
//! script, so a script is also how a run is saved, shared and replayed.
//!
//! Two encodings share one model. The text format ([`parse`], and `Display` for [`Script`]),
//! one item per line, for tests and presets:
//!
//! ```text
//! # A leader crash.
//! protocol raft
//! nodes 5
//! seed 42
//! set prevote on
//! set latency 10ms..15ms
//! 1s     request 1 write k1 5
//! 2s     crash 3
//! 2.5s   partition 1 2 | 3 4 5
//! 3s     heal
//! ```
//!
//! and a compact form for URLs ([`encode_compact`], [`decode_compact`]) that holds the same
//! script in 62 characters:
//!
//! ```text
//! raft.516~prevote.on~latency.10ms..15ms~4W1.1.5~4X3~lP12.345~lH
//! ```
//!
//! Both parsers report errors with line and column (counted in characters, 1-based) and never
//! panic on any input. Whatever they accept is a valid script ([`Script::validate`]), and both
//! encodings of a valid script decode to that same script. `docs/script-format.md` is the
//! reference for users.
//!
//! # Text format
//!
//! Tokens are separated by whitespace; `#` starts a comment that runs to the end of the line.
//! Header lines have no time and may each appear once (a missing one keeps its default from
//! [`Header::default`]: `protocol raft`, `nodes 5`, `seed 1`):
//!
//! | line | meaning |
//! |---|---|
//! | `protocol NAME` | ASCII letters, digits, `-` and `_` |
//! | `nodes N` | cluster size, 1..=9 |
//! | `seed N` | a `u64` in decimal |
//! | `set KEY VALUE` | `KEY` is one token, `VALUE` the rest of the line, trimmed, kept verbatim |
//!
//! A timed line starts with a time and an action. Times, like every duration, are a decimal
//! number with a unit `s`, `ms` or `us` (`0s`, `1.5s`, `150ms`, `1.25ms`, `20us`) that must be
//! a whole number of microseconds. Actions must come in non-decreasing time order.
//!
//! | action | model |
//! |---|---|
//! | `partition 1 2 \| 3 4 5` | [`Action::Partition`]: groups split by `\|`, each node at most once |
//! | `heal` | [`Action::Heal`] |
//! | `cut 1 -> 2`, `cut 1 <-> 2` | [`Action::Cut`] (two different nodes) |
//! | `restore 1 -> 2`, `restore 1 <-> 2` | [`Action::Restore`] |
//! | `crash 3`, `restart 3` | [`Action::Crash`], [`Action::Restart`] |
//! | `pause 2`, `pause 2 for 300ms` | [`Action::Pause`] (a duration above 0, at most 1h) |
//! | `resume 2` | [`Action::Resume`] |
//! | `skew 2 +30ms -100ppm` | [`Action::Skew`]: offset within ±1h, drift within ±500000ppm; the drift may be left out (0) |
//! | `loss 5%`, `dup 0.5%` | [`Action::Loss`], [`Action::Dup`]: 0% to 100%, at most 4 decimals |
//! | `latency 10ms..15ms` | [`Action::Latency`]: min <= max <= 60s |
//! | `request 1 read k1`, `request 1 write k1 5`, `request 2 cas k1 5 6`, each optionally followed by `via 3` | [`Action::Request`]: client and key are `u32`, values `u64` |
//! | `load 20/s clients 3 keys 2`, `load off` | [`Action::Load`]: rate 1..=1000/s, clients 1..=100, keys 1..=1000; `clients` defaults to 3, `keys` to 2 |
//! | `timeout 3` | [`Action::Timeout`] |
//! | `do 3 traitor`, `do 1 send 2` | [`Action::Command`]: a verb of lowercase letters, digits and `-` (at most 24), then an optional number |
//! | `drop 17` | [`Action::Drop`]: a message's trace id |
//!
//! Every number has a maximum, and an error names the field, the value and the maximum
//! (`the number of clients 5000 is above the maximum 100`); see the `MAX_` constants.
//!
//! Node ids are 1..=`nodes`; before a `nodes` line is read they are checked against 1..=9, and
//! a script without a `nodes` line gets the default 5, so it may not use nodes 6 to 9.
//!
//! # Compact form
//!
//! Only the URL-unreserved characters `A-Z a-z 0-9 - . _ ~` appear, so the string needs no
//! percent-encoding in a query parameter. Numbers are base 36 in lowercase (`0-9a-z`), opcodes
//! are one uppercase letter, so a time delta and its opcode need no separator. Grammar (ABNF
//! style, `*x` is zero or more):
//!
//! ```text
//! compact  = header *( "~" setting ) *( "~" action )
//! header   = protocol "." nodes seed         ; raft.516 = raft, 5 nodes, seed 42 (16 in base 36)
//! protocol = 1*( ALPHA / DIGIT / "-" / "_" )
//! nodes    = %x31-39                         ; one digit 1..=9
//! seed     = b36
//! setting  = esc-key "." esc-value           ; prevote.on
//! action   = time opcode [ field *( "." field ) ]
//! time     = scaled                          ; delta from the previous action (the first: from 0)
//! b36      = 1*( DIGIT / %x61-7A )           ; base 36, 0-9 a-z
//! sb36     = [ "-" ] b36                     ; signed
//! scaled   = b36                             ; d encodes m * scale[d mod k], m = d div k
//! node     = %x31-39
//! ```
//!
//! A scaled number keeps round values short: `d = m * k + u`, the value is `m * scale[u]` and
//! the encoder picks the largest scale that divides the value. Times (k = 4) have the scales
//! 1s, 100ms, 1ms, 1us (`4` = 1s, `l` = 500ms, `1p` = 1.5s, `16` = 10ms, `0` = 0s);
//! percentages in ppm (k = 3) have 1%, 0.01%, 1ppm (`f` = 5%, `47` = 0.5%).
//!
//! | opcode | fields | action |
//! |---|---|---|
//! | `P` | one field of node digits per group | partition (`P12.345`) |
//! | `H` | none | heal |
//! | `C` / `B` | `node node` as one field | cut one way / both ways (`C12`) |
//! | `U` / `V` | `node node` | restore one way / both ways |
//! | `X`, `S`, `E`, `T` | `node` | crash, restart, resume, timeout |
//! | `Z` | `node [. time]` | pause, optionally for a time |
//! | `K` | `node . stime . sb36` | skew: offset as a signed scaled time, drift in ppm |
//! | `L` / `D` | `ppm` (scaled) | loss / dup |
//! | `N` | `time . time` | latency min and max |
//! | `R` | `b36 . b36 [. node]` | request read: client, key, via |
//! | `W` | `b36 . b36 . b36 [. node]` | request write: client, key, value, via |
//! | `A` | `b36 . b36 . b36 . b36 [. node]` | request cas: client, key, from, to, via |
//! | `G` | none, `rate`, or `rate . clients . keys` | load: off, with 3 clients and 2 keys, or in full |
//! | `Q` | `node . verb [. b36]` | a chapter's command, with its argument if any (`Q3.traitor`, `Q1.send.2`) |
//! | `Y` | `b36` | drop (capture) a message by its trace id |
//!
//! An item whose first character outside `0-9a-z` is an uppercase letter is an action, any
//! other item is a setting. In a setting, `esc-key` keeps `a-z 0-9 -` and `esc-value` keeps
//! `A-Z a-z 0-9 - .`; every other byte of the UTF-8 text is written `_` and two hex digits
//! (`5%` is `5_25`, a space `_20`). The key never holds a literal `.` or uppercase letter,
//! which is what tells a setting from an action. Column numbers in errors are character
//! offsets, the line is always 1.

use crate::protocol::Op;
use crate::time::format_duration_us;
use crate::trace::MsgId;
use crate::{ClientId, NodeId, SimTime};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A run's fixed parameters: everything but the timed actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The protocol's name ("raft").
    pub protocol: String,
    /// Cluster size, 1..=9.
    pub nodes: u8,
    pub seed: u64,
    /// `set KEY VALUE` lines in order: network keys (`latency`, `loss`, `dup`,
    /// `client-timeout`) and protocol keys (`prevote`, `variant`, ...).
    pub settings: Vec<(String, String)>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            protocol: "raft".into(),
            nodes: 5,
            seed: 1,
            settings: Vec::new(),
        }
    }
}

/// A whole script.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub header: Header,
    /// Sorted by time; actions at the same time apply in order.
    pub actions: Vec<TimedAction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedAction {
    pub at: SimTime,
    pub action: Action,
}

/// One fault, repair or request. Rates are integers in parts per million so that scripts hash
/// and compare exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Split the nodes into islands (`partition 1 2 | 3 4 5`); nodes left out each form an
    /// island of their own. Replaces any earlier partition; one-way cuts stay.
    Partition(Vec<Vec<NodeId>>),
    /// Remove every partition and every cut.
    Heal,
    /// Drop messages from `from` to `to` (`cut 1 -> 2`), both ways if `both` (`cut 1 <-> 2`).
    Cut {
        from: NodeId,
        to: NodeId,
        both: bool,
    },
    /// Undo a cut (`restore 1 -> 2`, `restore 1 <-> 2`).
    Restore {
        from: NodeId,
        to: NodeId,
        both: bool,
    },
    /// Stop a node: volatile state lost, persisted state kept, its timers gone.
    Crash(NodeId),
    /// Start a crashed node again from its persisted state.
    Restart(NodeId),
    /// Freeze a node (a GC pause): its timers and deliveries are held until it resumes,
    /// after `for_us` if given (`pause 2 for 300ms`), else at a `resume`.
    Pause {
        node: NodeId,
        for_us: Option<u64>,
    },
    Resume(NodeId),
    /// Set a node's clock offset and drift (`skew 2 +30ms -100ppm`).
    Skew {
        node: NodeId,
        offset_us: i64,
        drift_ppm: i32,
    },
    /// Probability that a message is lost (`loss 5%`).
    Loss {
        ppm: u32,
    },
    /// Probability that a message is delivered twice (`dup 1%`).
    Dup {
        ppm: u32,
    },
    /// One-way latency range of every link (`latency 10ms..15ms`).
    Latency {
        min_us: u64,
        max_us: u64,
    },
    /// Client `client` invokes `op`, first at node `node` if given
    /// (`request 1 write k1 5 via 2`), else at the node it last found to be the leader.
    Request {
        client: ClientId,
        op: Op,
        node: Option<NodeId>,
    },
    /// Steady random client load: `clients` clients with `per_sec` operations per second
    /// in all, over `keys` keys (`load 20/s clients 3 keys 2`); `load off` stops it.
    Load {
        per_sec: u32,
        clients: u32,
        keys: u32,
    },
    /// Fire a node's election (or proposal) timeout now (`timeout 3`).
    Timeout(NodeId),
    /// A chapter's own action at a node (`do 3 traitor`, `do 1 send 2`): one of its
    /// protocol's [`crate::protocol::Protocol::COMMANDS`], with its argument if it takes one.
    Command {
        node: NodeId,
        verb: String,
        arg: Option<u64>,
    },
    /// Capture the message with trace id `id` if it is still in flight (`drop 17`), as the
    /// reader who clicks a messenger on the stage does.
    Drop(MsgId),
}

/// A parse error with its position, 1-based. The compact form is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Largest cluster a script may describe.
pub const MAX_NODES: u8 = 9;
/// Largest magnitude of a `skew` clock offset: one hour.
pub const MAX_SKEW_OFFSET_US: u64 = 3_600_000_000;
/// Largest magnitude of a `skew` clock drift, in parts per million (a clock running at half
/// or one and a half times real speed).
pub const MAX_DRIFT_PPM: u32 = 500_000;
/// Largest one-way latency of a `latency` action: 60s.
pub const MAX_LATENCY_US: u64 = 60_000_000;
/// A probability of 1 (100%) in parts per million.
pub const PPM_ONE: u32 = 1_000_000;
/// Longest `pause N for T`: one hour (a pause without `for` lasts until `resume`).
pub const MAX_PAUSE_US: u64 = 3_600_000_000;
/// Highest `load` rate, in operations per second: one per millisecond, so that the load
/// never outruns the simulation.
pub const MAX_LOAD_RATE: u32 = 1_000;
/// Most `load` clients: enough to show contention, few enough to keep a history checkable.
pub const MAX_LOAD_CLIENTS: u32 = 100;
/// Most `load` keys.
pub const MAX_LOAD_KEYS: u32 = 1_000;
/// Clients of `load R/s` when `clients` is not given.
pub const DEFAULT_LOAD_CLIENTS: u32 = 3;
/// Keys of `load R/s` when `keys` is not given.
pub const DEFAULT_LOAD_KEYS: u32 = 2;

// ---------------------------------------------------------------------------------------------
// Validity
// ---------------------------------------------------------------------------------------------

/// Whether `name` can be a protocol name: ASCII letters, digits, `-` and `_`, not empty.
pub fn is_valid_protocol_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `key` can be a setting's key: not empty, no whitespace, no `#`.
pub fn is_valid_setting_key(key: &str) -> bool {
    !key.is_empty() && !key.chars().any(|c| c.is_whitespace() || c == '#')
}

/// Whether `value` can be a setting's value: not empty, no surrounding whitespace, no line
/// break (`\n`) and no `#` (which would start a comment in the text format).
pub fn is_valid_setting_value(value: &str) -> bool {
    !value.is_empty() && value.trim() == value && !value.contains(['\n', '#'])
}

fn check_setting(key: &str, value: &str) -> Result<(), String> {
    if !is_valid_setting_key(key) {
        return Err(format!(
            "setting name {key:?} must be non-empty, without whitespace or '#'"
        ));
    }
    if !is_valid_setting_value(value) {
        return Err(format!(
            "value {value:?} of setting {key:?} must be non-empty, without surrounding whitespace, \
             line breaks or '#'"
        ));
    }
    Ok(())
}

impl Script {
    /// Checks that the script is valid: what [`parse`] and [`decode_compact`] accept, and
    /// what both encodings can represent exactly. A protocol name of ASCII letters, digits,
    /// `-` and `_`; 1..=9 nodes; settings as [`is_valid_setting_key`] and
    /// [`is_valid_setting_value`] say; actions in time order, each within the cluster and the
    /// ranges of the text format.
    pub fn validate(&self) -> Result<(), String> {
        let h = &self.header;
        if !is_valid_protocol_name(&h.protocol) {
            return Err(format!(
                "protocol name {:?} must be ASCII letters, digits, '-' or '_'",
                h.protocol
            ));
        }
        if !(1..=MAX_NODES).contains(&h.nodes) {
            return Err(format!("nodes {} is out of range 1..={MAX_NODES}", h.nodes));
        }
        for (key, value) in &h.settings {
            check_setting(key, value)?;
        }
        let mut previous = SimTime::ZERO;
        for (i, timed) in self.actions.iter().enumerate() {
            if timed.at < previous {
                return Err(format!(
                    "action {} at {} comes before the previous action at {}",
                    i + 1,
                    format_duration_us(timed.at.as_us()),
                    format_duration_us(previous.as_us())
                ));
            }
            previous = timed.at;
            check_action(&timed.action, h.nodes).map_err(|e| format!("action {} ({}): {e}", i + 1, timed.action))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Text form: writing
// ---------------------------------------------------------------------------------------------

fn format_signed_us(us: i64) -> String {
    let sign = if us < 0 { '-' } else { '+' };
    format!("{sign}{}", format_duration_us(us.unsigned_abs()))
}

/// `50_000` ppm is `5%`, `5_000` is `0.5%`, `1` is `0.0001%`.
fn format_percent(ppm: u32) -> String {
    let (whole, frac) = (ppm / 10_000, ppm % 10_000);
    if frac == 0 {
        format!("{whole}%")
    } else {
        let frac = format!("{frac:04}");
        format!("{whole}.{}%", frac.trim_end_matches('0'))
    }
}

impl fmt::Display for Script {
    /// The canonical text form: `protocol`, `nodes` and `seed` lines, the `set` lines in
    /// order, then one line per action with its time, padded to align the actions. For a
    /// valid script, [`parse`] gives the script back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.header;
        writeln!(f, "protocol {}", h.protocol)?;
        writeln!(f, "nodes {}", h.nodes)?;
        writeln!(f, "seed {}", h.seed)?;
        for (key, value) in &h.settings {
            writeln!(f, "set {key} {value}")?;
        }
        let times: Vec<String> = self.actions.iter().map(|a| format_duration_us(a.at.as_us())).collect();
        let width = times.iter().map(String::len).max().unwrap_or(0);
        for (time, timed) in times.iter().zip(&self.actions) {
            writeln!(f, "{time:<width$} {}", timed.action)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Script {
    type Err = ParseError;

    /// Parses the text format; see [`parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers shared by both parsers
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum NumError {
    Malformed,
    TooPrecise,
    TooLarge,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal `u64` of ASCII digits (leading zeros allowed).
fn dec_u64(s: &str) -> Result<u64, NumError> {
    if !is_digits(s) {
        return Err(NumError::Malformed);
    }
    s.parse::<u64>().map_err(|_| NumError::TooLarge)
}

fn dec_u32(s: &str) -> Result<u32, NumError> {
    dec_u64(s).and_then(|v| u32::try_from(v).map_err(|_| NumError::TooLarge))
}

/// `int[.frac]` times `10^decimals`, exactly: `decimal("1.25", 3) == Ok(1250)`. Digits of
/// `frac` beyond `decimals` must be zeros. The integer part is at most `u64::MAX`.
fn decimal(num: &str, decimals: usize) -> Result<u128, NumError> {
    let (int, frac) = match num.split_once('.') {
        Some((_, "")) => return Err(NumError::Malformed),
        Some((int, frac)) => (int, frac),
        None => (num, ""),
    };
    if !is_digits(int) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumError::Malformed);
    }
    let mut value: u128 = 0;
    for b in int.bytes() {
        value = value * 10 + u128::from(b - b'0');
        if value > u128::from(u64::MAX) {
            return Err(NumError::TooLarge);
        }
    }
    // `frac` is ASCII, so any byte index is a character boundary.
    let (kept, rest) = frac.split_at(frac.len().min(decimals));
    if rest.bytes().any(|b| b != b'0') {
        return Err(NumError::TooPrecise);
    }
    for i in 0..decimals {
        let digit = kept.as_bytes().get(i).map_or(0, |b| u128::from(b - b'0'));
        value = value * 10 + digit;
    }
    Ok(value)
}

const DURATION_HINT: &str = "a duration such as 1.5s, 150ms or 20us";

/// `1.5s`, `150ms`, `20us` as microseconds: [`crate::time::parse_duration_us`], shared with
/// protocol parameters and the CLI so that every duration reads alike.
fn parse_duration(s: &str) -> Result<u64, String> {
    crate::time::parse_duration_us(s)
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    }
}

/// `+30ms`, `-1.5s` (the sign may be left out for positive offsets).
fn parse_offset(s: &str) -> Result<i64, String> {
    let (negative, body) = split_sign(s);
    let us = parse_duration(body).map_err(|e| {
        if body.is_empty() {
            format!("expected a clock offset such as +30ms, found {s:?}")
        } else {
            e
        }
    })?;
    if us > MAX_SKEW_OFFSET_US {
        return Err(format!("clock offset {s} is out of range -1h..=+1h"));
    }
    // At most an hour of microseconds: fits an i64.
    let us = us as i64;
    Ok(if negative { -us } else { us })
}

/// `-100ppm`, `+20ppm`, `0ppm`.
fn parse_drift(s: &str) -> Result<i32, String> {
    let hint = || format!("expected a clock drift such as -100ppm, found {s:?}");
    let Some(body) = s.strip_suffix("ppm") else {
        return Err(hint());
    };
    let (negative, digits) = split_sign(body);
    let ppm = match dec_u64(digits) {
        Ok(ppm) if ppm <= u64::from(MAX_DRIFT_PPM) => ppm as i32,
        Ok(_) | Err(NumError::TooLarge | NumError::TooPrecise) => {
            return Err(format!(
                "clock drift {s} is out of range -{MAX_DRIFT_PPM}..=+{MAX_DRIFT_PPM}ppm"
            ));
        }
        Err(NumError::Malformed) => return Err(hint()),
    };
    Ok(if negative { -ppm } else { ppm })
}

/// `5%`, `0.5%`, `0.0001%` as parts per million.
fn parse_percent(s: &str) -> Result<u32, String> {
    let hint = || format!("expected a percentage such as 5% or 0.5%, found {s:?}");
    let Some(body) = s.strip_suffix('%') else {
        return Err(hint());
    };
    match decimal(body, 4) {
        Ok(ppm) if ppm <= u128::from(PPM_ONE) => Ok(ppm as u32),
        Ok(_) | Err(NumError::TooLarge) => Err(format!("{s} is out of range 0%..=100%")),
        Err(NumError::TooPrecise) => Err(format!("percentage {s} has more than 4 decimals")),
        Err(NumError::Malformed) => Err(hint()),
    }
}

// ---------------------------------------------------------------------------------------------
// Text form: parsing
// ---------------------------------------------------------------------------------------------

/// Parses the text format (see the module documentation). Errors carry the 1-based line and
/// the column, in characters, where the offending token starts. Never panics; whatever it
/// accepts passes [`Script::validate`].
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = TextParser::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = to_u32(i.saturating_add(1));
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let content = raw.find('#').map_or(raw, |at| &raw[..at]);
        let tokens = tokenize(content);
        if let Some((first, rest)) = tokens.split_first() {
            parser.line(line, content, first, rest)?;
        }
    }
    parser.finish()
}

fn perr(line: u32, column: u32, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        column,
        message: message.into(),
    }
}

/// A whitespace-separated token of a line.
struct Tok<'a> {
    s: &'a str,
    /// 1-based column of its first character.
    col: u32,
    /// Byte offset just past it in the line.
    end: usize,
}

impl Tok<'_> {
    /// The column just past the token.
    fn end_col(&self) -> u32 {
        self.col.saturating_add(to_u32(self.s.chars().count()))
    }
}

fn tokenize(content: &str) -> Vec<Tok<'_>> {
    let mut tokens = Vec::new();
    let mut start: Option<(usize, u32)> = None;
    let mut col: u32 = 0;
    for (at, ch) in content.char_indices() {
        col = col.saturating_add(1);
        if ch.is_whitespace() {
            if let Some((from, first_col)) = start.take() {
                tokens.push(Tok {
                    s: &content[from..at],
                    col: first_col,
                    end: at,
                });
            }
        } else if start.is_none() {
            start = Some((at, col));
        }
    }
    if let Some((from, first_col)) = start {
        tokens.push(Tok {
            s: &content[from..],
            col: first_col,
            end: content.len(),
        });
    }
    tokens
}

/// The arguments of an action, consumed left to right.
struct Args<'t, 'a> {
    keyword: &'t Tok<'a>,
    toks: &'t [Tok<'a>],
    next: usize,
    line: u32,
    /// Node ids allowed: up to the `nodes` line if it came, else up to 9.
    limit: u8,
    /// The highest node id the line uses and the column where it first appears.
    max_node: Option<(NodeId, u32)>,
}

impl<'t, 'a> Args<'t, 'a> {
    fn last(&self) -> &'t Tok<'a> {
        self.next
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .unwrap_or(self.keyword)
    }

    fn take(&mut self) -> Option<&'t Tok<'a>> {
        let tok = self.toks.get(self.next)?;
        self.next += 1;
        Some(tok)
    }

    fn take_if(&mut self, word: &str) -> bool {
        let found = self.toks.get(self.next).is_some_and(|t| t.s == word);
        if found {
            self.next += 1;
        }
        found
    }

    /// The next token, or an error "missing WHAT after ..." just past the last one.
    fn expect(&mut self, what: &str) -> Result<&'t Tok<'a>, ParseError> {
        let last = self.last();
        self.take()
            .ok_or_else(|| perr(self.line, last.end_col(), format!("missing {what} after {:?}", last.s)))
    }

    /// The next token as `parse` reads it; its errors are reported at the token.
    fn value<T>(&mut self, what: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ParseError> {
        let tok = self.expect(what)?;
        parse(tok.s).map_err(|e| perr(self.line, tok.col, e))
    }

    /// A node id at column `col`, within the limit.
    fn node(&mut self, s: &str, col: u32) -> Result<NodeId, ParseError> {
        let limit = self.limit;
        let n = match dec_u64(s) {
            Ok(n) if (1..=u64::from(limit)).contains(&n) => n as NodeId,
            Ok(_) | Err(NumError::TooLarge) => {
                return Err(perr(self.line, col, format!("node {s} is out of range 1..={limit}")));
            }
            Err(_) => {
                return Err(perr(
                    self.line,
                    col,
                    format!("expected a node id 1..={limit}, found {s:?}"),
                ));
            }
        };
        if self.max_node.is_none_or(|(max, _)| n > max) {
            self.max_node = Some((n, col));
        }
        Ok(n)
    }

    fn done(&self) -> Result<(), ParseError> {
        match self.toks.get(self.next) {
            Some(extra) => Err(perr(
                self.line,
                extra.col,
                format!("unexpected {:?} after {:?}", extra.s, self.last().s),
            )),
            None => Ok(()),
        }
    }
}

#[derive(Default)]
struct TextParser {
    header: Header,
    actions: Vec<TimedAction>,
    seen_protocol: bool,
    seen_nodes: bool,
    seen_seed: bool,
    /// The highest node id used so far and where it first appeared.
    max_node: Option<(NodeId, u32, u32)>,
}

impl TextParser {
    /// Node ids allowed so far: up to the `nodes` line if it came, else up to 9.
    fn limit(&self) -> u8 {
        if self.seen_nodes { self.header.nodes } else { MAX_NODES }
    }

    fn line(&mut self, line: u32, content: &str, first: &Tok<'_>, rest: &[Tok<'_>]) -> Result<(), ParseError> {
        if first.s.starts_with(|c: char| c.is_ascii_digit()) {
            return self.timed(line, first, rest);
        }
        let once = |seen: &mut bool| {
            if std::mem::replace(seen, true) {
                Err(perr(
                    line,
                    first.col,
                    format!("a second {:?} line; the header may say it only once", first.s),
                ))
            } else {
                Ok(())
            }
        };
        let single = |what: &str| single_arg(line, first, rest, what);
        match first.s {
            "protocol" => {
                once(&mut self.seen_protocol)?;
                let name = single("a protocol name")?;
                if !is_valid_protocol_name(name.s) {
                    return Err(perr(
                        line,
                        name.col,
                        format!("protocol name {:?} must be ASCII letters, digits, '-' or '_'", name.s),
                    ));
                }
                self.header.protocol = name.s.to_string();
            }
            "nodes" => {
                once(&mut self.seen_nodes)?;
                let tok = single("a node count")?;
                let nodes = match dec_u64(tok.s) {
                    Ok(n) if (1..=u64::from(MAX_NODES)).contains(&n) => n as u8,
                    Ok(_) | Err(NumError::TooLarge) => {
                        return Err(perr(
                            line,
                            tok.col,
                            format!("nodes {} is out of range 1..={MAX_NODES}", tok.s),
                        ));
                    }
                    Err(_) => {
                        return Err(perr(
                            line,
                            tok.col,
                            format!("expected a node count 1..=9, found {:?}", tok.s),
                        ));
                    }
                };
                if let Some((used, used_line, _)) = self.max_node
                    && used > nodes
                {
                    return Err(perr(
                        line,
                        tok.col,
                        format!("nodes {nodes} is too few: node {used} is used on line {used_line}"),
                    ));
                }
                self.header.nodes = nodes;
            }
            "seed" => {
                once(&mut self.seen_seed)?;
                let tok = single("a seed")?;
                self.header.seed = dec_u64(tok.s).map_err(|e| {
                    let message = match e {
                        NumError::TooLarge => {
                            format!("seed {} is too large (at most {})", tok.s, u64::MAX)
                        }
                        _ => format!("expected a seed (a decimal number), found {:?}", tok.s),
                    };
                    perr(line, tok.col, message)
                })?;
            }
            "set" => {
                let Some((key, _)) = rest.split_first() else {
                    return Err(perr(line, first.end_col(), "missing setting name after \"set\""));
                };
                let value = content[key.end..].trim();
                if value.is_empty() {
                    return Err(perr(
                        line,
                        key.end_col(),
                        format!("missing value for setting {:?}", key.s),
                    ));
                }
                // Comments are cut and tokens hold no whitespace, so this cannot fail; keep
                // the guarantee that every parsed script is valid explicit anyway.
                check_setting(key.s, value).map_err(|e| perr(line, key.col, e))?;
                self.header.settings.push((key.s.to_string(), value.to_string()));
            }
            word if ACTION_KEYWORDS.contains(&word) => {
                return Err(perr(
                    line,
                    first.col,
                    format!("missing time before {word:?}; a timed line starts with a time such as 1.5s"),
                ));
            }
            other => {
                return Err(perr(
                    line,
                    first.col,
                    format!("unknown line {other:?}; expected protocol, nodes, seed, set, or a time such as 1.5s"),
                ));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Script, ParseError> {
        if !self.seen_nodes
            && let Some((used, line, col)) = self.max_node
            && used > self.header.nodes
        {
            return Err(perr(
                line,
                col,
                format!(
                    "node {used} is out of range 1..={} (the default cluster size; add a `nodes` line)",
                    self.header.nodes
                ),
            ));
        }
        Ok(Script {
            header: self.header,
            actions: self.actions,
        })
    }

    fn timed(&mut self, line: u32, time: &Tok<'_>, rest: &[Tok<'_>]) -> Result<(), ParseError> {
        let at = parse_duration(time.s).map_err(|e| perr(line, time.col, e))?;
        if let Some(previous) = self.actions.last()
            && at < previous.at.as_us()
        {
            return Err(perr(
                line,
                time.col,
                format!(
                    "time {} is before the previous action's time {}; actions must be in time order",
                    time.s,
                    format_duration_us(previous.at.as_us())
                ),
            ));
        }
        let Some((keyword, toks)) = rest.split_first() else {
            return Err(perr(
                line,
                time.end_col(),
                format!("missing action after the time {:?}", time.s),
            ));
        };
        let mut args = Args {
            keyword,
            toks,
            next: 0,
            line,
            limit: self.limit(),
            max_node: None,
        };
        let action = parse_action(&mut args)?;
        args.done()?;
        if let Some((n, col)) = args.max_node
            && self.max_node.is_none_or(|(max, _, _)| n > max)
        {
            self.max_node = Some((n, line, col));
        }
        // Every rule is checked above with a precise position; this keeps the guarantee that
        // a parsed script is valid in one place.
        check_action(&action, self.limit()).map_err(|e| perr(line, keyword.col, e))?;
        self.actions.push(TimedAction {
            at: SimTime::from_us(at),
            action,
        });
        Ok(())
    }
}

/// The one argument of a header line.
fn single_arg<'t, 'a>(line: u32, first: &Tok<'a>, rest: &'t [Tok<'a>], what: &str) -> Result<&'t Tok<'a>, ParseError> {
    match rest {
        [] => Err(perr(
            line,
            first.end_col(),
            format!("missing {what} after {:?}", first.s),
        )),
        [only] => Ok(only),
        [_, extra, ..] => Err(perr(line, extra.col, format!("unexpected {:?} after {what}", extra.s))),
    }
}

// ---------------------------------------------------------------------------------------------
// Actions: one description each
// ---------------------------------------------------------------------------------------------
//
// Each action is a keyword, its compact opcodes and an ordered list of fields, and each kind of
// field (a node, a clock offset, a latency range, ...) implements [`Field`] once: how it reads
// and writes in both encodings and which values are valid. The `actions!` table below is the
// only place that lists the actions; the checks, `Display`, the text parser and the compact
// encoder and decoder are all derived from it.

/// One kind of action field, in both encodings.
trait Field: Sized {
    /// Reads the field from the text tokens left in `args`, reporting errors at the token.
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError>;
    /// Writes the field as text with a leading space; an absent optional field writes nothing.
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// Appends the field's compact fields (none for an absent optional field).
    fn encode(&self, out: &mut CompactOut<'_>);
    /// Reads the field from the compact fields left in `fields`.
    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError>;
    /// Checks the value in a cluster of `nodes` nodes: what both encodings hold and the engine
    /// accepts.
    fn check(&self, nodes: u8) -> Result<(), String>;
    /// The index of the action's opcode that this value selects, if it selects one (a cut
    /// both ways is `B` where a one-way cut is `C`); see [`Fields::opcode`] for decoding.
    fn opcode(&self) -> Option<usize> {
        None
    }
}

/// Describes every action once: `keyword opcodes pattern => (field: Kind = value, ...) => build;`
/// where `pattern` destructures an [`Action`], each `value` makes a field of kind `Kind` from
/// its bindings, and `build` makes the action back from the fields. Fields come in the order
/// both encodings write them. `opcodes` holds one letter, or one per value of the field whose
/// [`Field::opcode`] selects it. Actions come in the order of [`Action`]'s variants, which is
/// the order error messages list keywords and opcodes in.
macro_rules! actions {
    ($(
        $keyword:literal $opcodes:literal $pattern:pat => ($($field:ident: $kind:ident = $value:expr),*) => $build:expr;
    )*) => {
        /// Every action keyword, in the order of [`Action`]'s variants.
        const ACTION_KEYWORDS: &[&str] = &[$($keyword),*];
        /// Every compact opcode, in the same order.
        const OPCODES: &str = concat!($($opcodes),*);

        /// Checks an action on its own against a cluster of `nodes` nodes.
        fn check_action(action: &Action, nodes: u8) -> Result<(), String> {
            match action {
                $($pattern => {
                    $($kind::check(&$value, nodes)?;)*
                    Ok(())
                })*
            }
        }

        impl fmt::Display for Action {
            /// The action as a line of the text format writes it, without the time.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $($pattern => {
                        f.write_str($keyword)?;
                        $($kind::write(&$value, f)?;)*
                        Ok(())
                    })*
                }
            }
        }

        /// Reads the action named by `args.keyword` and its fields.
        fn parse_action(args: &mut Args<'_, '_>) -> Result<Action, ParseError> {
            match args.keyword.s {
                $($keyword => {
                    $(let $field = $kind::parse(args)?;)*
                    Ok($build)
                })*
                other => Err(perr(
                    args.line,
                    args.keyword.col,
                    format!("unknown action {other:?}; expected one of {}", ACTION_KEYWORDS.join(", ")),
                )),
            }
        }

        /// Appends an action's opcode and fields.
        fn push_action(out: &mut String, action: &Action) {
            match action {
                $($pattern => {
                    $(let $field = $value;)*
                    let index = None$(.or($field.opcode()))*.unwrap_or(0);
                    out.extend($opcodes.chars().nth(index));
                    #[allow(unused_mut, unused_variables)] // `heal` has no fields
                    let mut fields = CompactOut { out, first: true };
                    $($field.encode(&mut fields);)*
                })*
            }
        }

        /// Reads the fields of the action with opcode `f.op`.
        fn decode_fields(f: &mut Fields<'_>) -> Result<Action, ParseError> {
            $(if let Some(index) = $opcodes.find(f.op) {
                f.opcode = index;
                $(let $field = $kind::decode(f)?;)*
                return Ok($build);
            })*
            let expected: Vec<String> = OPCODES.chars().map(String::from).collect();
            Err(cerr(
                f.op_at,
                format!("unknown opcode {:?}; expected one of {}", f.op, expected.join(" ")),
            ))
        }
    };
}

actions! {
    "partition" "P" Action::Partition(groups) => (groups: Groups = Groups(groups.clone())) => Action::Partition(groups.0);
    "heal" "H" Action::Heal => () => Action::Heal;
    "cut" "CB" Action::Cut { from, to, both } => (link: Link = Link { from: *from, to: *to, both: *both })
        => Action::Cut { from: link.from, to: link.to, both: link.both };
    "restore" "UV" Action::Restore { from, to, both } => (link: Link = Link { from: *from, to: *to, both: *both })
        => Action::Restore { from: link.from, to: link.to, both: link.both };
    "crash" "X" Action::Crash(n) => (node: Node = Node(*n)) => Action::Crash(node.0);
    "restart" "S" Action::Restart(n) => (node: Node = Node(*n)) => Action::Restart(node.0);
    "pause" "Z" Action::Pause { node, for_us } => (paused: Node = Node(*node), time: PauseFor = PauseFor(*for_us))
        => Action::Pause { node: paused.0, for_us: time.0 };
    "resume" "E" Action::Resume(n) => (node: Node = Node(*n)) => Action::Resume(node.0);
    "skew" "K" Action::Skew { node, offset_us, drift_ppm }
        => (skewed: Node = Node(*node), offset: Offset = Offset(*offset_us), drift: Drift = Drift(*drift_ppm))
        => Action::Skew { node: skewed.0, offset_us: offset.0, drift_ppm: drift.0 };
    "loss" "L" Action::Loss { ppm } => (rate: Percent = Percent(*ppm)) => Action::Loss { ppm: rate.0 };
    "dup" "D" Action::Dup { ppm } => (rate: Percent = Percent(*ppm)) => Action::Dup { ppm: rate.0 };
    "latency" "N" Action::Latency { min_us, max_us } => (range: LatencyRange = LatencyRange { min_us: *min_us, max_us: *max_us })
        => Action::Latency { min_us: range.min_us, max_us: range.max_us };
    "request" "RWA" Action::Request { client, op, node }
        => (id: Client = Client(*client), operation: Request = Request(*op), via: Via = Via(*node))
        => Action::Request { client: id.0, op: operation.0, node: via.0 };
    "load" "G" Action::Load { per_sec, clients, keys } => (load: Load = Load { per_sec: *per_sec, clients: *clients, keys: *keys })
        => Action::Load { per_sec: load.per_sec, clients: load.clients, keys: load.keys };
    "timeout" "T" Action::Timeout(n) => (node: Node = Node(*n)) => Action::Timeout(node.0);
    "do" "Q" Action::Command { node, verb, arg }
        => (at: Node = Node(*node), word: Verb = Verb(verb.clone()), number: Arg = Arg(*arg))
        => Action::Command { node: at.0, verb: word.0, arg: number.0 };
    "drop" "Y" Action::Drop(id) => (message: Message = Message(*id)) => Action::Drop(message.0);
}

/// Where the compact fields of an action go: the first right after the opcode, each next one
/// after a `.`.
struct CompactOut<'a> {
    out: &'a mut String,
    first: bool,
}

impl CompactOut<'_> {
    /// Starts a field and returns the string to write it into.
    fn field(&mut self) -> &mut String {
        if !std::mem::take(&mut self.first) {
            self.out.push('.');
        }
        self.out
    }
}

/// `Ok(())` if `ok`, else the error `message()`.
fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

/// The documented maximum of a numeric field, and how errors name the field and write
/// its numbers.
struct Limit {
    what: &'static str,
    max: u64,
    show: fn(u64) -> String,
}

impl Limit {
    /// "WHAT VALUE is above the maximum MAX", `value` as the user wrote it.
    fn error(&self, value: &str) -> String {
        format!("{} {value} is above the maximum {}", self.what, (self.show)(self.max))
    }

    fn check(&self, value: u64) -> Result<(), String> {
        ensure(value <= self.max, || self.error(&(self.show)(value)))
    }
}

fn plain(v: u64) -> String {
    v.to_string()
}

fn per_second(v: u64) -> String {
    format!("{v}/s")
}

const LATENCY_LIMIT: Limit = Limit {
    what: "latency",
    max: MAX_LATENCY_US,
    show: format_duration_us,
};
const PAUSE_LIMIT: Limit = Limit {
    what: "pause duration",
    max: MAX_PAUSE_US,
    show: format_duration_us,
};
const LOAD_RATE_LIMIT: Limit = Limit {
    what: "the load rate",
    max: MAX_LOAD_RATE as u64,
    show: per_second,
};
const LOAD_CLIENTS_LIMIT: Limit = Limit {
    what: "the number of clients",
    max: MAX_LOAD_CLIENTS as u64,
    show: plain,
};
const LOAD_KEYS_LIMIT: Limit = Limit {
    what: "the number of keys",
    max: MAX_LOAD_KEYS as u64,
    show: plain,
};

fn check_node(n: NodeId, nodes: u8) -> Result<(), String> {
    ensure((1..=nodes).contains(&n), || {
        format!("node {n} is out of range 1..={nodes}")
    })
}

/// A node id: `3` in text, one digit in compact form.
struct Node(NodeId);

impl Field for Node {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let tok = args.expect("a node id")?;
        args.node(tok.s, tok.col).map(Node)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        push_node(out.field(), self.0);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let [n] = fields.nodes::<1>()?;
        Ok(Node(n))
    }

    fn check(&self, nodes: u8) -> Result<(), String> {
        check_node(self.0, nodes)
    }
}

/// The groups of a partition: `1 2 | 3 4 5` in text (spaces around `|` optional), one field of
/// node digits per group in compact form (`12.345`). Each node at most once, no empty group.
struct Groups(Vec<Vec<NodeId>>);

impl Field for Groups {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let line = args.line;
        if args.next == args.toks.len() {
            return Err(perr(
                line,
                args.last().end_col(),
                format!("missing groups of nodes after {:?}, such as 1 2 | 3 4 5", args.last().s),
            ));
        }
        let mut groups: Vec<Vec<NodeId>> = vec![Vec::new()];
        let mut seen = [false; 256];
        let mut last_bar = args.keyword.col;
        while let Some(tok) = args.take() {
            let mut col = tok.col;
            for (i, piece) in tok.s.split('|').enumerate() {
                if i > 0 {
                    // `col` is just past the `|`.
                    let bar = col.saturating_sub(1);
                    if groups.last().is_some_and(Vec::is_empty) {
                        return Err(perr(line, bar, "empty group before \"|\""));
                    }
                    groups.push(Vec::new());
                    last_bar = bar;
                }
                if !piece.is_empty() {
                    let n = args.node(piece, col)?;
                    if std::mem::replace(&mut seen[usize::from(n)], true) {
                        return Err(perr(line, col, format!("node {n} appears twice in the partition")));
                    }
                    if let Some(group) = groups.last_mut() {
                        group.push(n);
                    }
                }
                col = col.saturating_add(to_u32(piece.chars().count())).saturating_add(1);
            }
        }
        if groups.last().is_some_and(Vec::is_empty) {
            return Err(perr(line, last_bar, "empty group after \"|\""));
        }
        Ok(Groups(groups))
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" |")?;
            }
            for n in group {
                write!(f, " {n}")?;
            }
        }
        Ok(())
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        for group in &self.0 {
            let field = out.field();
            for &n in group {
                push_node(field, n);
            }
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let mut groups = Vec::new();
        while let Some((field_at, field)) = fields.take() {
            if field.is_empty() {
                return Err(cerr(field_at, "empty partition group"));
            }
            let group = field
                .bytes()
                .enumerate()
                .map(|(i, b)| compact_node(b, field_at + i, fields.nodes))
                .collect::<Result<Vec<_>, _>>()?;
            groups.push(group);
        }
        if groups.is_empty() {
            return Err(cerr(fields.end, "missing groups of nodes in a 'P' action"));
        }
        Ok(Groups(groups))
    }

    fn check(&self, nodes: u8) -> Result<(), String> {
        if self.0.is_empty() {
            return Err("a partition needs at least one group of nodes".into());
        }
        let mut seen = [false; 256];
        for group in &self.0 {
            if group.is_empty() {
                return Err("a partition group is empty".into());
            }
            for &n in group {
                check_node(n, nodes)?;
                if std::mem::replace(&mut seen[usize::from(n)], true) {
                    return Err(format!("node {n} appears twice in the partition"));
                }
            }
        }
        Ok(())
    }
}

/// A link between two different nodes: `1 -> 2` or `1 <-> 2` (both ways) in text; in compact
/// form one field of two node digits, the direction in the opcode.
struct Link {
    from: NodeId,
    to: NodeId,
    both: bool,
}

impl Field for Link {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let Node(from) = Node::parse(args)?;
        let arrow = args.expect("\"->\" or \"<->\"")?;
        let both = match arrow.s {
            "->" => false,
            "<->" => true,
            other => {
                return Err(perr(
                    args.line,
                    arrow.col,
                    format!("expected \"->\" or \"<->\", found {other:?}"),
                ));
            }
        };
        let to_tok = args.expect("a node id")?;
        let to = args.node(to_tok.s, to_tok.col)?;
        if from == to {
            return Err(perr(
                args.line,
                to_tok.col,
                format!("a link needs two different nodes, found {from} {} {to}", arrow.s),
            ));
        }
        Ok(Link { from, to, both })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = if self.both { "<->" } else { "->" };
        write!(f, " {} {arrow} {}", self.from, self.to)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        let field = out.field();
        push_node(field, self.from);
        push_node(field, self.to);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let [from, to] = fields.nodes::<2>()?;
        Ok(Link {
            from,
            to,
            both: fields.opcode == 1,
        })
    }

    fn check(&self, nodes: u8) -> Result<(), String> {
        check_node(self.from, nodes)?;
        check_node(self.to, nodes)?;
        ensure(self.from != self.to, || {
            format!("a link needs two different nodes, found {} and {}", self.from, self.to)
        })
    }

    fn opcode(&self) -> Option<usize> {
        Some(usize::from(self.both))
    }
}

/// How long a pause lasts, if it ends by itself: `for 300ms` in text, a scaled time in compact
/// form; more than 0.
struct PauseFor(Option<u64>);

impl Field for PauseFor {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        if !args.take_if("for") {
            return Ok(PauseFor(None));
        }
        args.value(DURATION_HINT, |s| {
            let pause = PauseFor(Some(parse_duration(s)?));
            pause.check(0).map(|()| pause)
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(us) => write!(f, " for {}", format_duration_us(us)),
            None => Ok(()),
        }
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        if let Some(us) = self.0 {
            push_scaled(out.field(), us, &TIME_SCALES);
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        match fields.take() {
            Some((at, s)) => scaled_value(s, &TIME_SCALES)
                .map(|us| PauseFor(Some(us)))
                .map_err(|e| cerr(at, format!("pause time: {e}"))),
            None => Ok(PauseFor(None)),
        }
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        let Some(us) = self.0 else {
            return Ok(());
        };
        ensure(us > 0, || "a pause must last longer than 0s".into())?;
        PAUSE_LIMIT.check(us)
    }
}

/// A clock offset within ±1h: `+30ms` in text, a signed scaled time in compact form.
struct Offset(i64);

impl Field for Offset {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        args.value("a clock offset such as +30ms", parse_offset).map(Offset)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", format_signed_us(self.0))
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        let field = out.field();
        if self.0 < 0 {
            field.push('-');
        }
        push_scaled(field, self.0.unsigned_abs(), &TIME_SCALES);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let (negative, us) = fields.number("clock offset", |s| signed(s, |s| scaled_value(s, &TIME_SCALES)))?;
        let us = i64::try_from(us).map_err(|_| cerr(fields.end, "clock offset is out of range -1h..=+1h"))?;
        Ok(Offset(if negative { -us } else { us }))
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        ensure(self.0.unsigned_abs() <= MAX_SKEW_OFFSET_US, || {
            format!("clock offset {} is out of range -1h..=+1h", format_signed_us(self.0))
        })
    }
}

/// A clock drift within ±500000ppm: `-100ppm` in text (left out: 0), a signed base-36 number
/// in compact form.
struct Drift(i32);

impl Field for Drift {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        match args.take() {
            Some(tok) => parse_drift(tok.s).map(Drift).map_err(|e| perr(args.line, tok.col, e)),
            None => Ok(Drift(0)),
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {:+}ppm", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        let field = out.field();
        if self.0 < 0 {
            field.push('-');
        }
        push_b36(field, u128::from(self.0.unsigned_abs()));
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let (negative, ppm) = fields.number("clock drift", |s| signed(s, b36_u32))?;
        let ppm = i32::try_from(ppm).map_err(|_| cerr(fields.end, "clock drift is out of range"))?;
        Ok(Drift(if negative { -ppm } else { ppm }))
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        ensure(self.0.unsigned_abs() <= MAX_DRIFT_PPM, || {
            format!(
                "clock drift {:+}ppm is out of range -{MAX_DRIFT_PPM}..=+{MAX_DRIFT_PPM}ppm",
                self.0
            )
        })
    }
}

/// A probability, 0% to 100%: `0.5%` in text, scaled parts per million in compact form.
struct Percent(u32);

impl Field for Percent {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        args.value("a percentage such as 5%", parse_percent).map(Percent)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", format_percent(self.0))
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        push_scaled(out.field(), u64::from(self.0), &PPM_SCALES);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        fields
            .number("probability", |s| {
                scaled_value(s, &PPM_SCALES)
                    .and_then(|ppm| u32::try_from(ppm).map_err(|_| "probability is out of range 0%..=100%".into()))
            })
            .map(Percent)
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        ensure(self.0 <= PPM_ONE, || {
            format!("{} is out of range 0%..=100%", format_percent(self.0))
        })
    }
}

/// A latency range, min <= max <= 60s: `10ms..15ms` in text, two scaled times in compact form.
struct LatencyRange {
    min_us: u64,
    max_us: u64,
}

impl Field for LatencyRange {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let line = args.line;
        let tok = args.expect("a latency range such as 10ms..15ms")?;
        let Some((min, max)) = tok.s.split_once("..") else {
            return Err(perr(
                line,
                tok.col,
                format!("expected a latency range such as 10ms..15ms, found {:?}", tok.s),
            ));
        };
        let max_col = tok.col.saturating_add(to_u32(min.chars().count())).saturating_add(2);
        let min_us = parse_duration(min).map_err(|e| perr(line, tok.col, e))?;
        let max_us = parse_duration(max)
            .and_then(|us| LATENCY_LIMIT.check(us).map(|()| us))
            .map_err(|e| perr(line, max_col, e))?;
        let range = LatencyRange { min_us, max_us };
        range.check(0).map_err(|e| perr(line, tok.col, e))?;
        Ok(range)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            " {}..{}",
            format_duration_us(self.min_us),
            format_duration_us(self.max_us)
        )
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        push_scaled(out.field(), self.min_us, &TIME_SCALES);
        push_scaled(out.field(), self.max_us, &TIME_SCALES);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let time = |s: &str| scaled_value(s, &TIME_SCALES);
        Ok(LatencyRange {
            min_us: fields.number("minimum latency", time)?,
            max_us: fields.number("maximum latency", time)?,
        })
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        LATENCY_LIMIT.check(self.max_us)?;
        ensure(self.min_us <= self.max_us, || {
            format!(
                "latency range is empty: {} is more than {}",
                format_duration_us(self.min_us),
                format_duration_us(self.max_us)
            )
        })
    }
}

/// A client id, a `u32`: decimal in text, base 36 in compact form.
struct Client(ClientId);

impl Field for Client {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let tok = args.expect("a client id")?;
        let message = match dec_u32(tok.s) {
            Ok(client) => return Ok(Client(client)),
            Err(NumError::TooLarge) => format!("client id {} is too large (at most {})", tok.s, u32::MAX),
            Err(_) => format!("expected a client id such as 1, found {:?}", tok.s),
        };
        Err(perr(args.line, tok.col, message))
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        push_b36(out.field(), u128::from(self.0));
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        fields.number("client", b36_u32).map(Client)
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        Ok(())
    }
}

/// A request's operation: `read k1`, `write k1 5` or `cas k1 5 6` in text; in compact form
/// the key and values in base 36, the operation in the opcode (`R`, `W`, `A`).
struct Request(Op);

impl Field for Request {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let line = args.line;
        let op_tok = args.expect("an operation (read, write or cas)")?;
        let arity = match op_tok.s {
            "read" => 0,
            "write" => 1,
            "cas" => 2,
            other => {
                return Err(perr(
                    line,
                    op_tok.col,
                    format!("unknown operation {other:?}; expected read, write or cas"),
                ));
            }
        };
        let tok = args.expect("a key such as k1")?;
        let key = match tok.s.strip_prefix('k').map(dec_u32) {
            Some(Ok(key)) => key,
            Some(Err(NumError::TooLarge)) => {
                return Err(perr(
                    line,
                    tok.col,
                    format!("key {} is too large (at most k{})", tok.s, u32::MAX),
                ));
            }
            _ => {
                return Err(perr(
                    line,
                    tok.col,
                    format!("expected a key such as k1, found {:?}", tok.s),
                ));
            }
        };
        let mut values = [0u64; 2];
        for value in values.iter_mut().take(arity) {
            let tok = args.expect("a value")?;
            *value = dec_u64(tok.s).map_err(|e| {
                let message = match e {
                    NumError::TooLarge => {
                        format!("value {} is too large (at most {})", tok.s, u64::MAX)
                    }
                    _ => format!("expected a value (a decimal number), found {:?}", tok.s),
                };
                perr(line, tok.col, message)
            })?;
        }
        Ok(Request(op_with(arity, key, values)))
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        let (key, values): (u32, &[u64]) = match &self.0 {
            Op::Read { key } => (*key, &[]),
            Op::Write { key, value } => (*key, std::slice::from_ref(value)),
            Op::Cas { key, from, to } => (*key, &[*from, *to]),
        };
        push_b36(out.field(), u128::from(key));
        for &v in values {
            push_b36(out.field(), u128::from(v));
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let key = fields.number("key", b36_u32)?;
        let mut values = [0u64; 2];
        let names: &[&str] = match fields.opcode {
            0 => &[],
            1 => &["value"],
            _ => &["expected value", "new value"],
        };
        for (value, name) in values.iter_mut().zip(names) {
            *value = fields.number(name, b36_u64)?;
        }
        Ok(Request(op_with(names.len(), key, values)))
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        Ok(())
    }

    fn opcode(&self) -> Option<usize> {
        Some(match self.0 {
            Op::Read { .. } => 0,
            Op::Write { .. } => 1,
            Op::Cas { .. } => 2,
        })
    }
}

/// The operation with `arity` values (0 read, 1 write, 2 cas) on `key`.
fn op_with(arity: usize, key: u32, values: [u64; 2]) -> Op {
    match arity {
        0 => Op::Read { key },
        1 => Op::Write { key, value: values[0] },
        _ => Op::Cas {
            key,
            from: values[0],
            to: values[1],
        },
    }
}

/// The node a request goes to first, if given: `via 3` in text, a last node field in compact
/// form.
struct Via(Option<NodeId>);

impl Field for Via {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        if args.take_if("via") {
            Node::parse(args).map(|Node(n)| Via(Some(n)))
        } else {
            Ok(Via(None))
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " via {n}"),
            None => Ok(()),
        }
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        if let Some(n) = self.0 {
            Node(n).encode(out);
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        if fields.is_done() {
            Ok(Via(None))
        } else {
            Node::decode(fields).map(|Node(n)| Via(Some(n)))
        }
    }

    fn check(&self, nodes: u8) -> Result<(), String> {
        self.0.map_or(Ok(()), |n| check_node(n, nodes))
    }
}

/// Longest verb of a chapter command.
pub const MAX_VERB_LEN: usize = 24;

/// Whether `verb` can name a chapter command: a lowercase letter, then lowercase letters,
/// digits and `-`, at most [`MAX_VERB_LEN`] in all.
pub fn is_valid_verb(verb: &str) -> bool {
    verb.len() <= MAX_VERB_LEN
        && verb.starts_with(|c: char| c.is_ascii_lowercase())
        && verb
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_verb(verb: &str) -> Result<(), String> {
    ensure(is_valid_verb(verb), || {
        format!(
            "command {verb:?} must be a lowercase letter, then lowercase letters, digits or '-', \
             at most {MAX_VERB_LEN} in all"
        )
    })
}

/// A chapter command's verb: the same word in both encodings.
struct Verb(String);

impl Field for Verb {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        args.value("a command such as traitor", |s| {
            check_verb(s).map(|()| Verb(s.to_string()))
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        out.field().push_str(&self.0);
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        let (at, s) = fields.expect("a command")?;
        check_verb(s).map_err(|e| cerr(at, e))?;
        Ok(Verb(s.to_string()))
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        check_verb(&self.0)
    }
}

/// A chapter command's optional number: decimal in text, base 36 in compact form.
struct Arg(Option<u64>);

impl Field for Arg {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        if args.toks.get(args.next).is_none() {
            return Ok(Arg(None));
        }
        args.value("a number", |s| {
            dec_u64(s).map(|n| Arg(Some(n))).map_err(|_| {
                format!(
                    "expected a command's number (a decimal up to {}), found {s:?}",
                    u64::MAX
                )
            })
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " {n}"),
            None => Ok(()),
        }
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        if let Some(n) = self.0 {
            push_b36(out.field(), u128::from(n));
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        if fields.is_done() {
            Ok(Arg(None))
        } else {
            fields.number("command number", b36_u64).map(|n| Arg(Some(n)))
        }
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        Ok(())
    }
}

/// A message's trace id: decimal in text, base 36 in compact form.
struct Message(MsgId);

impl Field for Message {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        args.value("a message id", |s| {
            dec_u32(s)
                .map(Message)
                .map_err(|_| format!("expected a message id (a decimal up to {}), found {s:?}", u32::MAX))
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {}", self.0)
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        push_b36(out.field(), u128::from(self.0));
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        fields.number("message id", b36_u32).map(Message)
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        Ok(())
    }
}

/// A client load: `20/s clients 3 keys 2` (`clients` and `keys` optional, in any order) or
/// `off` in text; in compact form nothing for off, the rate alone with the default clients and
/// keys, else rate, clients and keys.
struct Load {
    per_sec: u32,
    clients: u32,
    keys: u32,
}

impl Load {
    const OFF: Load = Load {
        per_sec: 0,
        clients: 0,
        keys: 0,
    };

    fn is_off(&self) -> bool {
        (self.per_sec, self.clients, self.keys) == (0, 0, 0)
    }
}

impl Field for Load {
    fn parse(args: &mut Args<'_, '_>) -> Result<Self, ParseError> {
        let line = args.line;
        let tok = args.expect("a rate such as 20/s, or off")?;
        if tok.s == "off" {
            return Ok(Load::OFF);
        }
        // A count at least 1 and at most its limit; `tok` is where it was written.
        let count = |tok: &Tok<'_>, s: &str, limit: &Limit| match dec_u64(s) {
            Ok(0) => Err(perr(line, tok.col, format!("{} must be at least 1", limit.what))),
            Ok(n) => limit.check(n).map(|()| n as u32).map_err(|e| perr(line, tok.col, e)),
            Err(NumError::TooLarge) => Err(perr(line, tok.col, limit.error(tok.s))),
            Err(_) => Err(perr(
                line,
                tok.col,
                format!("expected {} (a number), found {:?}", limit.what, tok.s),
            )),
        };
        let Some(rate) = tok.s.strip_suffix("/s") else {
            return Err(perr(
                line,
                tok.col,
                format!("expected a rate such as 20/s, or off, found {:?}", tok.s),
            ));
        };
        let per_sec = match dec_u64(rate) {
            Ok(0) => {
                return Err(perr(
                    line,
                    tok.col,
                    "a load rate must be at least 1/s; `load off` stops the load",
                ));
            }
            _ => count(tok, rate, &LOAD_RATE_LIMIT)?,
        };
        let (mut clients, mut keys) = (None, None);
        while let Some(tok) = args.take() {
            let (slot, limit) = match tok.s {
                "clients" => (&mut clients, &LOAD_CLIENTS_LIMIT),
                "keys" => (&mut keys, &LOAD_KEYS_LIMIT),
                other => {
                    return Err(perr(
                        line,
                        tok.col,
                        format!("unexpected {other:?}; expected clients or keys"),
                    ));
                }
            };
            if slot.is_some() {
                return Err(perr(line, tok.col, format!("{:?} is given twice", tok.s)));
            }
            let value = args.expect(limit.what)?;
            *slot = Some(count(value, value.s, limit)?);
        }
        Ok(Load {
            per_sec,
            clients: clients.unwrap_or(DEFAULT_LOAD_CLIENTS),
            keys: keys.unwrap_or(DEFAULT_LOAD_KEYS),
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            f.write_str(" off")
        } else {
            write!(f, " {}/s clients {} keys {}", self.per_sec, self.clients, self.keys)
        }
    }

    fn encode(&self, out: &mut CompactOut<'_>) {
        if self.is_off() {
            return;
        }
        push_b36(out.field(), u128::from(self.per_sec));
        if (self.clients, self.keys) != (DEFAULT_LOAD_CLIENTS, DEFAULT_LOAD_KEYS) {
            push_b36(out.field(), u128::from(self.clients));
            push_b36(out.field(), u128::from(self.keys));
        }
    }

    fn decode(fields: &mut Fields<'_>) -> Result<Self, ParseError> {
        if fields.is_done() {
            return Ok(Load::OFF);
        }
        let per_sec = fields.number("load rate", b36_u32)?;
        let (clients, keys) = if fields.is_done() {
            (DEFAULT_LOAD_CLIENTS, DEFAULT_LOAD_KEYS)
        } else {
            (fields.number("clients", b36_u32)?, fields.number("keys", b36_u32)?)
        };
        Ok(Load { per_sec, clients, keys })
    }

    fn check(&self, _nodes: u8) -> Result<(), String> {
        ensure(
            self.is_off() || (self.per_sec > 0 && self.clients > 0 && self.keys > 0),
            || "a load needs a rate, clients and keys of at least 1 (or all 0 for `load off`)".into(),
        )?;
        LOAD_RATE_LIMIT.check(u64::from(self.per_sec))?;
        LOAD_CLIENTS_LIMIT.check(u64::from(self.clients))?;
        LOAD_KEYS_LIMIT.check(u64::from(self.keys))
    }
}

// ---------------------------------------------------------------------------------------------
// Compact form
// ---------------------------------------------------------------------------------------------

const B36_DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
/// Scales of a compact time: 1s, 100ms, 1ms, 1us.
const TIME_SCALES: [u64; 4] = [1_000_000, 100_000, 1_000, 1];
/// Scales of a compact probability in ppm: 1%, 0.01%, 1ppm.
const PPM_SCALES: [u64; 3] = [10_000, 100, 1];

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn is_b36(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

fn push_b36(out: &mut String, mut v: u128) {
    let mut buf = [0u8; 25]; // 36^25 > u128::MAX
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = B36_DIGITS[(v % 36) as usize];
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.extend(buf[at..].iter().map(|&b| char::from(b)));
}

fn push_scaled(out: &mut String, v: u64, scales: &[u64]) {
    let (unit, mantissa) = scales
        .iter()
        .enumerate()
        .find(|&(_, &scale)| v.is_multiple_of(scale))
        .map_or((0, v), |(unit, &scale)| (unit, v / scale));
    push_b36(out, u128::from(mantissa) * scales.len() as u128 + unit as u128);
}

fn push_escaped(out: &mut String, s: &str, keep: fn(u8) -> bool) {
    for b in s.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('_');
            out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
            out.push(char::from(HEX_DIGITS[usize::from(b & 15)]));
        }
    }
}

fn keep_in_key(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

fn keep_in_value(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

fn push_node(out: &mut String, n: NodeId) {
    push_b36(out, u128::from(n));
}

/// Encodes a script in the compact form for URLs (grammar in the module documentation):
/// only the characters `A-Z a-z 0-9 - . _ ~`, so it needs no percent-encoding. For a valid
/// script, [`decode_compact`] gives the script back; an invalid one is encoded as well as
/// it goes, but may not decode.
pub fn encode_compact(script: &Script) -> String {
    let h = &script.header;
    let mut out = String::with_capacity(16 + 8 * script.actions.len());
    push_escaped(&mut out, &h.protocol, |b| {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
    });
    out.push('.');
    push_b36(&mut out, u128::from(h.nodes));
    push_b36(&mut out, u128::from(h.seed));
    for (key, value) in &h.settings {
        out.push('~');
        push_escaped(&mut out, key, keep_in_key);
        out.push('.');
        push_escaped(&mut out, value, keep_in_value);
    }
    let mut previous = 0;
    for timed in &script.actions {
        out.push('~');
        push_scaled(&mut out, timed.at.as_us().saturating_sub(previous), &TIME_SCALES);
        previous = timed.at.as_us();
        push_action(&mut out, &timed.action);
    }
    out
}

/// An error of the compact form at byte (= character, as it is ASCII by then) offset `at`.
fn cerr(at: usize, message: impl Into<String>) -> ParseError {
    perr(1, to_u32(at.saturating_add(1)), message)
}

fn b36_value(s: &str) -> Result<u128, String> {
    if s.is_empty() {
        return Err("missing number".into());
    }
    let mut v: u128 = 0;
    for b in s.bytes() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'z' => b - b'a' + 10,
            _ => return Err(format!("expected a base-36 number (0-9, a-z), found {s:?}")),
        };
        v = v
            .checked_mul(36)
            .and_then(|v| v.checked_add(u128::from(digit)))
            .ok_or_else(|| format!("number {s} is too large"))?;
    }
    Ok(v)
}

fn b36_u64(s: &str) -> Result<u64, String> {
    u64::try_from(b36_value(s)?).map_err(|_| format!("number {s} is too large"))
}

fn b36_u32(s: &str) -> Result<u32, String> {
    u32::try_from(b36_value(s)?).map_err(|_| format!("number {s} is too large"))
}

fn scaled_value(s: &str, scales: &[u64]) -> Result<u64, String> {
    let d = b36_value(s)?;
    let k = scales.len() as u128;
    let scale = scales[(d % k) as usize];
    u64::try_from(d / k)
        .ok()
        .and_then(|m| m.checked_mul(scale))
        .ok_or_else(|| format!("number {s} is too large"))
}

/// The `.`-separated fields of an action after its opcode, with their offsets.
struct Fields<'a> {
    parts: Vec<(usize, &'a str)>,
    next: usize,
    end: usize,
    /// The action's opcode and its offset.
    op: char,
    op_at: usize,
    /// Which of the action's opcodes `op` is (see [`Field::opcode`]); set by the table.
    opcode: usize,
    /// The cluster size, for node digits.
    nodes: u8,
}

impl<'a> Fields<'a> {
    /// The fields of `rest`, which starts at offset `start`, just past the opcode `op`.
    fn new(rest: &'a str, start: usize, op: char, nodes: u8) -> Self {
        let mut parts = Vec::new();
        if !rest.is_empty() {
            let mut at = start;
            for part in rest.split('.') {
                parts.push((at, part));
                at += part.len() + 1;
            }
        }
        Fields {
            parts,
            next: 0,
            end: start + rest.len(),
            op,
            op_at: start.saturating_sub(1),
            opcode: 0,
            nodes,
        }
    }

    fn is_done(&self) -> bool {
        self.next >= self.parts.len()
    }

    fn take(&mut self) -> Option<(usize, &'a str)> {
        let part = *self.parts.get(self.next)?;
        self.next += 1;
        Some(part)
    }

    fn expect(&mut self, what: &str) -> Result<(usize, &'a str), ParseError> {
        self.take()
            .ok_or_else(|| cerr(self.end, format!("missing {what} in a {:?} action", self.op)))
    }

    fn done(&self) -> Result<(), ParseError> {
        match self.parts.get(self.next) {
            Some(&(at, _)) => Err(cerr(
                at.saturating_sub(1),
                format!("unexpected extra field in a {:?} action", self.op),
            )),
            None => Ok(()),
        }
    }

    fn number<T>(&mut self, what: &str, decode: impl Fn(&str) -> Result<T, String>) -> Result<T, ParseError> {
        let (at, s) = self.expect(what)?;
        decode(s).map_err(|e| cerr(at, format!("{what}: {e}")))
    }

    /// A field of exactly `N` node digits.
    fn nodes<const N: usize>(&mut self) -> Result<[NodeId; N], ParseError> {
        let what = if N == 1 { "a node digit" } else { "two node digits" };
        let (at, s) = self.expect(what)?;
        if s.len() != N {
            return Err(cerr(at, format!("expected {what}, found {s:?}")));
        }
        let mut out = [0; N];
        for (i, (slot, b)) in out.iter_mut().zip(s.bytes()).enumerate() {
            *slot = compact_node(b, at + i, self.nodes)?;
        }
        Ok(out)
    }
}

fn compact_node(b: u8, at: usize, nodes: u8) -> Result<NodeId, ParseError> {
    match b.checked_sub(b'0') {
        Some(n) if (1..=nodes).contains(&n) => Ok(n),
        _ => Err(cerr(
            at,
            format!("expected a node 1..={nodes}, found {:?}", char::from(b)),
        )),
    }
}

fn signed<T>(s: &str, decode: impl Fn(&str) -> Result<T, String>) -> Result<(bool, T), String> {
    match s.strip_prefix('-') {
        Some(rest) => Ok((true, decode(rest)?)),
        None => Ok((false, decode(s)?)),
    }
}

fn decode_header(head: &str) -> Result<Header, ParseError> {
    let Some((protocol, rest)) = head.split_once('.') else {
        return Err(cerr(
            head.len(),
            "expected a header such as raft.516: protocol, '.', node count and seed",
        ));
    };
    if !is_valid_protocol_name(protocol) {
        return Err(cerr(
            0,
            format!("protocol name {protocol:?} must be ASCII letters, digits, '-' or '_'"),
        ));
    }
    let nodes_at = protocol.len() + 1;
    let nodes = match rest.bytes().next() {
        Some(b @ b'1'..=b'9') => b - b'0',
        _ => {
            return Err(cerr(nodes_at, "expected the node count 1..=9 after the protocol name"));
        }
    };
    let seed = b36_u64(&rest[1..]).map_err(|e| cerr(nodes_at + 1, format!("seed: {e}")))?;
    Ok(Header {
        protocol: protocol.to_string(),
        nodes,
        seed,
        settings: Vec::new(),
    })
}

fn unescape(s: &str, start: usize) -> Result<String, ParseError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'_' {
            let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
            match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(cerr(start + i, "expected two hex digits after '_'")),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| cerr(start, "escaped text is not valid UTF-8"))
}

fn decode_setting(item: &str, at: usize) -> Result<(String, String), ParseError> {
    if item.is_empty() {
        return Err(cerr(at, "empty item: two '~' in a row or a '~' at the end"));
    }
    let Some((key, value)) = item.split_once('.') else {
        return Err(cerr(
            at,
            format!("expected a setting (name.value) or an action (such as 4X3), found {item:?}"),
        ));
    };
    let value_at = at + key.len() + 1;
    let key = unescape(key, at)?;
    let value = unescape(value, value_at)?;
    if !is_valid_setting_key(&key) {
        return Err(cerr(
            at,
            format!("setting name {key:?} must be non-empty, without whitespace or '#'"),
        ));
    }
    check_setting(&key, &value).map_err(|e| cerr(value_at, e))?;
    Ok((key, value))
}

fn decode_action(item: &str, at: usize, op_at: usize, now: u64, nodes: u8) -> Result<TimedAction, ParseError> {
    let delta = &item[..op_at];
    let op = char::from(item.as_bytes()[op_at]);
    if delta.is_empty() {
        return Err(cerr(at, format!("missing the time before the opcode {op:?}")));
    }
    let delta = scaled_value(delta, &TIME_SCALES).map_err(|e| cerr(at, format!("time: {e}")))?;
    let time = now.checked_add(delta).ok_or_else(|| cerr(at, "time overflows"))?;
    let mut f = Fields::new(&item[op_at + 1..], at + op_at + 1, op, nodes);
    let action = decode_fields(&mut f)?;
    f.done()?;
    check_action(&action, nodes).map_err(|e| cerr(at, e))?;
    Ok(TimedAction {
        at: SimTime::from_us(time),
        action,
    })
}

/// Decodes the compact form made by [`encode_compact`]. Errors are on line 1, at the
/// 1-based character offset. Never panics; whatever it accepts passes [`Script::validate`].
pub fn decode_compact(s: &str) -> Result<Script, ParseError> {
    if let Some((i, c)) = s.chars().enumerate().find(|&(_, c)| !is_unreserved(c)) {
        return Err(cerr(
            i,
            format!("unexpected character {c:?}; a compact script uses only A-Z a-z 0-9 - . _ ~"),
        ));
    }
    // From here on `s` is ASCII: byte offsets are character offsets.
    let mut items = Vec::new();
    let mut at = 0;
    for item in s.split('~') {
        items.push((at, item));
        at += item.len() + 1;
    }
    let Some((&(_, head), rest)) = items.split_first() else {
        return Err(cerr(0, "empty script"));
    };
    let mut header = decode_header(head)?;
    let mut actions: Vec<TimedAction> = Vec::new();
    for &(at, item) in rest {
        match item.bytes().position(|b| !is_b36(b)) {
            Some(op_at) if item.as_bytes()[op_at].is_ascii_uppercase() => {
                let now = actions.last().map_or(0, |a| a.at.as_us());
                actions.push(decode_action(item, at, op_at, now, header.nodes)?);
            }
            _ => header.settings.push(decode_setting(item, at)?),
        }
    }
    Ok(Script { header, actions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "\
# A leader crash.
protocol raft
nodes 5
seed 42
set prevote on
set latency 10ms..15ms
1s     request 1 write k1 5
2s     crash 3
2.5s   partition 1 2 | 3 4 5
3s     heal
";

    fn at(us: u64, action: Action) -> TimedAction {
        TimedAction {
            at: SimTime::from_us(us),
            action,
        }
    }

    fn example() -> Script {
        Script {
            header: Header {
                protocol: "raft".into(),
                nodes: 5,
                seed: 42,
                settings: vec![("prevote".into(), "on".into()), ("latency".into(), "10ms..15ms".into())],
            },
            actions: vec![
                at(
                    1_000_000,
                    Action::Request {
                        client: 1,
                        op: Op::Write { key: 1, value: 5 },
                        node: None,
                    },
                ),
                at(2_000_000, Action::Crash(3)),
                at(2_500_000, Action::Partition(vec![vec![1, 2], vec![3, 4, 5]])),
                at(3_000_000, Action::Heal),
            ],
        }
    }

    /// Parses one action line in a 5-node cluster.
    fn action(line: &str) -> Action {
        let script = parse(&format!("nodes 5\n0s {line}\n")).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(script.actions.len(), 1);
        script.actions[0].action.clone()
    }

    /// The error of a whole text.
    fn error(text: &str) -> (u32, u32, String) {
        let e = parse(text).expect_err(text);
        (e.line, e.column, e.message)
    }

    /// The error of one action line, on line 2 after `nodes 5`.
    fn action_error(line: &str) -> (u32, String) {
        let e = parse(&format!("nodes 5\n{line}")).expect_err(line);
        assert_eq!(e.line, 2, "{line:?}: {e}");
        (e.column, e.message)
    }

    fn compact_error(s: &str) -> (u32, String) {
        let e = decode_compact(s).expect_err(s);
        assert_eq!(e.line, 1);
        (e.column, e.message)
    }

    #[test]
    fn the_module_example_parses_prints_and_encodes() {
        let script = parse(EXAMPLE).unwrap();
        assert_eq!(script, example());
        assert_eq!(
            script.to_string(),
            "protocol raft\nnodes 5\nseed 42\nset prevote on\nset latency 10ms..15ms\n\
             1s   request 1 write k1 5\n2s   crash 3\n2.5s partition 1 2 | 3 4 5\n3s   heal\n"
        );
        let compact = encode_compact(&script);
        assert_eq!(
            compact,
            "raft.516~prevote.on~latency.10ms..15ms~4W1.1.5~4X3~lP12.345~lH"
        );
        assert_eq!(compact.len(), 62);
        assert_eq!(decode_compact(&compact), Ok(script.clone()));
        assert_eq!(script.validate(), Ok(()));
        assert_eq!(EXAMPLE.parse::<Script>(), Ok(script));
    }

    #[test]
    fn every_action_has_a_text_form() {
        let cases: Vec<(&str, Action, &str)> = vec![
            (
                "partition 1 2 | 3 4 5",
                Action::Partition(vec![vec![1, 2], vec![3, 4, 5]]),
                "",
            ),
            ("partition 3", Action::Partition(vec![vec![3]]), ""),
            (
                "partition 2 1|4 |5",
                Action::Partition(vec![vec![2, 1], vec![4], vec![5]]),
                "partition 2 1 | 4 | 5",
            ),
            ("heal", Action::Heal, ""),
            (
                "cut 1 -> 2",
                Action::Cut {
                    from: 1,
                    to: 2,
                    both: false,
                },
                "",
            ),
            (
                "cut 1 <-> 2",
                Action::Cut {
                    from: 1,
                    to: 2,
                    both: true,
                },
                "",
            ),
            (
                "restore 2 -> 1",
                Action::Restore {
                    from: 2,
                    to: 1,
                    both: false,
                },
                "",
            ),
            (
                "restore 1 <-> 2",
                Action::Restore {
                    from: 1,
                    to: 2,
                    both: true,
                },
                "",
            ),
            ("crash 3", Action::Crash(3), ""),
            ("restart 3", Action::Restart(3), ""),
            ("pause 2", Action::Pause { node: 2, for_us: None }, ""),
            (
                "pause 2 for 300ms",
                Action::Pause {
                    node: 2,
                    for_us: Some(300_000),
                },
                "",
            ),
            (
                "pause 2 for 0.3s",
                Action::Pause {
                    node: 2,
                    for_us: Some(300_000),
                },
                "pause 2 for 300ms",
            ),
            ("resume 2", Action::Resume(2), ""),
            (
                "skew 2 +30ms -100ppm",
                Action::Skew {
                    node: 2,
                    offset_us: 30_000,
                    drift_ppm: -100,
                },
                "",
            ),
            (
                "skew 2 -1.5s +20ppm",
                Action::Skew {
                    node: 2,
                    offset_us: -1_500_000,
                    drift_ppm: 20,
                },
                "",
            ),
            (
                "skew 2 30ms",
                Action::Skew {
                    node: 2,
                    offset_us: 30_000,
                    drift_ppm: 0,
                },
                "skew 2 +30ms +0ppm",
            ),
            (
                "skew 1 +0s +0ppm",
                Action::Skew {
                    node: 1,
                    offset_us: 0,
                    drift_ppm: 0,
                },
                "",
            ),
            (
                "skew 1 -3600s +500000ppm",
                Action::Skew {
                    node: 1,
                    offset_us: -3_600_000_000,
                    drift_ppm: 500_000,
                },
                "",
            ),
            ("loss 5%", Action::Loss { ppm: 50_000 }, ""),
            ("loss 0.5%", Action::Loss { ppm: 5_000 }, ""),
            ("loss 0.0001%", Action::Loss { ppm: 1 }, ""),
            ("loss 100%", Action::Loss { ppm: 1_000_000 }, ""),
            ("loss 12.3400%", Action::Loss { ppm: 123_400 }, "loss 12.34%"),
            ("dup 1%", Action::Dup { ppm: 10_000 }, ""),
            ("dup 0%", Action::Dup { ppm: 0 }, ""),
            (
                "latency 10ms..15ms",
                Action::Latency {
                    min_us: 10_000,
                    max_us: 15_000,
                },
                "",
            ),
            (
                "latency 0s..60s",
                Action::Latency {
                    min_us: 0,
                    max_us: 60_000_000,
                },
                "",
            ),
            (
                "latency 1.25ms..1.25ms",
                Action::Latency {
                    min_us: 1_250,
                    max_us: 1_250,
                },
                "latency 1250us..1250us",
            ),
            (
                "request 1 read k1",
                Action::Request {
                    client: 1,
                    op: Op::Read { key: 1 },
                    node: None,
                },
                "",
            ),
            (
                "request 1 write k1 5",
                Action::Request {
                    client: 1,
                    op: Op::Write { key: 1, value: 5 },
                    node: None,
                },
                "",
            ),
            (
                "request 2 cas k1 5 6",
                Action::Request {
                    client: 2,
                    op: Op::Cas { key: 1, from: 5, to: 6 },
                    node: None,
                },
                "",
            ),
            (
                "request 7 write k0 18446744073709551615 via 3",
                Action::Request {
                    client: 7,
                    op: Op::Write {
                        key: 0,
                        value: u64::MAX,
                    },
                    node: Some(3),
                },
                "",
            ),
            (
                "request 1 read k2 via 5",
                Action::Request {
                    client: 1,
                    op: Op::Read { key: 2 },
                    node: Some(5),
                },
                "",
            ),
            (
                "load 20/s clients 3 keys 2",
                Action::Load {
                    per_sec: 20,
                    clients: 3,
                    keys: 2,
                },
                "",
            ),
            (
                "load 20/s",
                Action::Load {
                    per_sec: 20,
                    clients: 3,
                    keys: 2,
                },
                "load 20/s clients 3 keys 2",
            ),
            (
                "load 5/s keys 9",
                Action::Load {
                    per_sec: 5,
                    clients: 3,
                    keys: 9,
                },
                "load 5/s clients 3 keys 9",
            ),
            (
                "load 1/s keys 4 clients 1",
                Action::Load {
                    per_sec: 1,
                    clients: 1,
                    keys: 4,
                },
                "load 1/s clients 1 keys 4",
            ),
            (
                "load off",
                Action::Load {
                    per_sec: 0,
                    clients: 0,
                    keys: 0,
                },
                "",
            ),
            ("timeout 3", Action::Timeout(3), ""),
            (
                "do 3 traitor",
                Action::Command {
                    node: 3,
                    verb: "traitor".into(),
                    arg: None,
                },
                "",
            ),
            (
                "do 1 send 2",
                Action::Command {
                    node: 1,
                    verb: "send".into(),
                    arg: Some(2),
                },
                "",
            ),
            ("drop 17", Action::Drop(17), ""),
        ];
        for (line, expected, canonical) in cases {
            assert_eq!(action(line), expected, "{line:?}");
            let canonical = if canonical.is_empty() { line } else { canonical };
            assert_eq!(expected.to_string(), canonical);
            assert_eq!(action(canonical), expected);
        }
    }

    #[test]
    fn times_are_decimal_durations() {
        let cases = [
            ("0s", 0),
            ("1s", 1_000_000),
            ("1.5s", 1_500_000),
            ("150ms", 150_000),
            ("1.25ms", 1_250),
            ("20us", 20),
            ("007ms", 7_000),
            ("1.000000000s", 1_000_000),
            ("0.000001s", 1),
            ("18446744073709551615us", u64::MAX),
            ("18446744073709.551615s", u64::MAX),
        ];
        for (text, us) in cases {
            let script = parse(&format!("{text} heal")).unwrap();
            assert_eq!(script.actions[0].at, SimTime::from_us(us), "{text}");
        }
    }

    #[test]
    fn header_lines_comments_and_defaults() {
        let script = parse("").unwrap();
        assert_eq!(script, Script::default());
        let script = parse(
            "\u{feff}# only comments\n\n   \t\nprotocol multi-paxos # trailing comment\r\nseed 18446744073709551615\n\
             set variant  figure8 \nset note two  words\tand µ\n1s heal # why\nnodes 3\n",
        )
        .unwrap();
        assert_eq!(script.header.protocol, "multi-paxos");
        assert_eq!(script.header.nodes, 3);
        assert_eq!(script.header.seed, u64::MAX);
        assert_eq!(
            script.header.settings,
            vec![
                ("variant".into(), "figure8".into()),
                ("note".into(), "two  words\tand µ".into())
            ]
        );
        assert_eq!(script.actions, vec![at(1_000_000, Action::Heal)]);
        // Actions at the same time keep their order.
        let script = parse("1s crash 1\n1s restart 1\n1s crash 2").unwrap();
        let kinds: Vec<String> = script.actions.iter().map(|a| a.action.to_string()).collect();
        assert_eq!(kinds, ["crash 1", "restart 1", "crash 2"]);
    }

    #[test]
    fn header_errors() {
        let cases: [(&str, u32, u32, &str); 14] = [
            ("protocol", 1, 9, "missing a protocol name after \"protocol\""),
            (
                "protocol raft paxos",
                1,
                15,
                "unexpected \"paxos\" after a protocol name",
            ),
            (
                "protocol ra/ft",
                1,
                10,
                "protocol name \"ra/ft\" must be ASCII letters, digits, '-' or '_'",
            ),
            (
                "protocol raft\nprotocol paxos",
                2,
                1,
                "a second \"protocol\" line; the header may say it only once",
            ),
            ("nodes 0", 1, 7, "nodes 0 is out of range 1..=9"),
            ("nodes 10", 1, 7, "nodes 10 is out of range 1..=9"),
            (
                "nodes 99999999999999999999999",
                1,
                7,
                "nodes 99999999999999999999999 is out of range 1..=9",
            ),
            ("nodes five", 1, 7, "expected a node count 1..=9, found \"five\""),
            (
                "seed 18446744073709551616",
                1,
                6,
                "seed 18446744073709551616 is too large (at most 18446744073709551615)",
            ),
            ("seed -1", 1, 6, "expected a seed (a decimal number), found \"-1\""),
            ("set", 1, 4, "missing setting name after \"set\""),
            ("set prevote   # on", 1, 12, "missing value for setting \"prevote\""),
            (
                "crash 3",
                1,
                1,
                "missing time before \"crash\"; a timed line starts with a time such as 1.5s",
            ),
            (
                "protcol raft",
                1,
                1,
                "unknown line \"protcol\"; expected protocol, nodes, seed, set, or a time such as 1.5s",
            ),
        ];
        for (text, line, column, message) in cases {
            assert_eq!(error(text), (line, column, message.to_string()), "{text:?}");
        }
    }

    #[test]
    fn node_ranges_follow_the_nodes_line() {
        // Before a `nodes` line, 1..=9; a later `nodes` line must cover what was used.
        assert_eq!(
            error("1s crash 7\nnodes 5"),
            (2, 7, "nodes 5 is too few: node 7 is used on line 1".into())
        );
        assert!(parse("1s crash 7\nnodes 7").is_ok());
        // Without a `nodes` line the cluster has the default 5 nodes.
        assert_eq!(
            error("1s crash 2\n2s   crash 6\n3s crash 6"),
            (
                2,
                12,
                "node 6 is out of range 1..=5 (the default cluster size; add a `nodes` line)".into()
            )
        );
        assert_eq!(error("0s crash 10"), (1, 10, "node 10 is out of range 1..=9".into()));
        assert_eq!(
            error("nodes 3\n0s crash 4"),
            (2, 10, "node 4 is out of range 1..=3".into())
        );
        assert_eq!(
            error("2s heal\n1s heal"),
            (
                2,
                1,
                "time 1s is before the previous action's time 2s; actions must be in time order".into()
            )
        );
    }

    #[test]
    fn action_errors_name_the_token() {
        let cases: Vec<(&str, u32, &str)> = vec![
            (
                "1s crsh 3",
                4,
                "unknown action \"crsh\"; expected one of partition, heal, cut, restore, crash, restart, pause, \
                 resume, skew, loss, dup, latency, request, load, timeout, do, drop",
            ),
            ("1s   crash 7", 12, "node 7 is out of range 1..=5"),
            ("1s crash 0", 10, "node 0 is out of range 1..=5"),
            (
                "1s crash 18446744073709551616",
                10,
                "node 18446744073709551616 is out of range 1..=5",
            ),
            ("1s crash x", 10, "expected a node id 1..=5, found \"x\""),
            ("1s crash", 9, "missing a node id after \"crash\""),
            ("1s crash 3 4", 12, "unexpected \"4\" after \"3\""),
            ("1s heal now", 9, "unexpected \"now\" after \"heal\""),
            ("1s", 3, "missing action after the time \"1s\""),
            (
                "1x heal",
                1,
                "\"1x\" is not a duration; write it like 150ms, 1.5s or 20us",
            ),
            (
                "1.s heal",
                1,
                "\"1.s\" is not a duration; write it like 150ms, 1.5s or 20us",
            ),
            (
                "1µs heal",
                1,
                "\"1µs\" is not a duration; write it like 150ms, 1.5s or 20us",
            ),
            ("1.5us heal", 1, "\"1.5us\" is finer than a microsecond"),
            ("1.0000001s heal", 1, "\"1.0000001s\" is finer than a microsecond"),
            (
                "18446744073709.551616s heal",
                1,
                "\"18446744073709.551616s\" is too long",
            ),
            (
                "1s partition",
                13,
                "missing groups of nodes after \"partition\", such as 1 2 | 3 4 5",
            ),
            ("1s partition 1 2 | 2", 20, "node 2 appears twice in the partition"),
            ("1s partition | 1", 14, "empty group before \"|\""),
            ("1s partition 1 | | 2", 18, "empty group before \"|\""),
            ("1s partition 1 2|", 17, "empty group after \"|\""),
            ("1s partition 1 2|x", 18, "expected a node id 1..=5, found \"x\""),
            ("1s cut 1 2", 10, "expected \"->\" or \"<->\", found \"2\""),
            ("1s cut 1 ->", 12, "missing a node id after \"->\""),
            ("1s cut 2 <-> 2", 14, "a link needs two different nodes, found 2 <-> 2"),
            ("1s restore 1 => 2", 14, "expected \"->\" or \"<->\", found \"=>\""),
            (
                "1s pause 2 for",
                15,
                "missing a duration such as 1.5s, 150ms or 20us after \"for\"",
            ),
            ("1s pause 2 for 0ms", 16, "a pause must last longer than 0s"),
            ("1s pause 2 300ms", 12, "unexpected \"300ms\" after \"2\""),
            ("1s skew 2", 10, "missing a clock offset such as +30ms after \"2\""),
            ("1s skew 2 +", 11, "expected a clock offset such as +30ms, found \"+\""),
            ("1s skew 2 +3601s", 11, "clock offset +3601s is out of range -1h..=+1h"),
            (
                "1s skew 2 +1ms 100",
                16,
                "expected a clock drift such as -100ppm, found \"100\"",
            ),
            (
                "1s skew 2 +1ms -500001ppm",
                16,
                "clock drift -500001ppm is out of range -500000..=+500000ppm",
            ),
            (
                "1s skew 2 +1ms +99999999999999999999ppm",
                16,
                "clock drift +99999999999999999999ppm is out of range -500000..=+500000ppm",
            ),
            ("1s loss 5", 9, "expected a percentage such as 5% or 0.5%, found \"5\""),
            ("1s loss 100.01%", 9, "100.01% is out of range 0%..=100%"),
            ("1s dup 0.00001%", 8, "percentage 0.00001% has more than 4 decimals"),
            (
                "1s dup -1%",
                8,
                "expected a percentage such as 5% or 0.5%, found \"-1%\"",
            ),
            (
                "1s latency 10ms",
                12,
                "expected a latency range such as 10ms..15ms, found \"10ms\"",
            ),
            (
                "1s latency 10ms..1x",
                18,
                "\"1x\" is not a duration; write it like 150ms, 1.5s or 20us",
            ),
            (
                "1s latency 15ms..10ms",
                12,
                "latency range is empty: 15ms is more than 10ms",
            ),
            ("1s latency 1s..61s", 16, "latency 61s is above the maximum 60s"),
            ("1s request", 11, "missing a client id after \"request\""),
            (
                "1s request x read k1",
                12,
                "expected a client id such as 1, found \"x\"",
            ),
            (
                "1s request 4294967296 read k1",
                12,
                "client id 4294967296 is too large (at most 4294967295)",
            ),
            (
                "1s request 1 delete k1",
                14,
                "unknown operation \"delete\"; expected read, write or cas",
            ),
            ("1s request 1 read 1", 19, "expected a key such as k1, found \"1\""),
            ("1s request 1 read k", 19, "expected a key such as k1, found \"k\""),
            (
                "1s request 1 read k4294967296",
                19,
                "key k4294967296 is too large (at most k4294967295)",
            ),
            ("1s request 1 write k1", 22, "missing a value after \"k1\""),
            (
                "1s request 1 cas k1 5 x",
                23,
                "expected a value (a decimal number), found \"x\"",
            ),
            ("1s request 1 read k1 via 6", 26, "node 6 is out of range 1..=5"),
            ("1s request 1 read k1 at 2", 22, "unexpected \"at\" after \"k1\""),
            ("1s load", 8, "missing a rate such as 20/s, or off after \"load\""),
            ("1s load 20", 9, "expected a rate such as 20/s, or off, found \"20\""),
            (
                "1s load 0/s",
                9,
                "a load rate must be at least 1/s; `load off` stops the load",
            ),
            ("1s load 5/s clients 0", 21, "the number of clients must be at least 1"),
            ("1s load 5/s keys 2 keys 3", 20, "\"keys\" is given twice"),
            (
                "1s load 5/s users 2",
                13,
                "unexpected \"users\"; expected clients or keys",
            ),
            (
                "1s load 5/s clients",
                20,
                "missing the number of clients after \"clients\"",
            ),
            ("1s load off now", 13, "unexpected \"now\" after \"off\""),
            ("1s timeout", 11, "missing a node id after \"timeout\""),
            ("1s do 2", 8, "missing a command such as traitor after \"2\""),
            (
                "1s do 2 Traitor",
                9,
                "command \"Traitor\" must be a lowercase letter, then lowercase letters, digits or '-', at most 24 \
                 in all",
            ),
            (
                "1s do 2 send x",
                14,
                "expected a command's number (a decimal up to 18446744073709551615), found \"x\"",
            ),
            ("1s do 2 send 3 4", 16, "unexpected \"4\" after \"3\""),
            ("1s drop", 8, "missing a message id after \"drop\""),
        ];
        for (line, column, message) in cases {
            assert_eq!(action_error(line), (column, message.to_string()), "{line:?}");
        }
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // U+3000 is whitespace of three bytes; `é` is two bytes.
        assert_eq!(
            error("nodes 5\n0s\u{3000}crash\u{3000}7"),
            (2, 10, "node 7 is out of range 1..=5".into())
        );
        assert_eq!(
            error("set é x\n0s crash ü"),
            (2, 10, "expected a node id 1..=9, found \"ü\"".into())
        );
        assert_eq!(
            error("0s partition 1 ∣ 2"),
            (1, 16, "expected a node id 1..=9, found \"∣\"".into()),
        );
        let not_a_duration = "\"ééé\" is not a duration; write it like 150ms, 1.5s or 20us";
        assert_eq!(error("0s latency ééé..x"), (1, 12, not_a_duration.into()));
        assert_eq!(error("0s latency 1ms..ééé"), (1, 17, not_a_duration.into()));
    }

    #[test]
    fn compact_forms_of_every_action() {
        let cases: Vec<(Action, &str)> = vec![
            (Action::Partition(vec![vec![1, 2], vec![3, 4, 5]]), "P12.345"),
            (Action::Heal, "H"),
            (
                Action::Cut {
                    from: 1,
                    to: 2,
                    both: false,
                },
                "C12",
            ),
            (
                Action::Cut {
                    from: 2,
                    to: 1,
                    both: true,
                },
                "B21",
            ),
            (
                Action::Restore {
                    from: 1,
                    to: 2,
                    both: false,
                },
                "U12",
            ),
            (
                Action::Restore {
                    from: 1,
                    to: 2,
                    both: true,
                },
                "V12",
            ),
            (Action::Crash(3), "X3"),
            (Action::Restart(3), "S3"),
            (Action::Pause { node: 2, for_us: None }, "Z2"),
            (
                Action::Pause {
                    node: 2,
                    for_us: Some(300_000),
                },
                "Z2.d",
            ),
            (Action::Resume(2), "E2"),
            (
                Action::Skew {
                    node: 2,
                    offset_us: 30_000,
                    drift_ppm: -100,
                },
                "K2.3e.-2s",
            ),
            (
                Action::Skew {
                    node: 2,
                    offset_us: -1_500_000,
                    drift_ppm: 0,
                },
                "K2.-1p.0",
            ),
            (Action::Loss { ppm: 50_000 }, "Lf"),
            (Action::Loss { ppm: 5_000 }, "L47"),
            (Action::Dup { ppm: 1 }, "D5"),
            (
                Action::Latency {
                    min_us: 10_000,
                    max_us: 15_000,
                },
                "N16.1q",
            ),
            (
                Action::Request {
                    client: 1,
                    op: Op::Read { key: 1 },
                    node: None,
                },
                "R1.1",
            ),
            (
                Action::Request {
                    client: 1,
                    op: Op::Write { key: 1, value: 5 },
                    node: Some(3),
                },
                "W1.1.5.3",
            ),
            (
                Action::Request {
                    client: 2,
                    op: Op::Cas { key: 1, from: 5, to: 6 },
                    node: None,
                },
                "A2.1.5.6",
            ),
            (
                Action::Load {
                    per_sec: 20,
                    clients: 3,
                    keys: 2,
                },
                "Gk",
            ),
            (
                Action::Load {
                    per_sec: 20,
                    clients: 4,
                    keys: 2,
                },
                "Gk.4.2",
            ),
            (
                Action::Load {
                    per_sec: 0,
                    clients: 0,
                    keys: 0,
                },
                "G",
            ),
            (Action::Timeout(3), "T3"),
            (
                Action::Command {
                    node: 3,
                    verb: "fail-step".into(),
                    arg: None,
                },
                "Q3.fail-step",
            ),
            (
                Action::Command {
                    node: 1,
                    verb: "write".into(),
                    arg: Some(71),
                },
                "Q1.write.1z",
            ),
            (Action::Drop(71), "Y1z"),
        ];
        for (action, code) in cases {
            let script = Script {
                actions: vec![at(0, action)],
                ..Script::default()
            };
            let compact = encode_compact(&script);
            assert_eq!(compact, format!("raft.51~0{code}"));
            assert_eq!(decode_compact(&compact), Ok(script));
        }
    }

    #[test]
    fn compact_times_are_scaled_deltas() {
        let times = [0, 1_000_000, 1_500_000, 1_510_000, 1_510_001, 61_510_001, u64::MAX];
        let script = Script {
            actions: times.iter().map(|&us| at(us, Action::Heal)).collect(),
            ..Script::default()
        };
        let compact = encode_compact(&script);
        // 0, +1s (4), +500ms (l), +10ms (16), +1us (7), +60s (6o), + the rest in us.
        assert!(compact.starts_with("raft.51~0H~4H~lH~16H~7H~6oH~"), "{compact}");
        assert_eq!(decode_compact(&compact), Ok(script));
    }

    #[test]
    fn compact_settings_are_escaped() {
        let script = Script {
            header: Header {
                protocol: "two_phase-2".into(),
                nodes: 9,
                seed: 0,
                settings: vec![
                    ("latency".into(), "10ms..15ms".into()),
                    ("client-timeout".into(), "2s".into()),
                    ("Odd.Key~_".into(), "a b~c_d%é".into()),
                    ("x".into(), "FIGURE8".into()),
                ],
            },
            actions: vec![],
        };
        let compact = encode_compact(&script);
        assert_eq!(
            compact,
            "two_phase-2.90~latency.10ms..15ms~client-timeout.2s~_4Fdd_2E_4Bey_7E_5F.a_20b_7Ec_5Fd_25_C3_A9~x.FIGURE8"
        );
        assert_eq!(decode_compact(&compact), Ok(script));
    }

    #[test]
    fn compact_errors() {
        let cases: [(&str, u32, &str); 26] = [
            (
                "",
                1,
                "expected a header such as raft.516: protocol, '.', node count and seed",
            ),
            (
                "raft",
                5,
                "expected a header such as raft.516: protocol, '.', node count and seed",
            ),
            (".51", 1, "protocol name \"\" must be ASCII letters, digits, '-' or '_'"),
            ("raft.0", 6, "expected the node count 1..=9 after the protocol name"),
            ("raft.5", 7, "seed: missing number"),
            (
                "raft.5zzzzzzzzzzzzzzzzz",
                7,
                "seed: number zzzzzzzzzzzzzzzzz is too large",
            ),
            (
                "raft.51 ~0H",
                8,
                "unexpected character ' '; a compact script uses only A-Z a-z 0-9 - . _ ~",
            ),
            (
                "raft.51~0H~é",
                12,
                "unexpected character 'é'; a compact script uses only A-Z a-z 0-9 - . _ ~",
            ),
            ("raft.51~", 9, "empty item: two '~' in a row or a '~' at the end"),
            ("raft.51~0H~~0H", 12, "empty item: two '~' in a row or a '~' at the end"),
            (
                "raft.51~prevote",
                9,
                "expected a setting (name.value) or an action (such as 4X3), found \"prevote\"",
            ),
            ("raft.51~a.b_4", 12, "expected two hex digits after '_'"),
            ("raft.51~a.b_FF", 11, "escaped text is not valid UTF-8"),
            (
                "raft.51~a._20b",
                11,
                "value \" b\" of setting \"a\" must be non-empty, without surrounding whitespace, line breaks or '#'",
            ),
            ("raft.51~H", 9, "missing the time before the opcode 'H'"),
            (
                "raft.51~0J3",
                10,
                "unknown opcode 'J'; expected one of P H C B U V X S Z E K L D N R W A G T Q Y",
            ),
            ("raft.51~0X6", 11, "expected a node 1..=5, found '6'"),
            ("raft.51~0Q3", 12, "missing a command in a 'Q' action"),
            (
                "raft.51~0Q3.Send",
                13,
                "command \"Send\" must be a lowercase letter, then lowercase letters, digits or '-', at most 24 in all",
            ),
            ("raft.51~0X", 11, "missing a node digit in a 'X' action"),
            ("raft.51~0X3.1", 12, "unexpected extra field in a 'X' action"),
            ("raft.51~0C11", 9, "a link needs two different nodes, found 1 and 1"),
            ("raft.51~0P12.2", 9, "node 2 appears twice in the partition"),
            ("raft.51~0P1..2", 13, "empty partition group"),
            (
                "raft.51~4H~zzzzzzzzzzzzzzH",
                12,
                "time: number zzzzzzzzzzzzzz is too large",
            ),
            ("raft.51~0W1.1.5.3.2", 18, "unexpected extra field in a 'W' action"),
        ];
        for (s, column, message) in cases {
            assert_eq!(compact_error(s), (column, message.to_string()), "{s:?}");
        }
        let mut half = String::new();
        push_scaled(&mut half, 1 << 63, &TIME_SCALES);
        assert_eq!(
            compact_error(&format!("raft.51~{half}H~{half}H")),
            (to_u32(half.len()) + 11, "time overflows".into())
        );
        assert_eq!(
            compact_error("raft.51~0N1p.4"),
            (9, "latency range is empty: 1.5s is more than 1s".into())
        );
        assert_eq!(
            compact_error("raft.51~0L8f"),
            (9, "101% is out of range 0%..=100%".into())
        );
        assert_eq!(
            compact_error("raft.51~0G0"),
            (
                9,
                "a load needs a rate, clients and keys of at least 1 (or all 0 for `load off`)".into()
            )
        );
    }

    /// `load ... clients N` took any u32: a link with four billion clients overflowed the
    /// engine's client ids and froze the page. Both encodings and `validate` now refuse it.
    #[test]
    fn load_clients_are_bounded() {
        assert_eq!(
            action_error("1s load 5/s clients 4294967295"),
            (21, "the number of clients 4294967295 is above the maximum 100".into())
        );
        assert_eq!(
            compact_error("raft.51~0G5.1z141z3.2"),
            (9, "the number of clients 4294967295 is above the maximum 100".into())
        );
        let script = Script {
            actions: vec![at(
                0,
                Action::Load {
                    per_sec: 5,
                    clients: u32::MAX,
                    keys: 2,
                },
            )],
            ..Script::default()
        };
        assert_eq!(
            script.validate(),
            Err("action 1 (load 5/s clients 4294967295 keys 2): the number of clients 4294967295 is above the maximum 100".into())
        );
    }

    #[test]
    fn every_numeric_field_names_its_limit() {
        let text: [(&str, u32, &str); 8] = [
            (
                "1s pause 2 for 3601s",
                16,
                "pause duration 3601s is above the maximum 3600s",
            ),
            (
                "1s pause 2 for 1h",
                16,
                "\"1h\" is not a duration; write it like 150ms, 1.5s or 20us",
            ),
            ("1s load 1001/s", 9, "the load rate 1001/s is above the maximum 1000/s"),
            (
                "1s load 99999999999999999999/s",
                9,
                "the load rate 99999999999999999999/s is above the maximum 1000/s",
            ),
            (
                "1s load 5/s clients 101",
                21,
                "the number of clients 101 is above the maximum 100",
            ),
            (
                "1s load 5/s clients 99999999999999999999",
                21,
                "the number of clients 99999999999999999999 is above the maximum 100",
            ),
            (
                "1s load 5/s keys 1001",
                18,
                "the number of keys 1001 is above the maximum 1000",
            ),
            (
                "1s load 5/s keys x",
                18,
                "expected the number of keys (a number), found \"x\"",
            ),
        ];
        for (line, column, message) in text {
            assert_eq!(action_error(line), (column, message.to_string()), "{line:?}");
        }
        // The limits themselves are accepted.
        assert_eq!(
            action("pause 1 for 3600s"),
            Action::Pause {
                node: 1,
                for_us: Some(MAX_PAUSE_US)
            }
        );
        assert_eq!(
            action("load 1000/s clients 100 keys 1000"),
            Action::Load {
                per_sec: MAX_LOAD_RATE,
                clients: MAX_LOAD_CLIENTS,
                keys: MAX_LOAD_KEYS
            }
        );
        let compact: [(&str, &str); 4] = [
            ("raft.51~0Z2.b44", "pause duration 3601s is above the maximum 3600s"),
            ("raft.51~0Grt", "the load rate 1001/s is above the maximum 1000/s"),
            ("raft.51~0G5.2t.2", "the number of clients 101 is above the maximum 100"),
            ("raft.51~0G5.3.rt", "the number of keys 1001 is above the maximum 1000"),
        ];
        for (s, message) in compact {
            assert_eq!(compact_error(s), (9, message.to_string()), "{s:?}");
        }
    }

    /// Share links written by the encoder before it was driven by the action table (captured
    /// from that encoder): they must decode to the same scripts and encode to the same strings.
    #[test]
    fn share_links_from_before_the_action_table_still_decode() {
        let cases = [
            (
                "protocol raft\nnodes 5\nseed 42\nset prevote on\nset latency 10ms..15ms\n0s load 20/s\n\
                 1s request 1 write k1 5 via 3\n1s request 2 read k7\n1.5s request 3 cas k1 5 6 via 1\n2s crash 3\n\
                 2.5s partition 1 2 | 3 4 5\n3s heal\n3s restart 3\n4s load off",
                "raft.516~prevote.on~latency.10ms..15ms~0Gk~4W1.1.5.3~0R2.7~lA3.1.5.6.1~lX3~lP12.345~lH~0S3~4G",
            ),
            (
                "protocol multi-paxos\nnodes 7\nseed 18446744073709551615\nset variant figure8\nset note a b%c\n\
                 0s cut 1 -> 2\n10ms cut 3 <-> 4\n10.001ms restore 2 -> 1\n1s restore 4 <-> 3\n1s pause 2 for 300ms\n\
                 1.2s pause 5\n2s resume 5\n2s skew 6 -1.5s +20ppm\n2s skew 7 +30ms -100ppm\n3s loss 5%\n\
                 3s dup 0.0001%\n3s latency 1.25ms..60s\n4s timeout 1\n5s load 7/s clients 4 keys 9\n\
                 61s partition 7 | 1 2 3 | 4",
                "multi-paxos.73w5e11264sgsf~variant.figure8~note.a_20b_25c~0C12~16B34~7U21~2cvjzV43~0Z2.d~9Z5~xE5~\
                 0K6.-1p.k~0K7.3e.-2s~4Lf~0D5~0N3uz.6o~4T1~4G7.4.9~68P7.123.4",
            ),
            (
                "protocol paxos\nnodes 1\nseed 0\n0s timeout 1\n0s skew 1 -3600s -500000ppm\n18446744073709551615us heal",
                "paxos.10~0T1~0K1.-b40.-apsw~fklk448oj5v5rH",
            ),
        ];
        for (text, compact) in cases {
            let script = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(decode_compact(compact), Ok(script.clone()), "{compact}");
            assert_eq!(encode_compact(&script), compact);
        }
    }

    #[test]
    fn validate_rejects_what_the_encodings_cannot_hold() {
        let mut script = example();
        assert_eq!(script.validate(), Ok(()));
        script.header.nodes = 2;
        assert_eq!(
            script.validate(),
            Err("action 2 (crash 3): node 3 is out of range 1..=2".into())
        );
        let mut script = example();
        script.actions.swap(0, 1);
        assert!(
            script
                .validate()
                .unwrap_err()
                .contains("comes before the previous action")
        );
        let mut script = example();
        script.header.settings.push(("a b".into(), "c".into()));
        assert!(script.validate().is_err());
        let mut script = example();
        script.header.settings.push(("a".into(), "c # d".into()));
        assert!(script.validate().is_err());
        let mut script = example();
        script.header.protocol = "raft v2".into();
        assert!(script.validate().is_err());
    }

    // ----- property tests -----

    fn arb_time() -> impl Strategy<Value = u64> {
        prop_oneof![
            (0u64..100).prop_map(|s| s * 1_000_000),
            (0u64..1_000).prop_map(|d| d * 100_000),
            (0u64..100_000).prop_map(|ms| ms * 1_000),
            0u64..10_000_000,
            any::<u64>(),
        ]
    }

    fn arb_ppm() -> impl Strategy<Value = u32> {
        prop_oneof![
            (0u32..=100).prop_map(|p| p * 10_000),
            (0u32..=10_000).prop_map(|p| p * 100),
            0u32..=PPM_ONE
        ]
    }

    fn arb_partition(nodes: u8) -> impl Strategy<Value = Action> {
        let all: Vec<NodeId> = (1..=nodes).collect();
        (
            Just(all).prop_shuffle(),
            prop::collection::vec(0..=nodes, usize::from(nodes)),
        )
            .prop_map(|(order, labels)| {
                // Label `l` puts a node in group `l`, the highest label leaves it out.
                let mut groups: Vec<(u8, Vec<NodeId>)> = Vec::new();
                for (&n, &label) in order.iter().zip(&labels) {
                    if label == labels.len() as u8 {
                        continue;
                    }
                    match groups.iter_mut().find(|(l, _)| *l == label) {
                        Some((_, group)) => group.push(n),
                        None => groups.push((label, vec![n])),
                    }
                }
                if groups.is_empty() {
                    groups.push((0, vec![order[0]]));
                }
                Action::Partition(groups.into_iter().map(|(_, g)| g).collect())
            })
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u32>().prop_map(|key| Op::Read { key }),
            (any::<u32>(), any::<u64>()).prop_map(|(key, value)| Op::Write { key, value }),
            (0u32..4, 0u64..10, 0u64..10).prop_map(|(key, from, to)| Op::Cas { key, from, to }),
            (any::<u32>(), any::<u64>(), any::<u64>()).prop_map(|(key, from, to)| Op::Cas { key, from, to }),
        ]
    }

    fn arb_action(nodes: u8) -> BoxedStrategy<Action> {
        let node = 1..=nodes;
        let offset = prop_oneof![
            (-3_600i64..=3_600).prop_map(|s| s * 1_000_000),
            (-100_000i64..=100_000).prop_map(|ms| ms * 1_000),
            -(MAX_SKEW_OFFSET_US as i64)..=MAX_SKEW_OFFSET_US as i64,
        ];
        let drift = -(MAX_DRIFT_PPM as i32)..=MAX_DRIFT_PPM as i32;
        let latency = (0..=MAX_LATENCY_US, prop_oneof![arb_time(), 0..=MAX_LATENCY_US]).prop_map(|(a, b)| {
            let b = b % (MAX_LATENCY_US + 1);
            Action::Latency {
                min_us: a.min(b),
                max_us: a.max(b),
            }
        });
        let load = prop_oneof![
            Just(Action::Load {
                per_sec: 0,
                clients: 0,
                keys: 0
            }),
            (1u32..100).prop_map(|per_sec| Action::Load {
                per_sec,
                clients: 3,
                keys: 2
            }),
            (1..=MAX_LOAD_RATE, 1..=MAX_LOAD_CLIENTS, 1..=MAX_LOAD_KEYS)
                .prop_map(|(per_sec, clients, keys)| { Action::Load { per_sec, clients, keys } }),
        ];
        let mut choices: Vec<BoxedStrategy<Action>> = vec![
            arb_partition(nodes).boxed(),
            Just(Action::Heal).boxed(),
            node.clone().prop_map(Action::Crash).boxed(),
            node.clone().prop_map(Action::Restart).boxed(),
            node.clone().prop_map(Action::Resume).boxed(),
            node.clone().prop_map(Action::Timeout).boxed(),
            (node.clone(), "[a-z][a-z0-9-]{0,23}", prop::option::of(any::<u64>()))
                .prop_map(|(node, verb, arg)| Action::Command { node, verb, arg })
                .boxed(),
            any::<u32>().prop_map(Action::Drop).boxed(),
            (
                node.clone(),
                prop::option::of(arb_time().prop_map(|t| t.clamp(1, MAX_PAUSE_US))),
            )
                .prop_map(|(node, for_us)| Action::Pause { node, for_us })
                .boxed(),
            (node.clone(), offset, drift)
                .prop_map(|(node, offset_us, drift_ppm)| Action::Skew {
                    node,
                    offset_us,
                    drift_ppm,
                })
                .boxed(),
            arb_ppm().prop_map(|ppm| Action::Loss { ppm }).boxed(),
            arb_ppm().prop_map(|ppm| Action::Dup { ppm }).boxed(),
            latency.boxed(),
            (any::<u32>(), arb_op(), prop::option::of(node.clone()))
                .prop_map(|(client, op, node)| Action::Request { client, op, node })
                .boxed(),
            load.boxed(),
        ];
        if nodes >= 2 {
            choices.push(
                (node.clone(), node, any::<bool>(), any::<bool>())
                    .prop_filter("two different nodes", |(a, b, _, _)| a != b)
                    .prop_map(|(from, to, both, cut)| {
                        if cut {
                            Action::Cut { from, to, both }
                        } else {
                            Action::Restore { from, to, both }
                        }
                    })
                    .boxed(),
            );
        }
        proptest::strategy::Union::new(choices).boxed()
    }

    fn arb_setting() -> impl Strategy<Value = (String, String)> {
        prop_oneof![
            ("[a-z][a-z-]{0,12}", "[a-z0-9.]{1,12}"),
            (any::<String>(), any::<String>()).prop_map(|(key, value)| {
                let key: String = key.chars().filter(|c| !c.is_whitespace() && *c != '#').collect();
                let value = value.replace(['\n', '#'], "");
                let value = value.trim();
                (
                    if key.is_empty() { "k".to_string() } else { key },
                    if value.is_empty() {
                        "v".to_string()
                    } else {
                        value.to_string()
                    },
                )
            }),
        ]
    }

    fn arb_script() -> impl Strategy<Value = Script> {
        let header = (
            "[A-Za-z0-9_-]{1,12}",
            1..=MAX_NODES,
            any::<u64>(),
            prop::collection::vec(arb_setting(), 0..4),
        )
            .prop_map(|(protocol, nodes, seed, settings)| Header {
                protocol,
                nodes,
                seed,
                settings,
            });
        header.prop_flat_map(|header| {
            let actions = prop::collection::vec((arb_time(), arb_action(header.nodes)), 0..12);
            (Just(header), actions).prop_map(|(header, mut actions)| {
                actions.sort_by_key(|(t, _)| *t);
                let actions = actions.into_iter().map(|(t, action)| at(t, action)).collect();
                Script { header, actions }
            })
        })
    }

    /// Whatever a parser accepts is valid, and both encodings give it back.
    fn assert_accepted_is_sound(script: &Script) -> Result<(), TestCaseError> {
        prop_assert_eq!(script.validate(), Ok(()));
        let text = parse(&script.to_string());
        prop_assert_eq!(text.as_ref(), Ok(script));
        let compact = decode_compact(&encode_compact(script));
        prop_assert_eq!(compact.as_ref(), Ok(script));
        Ok(())
    }

    fn mutate(bytes: &mut Vec<u8>, edits: &[(usize, u8, u8)]) {
        for &(pos, kind, byte) in edits {
            let len = bytes.len();
            match kind {
                0 if len > 0 => bytes[pos % len] = byte,
                1 => bytes.insert(pos % (len + 1), byte),
                2 if len > 0 => {
                    bytes.remove(pos % len);
                }
                _ => {}
            }
        }
    }

    fn arb_edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
        let byte = prop_oneof![
            any::<u8>(),
            prop::sample::select(b"0123456789abcdefzSPHCXW.~_-|#%+ \n\r\t/ksmu".to_vec()),
        ];
        prop::collection::vec((any::<usize>(), 0u8..3, byte), 1..6)
    }

    /// Action lines with a number at each `N`.
    const NUMERIC_TEMPLATES: [&str; 12] = [
        "Ns crash N",
        "Nus partition N N | N",
        "Nms cut N -> N",
        "0s pause N for Nms",
        "0s pause N for Nus",
        "0s skew N +Nus -Nppm",
        "0s loss N%",
        "0s dup N.N%",
        "0s latency Nus..Nms",
        "0s request N cas kN N N via N",
        "0s load N/s clients N keys N",
        "0s timeout N",
    ];

    /// Numbers around every limit: small, near u32 and u64, and beyond u64.
    fn arb_number() -> impl Strategy<Value = u128> {
        prop_oneof![
            0u128..20,
            0u128..2_000,
            (0u128..=2_000_000).prop_map(|n| n * 1_000),
            (0u128..8).prop_map(|k| u128::from(u32::MAX) - 4 + k),
            (0u128..8).prop_map(|k| u128::from(u64::MAX) - 4 + k),
            any::<u128>(),
        ]
    }

    proptest! {
        #[test]
        fn valid_scripts_round_trip_through_text(script in arb_script()) {
            prop_assert_eq!(script.validate(), Ok(()));
            let text = script.to_string();
            prop_assert_eq!(parse(&text), Ok(script));
        }

        #[test]
        fn valid_scripts_round_trip_through_compact(script in arb_script()) {
            let compact = encode_compact(&script);
            prop_assert!(compact.chars().all(is_unreserved), "{}", compact);
            prop_assert_eq!(decode_compact(&compact), Ok(script));
        }

        #[test]
        fn parse_never_panics_on_any_string(text in prop_oneof![
            any::<String>(),
            "([0-9]{1,3}(\\.[0-9]{1,3})?(s|ms|us) )?[a-z]{0,9}( [-+]?[0-9kéü|<>.%/-]{0,6}[a-z%]{0,3}){0,5}(\n|#)?",
        ]) {
            if let Ok(script) = parse(&text) {
                assert_accepted_is_sound(&script)?;
            }
        }

        #[test]
        fn decode_never_panics_on_any_string(s in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9._~-]{0,40}",
            "raft\\.[0-9][0-9a-z]{0,3}(~[0-9a-z]{1,3}[A-Z][0-9a-z._-]{0,8}){0,4}",
        ]) {
            if let Ok(script) = decode_compact(&s) {
                assert_accepted_is_sound(&script)?;
            }
        }

        /// Every numeric field of every action, text and compact, with numbers from 0 to far
        /// beyond u64: never a panic or an overflow, and what is accepted is within its limits.
        #[test]
        fn numeric_fields_never_panic_or_overflow(
            numbers in prop::collection::vec(arb_number(), 5),
            template in prop::sample::select(NUMERIC_TEMPLATES.to_vec()),
            opcode in prop::sample::select(OPCODES.chars().collect::<Vec<char>>()),
            sign in any::<bool>(),
        ) {
            let mut line = template.to_string();
            for n in &numbers {
                line = line.replacen('N', &n.to_string(), 1);
            }
            if let Ok(script) = parse(&format!("nodes 9\n{line}")) {
                assert_accepted_is_sound(&script)?;
            }
            let b36: Vec<String> = numbers
                .iter()
                .map(|&n| {
                    let mut s = if sign { "-".to_string() } else { String::new() };
                    push_b36(&mut s, n);
                    s
                })
                .collect();
            let compact = format!("raft.91~{}{opcode}{}", b36[0], b36[1..].join("."));
            if let Ok(script) = decode_compact(&compact) {
                assert_accepted_is_sound(&script)?;
            }
        }

        #[test]
        fn parsers_never_panic_on_mutated_encodings(script in arb_script(), edits in arb_edits()) {
            let mut text = script.to_string().into_bytes();
            mutate(&mut text, &edits);
            if let Ok(script) = parse(&String::from_utf8_lossy(&text)) {
                assert_accepted_is_sound(&script)?;
            }
            let mut compact = encode_compact(&script).into_bytes();
            mutate(&mut compact, &edits);
            if let Ok(script) = decode_compact(&String::from_utf8_lossy(&compact)) {
                assert_accepted_is_sound(&script)?;
            }
        }
    }
}
