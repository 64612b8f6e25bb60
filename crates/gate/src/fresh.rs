//! When what the gateway remembers may be used: verified sessions and Basic credentials are
//! kept in memory (a decision then needs no query of the store), as long as nothing that could
//! end them has changed.
//!
//! The store has a change counter that triggers move on every such change (a password, a
//! disable, groups, a session ended, a lock or ban; migration 0005), whoever made it: this
//! gateway, the CLI, another process on the same file. A task reads it every
//! [`POLL`]; when it moves, or the store fails, every remembered entry is forgotten (each
//! carries the epoch it was made in). So a change made elsewhere takes effect within
//! [`POLL`], one made here at once (the store counts its own), and a store that fails is
//! never papered over by the memory: the gateway answers 503 as it would without it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::store::Store;

/// How often the change counter is read.
pub const POLL: Duration = Duration::from_millis(250);

/// How old the last reading may be for remembered entries to be used: a store slow to answer
/// (a busy pool under load) delays a reading without making the memory stale at once, and a
/// store that hangs stops its use after this long.
pub const STALE: Duration = Duration::from_secs(2);

/// The epoch remembered entries must carry to be used.
pub struct Freshness {
    epoch: AtomicU64,
    healthy: AtomicBool,
    /// When the counter was last read, in milliseconds since `started`: a poll that hangs (a
    /// busy pool, a slow disk) must not keep old entries in use.
    last_read: AtomicU64,
    started: std::time::Instant,
}

impl Freshness {
    /// Starts watching `store`'s change counter, read once now (a change between this read and
    /// the first poll is then seen as one); the watch ends with the last reference.
    pub async fn watch(store: Store) -> Arc<Freshness> {
        let first = store.generation().await.ok();
        let fresh = Arc::new(Freshness {
            epoch: AtomicU64::new(0),
            healthy: AtomicBool::new(first.is_some()),
            last_read: AtomicU64::new(0),
            started: std::time::Instant::now(),
        });
        let weak: Weak<Freshness> = Arc::downgrade(&fresh);
        tokio::spawn(async move {
            let mut last = first;
            loop {
                tokio::time::sleep(POLL).await;
                let Some(fresh) = weak.upgrade() else { return };
                match tokio::time::timeout(STALE, store.generation()).await {
                    Ok(Ok(v)) => {
                        if last != Some(v) {
                            fresh.invalidate();
                        }
                        last = Some(v);
                        fresh.healthy.store(true, Ordering::Release);
                        fresh.last_read.store(
                            fresh.started.elapsed().as_millis() as u64,
                            Ordering::Release,
                        );
                    }
                    Ok(Err(_)) => {
                        fresh.healthy.store(false, Ordering::Release);
                        fresh.invalidate();
                    }
                    // Slow, not failed: the reading's age (STALE) decides.
                    Err(_) => {}
                }
            }
        });
        fresh
    }

    /// The epoch a remembered entry must have been made in to be used now; `None`: nothing
    /// remembered may be used (the store failed at the last look, or was closed).
    pub fn current(&self, store: &Store) -> Option<u64> {
        // Both only grow: their sum moves when either does (a change made here counts at once,
        // before the poll sees it in the counter).
        let since_read = (self.started.elapsed().as_millis() as u64)
            .saturating_sub(self.last_read.load(Ordering::Acquire));
        (self.healthy.load(Ordering::Acquire)
            && !store.is_closed()
            && since_read <= STALE.as_millis() as u64)
            .then(|| self.epoch.load(Ordering::Acquire) + store.changes())
    }

    /// Forgets everything remembered.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}
