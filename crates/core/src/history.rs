//! Client histories: what clients invoked and what came back, for the linearizability checker.
//!
//! The model is Jepsen's: every operation is an `invoke` followed by at most one completion:
//! `ok` (it took effect; reads carry the value read), `fail` (it definitely did not take
//! effect) or `info` (the client gave up without knowing). An operation with no completion
//! is treated like `info`.

use crate::protocol::Op;
use crate::{ClientId, Value};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of a history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated time in microseconds (any non-decreasing clock in a history file).
    pub time_us: u64,
    /// The client (Jepsen's "process"); a client has at most one operation outstanding.
    pub client: ClientId,
    pub kind: EventKind,
    /// The operation, repeated on its completion.
    pub op: Op,
    /// On an `ok` read or compare-and-set: the value read (`None`: the key was never written).
    pub read: Option<Value>,
}

/// A history in the order events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
}

impl EventKind {
    /// The name the JSON format uses ("invoke", "ok", "fail", "info").
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

// The JSON file format (documented for users in docs/history-format.md).
//
// A history file is a JSON array of events in the order they happened; an event's number in
// error messages is its 0-based position in the array. Each event is an object:
//
//     {"client": 1, "type": "invoke", "f": "write", "key": 1, "value": 5, "time": 1000}
//
// - `client`, `key`: integers in 0..=4294967295.
// - `type`: "invoke", "ok", "fail" or "info".
// - `f`: "read", "write" or "cas"; a completion repeats its invocation's `f`, `key`, `value`
//   (for a write) and `from`/`to` (for a cas).
// - `value`: for a write, the value written (required). For a read, the value read: required
//   on `ok`, where `null` means the key was never written; absent or `null` elsewhere unless
//   a value was recorded. For a cas, optionally the value it read.
// - `from`, `to`: a cas's expected and new values (required on a cas, forbidden elsewhere).
// - `time`: microseconds, optional, but either on every event or on none. Without times,
//   event i gets time i: order is always the position in the array.
//
// Any other field is an error, so that a misspelt field is not silently ignored, and so is a
// field given twice.

/// The fields an event object may have, in the order [`to_json`] writes them.
const JSON_FIELDS: [&str; 8] = ["client", "type", "f", "key", "value", "from", "to", "time"];

/// Parses a history from the JSON file format (see `docs/history-format.md`).
///
/// The error names the event (its 0-based position) and the field at fault. Parsing checks
/// the shape of each event only; [`crate::lin::validate`] checks that the events form a
/// well-formed history. Never panics.
pub fn parse_json(text: &str) -> Result<History, String> {
    if !text.trim_start().starts_with('[') {
        // Not an array: say what it is instead, or why it is not JSON.
        let root: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        return Err(format!("expected a JSON array of events, found {}", json_kind(&root)));
    }
    // The events are converted one by one as they are read, so that a long history never
    // exists as a tree of JSON values. The first problem in file order is reported, whether
    // it is bad JSON or a bad event.
    let mut problem = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde::de::DeserializeSeed::deserialize(EventsSeed { problem: &mut problem }, &mut de);
    match (parsed.and_then(|events| de.end().map(|()| events)), problem) {
        (_, Some(problem)) => Err(problem),
        (Ok(events), None) => Ok(History { events }),
        (Err(e), None) => Err(format!("not valid JSON: {e}")),
    }
}

/// Reads the array of events; a bad event stops it with its message in `problem`.
struct EventsSeed<'p> {
    problem: &'p mut Option<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for EventsSeed<'_> {
    type Value = Vec<Event>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Event>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for EventsSeed<'_> {
    type Value = Vec<Event>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of events")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Event>, A::Error> {
        let mut events = Vec::new();
        let mut timed: Option<bool> = None;
        loop {
            let seed = ItemSeed {
                index: events.len(),
                problem: &mut *self.problem,
            };
            let Some(item) = seq.next_element_seed(seed)? else {
                return Ok(events);
            };
            match convert_event(events.len(), &item, &mut timed) {
                Ok(event) => events.push(event),
                Err(problem) => {
                    *self.problem = Some(problem);
                    return Err(serde::de::Error::custom("bad event"));
                }
            }
        }
    }
}

/// An element of the array: an object's fields, or what kind of JSON value it is instead.
enum Item {
    Object(serde_json::Map<String, serde_json::Value>),
    Other(&'static str),
}

/// Reads one element of the array. An object is read field by field, so that a field given
/// twice is an error (a JSON map would silently keep the last one); the message goes to
/// `problem`.
struct ItemSeed<'p> {
    index: usize,
    problem: &'p mut Option<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ItemSeed<'_> {
    type Value = Item;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Item, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ItemSeed<'_> {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        let mut obj = serde_json::Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if obj.contains_key(&name) {
                *self.problem = Some(format!(
                    "event {}: field {} is given twice; give each field at most once",
                    self.index,
                    quote(&name)
                ));
                return Err(serde::de::Error::custom("duplicate field"));
            }
            let value = map.next_value::<serde_json::Value>()?;
            obj.insert(name, value);
        }
        Ok(Item::Object(obj))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Item::Other("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Item, E> {
        Ok(Item::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Item, E> {
        Ok(Item::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Item, E> {
        Ok(Item::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Item, E> {
        Ok(Item::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Item, E> {
        Ok(Item::Other("a string"))
    }

    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item::Other("null"))
    }
}

fn convert_event(i: usize, item: &Item, timed: &mut Option<bool>) -> Result<Event, String> {
    let obj = match item {
        Item::Object(obj) => obj,
        Item::Other(kind) => return Err(format!("event {i}: expected an object, found {kind}")),
    };
    let (event, has_time) = parse_event(i, obj)?;
    match *timed {
        None => *timed = Some(has_time),
        Some(true) if !has_time => {
            return Err(format!(
                "event {i}: no \"time\", but earlier events have one; give \"time\" on every event or on none"
            ));
        }
        Some(false) if has_time => {
            return Err(format!(
                "event {i}: has a \"time\", but earlier events have none; give \"time\" on every event or on none"
            ));
        }
        Some(_) => {}
    }
    Ok(event)
}

fn parse_event(i: usize, obj: &serde_json::Map<String, serde_json::Value>) -> Result<(Event, bool), String> {
    // Report unknown fields in a stable order (the map's own order is alphabetical).
    if let Some(name) = obj.keys().find(|k| !JSON_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "event {i}: unknown field {}; expected client, type, f, key, value, from, to or time",
            quote(name)
        ));
    }
    let client = required_u32(i, obj, "client")?;
    let kind = match obj.get("type") {
        None => {
            return Err(format!(
                "event {i}: missing \"type\"; expected invoke, ok, fail or info"
            ));
        }
        Some(serde_json::Value::String(s)) => match s.as_str() {
            "invoke" => EventKind::Invoke,
            "ok" => EventKind::Ok,
            "fail" => EventKind::Fail,
            "info" => EventKind::Info,
            _ => {
                return Err(format!(
                    "event {i}: unknown type {}; expected invoke, ok, fail or info",
                    quote(s)
                ));
            }
        },
        Some(other) => {
            return Err(format!("event {i}: \"type\" must be a string, found {}", show(other)));
        }
    };
    let f = match obj.get("f") {
        None => {
            return Err(format!("event {i}: missing \"f\"; expected read, write or cas"));
        }
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(format!("event {i}: \"f\" must be a string, found {}", show(other)));
        }
    };
    let key = required_u32(i, obj, "key")?;
    let time_us = optional_u64(i, obj, "time")?;
    let (op, read) = match f {
        "read" => {
            forbid(i, obj, f, &["from", "to"])?;
            let read = optional_value(i, obj, "value")?;
            if kind == EventKind::Ok && !obj.contains_key("value") {
                return Err(format!(
                    "event {i}: an ok read needs \"value\": the value read, or null if the key was never written"
                ));
            }
            (Op::Read { key }, read)
        }
        "write" => {
            forbid(i, obj, f, &["from", "to"])?;
            let value = optional_u64(i, obj, "value")?
                .ok_or_else(|| format!("event {i}: a write needs \"value\", the value written"))?;
            (Op::Write { key, value }, None)
        }
        "cas" => {
            let from = optional_u64(i, obj, "from")?
                .ok_or_else(|| format!("event {i}: a cas needs \"from\", the expected value"))?;
            let to =
                optional_u64(i, obj, "to")?.ok_or_else(|| format!("event {i}: a cas needs \"to\", the new value"))?;
            (Op::Cas { key, from, to }, optional_value(i, obj, "value")?)
        }
        other => {
            return Err(format!(
                "event {i}: unknown f {}; expected read, write or cas",
                quote(other)
            ));
        }
    };
    let event = Event {
        time_us: time_us.unwrap_or(i as u64),
        client,
        kind,
        op,
        read,
    };
    Ok((event, time_us.is_some()))
}

fn forbid(i: usize, obj: &serde_json::Map<String, serde_json::Value>, f: &str, names: &[&str]) -> Result<(), String> {
    match names.iter().find(|n| obj.contains_key(**n)) {
        Some(name) => Err(format!(
            "event {i}: a {f} has no \"{name}\"; only a cas has \"from\" and \"to\""
        )),
        None => Ok(()),
    }
}

fn required_u32(i: usize, obj: &serde_json::Map<String, serde_json::Value>, name: &str) -> Result<u32, String> {
    let v = optional_u64(i, obj, name)?.ok_or_else(|| format!("event {i}: missing \"{name}\""))?;
    u32::try_from(v).map_err(|_| format!("event {i}: \"{name}\" {v} is out of range (at most {})", u32::MAX))
}

/// A non-negative integer field; `null` counts as absent.
fn optional_u64(i: usize, obj: &serde_json::Map<String, serde_json::Value>, name: &str) -> Result<Option<u64>, String> {
    match obj.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) => Ok(Some(n)),
            None => Err(format!(
                "event {i}: \"{name}\" must be an integer in 0..={}, found {}",
                u64::MAX,
                show(v)
            )),
        },
    }
}

/// A value read: an integer, or `null` (or absent) for "never written".
fn optional_value(
    i: usize,
    obj: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<u64>, String> {
    optional_u64(i, obj, name).map_err(|e| e + " (or null for a key never written)")
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON value as it appears in the file, shortened for an error message.
fn show(v: &serde_json::Value) -> String {
    shorten(v.to_string())
}

fn quote(s: &str) -> String {
    shorten(serde_json::Value::String(s.to_owned()).to_string())
}

fn shorten(mut s: String) -> String {
    const MAX_CHARS: usize = 40;
    if let Some((cut, _)) = s.char_indices().nth(MAX_CHARS) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Writes a history in the JSON file format, one event per line, with every event's time.
///
/// `parse_json(&to_json(h))` gives back `h` for every history whose write events carry no
/// `read` (the format has no place for a value read by a write, and the checker ignores it).
pub fn to_json(history: &History) -> String {
    use std::fmt::Write as _;
    if history.events.is_empty() {
        return "[]\n".to_owned();
    }
    let mut out = String::from("[\n");
    for (i, e) in history.events.iter().enumerate() {
        let _ = write!(out, "  {{\"client\": {}, \"type\": \"{}\"", e.client, e.kind.as_str());
        match e.op {
            Op::Read { key } => {
                let _ = write!(out, ", \"f\": \"read\", \"key\": {key}");
                if e.kind == EventKind::Ok || e.read.is_some() {
                    let _ = write!(out, ", \"value\": {}", json_value(e.read));
                }
            }
            Op::Write { key, value } => {
                let _ = write!(out, ", \"f\": \"write\", \"key\": {key}, \"value\": {value}");
            }
            Op::Cas { key, from, to } => {
                let _ = write!(out, ", \"f\": \"cas\", \"key\": {key}");
                if e.read.is_some() {
                    let _ = write!(out, ", \"value\": {}", json_value(e.read));
                }
                let _ = write!(out, ", \"from\": {from}, \"to\": {to}");
            }
        }
        let _ = write!(out, ", \"time\": {}}}", e.time_us);
        out.push_str(if i + 1 < history.events.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

fn json_value(v: Option<Value>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(text: &str) -> String {
        parse_json(text).expect_err("should not parse")
    }

    #[test]
    fn parses_the_documented_example() {
        let text = r#"[
          {"client": 1, "type": "invoke", "f": "write", "key": 1, "value": 5, "time": 1000},
          {"client": 2, "type": "invoke", "f": "read", "key": 1, "time": 1100},
          {"client": 1, "type": "ok", "f": "write", "key": 1, "value": 5, "time": 1500},
          {"client": 2, "type": "ok", "f": "read", "key": 1, "value": null, "time": 1600},
          {"client": 3, "type": "invoke", "f": "cas", "key": 1, "from": 5, "to": 6, "time": 1700},
          {"client": 3, "type": "info", "f": "cas", "key": 1, "from": 5, "to": 6, "time": 2700},
          {"client": 2, "type": "invoke", "f": "read", "key": 1, "time": 2800},
          {"client": 2, "type": "ok", "f": "read", "key": 1, "value": 6, "time": 2900}
        ]"#;
        let h = parse_json(text).unwrap();
        assert_eq!(h.events.len(), 8);
        assert_eq!(h.events[7].read, Some(6));
        assert_eq!(
            h.events[0],
            Event {
                time_us: 1000,
                client: 1,
                kind: EventKind::Invoke,
                op: Op::Write { key: 1, value: 5 },
                read: None
            }
        );
        assert_eq!(h.events[3].kind, EventKind::Ok);
        assert_eq!(h.events[3].read, None);
        assert_eq!(h.events[5].op, Op::Cas { key: 1, from: 5, to: 6 });
        assert_eq!(h.events[5].kind, EventKind::Info);
        assert_eq!(parse_json(&to_json(&h)).unwrap(), h);
    }

    #[test]
    fn times_default_to_positions() {
        let h = parse_json(
            r#"[{"client": 1, "type": "invoke", "f": "read", "key": 0},
                {"client": 1, "type": "ok", "f": "read", "key": 0, "value": 3}]"#,
        )
        .unwrap();
        assert_eq!(h.events[0].time_us, 0);
        assert_eq!(h.events[1].time_us, 1);
        assert_eq!(h.events[1].read, Some(3));
        assert_eq!(parse_json("[]").unwrap(), History::default());
        assert_eq!(to_json(&History::default()), "[]\n");
    }

    #[test]
    fn errors_name_the_event_and_field() {
        assert_eq!(
            err(r#"[{"client": 1, "type": "okk", "f": "read", "key": 1}]"#),
            "event 0: unknown type \"okk\"; expected invoke, ok, fail or info"
        );
        assert!(err("[1, 2").starts_with("event 0: expected an object, found a number"));
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "read", "key": 1}"#),
            "not valid JSON: EOF while parsing a list at line 1 column 55"
        );
        assert!(
            err(r#"[{"client": 1, "type": "invoke", "f": "read", "key": 1}] x"#)
                .starts_with("not valid JSON: trailing")
        );
        assert!(err("").starts_with("not valid JSON: EOF"));
        assert_eq!(err("null"), "expected a JSON array of events, found null");
        assert_eq!(
            err(r#"{"client": 1}"#),
            "expected a JSON array of events, found an object"
        );
        assert_eq!(err("[3]"), "event 0: expected an object, found a number");
        let ok = r#"{"client": 1, "type": "invoke", "f": "read", "key": 1}"#;
        assert_eq!(
            err(&format!(
                r#"[{ok}, {{"client": 1, "type": "ok", "f": "read", "key": 1}}]"#
            )),
            "event 1: an ok read needs \"value\": the value read, or null if the key was never written"
        );
        assert_eq!(
            err(&format!(
                r#"[{ok}, {{"client": -1, "type": "ok", "f": "read", "key": 1}}]"#
            )),
            "event 1: \"client\" must be an integer in 0..=18446744073709551615, found -1"
        );
        assert_eq!(
            err(r#"[{"client": 4294967296, "type": "invoke", "f": "read", "key": 1}]"#),
            "event 0: \"client\" 4294967296 is out of range (at most 4294967295)"
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "read", "key": 1, "vlaue": 3}]"#),
            "event 0: unknown field \"vlaue\"; expected client, type, f, key, value, from, to or time"
        );
        assert_eq!(
            err(r#"[{"type": "invoke", "f": "read", "key": 1}]"#),
            "event 0: missing \"client\""
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "write", "key": 1}]"#),
            "event 0: a write needs \"value\", the value written"
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "cas", "key": 1, "to": 2}]"#),
            "event 0: a cas needs \"from\", the expected value"
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "write", "key": 1, "value": 1, "from": 2}]"#),
            "event 0: a write has no \"from\"; only a cas has \"from\" and \"to\""
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "incr", "key": 1}]"#),
            "event 0: unknown f \"incr\"; expected read, write or cas"
        );
        assert_eq!(
            err(&format!(
                r#"[{ok}, {{"client": 1, "type": "ok", "f": "read", "key": 1, "value": 2.5}}]"#
            )),
            "event 1: \"value\" must be an integer in 0..=18446744073709551615, found 2.5 (or null for a key never written)"
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "read", "key": 1, "time": 5},
                    {"client": 1, "type": "ok", "f": "read", "key": 1, "value": null}]"#),
            "event 1: no \"time\", but earlier events have one; give \"time\" on every event or on none"
        );
        assert_eq!(
            err(r#"[{"client": 1, "type": "invoke", "f": "write", "key": 1, "value": 5, "value": 6}]"#),
            "event 0: field \"value\" is given twice; give each field at most once"
        );
        assert_eq!(
            err(&format!(
                r#"[{ok}, {{"client": 1, "client": 1, "type": "ok", "f": "read", "key": 1, "value": null}}]"#
            )),
            "event 1: field \"client\" is given twice; give each field at most once"
        );
        let long = "x".repeat(100);
        let e = err(&format!(
            r#"[{{"client": 1, "type": "{long}", "f": "read", "key": 1}}]"#
        ));
        assert!(e.chars().count() < 120, "{e}");
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..3).prop_map(|key| Op::Read { key }),
            (0u32..3, any::<u64>()).prop_map(|(key, value)| Op::Write { key, value }),
            (0u32..3, 0u64..4, any::<u64>()).prop_map(|(key, from, to)| Op::Cas { key, from, to }),
        ]
    }

    fn arb_kind() -> impl Strategy<Value = EventKind> {
        prop_oneof![
            Just(EventKind::Invoke),
            Just(EventKind::Ok),
            Just(EventKind::Fail),
            Just(EventKind::Info)
        ]
    }

    /// Any history the format can hold: writes carry no `read`.
    fn arb_history() -> impl Strategy<Value = History> {
        prop::collection::vec(
            (
                any::<u64>(),
                any::<u32>(),
                arb_kind(),
                arb_op(),
                prop::option::of(any::<u64>()),
            ),
            0..12,
        )
        .prop_map(|rows| {
            let mut t = 0u64;
            let events = rows
                .into_iter()
                .map(|(dt, client, kind, op, read)| {
                    t = t.saturating_add(dt % 1000);
                    let read = if matches!(op, Op::Write { .. }) { None } else { read };
                    Event {
                        time_us: t,
                        client,
                        kind,
                        op,
                        read,
                    }
                })
                .collect();
            History { events }
        })
    }

    proptest! {
        #[test]
        fn round_trips(h in arb_history()) {
            let text = to_json(&h);
            prop_assert_eq!(parse_json(&text), Ok(h));
        }

        #[test]
        fn never_panics_on_random_text(text in ".{0,200}") {
            let _ = parse_json(&text);
        }

        #[test]
        fn never_panics_on_mutated_json(
            h in arb_history(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..6),
        ) {
            let mut chars: Vec<char> = to_json(&h).chars().collect();
            for (at, what, c) in edits {
                if chars.is_empty() {
                    chars.push(c);
                    continue;
                }
                let i = at.index(chars.len());
                match what {
                    0 => { chars.remove(i); }
                    1 => chars.insert(i, c),
                    2 => chars[i] = c,
                    // Splice in a token that is structurally meaningful.
                    _ => {
                        let token = ["null", "-1", "1e400", "\"ok\"", "{}", "[]", ",", "\"time\":", "18446744073709551616"]
                            [(c as usize) % 9];
                        for (k, t) in token.chars().enumerate() {
                            chars.insert(i + k, t);
                        }
                    }
                }
            }
            let text: String = chars.into_iter().collect();
            if let Ok(parsed) = parse_json(&text) {
                // Whatever parses must still write and parse back to itself.
                let again = parse_json(&to_json(&parsed));
                let mut normal = parsed.clone();
                for e in &mut normal.events {
                    if matches!(e.op, Op::Write { .. }) { e.read = None; }
                }
                prop_assert_eq!(again, Ok(normal));
            }
        }
    }
}
