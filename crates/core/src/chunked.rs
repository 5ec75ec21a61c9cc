//! An append-only sequence kept in fixed-size chunks.
//!
//! A run's trace grows by millions of events. In one `Vec`, each doubling copies everything
//! so far in one go: tens of megabytes, which in the browser is a frame lost every time the
//! trace doubles, and twice the memory while it happens. Chunks never move once written:
//! pushing costs the same at any length, and indexing is one division away from a slice.
//!
//! Chunks are shared behind `Arc`s, so a copy of a sequence (every checkpoint of a run copies
//! the monitors and the protocols' growing state) copies a pointer per chunk, not every
//! element. A change to a chunk that a copy shares copies that chunk first (copy on write),
//! which happens at most once per chunk and copy.
//!
//! [`SlotMap`] is a map keyed by integers that mostly come in runs (slots, log indexes,
//! terms, request numbers), kept in shared chunks for the same cheap copies.

use std::collections::BTreeMap;
use std::ops::Index;
use std::sync::Arc;

/// Elements per chunk: small enough that the copy-on-write of a shared chunk after a
/// checkpoint is cheap, large enough that the list of chunks stays short.
const CHUNK: usize = 256;

/// A sequence that only grows at its end (or is cut back with [`Chunked::truncate`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Chunked<T> {
    /// Every chunk but the last is full.
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Clone for Chunked<T> {
    /// Shares every chunk: O(chunks), whatever the elements.
    fn clone(&self) -> Self {
        Chunked {
            chunks: self.chunks.clone(),
            len: self.len,
        }
    }
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked::new()
    }
}

impl<T> Chunked<T> {
    pub const fn new() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    pub fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    /// The number of leading elements for which `pred` holds, given that it holds for a
    /// prefix of the sequence (as [`slice::partition_point`]).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The elements from `start` on.
    pub fn iter_from(&self, start: usize) -> impl DoubleEndedIterator<Item = &T> {
        let first = start / CHUNK;
        let skip = start % CHUNK;
        self.chunks
            .get(first..)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .flat_map(move |(i, chunk)| chunk.get(if i == 0 { skip } else { 0 }..).unwrap_or_default())
    }
}

impl<T: Clone> Chunked<T> {
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    /// The element at `index`, to change; its chunk is copied first if a copy shares it.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        Arc::make_mut(self.chunks.get_mut(index / CHUNK)?).get_mut(index % CHUNK)
    }

    /// Keeps the first `len` elements.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.chunks.truncate(len.div_ceil(CHUNK));
        if let Some(last) = self.chunks.last_mut() {
            let keep = len - (len - 1) / CHUNK * CHUNK;
            if keep < last.len() {
                Arc::make_mut(last).truncate(keep);
            }
        }
        self.len = len;
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(value) => value,
            None => panic!("index {index} out of a sequence of {}", self.len),
        }
    }
}

impl<'a, T> IntoIterator for &'a Chunked<T> {
    type Item = &'a T;
    type IntoIter = std::iter::FlatMap<
        std::slice::Iter<'a, Arc<Vec<T>>>,
        std::slice::Iter<'a, T>,
        fn(&'a Arc<Vec<T>>) -> std::slice::Iter<'a, T>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

/// A map from `u64` keys to values, for keys that mostly come in runs (slots, log indexes,
/// terms, a client's request numbers): the keys are cut into chunks of [`CHUNK`], kept by
/// chunk number in a `BTreeMap` of `Arc`-shared chunks, so that copies share their chunks
/// and a stray key (a forged slot near `u64::MAX`) costs one chunk. Iteration is in key
/// order, like a `BTreeMap`'s. Keys are never removed.
#[derive(Debug, PartialEq, Eq)]
pub struct SlotMap<V> {
    /// Chunk number to the values of keys `number * CHUNK ..`; every chunk holds a value.
    chunks: BTreeMap<u64, Arc<Vec<Option<V>>>>,
    /// How many keys hold a value.
    count: u64,
}

impl<V> Default for SlotMap<V> {
    fn default() -> Self {
        SlotMap {
            chunks: BTreeMap::new(),
            count: 0,
        }
    }
}

impl<V> Clone for SlotMap<V> {
    /// Shares every chunk: O(chunks), whatever the values.
    fn clone(&self) -> Self {
        SlotMap {
            chunks: self.chunks.clone(),
            count: self.count,
        }
    }
}

const SLOT_CHUNK: u64 = CHUNK as u64;

/// The chunk number of `key` and its place in the chunk.
fn split(key: u64) -> (u64, usize) {
    (key / SLOT_CHUNK, (key % SLOT_CHUNK) as usize)
}

impl<V> SlotMap<V> {
    /// How many keys hold a value.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn get(&self, key: u64) -> Option<&V> {
        let (chunk, at) = split(key);
        self.chunks.get(&chunk)?[at].as_ref()
    }

    pub fn contains_key(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// The highest key holding a value.
    pub fn last_key(&self) -> Option<u64> {
        let (&chunk, values) = self.chunks.last_key_value()?;
        let at = values.iter().rposition(Option::is_some)?;
        Some(chunk * SLOT_CHUNK + at as u64)
    }

    /// Every key with its value, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.iter_from(0)
    }

    /// The keys from `from` on with their values, in key order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &V)> {
        self.chunks
            .range(split(from).0..)
            .flat_map(|(&chunk, values)| {
                values
                    .iter()
                    .enumerate()
                    .filter_map(move |(at, v)| Some((chunk * SLOT_CHUNK + at as u64, v.as_ref()?)))
            })
            .filter(move |&(key, _)| key >= from)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

impl<V: Clone> SlotMap<V> {
    /// Sets the value of `key`, returning the one it replaces.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        let old = self.entry(key).replace(value);
        if old.is_none() {
            self.count += 1;
        }
        old
    }

    /// The value of `key`, inserting `make()` first if it has none; its chunk is copied
    /// first if a copy shares it.
    pub fn get_or_insert_with(&mut self, key: u64, make: impl FnOnce() -> V) -> &mut V {
        if !self.contains_key(key) {
            self.count += 1;
        }
        self.entry(key).get_or_insert_with(make)
    }

    /// The place of `key`, in a chunk of its own.
    fn entry(&mut self, key: u64) -> &mut Option<V> {
        let (chunk, at) = split(key);
        let values = self
            .chunks
            .entry(chunk)
            .or_insert_with(|| Arc::new((0..CHUNK).map(|_| None).collect()));
        &mut Arc::make_mut(values)[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_fill_before_a_new_one_starts() {
        let mut c = Chunked::default();
        for i in 0..CHUNK + 1 {
            c.push(i);
        }
        assert_eq!(c.chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [CHUNK, 1]);
        assert_eq!(
            (c.len(), c.get(CHUNK), c.get(CHUNK + 1)),
            (CHUNK + 1, Some(&CHUNK), None)
        );
        c.truncate(CHUNK);
        assert_eq!(c.chunks.len(), 1, "an emptied chunk is dropped");
        assert_eq!(
            (c.len(), c.get(CHUNK - 1), c.get(CHUNK)),
            (CHUNK, Some(&(CHUNK - 1)), None)
        );
    }

    #[test]
    fn copies_share_chunks_until_one_changes() {
        let mut c = Chunked::default();
        for i in 0..2 * CHUNK + 3 {
            c.push(i);
        }
        let copy = c.clone();
        let shared = |a: &Chunked<usize>, b: &Chunked<usize>| {
            a.chunks
                .iter()
                .zip(&b.chunks)
                .filter(|(x, y)| Arc::ptr_eq(x, y))
                .count()
        };
        assert_eq!(shared(&c, &copy), 3, "a copy shares every chunk");
        *c.get_mut(5).expect("in range") = 99;
        c.push(7);
        assert_eq!(shared(&c, &copy), 1, "a change copies only the chunks it touches");
        assert_eq!(
            (copy[5], copy.len(), c[5], c.len()),
            (5, 2 * CHUNK + 3, 99, 2 * CHUNK + 4)
        );
        c.truncate(CHUNK + 1);
        assert_eq!(copy.len(), 2 * CHUNK + 3, "a cut leaves the copy whole");
        assert!(copy.iter().copied().eq(0..2 * CHUNK + 3));
    }

    #[test]
    fn a_slot_map_reads_like_a_btree_map_and_its_copies_are_independent() {
        let mut m = SlotMap::default();
        let mut b = std::collections::BTreeMap::new();
        for key in [5u64, 1, 700, 5, 3] {
            assert_eq!(m.insert(key, key * 10), b.insert(key, key * 10));
        }
        let copy = m.clone();
        *m.get_or_insert_with(3, || 0) += 1;
        *m.get_or_insert_with(4, || 40) += 1;
        *b.entry(3).or_insert(0) += 1;
        *b.entry(4).or_insert(40) += 1;
        assert!(m.iter().eq(b.iter().map(|(&k, v)| (k, v))));
        assert!(m.iter_from(4).eq(b.range(4..).map(|(&k, v)| (k, v))));
        assert!(m.values().eq(b.values()));
        assert_eq!(
            (m.len(), m.last_key(), m.get(2), m.get(9_999)),
            (5, Some(700), None, None)
        );
        m.insert(u64::MAX, 1);
        assert_eq!(
            (m.last_key(), m.get(u64::MAX)),
            (Some(u64::MAX), Some(&1)),
            "a stray key costs a chunk"
        );
        assert_eq!(m.iter_from(701).collect::<Vec<_>>(), [(u64::MAX, &1)]);
        assert!(m.contains_key(4) && !m.contains_key(6));
        assert_eq!((copy.get(3), copy.get(4), copy.len()), (Some(&30), None, 4));
        assert_eq!(SlotMap::<u8>::default().last_key(), None);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Push(u32),
            Truncate(usize),
            Set(usize, u32),
            /// Keep a copy from here on, which must not see any later change.
            Copy,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                8 => any::<u32>().prop_map(Op::Push),
                1 => (0..3 * CHUNK).prop_map(Op::Truncate),
                1 => (0..3 * CHUNK, any::<u32>()).prop_map(|(i, x)| Op::Set(i, x)),
                1 => Just(Op::Copy),
            ]
        }

        proptest! {
            /// Whatever pushes and cuts happen, it reads back as a `Vec` would.
            #[test]
            fn it_reads_like_a_vec(ops in prop::collection::vec(op(), 0..12_000), start in 0..3 * CHUNK) {
                let (mut c, mut v) = (Chunked::default(), Vec::new());
                let mut copy: Option<(Chunked<u32>, Vec<u32>)> = None;
                for op in ops {
                    match op {
                        Op::Push(x) => { c.push(x); v.push(x); }
                        Op::Truncate(n) => { c.truncate(n); v.truncate(n); }
                        Op::Set(i, x) => {
                            prop_assert_eq!(c.get_mut(i).map(|e| *e = x), v.get_mut(i).map(|e| *e = x));
                        }
                        Op::Copy => {
                            if let Some((copy, then)) = &copy {
                                prop_assert!(copy.iter().eq(then.iter()), "a copy kept what it had");
                            }
                            copy = Some((c.clone(), v.clone()));
                        }
                    }
                }
                if let Some((copy, then)) = &copy {
                    prop_assert!(copy.iter().eq(then.iter()), "a copy kept what it had");
                }
                prop_assert_eq!(c.last(), v.last());
                let sorted: Chunked<usize> = {
                    let mut s = Chunked::default();
                    (0..v.len()).for_each(|i| s.push(i));
                    s
                };
                prop_assert_eq!(sorted.partition_point(|&i| i < start), start.min(v.len()));
                prop_assert_eq!(c.len(), v.len());
                prop_assert_eq!(c.is_empty(), v.is_empty());
                prop_assert!(c.iter().eq(v.iter()));
                prop_assert!(c.iter().rev().eq(v.iter().rev()));
                prop_assert!((&c).into_iter().eq(v.iter()));
                prop_assert!(c.iter_from(start).eq(v.iter().skip(start)));
                prop_assert!(c.iter_from(start).rev().eq(v.iter().skip(start).rev()));
                for i in [0, start, v.len().saturating_sub(1), v.len()] {
                    prop_assert_eq!(c.get(i), v.get(i));
                }
            }
        }
    }
}
