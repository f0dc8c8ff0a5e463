//! The one retry-delay rule of the engine: exponential backoff with full jitter, never
//! shorter than the server's `Retry-After`. Used by the in-pass retries of a sync, the
//! between-pass delay recorded on outbox items, and the live team feed's reconnects.

/// Exponential backoff with full jitter: before retry number `attempt` (0 for the first
/// retry), wait a uniformly random time in `[0, min(cap, base · 2^attempt)]`, and never
/// less than what the server asked for (`Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first delay, ms.
    pub base_ms: u64,
    /// The largest ceiling, ms.
    pub cap_ms: u64,
}

impl Backoff {
    /// A backoff starting at `base_ms`, doubling up to `cap_ms`.
    pub const fn new(base_ms: u64, cap_ms: u64) -> Backoff {
        Backoff { base_ms, cap_ms }
    }

    /// The largest delay retry number `attempt` may wait (at least 1 ms).
    pub fn ceiling_ms(&self, attempt: u32) -> u64 {
        self.base_ms
            .saturating_mul(1u64 << attempt.min(32))
            .min(self.cap_ms)
            .max(1)
    }

    /// The delay before retry number `attempt`, with the jitter drawn from `random` (any
    /// uniformly distributed value), at least `retry_after_ms`. Deterministic, for tests.
    pub fn delay_with_jitter_ms(&self, attempt: u32, retry_after_ms: u64, random: u64) -> u64 {
        let ceiling = self.ceiling_ms(attempt);
        (random % (ceiling + 1)).max(retry_after_ms)
    }

    /// The delay before retry number `attempt`, jittered by the system's secure random
    /// generator, at least `retry_after_ms`.
    pub fn delay_ms(&self, attempt: u32, retry_after_ms: u64) -> u64 {
        let mut bytes = [0u8; 8];
        // A failed read leaves zeros: the shortest delay, still bounded by Retry-After.
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        self.delay_with_jitter_ms(attempt, retry_after_ms, u64::from_le_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_base_up_to_the_cap() {
        let b = Backoff::new(250, 10_000);
        let ceilings: Vec<u64> = (0..8).map(|n| b.ceiling_ms(n)).collect();
        assert_eq!(
            ceilings,
            [250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]
        );
        // No overflow however many attempts were made.
        assert_eq!(b.ceiling_ms(u32::MAX), 10_000);
        assert_eq!(Backoff::new(0, 0).ceiling_ms(3), 1);
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let b = Backoff::new(1_000, 60_000);
        assert_eq!(b.delay_with_jitter_ms(2, 0, 0), 0);
        assert_eq!(b.delay_with_jitter_ms(2, 0, 4_000), 4_000);
        assert_eq!(b.delay_with_jitter_ms(2, 0, 4_001), 0);
        assert_eq!(b.delay_with_jitter_ms(2, 0, u64::MAX), u64::MAX % 4_001);
    }

    #[test]
    fn retry_after_is_a_floor_even_above_the_cap() {
        let b = Backoff::new(1_000, 60_000);
        assert_eq!(b.delay_with_jitter_ms(0, 30_000, 7), 30_000);
        assert_eq!(b.delay_with_jitter_ms(10, 120_000, 7), 120_000);
        assert!(b.delay_ms(0, 90_000) >= 90_000);
    }

    #[test]
    fn system_jitter_stays_in_bounds_and_varies() {
        let b = Backoff::new(2_000, 900_000);
        for attempt in 0..40 {
            assert!(b.delay_ms(attempt, 0) <= b.ceiling_ms(attempt));
        }
        let values: std::collections::HashSet<u64> = (0..20).map(|_| b.delay_ms(10, 0)).collect();
        assert!(values.len() > 1, "jitter varies");
    }
}
