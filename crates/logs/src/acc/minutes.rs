//! Requests per minute, the accumulator's time series.

/// Requests per minute: all, 401s, real failures.
#[derive(Debug, Clone, Default)]
pub struct Minutes {
    pub base: i64,
    pub v: Vec<[u32; 3]>,
}

impl Minutes {
    #[inline]
    pub(super) fn slot(&mut self, minute: i64) -> &mut [u32; 3] {
        if self.v.is_empty() {
            self.base = minute;
        }
        if minute < self.base {
            let shift = (self.base - minute) as usize;
            let mut v = vec![[0u32; 3]; shift];
            v.append(&mut self.v);
            self.v = v;
            self.base = minute;
        }
        let i = (minute - self.base) as usize;
        if i >= self.v.len() {
            self.v.resize(i + 1, [0; 3]);
        }
        &mut self.v[i]
    }

    /// Adds `o` in and empties it (its allocation kept).
    pub(super) fn absorb(&mut self, o: &mut Minutes) {
        for (i, c) in o.v.drain(..).enumerate() {
            if c != [0; 3] {
                let s = self.slot(o.base + i as i64);
                for k in 0..3 {
                    s[k] += c[k];
                }
            }
        }
        o.base = 0;
    }
}
