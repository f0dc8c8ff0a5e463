//! The server's one clock. Every "now" the server uses (request windows, receipt times,
//! today's team view, stored timestamps, enrollment code expiry) is read from the
//! [`Clock`] of its [`crate::AppState`], which is the clock of its storage.
//!
//! The binary always runs on [`SystemClock`]: it has no flag, environment variable or
//! configuration key to set the time. Tests build their state with a [`ManualClock`]
//! through the library ([`crate::AppState::open_with_clock`]) and set the time instead
//! of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the server reads the time, Unix ms.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, Unix ms UTC.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock: what the binary runs on.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        hadir_core::clock::wall_clock_ms()
    }
}

/// The system clock as a shared [`Clock`].
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock that shows what it was set to, for tests: it moves only when told.
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn starting_at(now_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now_ms: AtomicI64::new(now_ms),
        })
    }

    /// Sets the time.
    pub fn set(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward (or back, with a negative `ms`).
    pub fn advance(&self, ms: i64) {
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(42);
        assert_eq!(clock.now_ms(), 42);
    }

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = hadir_core::clock::wall_clock_ms();
        let now = SystemClock.now_ms();
        assert!(now >= before && now - before < 60_000);
    }
}
