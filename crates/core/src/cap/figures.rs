//! PACELC's figures, read off a client history: stale reads and latency percentiles.
//!
//! A read is **stale** when it returned a value older than one it must have seen: some write
//! W finished before the read began, yet the read returned nothing, or the value of a write
//! that had finished before W began (so W overwrote it before the read). A linearizable store
//! has none; this misses the subtler stale reads that only the linearizability checker sees.

use crate::history::{EventKind, History};
use crate::protocol::Op;
use crate::{Key, Value};

/// One completed operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    pub op: Op,
    pub invoked_us: u64,
    pub returned_us: u64,
    pub outcome: EventKind,
    pub read: Option<Value>,
}

/// Every operation that completed with `ok` or `fail`, in the order they completed.
pub fn completed(history: &History) -> Vec<Done> {
    let mut open: Vec<(u32, u64)> = Vec::new();
    let mut done = Vec::new();
    for e in &history.events {
        match e.kind {
            EventKind::Invoke => open.push((e.client, e.time_us)),
            kind => {
                if let Some(i) = open.iter().position(|&(c, _)| c == e.client) {
                    let (_, invoked_us) = open.swap_remove(i);
                    if kind != EventKind::Info {
                        done.push(Done {
                            op: e.op,
                            invoked_us,
                            returned_us: e.time_us,
                            outcome: kind,
                            read: e.read,
                        });
                    }
                }
            }
        }
    }
    done
}

/// Whether each of `done`'s reads is stale (`None` for an operation that is not an ok read).
pub fn stale(done: &[Done]) -> Vec<Option<bool>> {
    // The ok writes, by key: (invoked, returned, value).
    let writes: Vec<(Key, u64, u64, Value)> = done
        .iter()
        .filter(|d| d.outcome == EventKind::Ok)
        .filter_map(|d| match d.op {
            Op::Write { key, value } => Some((key, d.invoked_us, d.returned_us, value)),
            _ => None,
        })
        .collect();
    done.iter()
        .map(|d| {
            let Op::Read { key } = d.op else { return None };
            if d.outcome != EventKind::Ok {
                return None;
            }
            // The latest-starting write that finished before this read began.
            let w = writes
                .iter()
                .filter(|w| w.0 == key && w.2 < d.invoked_us)
                .max_by_key(|w| w.1)?;
            Some(match d.read {
                None => true,
                Some(v) => writes.iter().any(|x| x.0 == key && x.3 == v && x.2 < w.1),
            })
        })
        .collect()
}

/// A window's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// End of the window (operations that returned before it).
    pub until_us: u64,
    pub reads: u32,
    pub stale: u32,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// The `q`-th per-mille percentile of `sorted` (nearest rank).
fn percentile(sorted: &[u64], per_mille: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() as u64 * per_mille).div_ceil(1000).max(1);
    sorted[(rank - 1) as usize]
}

/// The figures of every window of `width_us` up to `until_us` (the last may be partial), and
/// of the whole run last.
pub fn windows(history: &History, width_us: u64, until_us: u64) -> Vec<Window> {
    let done = completed(history);
    let stale = stale(&done);
    let width = width_us.max(1);
    let count = until_us.div_ceil(width) as usize;
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); count + 1];
    let mut out: Vec<Window> = (0..=count)
        .map(|k| Window {
            until_us: ((k as u64 + 1) * width).min(until_us),
            ..Window::default()
        })
        .collect();
    out[count].until_us = until_us;
    for (d, s) in done.iter().zip(&stale) {
        let k = ((d.returned_us / width) as usize).min(count.saturating_sub(1));
        for slot in [k, count] {
            latencies[slot].push(d.returned_us - d.invoked_us);
            if let Some(s) = s {
                out[slot].reads += 1;
                out[slot].stale += u32::from(*s);
            }
        }
    }
    for (w, mut l) in out.iter_mut().zip(latencies) {
        crate::sort::sort_by_key(&mut l, |&x| u128::from(x));
        w.p50_us = percentile(&l, 500);
        w.p99_us = percentile(&l, 990);
    }
    out
}
