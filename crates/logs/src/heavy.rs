//! Bounded counting of high-cardinality keys (IPs, users, URLs in an attack): a hash map that,
//! when it doubles past its capacity, keeps only its most frequent half. The frequent keys —
//! the ones a report shows and a detector needs — survive; the output says when the tail was
//! cut. Written here because the well-known crates count, but do not carry the per-key payload
//! (first/last seen, distinct users) the detectors need.

use hashbrown::hash_map::EntryRef;
use rustc_hash::FxBuildHasher;

type FxHashMap<K, V> = hashbrown::HashMap<K, V, FxBuildHasher>;

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
    map: FxHashMap<Box<[u8]>, Entry<P>>,
    cap: usize,
    /// Keys were dropped: counts of the survivors are exact for what they saw, the tail is gone.
    pub evicted: bool,
}

impl<P: Default + Merge> TopK<P> {
    /// A counter keeping at least `cap` keys.
    pub fn new(cap: usize) -> Self {
        TopK {
            map: FxHashMap::default(),
            cap: cap.max(1),
            evicted: false,
        }
    }

    /// Counts one more `key` and returns its entry.
    #[inline]
    pub fn hit(&mut self, key: &[u8]) -> &mut Entry<P> {
        self.add(key, 1)
    }

    /// Counts `n` more `key`.
    pub fn add(&mut self, key: &[u8], n: u64) -> &mut Entry<P> {
        // Growth past twice the capacity is checked before the lookup, so that one probe both
        // finds the key and, only for a new one, allocates its owned copy.
        if self.map.len() >= 2 * self.cap {
            self.compact();
        }
        let e = match self.map.entry_ref(key) {
            EntryRef::Occupied(o) => o.into_mut(),
            EntryRef::Vacant(v) => v.insert_with_key(key.into(), Entry::default()),
        };
        e.count += n;
        e
    }

    /// The entry of `key`, if counted.
    pub fn get(&self, key: &[u8]) -> Option<&Entry<P>> {
        self.map.get(key)
    }

    /// The entry of `key` to update its payload, if counted (the count stays).
    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry<P>> {
        self.map.get_mut(key)
    }

    fn compact(&mut self) {
        let mut counts: Vec<u64> = self.map.values().map(|e| e.count).collect();
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
    pub fn merge(&mut self, other: TopK<P>) {
        self.evicted |= other.evicted;
        for (k, e) in other.map {
            match self.map.get_mut(&k) {
                Some(mine) => {
                    mine.count += e.count;
                    mine.payload.merge(e.payload);
                }
                None => {
                    if self.map.len() >= 2 * self.cap {
                        self.compact();
                    }
                    self.map.insert(k, e);
                }
            }
        }
    }

    /// The `n` most frequent keys, most frequent first (ties by key, for stable output).
    pub fn top(&self, n: usize) -> Vec<(&[u8], &Entry<P>)> {
        let mut v: Vec<(&[u8], &Entry<P>)> = self.map.iter().map(|(k, e)| (&**k, e)).collect();
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
        self.map.iter().map(|(k, e)| (&**k, e))
    }

    /// Every key with its entry, to update payloads (the counts stay).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut Entry<P>)> {
        self.map.iter_mut().map(|(k, e)| (&**k, e))
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
