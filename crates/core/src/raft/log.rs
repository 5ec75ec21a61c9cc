//! The replicated log.
//!
//! A log is a sequence of entries, each stamped with the term of the leader that created it.
//! Indices start at 1; index 0 is the empty prefix, whose term is 0, so that the consistency
//! check of an AppendEntries with `prev_log_index = 0` always succeeds (Figure 2).
//!
//! Two facts make the log work (section 5.3). A leader never overwrites or deletes entries in
//! its own log (Leader Append-Only), so an `(index, term)` pair names one entry for the whole
//! run. And because a follower accepts new entries only after checking that its entry at
//! `prev_log_index` has `prev_log_term`, two logs that share an `(index, term)` share the whole
//! prefix up to it (Log Matching), which is what lets a leader repair a follower by walking
//! back to the last point of agreement.
//!
//! Indices and terms are `u64`; the entries live in a `Vec` whose position is `index - 1`.

pub use crate::kv::Command;
use std::fmt;

/// One log entry: a command and the term in which a leader received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub term: u64,
    pub command: Command,
}

impl Entry {
    pub fn noop(term: u64) -> Self {
        Entry {
            term,
            command: Command::Noop,
        }
    }

    /// A 64-bit digest of the entry (term and command), stable across platforms, for the
    /// monitor's chain hashes. Not cryptographic: it only has to tell honest entries apart.
    pub fn digest(&self) -> u64 {
        use crate::protocol::Op;
        let mut h = mix(0x5261_6674, self.term);
        match self.command {
            Command::Noop => h = mix(h, 0),
            Command::Client(req) => {
                h = mix(h, 1);
                h = mix(h, u64::from(req.client));
                h = mix(h, req.seq);
                h = match req.op {
                    Op::Read { key } => mix(mix(h, 10), u64::from(key)),
                    Op::Write { key, value } => mix(mix(mix(h, 11), u64::from(key)), value),
                    Op::Cas { key, from, to } => mix(mix(mix(mix(h, 12), u64::from(key)), from), to),
                };
            }
        }
        h
    }
}

/// Folds `x` into the hash `h` (a splitmix64 finalizer over both).
pub(crate) fn mix(h: u64, x: u64) -> u64 {
    let mut z = h.rotate_left(23) ^ x;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A node's log: part of Raft's persistent state (Figure 2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    entries: Vec<Entry>,
}

impl Log {
    pub fn new() -> Self {
        Log::default()
    }

    /// A log holding `entries` at indices 1, 2, ... (for tests and hand-built scenarios).
    pub fn from_entries(entries: Vec<Entry>) -> Self {
        Log { entries }
    }

    /// A log of no-ops with the given terms, the way the paper's figures draw logs.
    pub fn from_terms(terms: &[u64]) -> Self {
        Log {
            entries: terms.iter().map(|&t| Entry::noop(t)).collect(),
        }
    }

    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of the last entry, 0 when empty.
    pub fn last_index(&self) -> u64 {
        self.len()
    }

    /// The term of the last entry, 0 when empty.
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The entry at `index`, if the log has one.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        let pos = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(pos)
    }

    /// The term of the entry at `index`: 0 for index 0, `None` past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            Some(0)
        } else {
            self.get(index).map(|e| e.term)
        }
    }

    /// Every entry with its index, in order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &Entry)> {
        self.entries.iter().enumerate().map(|(i, e)| (i as u64 + 1, e))
    }

    /// Up to `max` entries starting at `from` (1-based), copied for a message.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry> {
        let start = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        if start >= self.entries.len() {
            return Vec::new();
        }
        let end = start.saturating_add(max).min(self.entries.len());
        self.entries[start..end].to_vec()
    }

    /// Appends an entry and returns its index.
    pub fn append(&mut self, entry: Entry) -> u64 {
        self.entries.push(entry);
        self.len()
    }

    /// Removes the entries from `index` on.
    pub fn truncate_from(&mut self, index: u64) {
        let keep = usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX);
        self.entries.truncate(keep);
    }

    /// Whether a candidate whose log ends at `last_index@last_term` is at least as up-to-date
    /// as this log (section 5.4.1): the later last term wins; with equal last terms the longer
    /// log wins.
    pub fn candidate_is_up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The first index of the run of entries that share the term of the entry at `index`.
    /// A follower that rejects an AppendEntries because its entry at `prev_log_index` has
    /// another term returns this, so that the leader skips the whole conflicting term in one
    /// round trip instead of one entry per round trip (end of section 5.3).
    pub fn first_index_of_term_at(&self, index: u64) -> u64 {
        let Some(term) = self.term_at(index) else {
            return self.last_index() + 1;
        };
        let mut first = index;
        while first > 1 && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first.max(1)
    }
}

impl fmt::Display for Log {
    /// Each entry as `index@term`, the trace's notation: `[1@1 2@1 3@4]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (index, e) in self.entries() {
            if index > 1 {
                write!(f, " ")?;
            }
            write!(f, "{index}@{}", e.term)?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_zero_is_the_empty_prefix_of_term_zero() {
        let log = Log::from_terms(&[1, 1, 2]);
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
        assert_eq!(log.get(0), None);
        assert_eq!(Log::new().last_term(), 0);
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        // Section 5.4.1.
        let log = Log::from_terms(&[1, 1, 2]);
        assert!(log.candidate_is_up_to_date(3, 2));
        assert!(
            log.candidate_is_up_to_date(1, 3),
            "a later last term wins even when shorter"
        );
        assert!(!log.candidate_is_up_to_date(2, 2), "same last term, shorter log");
        assert!(
            !log.candidate_is_up_to_date(9, 1),
            "an earlier last term loses even when longer"
        );
    }

    #[test]
    fn slices_and_truncation_clamp_at_the_ends() {
        let mut log = Log::from_terms(&[1, 2, 3, 4]);
        assert_eq!(log.slice(3, 10).len(), 2);
        assert_eq!(log.slice(2, 1), vec![Entry::noop(2)]);
        assert!(log.slice(5, 10).is_empty());
        assert!(log.slice(u64::MAX, 10).is_empty());
        log.truncate_from(3);
        assert_eq!(log.to_string(), "[1@1 2@2]");
        log.truncate_from(0);
        assert!(log.is_empty());
    }

    #[test]
    fn conflict_hint_is_the_start_of_the_conflicting_term() {
        let log = Log::from_terms(&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
        assert_eq!(log.first_index_of_term_at(10), 7);
        assert_eq!(log.first_index_of_term_at(5), 4);
        assert_eq!(log.first_index_of_term_at(2), 1);
        assert_eq!(log.first_index_of_term_at(20), 12);
    }

    #[test]
    fn digests_tell_entries_apart() {
        use crate::protocol::{ClientRequest, Op};
        let w = |v| Entry {
            term: 2,
            command: Command::Client(ClientRequest {
                client: 1,
                seq: 1,
                op: Op::Write { key: 1, value: v },
            }),
        };
        assert_ne!(w(5).digest(), w(6).digest());
        assert_ne!(Entry::noop(1).digest(), Entry::noop(2).digest());
        assert_eq!(w(5).digest(), w(5).digest());
    }
}
