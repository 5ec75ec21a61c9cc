//! The chapter registry: one line per chapter of the lab.
//!
//! A chapter is a protocol module of this crate, a directory of golden scripts
//! (`tests/golden/<name>/`), a view module of the web crate and one line in [`chapters!`].
//! Every list of chapters in the project is generated from that line: the command-line tool's
//! dispatch ([`visit`]), the lab's runs and its chapter selector, the links' `c=` table, the
//! per-chapter pages that `cargo xtask dist` builds and the index page that lists them.

use crate::protocol::Protocol;

/// Calls `$callback!` with every chapter, one `module => Type = "name", "Title", "what it
/// shows";` entry each (`module` names the chapter's view module in the web crate), in the order the index page lists them. `name` is the protocol's [`Protocol::NAME`],
/// the `c=` of links and the name of the chapter's page, web feature and golden directory.
///
/// The web crate expands this with each entry behind `#[cfg(feature = "name")]`, so that a
/// chapter's page compiles only its own protocol; everything else sees every chapter.
#[macro_export]
macro_rules! chapters {
    ($callback:path) => {
        $callback! {
            raft => $crate::raft::Raft = "raft", "Raft",
                "Leader election with randomized timeouts, log replication and the commit rule.";
            paxos => $crate::paxos::Paxos = "paxos", "Paxos",
                "Single-decree Paxos and dueling proposers, then Multi-Paxos with a stable leader.";
            clocks => $crate::clocks::Clocks = "clocks", "Time and causality",
                "Drifting clocks and NTP, Lamport and vector clocks, and conflicting writes in a Dynamo-style store.";
            generals => $crate::generals::General = "generals", "Two Generals and Byzantine generals",
                "Agreement over a lossy valley is impossible; with traitors it needs n ≥ 3m+1, or signatures.";
            cap => $crate::cap::Cap = "cap", "Partitions in practice",
                "CAP and PACELC on a quorum store, and split brain stopped by fencing tokens.";
            txn => $crate::txn::Txn = "txn", "Doing it once across services",
                "Two-phase commit blocks, sagas compensate, idempotency keys stop double charges.";
            #[cfg(feature = "echo")]
            echo => $crate::echo::Echo = "echo", "Echo",
                "A heartbeat echo: the smallest chapter, used to test the registry.";
        }
    };
}

/// A chapter as lists show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chapter {
    /// [`Protocol::NAME`]: the `c=` of links, the page `NAME.html`, the web feature.
    pub name: &'static str,
    pub title: &'static str,
    /// What the chapter shows, in a sentence.
    pub blurb: &'static str,
}

/// Code generic over a protocol, run for a chapter chosen by name at run time.
pub trait Visit {
    type Output;
    fn visit<P: Protocol>(self) -> Self::Output;
}

macro_rules! registry {
    ($($(#[$attr:meta])* $module:ident => $ty:ty = $name:literal, $title:literal, $blurb:literal;)*) => {
        /// Every chapter, in registry order.
        pub const ALL: &[Chapter] = &[$($(#[$attr])* Chapter { name: $name, title: $title, blurb: $blurb },)*];

        /// Runs `visitor` with the protocol of chapter `name`; an unknown name is an error
        /// that lists the chapters there are.
        pub fn visit<V: Visit>(name: &str, visitor: V) -> Result<V::Output, String> {
            $($(#[$attr])* {
                const _: () = assert!(str_eq(<$ty as Protocol>::NAME, $name), "a chapter is named as its protocol");
                if name == $name {
                    return Ok(visitor.visit::<$ty>());
                }
            })*
            Err(unknown(name))
        }
    };
}

chapters!(registry);

/// `a == b`, in a constant.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The chapter called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Chapter> {
    ALL.iter().find(|c| c.name == name)
}

/// The error for a chapter name that is not in the registry.
pub fn unknown(name: &str) -> String {
    let names: Vec<&str> = ALL.iter().map(|c| c.name).collect();
    format!(
        "there is no chapter called {name:?} (the chapters are {})",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;
    impl Visit for Name {
        type Output = &'static str;
        fn visit<P: Protocol>(self) -> &'static str {
            P::NAME
        }
    }

    #[test]
    fn every_chapter_visits_its_own_protocol() {
        for chapter in ALL {
            assert_eq!(visit(chapter.name, Name), Ok(chapter.name));
            assert_eq!(find(chapter.name), Some(chapter));
        }
    }

    #[test]
    fn an_unknown_chapter_is_an_error_naming_the_chapters() {
        let err = visit("zab", Name).unwrap_err();
        assert!(
            err.starts_with("there is no chapter called \"zab\" (the chapters are raft, paxos"),
            "{err}"
        );
        assert_eq!(find("zab"), None);
    }
}
