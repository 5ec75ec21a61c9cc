//! The lab's chapters, generated from the core's registry (`deepend_core::chapters!`).
//!
//! Each chapter's view module (`raft.rs`, `paxos.rs`, ...) implements [`Shown`] for its
//! protocol, and is compiled only when the page's cargo feature of the same name is on: a
//! chapter's page (`raft.html`) is built with that one feature, so it carries one protocol. The
//! registry's names, titles and scenarios are compiled into every page, so that a page can link
//! to the others and send a link for another chapter to that chapter's page.

use crate::model::{AnyRun, Shown};
use deepend_core::chapters::Chapter;
use deepend_core::protocol::{Command, MsgStyle, Protocol, Scenario};
use deepend_core::script::Script;
use deepend_core::sim::Sim;

/// A checkbox of a chapter's controls: a `set KEY on|off` setting that starts a new run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toggle {
    pub key: &'static str,
    pub label: &'static str,
    /// What it does, as a tooltip.
    pub title: &'static str,
    /// The values for checked and unchecked, and whether an unset key counts as checked.
    pub on: &'static str,
    pub off: &'static str,
    pub default_on: bool,
    /// The scenario it belongs to (`None`: every scenario of the chapter).
    pub scenario: Option<&'static str>,
}

/// What the stage and the shared panels need of their chapter: the node menu's commands,
/// whether it offers key-value requests (and so has a client history), whether its nodes keep
/// a replicated log, the message legend and the short word under each node ("term").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageUi {
    pub title: &'static str,
    pub commands: &'static [Command],
    pub clients: bool,
    pub logs: bool,
    pub legend: &'static [(MsgStyle, &'static str)],
    pub term_word: &'static str,
}

impl Default for StageUi {
    fn default() -> Self {
        StageUi {
            title: "",
            commands: &[],
            clients: false,
            logs: false,
            legend: &[],
            term_word: "term",
        }
    }
}

/// A chapter as every page knows it, whether the page runs it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listed {
    pub chapter: Chapter,
    pub scenarios: &'static [Scenario],
}

macro_rules! lab_chapters {
    ($($(#[$attr:meta])* $module:ident => $ty:ty = $name:literal, $title:literal, $blurb:literal;)*) => {
        $($(#[$attr])* #[cfg(feature = $name)] mod $module;)*

        /// Every chapter of the registry, in its order.
        pub const ALL: &[Listed] = &[$($(#[$attr])* Listed {
            chapter: Chapter { name: $name, title: $title, blurb: $blurb },
            scenarios: <$ty as Protocol>::SCENARIOS,
        },)*];

        /// The chapters this page runs, in registry order.
        pub const HERE: &[&str] = &[$($(#[$attr])* #[cfg(feature = $name)] $name,)*];

        /// A run of `script`, if this page runs its chapter.
        pub fn new_run(script: &Script) -> Result<Box<dyn AnyRun>, String> {
            let protocol = script.header.protocol.as_str();
            $($(#[$attr])* #[cfg(feature = $name)] if protocol == $name {
                return Ok(Box::new(Sim::<$ty>::new(script)?));
            })*
            Err(match find(protocol) {
                Some(_) => format!("the {protocol} chapter has a page of its own ({protocol}.html)"),
                None => deepend_core::chapters::unknown(protocol),
            })
        }

        /// The broken variants and the toggles of chapter `name`'s controls (none for a
        /// chapter this page does not run).
        pub fn controls(name: &str) -> (&'static [(&'static str, &'static str)], &'static [Toggle]) {
            $($(#[$attr])* #[cfg(feature = $name)] if name == $name {
                return (<$ty as Shown>::VARIANTS, <$ty as Shown>::TOGGLES);
            })*
            (&[], &[])
        }

        /// What the stage of chapter `name` shows and offers beyond the engine's own.
        pub fn stage_ui(name: &str) -> StageUi {
            $($(#[$attr])* #[cfg(feature = $name)] if name == $name {
                let term = <$ty as Shown>::TERM;
                return StageUi {
                    title: $title,
                    commands: <$ty as Protocol>::COMMANDS,
                    clients: <$ty as Shown>::CLIENTS,
                    logs: <$ty as Shown>::LOGS,
                    legend: <$ty as Shown>::LEGEND,
                    term_word: term.rsplit(' ').next().unwrap_or(term),
                };
            })*
            StageUi::default()
        }
    };
}

deepend_core::chapters!(lab_chapters);

/// The registry's entry for chapter `name`.
pub fn find(name: &str) -> Option<&'static Listed> {
    ALL.iter().find(|l| l.chapter.name == name)
}

/// The chapter a page opens when its link names none: the first it runs.
pub fn home() -> &'static Listed {
    HERE.first().and_then(|name| find(name)).unwrap_or(&ALL[0])
}

/// Whether this page runs chapter `name`.
pub fn here(name: &str) -> bool {
    HERE.contains(&name)
}

/// The scenario a script's header runs: the first of its chapter whose settings all hold, or
/// else the chapter's last; `None` for a chapter the registry lacks.
pub fn scenario_of(protocol: &str, settings: &[(String, String)]) -> Option<&'static Scenario> {
    let listed = find(protocol)?;
    let holds = |(key, value): &(&str, &str)| {
        settings
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .is_some_and(|(_, v)| v == value)
    };
    listed
        .scenarios
        .iter()
        .find(|s| s.settings.iter().all(holds))
        .or(listed.scenarios.last())
}

/// The chapter and scenario offered under the selector value `value`.
pub fn by_value(value: &str) -> Option<(&'static Listed, &'static Scenario)> {
    ALL.iter()
        .find_map(|l| Some((l, l.scenarios.iter().find(|s| s.value == value)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chapter_lists_a_scenario_and_the_selector_values_are_unique() {
        let mut values = Vec::new();
        for listed in ALL {
            assert!(!listed.scenarios.is_empty(), "{} has scenarios", listed.chapter.name);
            for s in listed.scenarios {
                assert!(!values.contains(&s.value), "{} is offered once", s.value);
                values.push(s.value);
                assert_eq!(
                    by_value(s.value).map(|(l, _)| l.chapter.name),
                    Some(listed.chapter.name)
                );
            }
        }
    }

    #[test]
    fn a_header_runs_the_first_scenario_whose_settings_hold_or_else_the_last() {
        let set = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(
            scenario_of("paxos", &set("mode", "multi")).map(|s| s.value),
            Some("multi-paxos")
        );
        assert_eq!(
            scenario_of("paxos", &set("mode", "single")).map(|s| s.value),
            Some("paxos-single")
        );
        assert_eq!(scenario_of("paxos", &[]).map(|s| s.value), Some("paxos-single"));
        assert_eq!(
            scenario_of("raft", &set("prevote", "on")).map(|s| s.value),
            Some("raft")
        );
        assert_eq!(scenario_of("zab", &[]), None);
    }

    #[test]
    fn the_stage_shows_and_offers_what_the_chapter_has() {
        let raft = stage_ui("raft");
        assert!(
            raft.commands.is_empty() && raft.clients && raft.logs,
            "raft: no commands, register clients, logs"
        );
        assert_eq!(raft.legend.first().map(|l| l.1), Some("RequestVote"));
        assert_eq!(raft.term_word, "term");
        let clocks = stage_ui("clocks");
        assert!(
            !clocks.clients && !clocks.logs,
            "clocks: no client history, no log panel"
        );
        assert_eq!(
            stage_ui("paxos").term_word,
            "round",
            "the short word of \"ballot round\""
        );
        assert_eq!(
            stage_ui("zab"),
            StageUi::default(),
            "a chapter this page lacks offers nothing"
        );
    }

    #[test]
    fn a_chapter_that_this_page_lacks_is_a_clear_error() {
        let mut script = Script::default();
        script.header.protocol = "zab".into();
        let Err(err) = new_run(&script) else { panic!("zab runs") };
        assert!(err.starts_with("there is no chapter called \"zab\""), "{err}");
    }
}
