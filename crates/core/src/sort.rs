//! One sort for the whole program. Each `sort_by_key` or `sort_unstable` on a new element type
//! instantiates the standard library's sort again (3 to 6 KB of wasm each); the web page
//! linked eight of them. [`sort_by_key`] sorts `(key, position)` pairs, always of the same
//! type, and then moves the items into that order: the result is exactly a stable sort by
//! the key, and only one sort is compiled.

/// Sorts `items` by `key`, stably: items with equal keys keep their order, exactly as
/// `items.sort_by_key(key)` would leave them. A composite key packs its parts into the `u128`
/// most significant first.
pub fn sort_by_key<T>(items: &mut [T], key: impl Fn(&T) -> u128) {
    let mut order = sorted_positions(items.iter().map(key).collect());
    // Apply the permutation in place: the item at `order[i]` belongs at `i`. Follow each
    // cycle, marking a slot done by pointing it at itself.
    for start in 0..order.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// The positions of `keys` in ascending order of key, ties by position.
#[inline(never)]
fn sorted_positions(keys: Vec<u128>) -> Vec<usize> {
    let mut pairs: Vec<(u128, usize)> = keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect();
    // No two pairs are equal (positions differ), so an unstable sort is deterministic and
    // gives the stable order.
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::sort_by_key;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard stable sort, ties included.
        #[test]
        fn is_the_stable_sort_by_the_key(items in proptest::collection::vec((0u8..6, any::<u16>()), 0..200)) {
            let mut ours = items.clone();
            sort_by_key(&mut ours, |&(k, _)| u128::from(k));
            let mut std_sorted = items;
            std_sorted.sort_by_key(|&(k, _)| k);
            prop_assert_eq!(ours, std_sorted);
        }
    }

    #[test]
    fn sorts_items_that_are_not_copy() {
        let mut words: Vec<String> = ["pear", "fig", "apple", "kiwi", "date"].map(String::from).to_vec();
        sort_by_key(&mut words, |w| w.len() as u128);
        assert_eq!(words, ["fig", "pear", "kiwi", "date", "apple"]);
    }
}
