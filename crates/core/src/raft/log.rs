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
//! Indices and terms are `u64`. The entries live in full chunks of [`CHUNK`] entries shared
//! behind `Arc`s, then a short tail: a copy of the log (every checkpoint of a run copies every
//! node's log) copies a pointer per chunk instead of every entry.

pub use crate::kv::Command;
use std::fmt;
use std::sync::Arc;

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

/// Entries per shared chunk of a [`Log`].
pub const CHUNK: usize = 256;

/// A node's log: part of Raft's persistent state (Figure 2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    /// Entries `1..=sealed.len() * CHUNK`, in full chunks that copies of the log share.
    sealed: Vec<Arc<[Entry]>>,
    /// The entries after the sealed ones, fewer than [`CHUNK`].
    tail: Vec<Entry>,
}

impl Log {
    pub fn new() -> Self {
        Log::default()
    }

    /// A log holding `entries` at indices 1, 2, ... (for tests and hand-built scenarios).
    pub fn from_entries(entries: Vec<Entry>) -> Self {
        let mut log = Log::new();
        for e in entries {
            log.append(e);
        }
        log
    }

    /// A log of no-ops with the given terms, the way the paper's figures draw logs.
    pub fn from_terms(terms: &[u64]) -> Self {
        Log::from_entries(terms.iter().map(|&t| Entry::noop(t)).collect())
    }

    fn sealed_len(&self) -> usize {
        self.sealed.len() * CHUNK
    }

    pub fn len(&self) -> u64 {
        (self.sealed_len() + self.tail.len()) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.sealed.is_empty() && self.tail.is_empty()
    }

    /// The index of the last entry, 0 when empty.
    pub fn last_index(&self) -> u64 {
        self.len()
    }

    /// The term of the last entry, 0 when empty.
    pub fn last_term(&self) -> u64 {
        self.tail
            .last()
            .or_else(|| self.sealed.last().and_then(|c| c.last()))
            .map_or(0, |e| e.term)
    }

    /// The entry at `index`, if the log has one.
    pub fn get(&self, index: u64) -> Option<&Entry> {
        let pos = usize::try_from(index.checked_sub(1)?).ok()?;
        match self.sealed.get(pos / CHUNK) {
            Some(chunk) => chunk.get(pos % CHUNK),
            None => self.tail.get(pos - self.sealed_len()),
        }
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
        self.sealed
            .iter()
            .flat_map(|c| c.iter())
            .chain(self.tail.iter())
            .enumerate()
            .map(|(i, e)| (i as u64 + 1, e))
    }

    /// Up to `max` entries starting at `from` (1-based), copied for a message.
    pub fn slice(&self, from: u64, max: usize) -> Vec<Entry> {
        let from = from.max(1);
        let end = from.saturating_add(max as u64).min(self.last_index() + 1);
        (from..end).filter_map(|i| self.get(i).copied()).collect()
    }

    /// Appends an entry and returns its index.
    pub fn append(&mut self, entry: Entry) -> u64 {
        self.tail.push(entry);
        if self.tail.len() == CHUNK {
            self.sealed.push(Arc::from(std::mem::take(&mut self.tail)));
        }
        self.len()
    }

    /// Removes the entries from `index` on.
    pub fn truncate_from(&mut self, index: u64) {
        let keep = usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX);
        if keep >= self.sealed_len() {
            self.tail.truncate(keep - self.sealed_len());
        } else {
            let chunk = keep / CHUNK;
            self.tail = self.sealed[chunk][..keep % CHUNK].to_vec();
            self.sealed.truncate(chunk);
        }
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
    fn chunked_logs_append_get_slice_and_truncate_like_a_vec() {
        // Against a plain Vec, across chunk boundaries.
        let mut log = Log::new();
        let mut plain: Vec<Entry> = Vec::new();
        for i in 0..(3 * CHUNK as u64 + 7) {
            let e = Entry::noop(1 + i / 100);
            log.append(e);
            plain.push(e);
        }
        let copy = log.clone();
        for cut in [
            3 * CHUNK as u64 + 8,
            3 * CHUNK as u64 + 1,
            2 * CHUNK as u64 + 1,
            CHUNK as u64,
            5,
            1,
        ] {
            log.truncate_from(cut);
            plain.truncate(cut as usize - 1);
            assert_eq!(log.len(), plain.len() as u64);
            assert!(log.entries().map(|(_, e)| *e).eq(plain.iter().copied()));
            assert_eq!(log.last_term(), plain.last().map_or(0, |e| e.term));
            assert_eq!(
                log.slice(2, 64),
                plain.iter().skip(1).take(64).copied().collect::<Vec<_>>()
            );
            log.append(Entry::noop(99));
            plain.push(Entry::noop(99));
            assert_eq!(log.get(plain.len() as u64), plain.last());
            assert_eq!(log, Log::from_entries(plain.clone()), "equal content, equal logs");
        }
        assert_eq!(
            copy.len(),
            3 * CHUNK as u64 + 7,
            "a copy is untouched by changes to the original"
        );
    }

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
