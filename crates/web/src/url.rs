//! The lab's address: `?c=raft&s=<compact script>&t=<microseconds>&embed=1`, where the chapter
//! `c` is the script's protocol (`raft` or `paxos`).
//!
//! The compact script (`deepend_core::script::encode_compact`) carries the header (nodes,
//! seed, settings) and every action, so a link is the whole run: opening it replays the script
//! to `t`. Nothing here touches the browser, so the parsing and its messages are tested natively.
//! A damaged link never stops the page: it opens the default scenario with a message saying what
//! was wrong.

use crate::chapters::{self, Listed};
use crate::model::Lab;
use deepend_core::SimTime;
use deepend_core::protocol::Scenario;
use deepend_core::script::{Action, Header, Script, TimedAction, decode_compact, encode_compact};

/// A header of `scenario` of chapter `listed` with its settings, `nodes` and `seed`.
pub fn scenario_header(listed: &Listed, scenario: &Scenario, nodes: u8, seed: u64) -> Header {
    Header {
        protocol: listed.chapter.name.to_string(),
        nodes,
        seed,
        settings: scenario
            .settings
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A scenario as the lab opens it: five nodes, the scenario's settings, light client load.
pub fn scenario_script(listed: &Listed, scenario: &Scenario) -> Script {
    let h = Header::default();
    Script {
        header: scenario_header(listed, scenario, h.nodes, h.seed),
        actions: vec![TimedAction {
            at: SimTime::ZERO,
            action: DEFAULT_LOAD,
        }],
    }
}

/// The default scenario of a chapter of the registry: its first.
pub fn chapter_script(listed: &Listed) -> Script {
    scenario_script(listed, &listed.scenarios[0])
}

/// What a reader calls a run's scenario: `Multi-Paxos`.
pub fn label(header: &Header) -> &str {
    chapters::scenario_of(&header.protocol, &header.settings).map_or(&header.protocol, |s| s.label)
}

/// The furthest simulated time a link may ask for: opening a link replays the run up to there,
/// and this bounds how long that takes (about a second on a phone).
pub const MAX_LINK_TIME: SimTime = SimTime::from_secs(600);

/// The client load of the default scenario: light and steady, so that logs grow.
pub const DEFAULT_LOAD: Action = Action::Load {
    per_sec: 2,
    clients: 2,
    keys: 3,
};

/// The scenario this page opens with: its first chapter's default.
pub fn default_script() -> Script {
    chapter_script(chapters::home())
}

/// What a link asks for, once read.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub script: Script,
    /// Where to stop, paused; `None` starts from the beginning.
    pub time: Option<SimTime>,
    pub embed: bool,
}

/// A link read leniently: what to show, and what was wrong with the link if anything.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A run of a chapter this page has (the default, if the link was bad).
    Here { link: Link, problem: Option<String> },
    /// A link for a chapter of the registry that has a page of its own: the page to open
    /// with the same query.
    Elsewhere { page: String },
}

/// Reads a query string (with or without its leading `?`). Unknown parameters are ignored;
/// the first of a repeated parameter counts.
pub fn parse(query: &str) -> Parsed {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut chapter = None;
    let mut script = None;
    let mut time = None;
    let mut embed = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "c" if chapter.is_none() => chapter = Some(value),
            "s" if script.is_none() => script = Some(value),
            "t" if time.is_none() => time = Some(value),
            "embed" => embed = matches!(value.as_str(), "1" | "true" | "on" | ""),
            _ => {}
        }
    }
    let listed = match chapter.as_deref() {
        Some(c) => chapters::find(c),
        None => None,
    };
    if let Some(l) = listed
        && !chapters::here(l.chapter.name)
    {
        return Parsed::Elsewhere {
            page: page_of(l.chapter.name),
        };
    }
    let fallback = chapter_script(listed.unwrap_or(chapters::home()));
    let default = |problem: String| Parsed::Here {
        link: Link {
            script: fallback.clone(),
            time: None,
            embed,
        },
        problem: Some(format!("{problem} Showing the default scenario instead.")),
    };

    if let Some(c) = chapter.as_deref()
        && listed.is_none()
    {
        let names: Vec<&str> = chapters::ALL.iter().map(|l| l.chapter.name).collect();
        return default(format!(
            "This link is for a chapter called {c:?}, which Deep End does not have (its chapters are {}).",
            names.join(", ")
        ));
    }
    let script = match script.as_deref() {
        None | Some("") => fallback.clone(),
        Some(s) => match decode_compact(s) {
            Ok(script) => script,
            Err(e) => {
                return default(format!(
                    "This link's script is damaged at column {}: {}.",
                    e.column, e.message
                ));
            }
        },
    };
    if chapter.is_none()
        && chapters::find(&script.header.protocol).is_some()
        && !chapters::here(&script.header.protocol)
    {
        return Parsed::Elsewhere {
            page: page_of(&script.header.protocol),
        };
    }
    if let Some(c) = chapter.as_deref()
        && c != script.header.protocol
    {
        return default(format!(
            "This link is for the {c} chapter, but its script is a {} run.",
            script.header.protocol
        ));
    }
    if let Err(e) = Lab::new(&script) {
        return default(format!("This link's scenario cannot run: {e}."));
    }
    let (time, problem) = match time.as_deref() {
        None | Some("") => (None, None),
        Some(t) => match t.parse::<u64>() {
            Ok(us) if us <= MAX_LINK_TIME.as_us() => (Some(SimTime::from_us(us)), None),
            Ok(us) => (
                None,
                Some(format!(
                    "This link's time, {}, is past the {} a link may replay. Starting the run from the beginning instead.",
                    seconds(us),
                    seconds(MAX_LINK_TIME.as_us())
                )),
            ),
            Err(_) => (
                None,
                Some(format!(
                    "This link's time {t:?} is not a whole number of microseconds. Starting the run from the beginning instead."
                )),
            ),
        },
    };
    Parsed::Here {
        link: Link { script, time, embed },
        problem,
    }
}

/// The page of chapter `name`, beside this one.
pub fn page_of(name: &str) -> String {
    format!("{name}.html")
}

/// The query string for a run: `?c=raft&s=...`, then `&t=...` if given, then `&embed=1`.
pub fn format(script: &Script, time: Option<SimTime>, embed: bool) -> String {
    let mut out = format!("?c={}&s={}", script.header.protocol, encode_compact(script));
    if let Some(t) = time {
        out.push_str(&format!("&t={}", t.as_us()));
    }
    if embed {
        out.push_str("&embed=1");
    }
    out
}

/// An `<iframe>` that embeds the run at `page` (the lab's address without query), starting
/// from the beginning when the reader presses play.
pub fn embed_snippet(page: &str, script: &Script) -> String {
    let h = &script.header;
    let title = format!("Deep End: {} with {} nodes, seed {}", label(h), h.nodes, h.seed);
    format!(
        "<iframe src=\"{page}{}\" width=\"640\" height=\"460\" loading=\"lazy\" title=\"{title}\" style=\"border:0;max-width:100%\"></iframe>",
        format(script, None, true).replace('&', "&amp;")
    )
}

/// `1.5 s`, `600 s`: microseconds as a reader says them.
fn seconds(us: u64) -> String {
    let text = format!("{}.{:03}", us / 1_000_000, us % 1_000_000 / 1_000);
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// `%XX` decoding; anything malformed is kept as it is, for the script parser to point at.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use deepend_core::script::Header;

    /// A link read on a page with every chapter.
    struct Read {
        link: Link,
        problem: Option<String>,
    }

    fn parse(query: &str) -> Read {
        match super::parse(query) {
            Parsed::Here { link, problem } => Read { link, problem },
            other => panic!("{query} opens here, not {other:?}"),
        }
    }

    fn scenario(value: &str) -> Script {
        let (listed, scenario) = chapters::by_value(value).unwrap();
        scenario_script(listed, scenario)
    }

    fn a_run() -> Script {
        let mut script = default_script();
        script.header = Header {
            nodes: 3,
            seed: 42,
            settings: vec![("prevote".into(), "on".into())],
            ..Header::default()
        };
        script.actions.push(TimedAction {
            at: SimTime::from_us(1_200_000),
            action: Action::Crash(2),
        });
        script
    }

    #[test]
    fn a_link_reads_back_as_the_same_run() {
        let script = a_run();
        let query = format(&script, Some(SimTime::from_us(1_500_000)), false);
        assert!(query.starts_with("?c=raft&s=raft."), "{query}");
        assert!(query.ends_with("&t=1500000"), "{query}");
        let parsed = parse(&query);
        assert_eq!(parsed.problem, None);
        assert_eq!(
            parsed.link,
            Link {
                script,
                time: Some(SimTime::from_us(1_500_000)),
                embed: false
            }
        );
    }

    #[test]
    fn embed_and_time_are_optional_and_order_does_not_matter() {
        let script = a_run();
        let query = format(&script, None, true);
        assert!(query.ends_with("&embed=1"));
        assert_eq!(parse(&query).link.time, None);
        assert!(parse(&query).link.embed);
        let s = encode_compact(&script);
        let parsed = parse(&format!("embed=1&utm_source=x&t=5&s={s}"));
        assert_eq!(parsed.problem, None);
        assert_eq!(
            (parsed.link.script, parsed.link.time, parsed.link.embed),
            (script, Some(SimTime::from_us(5)), true)
        );
    }

    #[test]
    fn an_empty_query_is_the_default_scenario_without_complaint() {
        for query in ["", "?", "?c=raft", "?embed=0"] {
            let parsed = parse(query);
            assert_eq!(parsed.problem, None, "{query}");
            assert_eq!(parsed.link.script, default_script());
            assert!(!parsed.link.embed);
        }
    }

    #[test]
    fn percent_encoded_links_still_work() {
        let script = a_run();
        let s = encode_compact(&script).replace('~', "%7E").replace('.', "%2e");
        assert_eq!(parse(&format!("?s={s}")).link.script, script);
    }

    #[test]
    fn a_damaged_script_names_the_column_and_falls_back() {
        let good = encode_compact(&a_run());
        // Damage the opcode of the last action.
        let (head, _) = good.rsplit_once('~').unwrap();
        let damaged = format!("{head}~0J1");
        let parsed = parse(&format!("?c=raft&s={damaged}&t=1000"));
        let problem = parsed.problem.unwrap();
        let column = head.len() + 3;
        assert!(
            problem.starts_with(&format!(
                "This link's script is damaged at column {column}: unknown opcode 'J'"
            )),
            "{problem}"
        );
        assert!(problem.ends_with("Showing the default scenario instead."), "{problem}");
        assert_eq!(
            parsed.link,
            Link {
                script: default_script(),
                time: None,
                embed: false
            }
        );
    }

    #[test]
    fn characters_outside_the_compact_alphabet_are_named() {
        let parsed = parse("?s=raft.51~<script>");
        let problem = parsed.problem.unwrap();
        assert!(problem.contains("column 9: unexpected character '<'"), "{problem}");
        assert_eq!(parsed.link.script, default_script());
    }

    #[test]
    fn an_unknown_chapter_falls_back_and_keeps_embed_mode() {
        let parsed = parse("?c=zab&embed=1");
        let problem = parsed.problem.unwrap();
        assert!(
            problem.starts_with(
                "This link is for a chapter called \"zab\", which Deep End does not have (its chapters are raft, paxos"
            ),
            "{problem}"
        );
        assert!(
            problem.ends_with("). Showing the default scenario instead."),
            "{problem}"
        );
        assert!(parsed.link.embed);
        assert_eq!(parsed.link.script, default_script());
    }

    #[test]
    fn a_script_of_another_protocol_cannot_run() {
        let mut script = a_run();
        script.header.protocol = "paxos".into();
        let parsed = parse(&format(&script, None, false));
        let problem = parsed.problem.unwrap();
        assert!(problem.starts_with("This link's scenario cannot run: "), "{problem}");
        assert_eq!(parsed.link.script, scenario("multi-paxos"));
    }

    #[test]
    fn a_bad_time_keeps_the_script_and_starts_from_the_beginning() {
        let script = a_run();
        let s = encode_compact(&script);
        let parsed = parse(&format!("?s={s}&t=1.5s"));
        assert_eq!(
            parsed.problem.as_deref(),
            Some(
                "This link's time \"1.5s\" is not a whole number of microseconds. \
                 Starting the run from the beginning instead."
            )
        );
        assert_eq!((&parsed.link.script, parsed.link.time), (&script, None));

        let parsed = parse(&format!("?s={s}&t=99999999999999"));
        let problem = parsed.problem.unwrap();
        assert_eq!(
            problem,
            "This link's time, 99999999.999 s, is past the 600 s a link may replay. \
             Starting the run from the beginning instead."
        );
        assert_eq!(parsed.link.time, None);
    }

    #[test]
    fn the_embed_snippet_is_a_lazy_titled_iframe_without_a_time() {
        let snippet = embed_snippet("https://example.org/deepend/", &a_run());
        assert!(
            snippet.starts_with("<iframe src=\"https://example.org/deepend/?c=raft&amp;s=raft."),
            "{snippet}"
        );
        assert!(snippet.contains("&amp;embed=1\""), "{snippet}");
        assert!(!snippet.contains("&amp;t="), "{snippet}");
        for attribute in [
            "loading=\"lazy\"",
            "title=\"Deep End: Raft with 3 nodes, seed 42\"",
            "width=",
            "height=",
        ] {
            assert!(snippet.contains(attribute), "{attribute} in {snippet}");
        }
    }

    #[test]
    fn the_paxos_chapter_opens_multi_paxos_and_its_links_read_back() {
        let parsed = parse("?c=paxos");
        assert_eq!(parsed.problem, None);
        assert_eq!(parsed.link.script, scenario("multi-paxos"));
        assert_eq!(label(&parsed.link.script.header), "Multi-Paxos");
        let mut script = scenario("paxos-single");
        script.actions.push(TimedAction {
            at: SimTime::from_us(300_000),
            action: Action::Crash(1),
        });
        let query = format(&script, Some(SimTime::from_us(400_000)), false);
        assert!(query.starts_with("?c=paxos&s=paxos."), "{query}");
        let parsed = parse(&query);
        assert_eq!(parsed.problem, None);
        assert_eq!(parsed.link.script, script);
        assert_eq!(label(&script.header), "Paxos single-decree");
    }

    #[test]
    fn a_chapter_that_disagrees_with_its_script_falls_back_to_that_chapter() {
        let raft = encode_compact(&default_script());
        let parsed = parse(&format!("?c=paxos&s={raft}"));
        assert_eq!(
            parsed.problem.as_deref(),
            Some(
                "This link is for the paxos chapter, but its script is a raft run. Showing the default scenario instead."
            )
        );
        assert_eq!(parsed.link.script, scenario("multi-paxos"));
    }
}
