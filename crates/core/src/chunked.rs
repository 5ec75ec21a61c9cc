//! An append-only sequence kept in fixed-size chunks.
//!
//! A run's trace grows by millions of events. In one `Vec`, each doubling copies everything
//! so far in one go: tens of megabytes, which in the browser is a frame lost every time the
//! trace doubles, and twice the memory while it happens. Chunks never move once written:
//! pushing costs the same at any length, and indexing is one division away from a slice.

use std::ops::Index;

/// Elements per chunk.
const CHUNK: usize = 4096;

/// A sequence that only grows at its end (or is cut back with [`Chunked::truncate`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Chunked<T> {
    /// Every chunk but the last is full.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// Keeps the first `len` elements.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.chunks.truncate(len.div_ceil(CHUNK));
        if let Some(last) = self.chunks.last_mut() {
            last.truncate(len - (len - 1) / CHUNK * CHUNK);
        }
        self.len = len;
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks.iter().flatten()
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
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.iter().flatten()
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
        assert_eq!(c.chunks.iter().map(Vec::len).collect::<Vec<_>>(), [CHUNK, 1]);
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

    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Push(u32),
            Truncate(usize),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                8 => any::<u32>().prop_map(Op::Push),
                1 => (0..3 * CHUNK).prop_map(Op::Truncate),
            ]
        }

        proptest! {
            /// Whatever pushes and cuts happen, it reads back as a `Vec` would.
            #[test]
            fn it_reads_like_a_vec(ops in prop::collection::vec(op(), 0..12_000), start in 0..3 * CHUNK) {
                let (mut c, mut v) = (Chunked::default(), Vec::new());
                for op in ops {
                    match op {
                        Op::Push(x) => { c.push(x); v.push(x); }
                        Op::Truncate(n) => { c.truncate(n); v.truncate(n); }
                    }
                }
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
