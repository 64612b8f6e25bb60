//! Bounded counting of high-cardinality keys (IPs, users, URLs in an attack): a hash map that,
//! when it doubles past its capacity, keeps only its most frequent half. The frequent keys —
//! the ones a report shows and a detector needs — survive; the output says when the tail was
//! cut. Written here because the well-known crates count, but do not carry the per-key payload
//! (first/last seen, distinct users) the detectors need.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;

/// The hash of a key, computed once per line and reused by every table and filter that
/// looks the key up (FxHash: keys are short, and a chunk's tables are private to it).
#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(key);
    h.write_u8(0xff);
    h.finish()
}

/// Byte equality for short keys (IPs, `ip\0user`) without a call into `memcmp`: on the hot
/// path a lookup is a hit, so the comparison always runs to the end.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if !(8..=32).contains(&n) {
        return a == b;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    // Overlapping words cover every length from 8 to 32 bytes.
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// A key as a table holds it: in its slot when short (an IPv4 address, most user names), so
/// that comparing it reads no other cache line; on the heap otherwise.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    Inline(u8, [u8; Key::INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    const INLINE: usize = 22;

    #[inline]
    pub(crate) fn new(b: &[u8]) -> Key {
        if b.len() <= Key::INLINE {
            let mut a = [0u8; Key::INLINE];
            a[..b.len()].copy_from_slice(b);
            Key::Inline(b.len() as u8, a)
        } else {
            Key::Heap(b.into())
        }
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline(n, a) => &a[..*n as usize],
            Key::Heap(b) => b,
        }
    }
}

/// A map from byte keys to values that keeps each key's hash: a caller that already hashed
/// the key (to test a filter first) looks it up without hashing again, growth never rehashes,
/// and a merge moves entries without hashing them. hashbrown's `HashTable` is the map; this is
/// the thin layer that stores the hash next to the key.
#[derive(Debug, Clone)]
pub(crate) struct Table<V> {
    t: HashTable<(u64, Key, V)>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            t: HashTable::new(),
        }
    }
}

impl<V> Table<V> {
    #[inline]
    pub(crate) fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        self.t
            .find(hash, |e| e.0 == hash && same(e.1.as_bytes(), key))
            .map(|e| &e.2)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        self.t
            .find_mut(hash, |e| e.0 == hash && same(e.1.as_bytes(), key))
            .map(|e| &mut e.2)
    }

    /// Whether a key with this hash is held. Chunks meet each other's successes by key hash
    /// alone (a success keeps no key), so this is the question they ask.
    #[inline]
    pub(crate) fn contains_hash(&self, hash: u64) -> bool {
        self.t.find(hash, |e| e.0 == hash).is_some()
    }

    /// The value of the key with this hash (see [`Table::contains_hash`]).
    #[inline]
    pub(crate) fn get_mut_by_hash(&mut self, hash: u64) -> Option<&mut V> {
        self.t.find_mut(hash, |e| e.0 == hash).map(|e| &mut e.2)
    }

    /// The value of `key`, inserted with `new` when absent (the key is copied only then).
    #[inline]
    pub(crate) fn get_or_insert_with(
        &mut self,
        hash: u64,
        key: &[u8],
        new: impl FnOnce() -> V,
    ) -> &mut V {
        match self
            .t
            .entry(hash, |e| e.0 == hash && same(e.1.as_bytes(), key), |e| e.0)
        {
            Slot::Occupied(o) => &mut o.into_mut().2,
            Slot::Vacant(v) => &mut v.insert((hash, Key::new(key), new())).into_mut().2,
        }
    }

    /// Moves an owned key in, merging its value into the one already there with `join`.
    pub(crate) fn put(&mut self, hash: u64, key: Key, value: V, join: impl FnOnce(&mut V, V)) {
        match self.t.entry(
            hash,
            |e| e.0 == hash && same(e.1.as_bytes(), key.as_bytes()),
            |e| e.0,
        ) {
            Slot::Occupied(o) => join(&mut o.into_mut().2, value),
            Slot::Vacant(v) => {
                v.insert((hash, key, value));
            }
        }
    }

    pub(crate) fn remove(&mut self, hash: u64, key: &[u8]) -> Option<V> {
        match self
            .t
            .find_entry(hash, |e| e.0 == hash && same(e.1.as_bytes(), key))
        {
            Ok(o) => Some(o.remove().0.2),
            Err(_) => None,
        }
    }

    /// Every entry: hash, key, value.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &[u8], &V)> {
        self.t.iter().map(|e| (e.0, e.1.as_bytes(), &e.2))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.t.iter_mut().map(|e| &mut e.2)
    }

    /// Takes every entry out, keeping the allocation for the next use.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (u64, Key, V)> + '_ {
        self.t.drain()
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&[u8], &mut V) -> bool) {
        self.t.retain(|e| keep(e.1.as_bytes(), &mut e.2));
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.t.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// Something that can absorb another of its kind.
pub trait Merge {
    fn merge(&mut self, other: Self);
}

impl Merge for () {
    fn merge(&mut self, _: Self) {}
}

/// A counted key with its payload.
#[derive(Debug, Clone, Default)]
pub struct Entry<P> {
    pub count: u64,
    pub payload: P,
}

/// The bounded counter.
#[derive(Debug, Clone)]
pub struct TopK<P> {
    map: Table<Entry<P>>,
    cap: usize,
    /// Keys were dropped: counts of the survivors are exact for what they saw, the tail is gone.
    pub evicted: bool,
}

impl<P: Default + Merge> TopK<P> {
    /// A counter keeping at least `cap` keys.
    pub fn new(cap: usize) -> Self {
        TopK {
            map: Table::default(),
            cap: cap.max(1),
            evicted: false,
        }
    }

    /// Counts one more `key` and returns its entry.
    #[inline]
    pub fn hit(&mut self, key: &[u8]) -> &mut Entry<P> {
        self.hit_hashed(key_hash(key), key)
    }

    /// Counts one more `key` whose [`key_hash`] is `hash`.
    #[inline]
    pub fn hit_hashed(&mut self, hash: u64, key: &[u8]) -> &mut Entry<P> {
        // Growth past twice the capacity is checked before the lookup, so that one probe both
        // finds the key and, only for a new one, allocates its owned copy.
        if self.map.len() >= 2 * self.cap {
            self.compact();
        }
        let e = self.map.get_or_insert_with(hash, key, Entry::default);
        e.count += 1;
        e
    }

    /// The entry of `key`, if counted.
    pub fn get(&self, key: &[u8]) -> Option<&Entry<P>> {
        self.map.get(key_hash(key), key)
    }

    /// Whether a key with this hash is counted (see [`Table::contains_hash`]).
    #[inline]
    pub fn contains_hash(&self, hash: u64) -> bool {
        self.map.contains_hash(hash)
    }

    /// The entry of the key with this hash, to update its payload.
    #[inline]
    pub fn get_mut_by_hash(&mut self, hash: u64) -> Option<&mut Entry<P>> {
        self.map.get_mut_by_hash(hash)
    }

    fn compact(&mut self) {
        let mut counts: Vec<u64> = self.map.iter().map(|(_, _, e)| e.count).collect();
        let keep = self.cap;
        counts.select_nth_unstable_by(keep - 1, |a, b| b.cmp(a));
        let threshold = counts[keep - 1];
        let mut kept = 0;
        // Ties at the threshold are kept first come, so exactly `cap` keys survive.
        self.map.retain(|_, e| {
            let keep_it = e.count > threshold || (e.count == threshold && kept < keep);
            if keep_it {
                kept += 1;
            }
            keep_it
        });
        self.evicted = true;
    }

    /// Absorbs another counter.
    pub fn merge(&mut self, mut other: TopK<P>) {
        self.absorb(&mut other);
    }

    /// Absorbs another counter, leaving it empty with its allocation (for reuse).
    pub fn absorb(&mut self, other: &mut TopK<P>) {
        self.evicted |= other.evicted;
        other.evicted = false;
        for (h, k, e) in other.map.drain() {
            if self.map.len() >= 2 * self.cap && self.map.get(h, k.as_bytes()).is_none() {
                self.compact();
            }
            self.map.put(h, k, e, |mine, e| {
                mine.count += e.count;
                mine.payload.merge(e.payload);
            });
        }
    }

    /// Empties the counter, keeping its allocation.
    pub fn clear(&mut self) {
        self.map.clear();
        self.evicted = false;
    }

    /// The `n` most frequent keys, most frequent first (ties by key, for stable output).
    pub fn top(&self, n: usize) -> Vec<(&[u8], &Entry<P>)> {
        let mut v: Vec<(&[u8], &Entry<P>)> = self.iter().collect();
        let order = |a: &(&[u8], &Entry<P>), b: &(&[u8], &Entry<P>)| {
            b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0))
        };
        if n > 0 && v.len() > n {
            v.select_nth_unstable_by(n - 1, order);
            v.truncate(n);
        }
        v.sort_by(order);
        v.truncate(n);
        v
    }

    /// Every key counted.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry<P>)> {
        self.map.iter().map(|(_, k, e)| (k, e))
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn heavy_hitters_survive_a_flood_of_singletons() {
        let mut t: TopK<()> = TopK::new(100);
        for i in 0..50_000u32 {
            t.hit(format!("noise-{i}").as_bytes());
            if i % 10 == 0 {
                t.hit(b"attacker");
            }
        }
        assert!(t.evicted);
        assert!(t.len() <= 200);
        assert_eq!(t.top(1)[0].0, b"attacker");
        assert_eq!(t.top(1)[0].1.count, 5_000);
    }

    proptest! {
        #[test]
        fn exact_below_capacity(keys in proptest::collection::vec(0u8..20, 0..500)) {
            let mut t: TopK<()> = TopK::new(64);
            let mut truth = std::collections::HashMap::new();
            for k in &keys {
                t.hit(&[*k]);
                *truth.entry(*k).or_insert(0u64) += 1;
            }
            prop_assert!(!t.evicted);
            for (k, n) in truth {
                prop_assert_eq!(t.get(&[k]).map(|e| e.count), Some(n));
            }
        }

        #[test]
        fn merging_halves_equals_counting_all(keys in proptest::collection::vec(0u8..30, 0..400), split in 0usize..400) {
            let split = split.min(keys.len());
            let (mut a, mut b, mut all) = (TopK::<()>::new(64), TopK::<()>::new(64), TopK::<()>::new(64));
            for k in &keys[..split] { a.hit(&[*k]); }
            for k in &keys[split..] { b.hit(&[*k]); }
            for k in &keys { all.hit(&[*k]); }
            a.merge(b);
            for (k, e) in all.iter() {
                prop_assert_eq!(a.get(k).map(|x| x.count), Some(e.count));
            }
        }
    }
}
