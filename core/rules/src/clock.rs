//! Time evidence: when a check-in really happened, whatever the phone's clock says.
//!
//! A phone's wall clock is evidence, never an authority. At every successful sync the
//! device stores a [`ServerTimeAnchor`]: the server's instant together with the device's
//! boot-elapsed milliseconds (a monotonic clock that counts deep sleep and that the user
//! cannot set: Android `SystemClock.elapsedRealtime`, iOS `CLOCK_MONOTONIC_RAW`-based
//! uptime / `clock_gettime(CLOCK_BOOTTIME)` on Linux) and the boot id. Each check-in
//! carries a [`TimeEvidence`]: its own wall time, boot-elapsed time, boot id and the latest
//! anchor. [`trusted_time`] — used by the phone and the server alike — turns that into a
//! [`TrustedTime`]:
//!
//! * **Anchored**: the anchor is from the same boot and the elapsed clock has not gone
//!   backwards, so `instant = anchor.server_time + (elapsed − anchor.elapsed)`. This is
//!   exact up to the anchor's round-trip uncertainty and the drift of the monotonic
//!   clock, however wrong the wall clock is, even for check-ins queued offline for days.
//! * **DeviceClock**: no anchor yet, or the phone rebooted since (a new boot id), so the
//!   wall clock is all there is. The instant is the device's wall time, marked as
//!   unverified; the server bounds it by its own receipt time
//!   ([`bound_by_receipt`]).
//!
//! The skew is `device wall time − trusted instant`; beyond the tolerance it is flagged.
//!
//! Since payload version 2 the anchor is a server-signed one ([`crate::anchor`]): it
//! carries the `device_id` and `mac` the server issued, and its `boot_elapsed_ms` is the
//! reading the phone *sent* (not the round trip's midpoint), so a phone cannot invent
//! it. The server then also applies [`bound_by_anchor`] (a check-in cannot predate the
//! anchor it cites), keeps one [`BootObservation`] per device and boot and flags claims
//! that [`contradicts`] it, and measures the [`delivery_delay_ms`].

use serde::{Deserialize, Serialize};

use crate::anchor::SignedAnchor;

/// Largest millisecond value a time field may carry (2^53, the largest integer every
/// JSON implementation reads exactly; about 285 000 years after 1970). Time fields are
/// `0..=MAX_TIME_MS` (`crate::wire` refuses others), and [`trusted_time`] saturates
/// rather than wraps whatever it is given.
pub const MAX_TIME_MS: i64 = 1 << 53;

/// Default skew tolerance: two minutes.
pub const DEFAULT_SKEW_TOLERANCE_MS: i64 = 2 * 60 * 1000;

/// The server's clock as observed by the device at one moment of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTimeAnchor {
    /// The server's instant, Unix ms UTC (taken as the midpoint of the request).
    pub server_time_ms: i64,
    /// The device's boot-elapsed milliseconds at that moment.
    pub boot_elapsed_ms: i64,
    /// The device's boot id at that moment.
    pub boot_id: String,
    /// The device's wall clock at that moment, Unix ms (shows the skew at sync time).
    pub device_wall_ms: i64,
    /// Round-trip time of the request that fetched it: the anchor's uncertainty.
    pub round_trip_ms: i64,
    /// Signed anchors (payload version 2): the device the server issued it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Signed anchors (payload version 2): the server's HMAC, 64 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl ServerTimeAnchor {
    /// Builds an anchor from a server-time request: `server_time_ms` as answered, and
    /// the device's readings taken before and after the request.
    pub fn from_exchange(
        server_time_ms: i64,
        before: &ClockReading,
        after: &ClockReading,
    ) -> ServerTimeAnchor {
        let round_trip = after
            .boot_elapsed_ms
            .saturating_sub(before.boot_elapsed_ms)
            .max(0);
        ServerTimeAnchor {
            server_time_ms,
            boot_elapsed_ms: before.boot_elapsed_ms.saturating_add(round_trip / 2),
            boot_id: after.boot_id.clone(),
            device_wall_ms: before.wall_ms.saturating_add(round_trip / 2),
            round_trip_ms: round_trip,
            device_id: None,
            mac: None,
        }
    }

    /// Builds the anchor a version-2 check-in cites from the server's [`SignedAnchor`]
    /// and the device's readings before (the one it sent) and after the request. The
    /// signed fields are kept exactly as issued (the MAC covers them); the wall clock is
    /// the one read with the elapsed clock before sending, and the round trip is kept
    /// beside them as the anchor's uncertainty.
    pub fn from_signed(
        signed: &SignedAnchor,
        before: &ClockReading,
        after: &ClockReading,
    ) -> ServerTimeAnchor {
        ServerTimeAnchor {
            server_time_ms: signed.server_time_ms,
            boot_elapsed_ms: signed.boot_elapsed_ms,
            boot_id: signed.boot_id.clone(),
            device_wall_ms: before.wall_ms,
            round_trip_ms: after
                .boot_elapsed_ms
                .saturating_sub(before.boot_elapsed_ms)
                .max(0),
            device_id: Some(signed.device_id.clone()),
            mac: Some(signed.mac.clone()),
        }
    }

    /// The signed part, when this is a signed anchor.
    pub fn signed(&self) -> Option<SignedAnchor> {
        Some(SignedAnchor {
            device_id: self.device_id.clone()?,
            boot_id: self.boot_id.clone(),
            boot_elapsed_ms: self.boot_elapsed_ms,
            server_time_ms: self.server_time_ms,
            mac: self.mac.clone()?,
        })
    }
}

/// One reading of the device's clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    /// Wall clock, Unix ms (settable by the user: evidence only).
    pub wall_ms: i64,
    /// Boot-elapsed monotonic milliseconds (counts deep sleep).
    pub boot_elapsed_ms: i64,
    /// Identifies the current boot; changes at every reboot.
    pub boot_id: String,
}

/// The time evidence attached to every check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeEvidence {
    /// Device wall clock when the check-in was made, Unix ms.
    pub device_wall_ms: i64,
    /// Boot-elapsed ms when the check-in was made.
    pub boot_elapsed_ms: i64,
    /// Boot id when the check-in was made.
    pub boot_id: String,
    /// The latest server-time anchor the device held, if any.
    pub anchor: Option<ServerTimeAnchor>,
}

impl TimeEvidence {
    /// The evidence for a check-in made at `reading`, with the device's latest anchor.
    pub fn new(reading: ClockReading, anchor: Option<ServerTimeAnchor>) -> TimeEvidence {
        TimeEvidence {
            device_wall_ms: reading.wall_ms,
            boot_elapsed_ms: reading.boot_elapsed_ms,
            boot_id: reading.boot_id,
            anchor,
        }
    }
}

/// How a trusted instant was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// From a server anchor and the monotonic clock of the same boot.
    Anchored,
    /// From the device's wall clock alone (no anchor, or a reboot since): unverified.
    DeviceClock,
    /// The device's claim was later than the server's receipt and was cut to it.
    ServerReceipt,
}

/// Why the anchor could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnanchoredReason {
    /// The device never synchronised with the server.
    NoAnchor,
    /// The device rebooted since the anchor (different boot id).
    Rebooted,
    /// The monotonic clock is behind the anchor's reading: inconsistent evidence.
    ElapsedWentBackwards,
}

/// The instant a check-in is taken to have happened, and how that was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedTime {
    /// The trusted instant, Unix ms UTC.
    pub instant_ms: i64,
    /// How it was derived.
    pub source: TimeSource,
    /// Why the anchor was not used, when it was not.
    pub unanchored_reason: Option<UnanchoredReason>,
    /// Device wall clock minus the best estimate of true time, ms (positive: the phone
    /// is ahead). For unanchored evidence this is the skew observed at the last anchor,
    /// if there is one.
    pub device_skew_ms: Option<i64>,
    /// True when |skew| exceeds the tolerance.
    pub skew_flagged: bool,
}

/// Computes the trusted instant of a check-in from its evidence (see the module doc).
/// Every value is the phone's, so the arithmetic saturates: never a panic, never a
/// wrap.
pub fn trusted_time(evidence: &TimeEvidence, skew_tolerance_ms: i64) -> TrustedTime {
    let unanchored = |reason: UnanchoredReason| {
        let skew = evidence
            .anchor
            .as_ref()
            .map(|a| a.device_wall_ms.saturating_sub(a.server_time_ms));
        TrustedTime {
            instant_ms: evidence.device_wall_ms,
            source: TimeSource::DeviceClock,
            unanchored_reason: Some(reason),
            device_skew_ms: skew,
            skew_flagged: skew.is_some_and(|s| s.saturating_abs() > skew_tolerance_ms),
        }
    };
    let Some(anchor) = &evidence.anchor else {
        return unanchored(UnanchoredReason::NoAnchor);
    };
    if anchor.boot_id != evidence.boot_id {
        return unanchored(UnanchoredReason::Rebooted);
    }
    let since_anchor = evidence
        .boot_elapsed_ms
        .saturating_sub(anchor.boot_elapsed_ms);
    if since_anchor < 0 {
        return unanchored(UnanchoredReason::ElapsedWentBackwards);
    }
    let instant = anchor.server_time_ms.saturating_add(since_anchor);
    let skew = evidence.device_wall_ms.saturating_sub(instant);
    TrustedTime {
        instant_ms: instant,
        source: TimeSource::Anchored,
        unanchored_reason: None,
        device_skew_ms: Some(skew),
        skew_flagged: skew.saturating_abs() > skew_tolerance_ms,
    }
}

/// The server's version of [`trusted_time`]: a check-in cannot have happened after the
/// server received it, so an instant later than `received_at_ms` (plus the tolerance)
/// is cut to the receipt time and flagged.
pub fn bound_by_receipt(
    mut trusted: TrustedTime,
    received_at_ms: i64,
    skew_tolerance_ms: i64,
) -> TrustedTime {
    if trusted.instant_ms > received_at_ms.saturating_add(skew_tolerance_ms) {
        let skew = trusted.instant_ms.saturating_sub(received_at_ms);
        trusted.instant_ms = received_at_ms;
        trusted.source = TimeSource::ServerReceipt;
        trusted.device_skew_ms = Some(trusted.device_skew_ms.unwrap_or(0).max(skew));
        trusted.skew_flagged = true;
    }
    trusted
}

/// The server's lower bound: a check-in citing an anchor was made after the server
/// issued it (the phone had to hold it), so an instant before the anchor's server time
/// (possible only for unanchored evidence: a reboot since, and a wall clock set back) is
/// raised to it and the skew flagged. Anchored evidence never needs it: an elapsed
/// reading before the anchor's is refused (`TIME_BEFORE_ANCHOR`) instead.
pub fn bound_by_anchor(mut trusted: TrustedTime, anchor_server_time_ms: i64) -> TrustedTime {
    if trusted.instant_ms < anchor_server_time_ms {
        trusted.instant_ms = anchor_server_time_ms;
        trusted.skew_flagged = true;
    }
    trusted
}

/// What the server observed of one device's boot: its instant together with that boot's
/// elapsed clock, from an anchor it issued or an anchored check-in it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootObservation {
    /// The server-timeline instant, Unix ms.
    pub server_time_ms: i64,
    /// The device's boot-elapsed clock at that instant, ms.
    pub boot_elapsed_ms: i64,
}

impl BootObservation {
    /// `server_time − boot_elapsed`: the server instant at which this boot's elapsed
    /// clock read zero, as this observation places it (saturating).
    pub fn offset_ms(&self) -> i64 {
        self.server_time_ms.saturating_sub(self.boot_elapsed_ms)
    }
}

/// Fixed part of the contradiction tolerance, ms. Request latency only ever adds to an
/// anchor's offset (the server reads its clock after the phone read its elapsed clock),
/// so the smallest offset seen is the best bound on the boot's true one; but an honest
/// fast request after a slow first one lands below that record by the slow one's extra
/// latency (connection setup included, on a slow mobile network). A minute covers that;
/// a shift of a minute decides no attendance band.
pub const CONTRADICTION_BASE_MS: i64 = 60_000;

/// Drift part of the contradiction tolerance, parts per million of the elapsed time
/// between the two observations (500 ppm: 43 s a day, ten times a poor crystal's drift).
pub const CONTRADICTION_DRIFT_PPM: i64 = 500;

/// Within one boot the server time and the elapsed clock advance together, so every
/// honest observation of that boot has the offset ([`BootObservation::offset_ms`]) of
/// the boot plus the latency of its request: never less. The server keeps the
/// observation with the smallest offset as the boot's `record`. True when `claim`'s
/// offset is *below* the record's by more than [`CONTRADICTION_BASE_MS`] plus
/// [`CONTRADICTION_DRIFT_PPM`] of the elapsed time between them, i.e. the phone
/// reported an elapsed reading ahead of its clock (which would date its check-ins
/// earlier). A claim above the record is a slower request, never a contradiction.
pub fn contradicts(record: &BootObservation, claim: &BootObservation) -> bool {
    let below = i128::from(record.offset_ms()) - i128::from(claim.offset_ms());
    let span = (i128::from(claim.boot_elapsed_ms) - i128::from(record.boot_elapsed_ms)).abs();
    let drift = span * i128::from(CONTRADICTION_DRIFT_PPM) / 1_000_000;
    below > i128::from(CONTRADICTION_BASE_MS) + drift
}

/// The record a boot keeps after `observation` (which the caller has checked does not
/// [`contradicts`] it): the one with the smaller offset.
pub fn keep_smallest_offset(
    record: Option<BootObservation>,
    observation: BootObservation,
) -> BootObservation {
    match record {
        Some(r) if r.offset_ms() <= observation.offset_ms() => r,
        _ => observation,
    }
}

/// How long after its trusted instant a check-in reached the server, ms (never
/// negative).
pub fn delivery_delay_ms(trusted_instant_ms: i64, received_ms: i64) -> i64 {
    received_ms.saturating_sub(trusted_instant_ms).max(0)
}

/// The platform's clocks. The shells implement it (Android:
/// `System.currentTimeMillis`, `SystemClock.elapsedRealtime`, the boot count or
/// `/proc/sys/kernel/random/boot_id`); [`SystemClock`] serves Linux and tests.
pub trait PlatformClock: Send + Sync {
    /// Reads the wall clock, the boot-elapsed clock and the boot id together.
    fn read(&self) -> ClockReading;
}

/// [`PlatformClock`] from the operating system: the wall clock, `/proc/uptime` (which
/// counts suspend) and `/proc/sys/kernel/random/boot_id` where they exist. Elsewhere the
/// elapsed clock starts at process start and the boot id is per process, which is
/// conservative: a restart then counts as a reboot and the anchor is not reused.
#[derive(Debug)]
pub struct SystemClock {
    process_start: std::time::Instant,
    fallback_boot_id: String,
}

impl Default for SystemClock {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        SystemClock {
            process_start: std::time::Instant::now(),
            fallback_boot_id: format!("process-{}-{nanos}", std::process::id()),
        }
    }
}

/// The wall clock now, Unix ms.
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl PlatformClock for SystemClock {
    fn read(&self) -> ClockReading {
        let uptime = std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok());
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        match (uptime, boot_id) {
            (Some(seconds), Some(boot_id)) => ClockReading {
                wall_ms: wall_clock_ms(),
                boot_elapsed_ms: (seconds * 1000.0) as i64,
                boot_id,
            },
            _ => ClockReading {
                wall_ms: wall_clock_ms(),
                boot_elapsed_ms: self.process_start.elapsed().as_millis() as i64,
                boot_id: self.fallback_boot_id.clone(),
            },
        }
    }
}

/// "Now" on the server's timeline, as well as the device can tell: anchored when the
/// anchor is from this boot, else the wall clock. Used for request signatures and QR
/// windows, so a phone whose clock is hours off still talks to the server.
pub fn anchored_now_ms(reading: &ClockReading, anchor: Option<&ServerTimeAnchor>) -> i64 {
    let evidence = TimeEvidence::new(reading.clone(), anchor.cloned());
    trusted_time(&evidence, i64::MAX).instant_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const T0: i64 = 1_795_000_000_000; // a morning in 2026

    fn anchor(boot_id: &str, wall_offset: i64) -> ServerTimeAnchor {
        ServerTimeAnchor {
            server_time_ms: T0,
            boot_elapsed_ms: 5_000_000,
            boot_id: boot_id.into(),
            device_wall_ms: T0 + wall_offset,
            round_trip_ms: 120,
            device_id: None,
            mac: None,
        }
    }

    fn evidence(
        after_ms: i64,
        wall_offset: i64,
        boot_id: &str,
        a: Option<ServerTimeAnchor>,
    ) -> TimeEvidence {
        TimeEvidence {
            device_wall_ms: T0 + after_ms + wall_offset,
            boot_elapsed_ms: 5_000_000 + after_ms,
            boot_id: boot_id.into(),
            anchor: a,
        }
    }

    #[test]
    fn honest_phone_is_anchored_and_unflagged() {
        let e = evidence(3 * HOUR, 800, "boot-a", Some(anchor("boot-a", 500)));
        let t = trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS);
        assert_eq!(t.source, TimeSource::Anchored);
        assert_eq!(t.instant_ms, T0 + 3 * HOUR);
        assert_eq!(t.device_skew_ms, Some(800));
        assert!(!t.skew_flagged);
    }

    #[test]
    fn clock_set_back_two_hours_is_corrected_and_flagged() {
        // Synced honestly, then the wall clock was set back two hours; the check-in is
        // made (and queued offline) four days later.
        let after = 4 * 24 * HOUR;
        let e = evidence(after, -2 * HOUR, "boot-a", Some(anchor("boot-a", 0)));
        let t = trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS);
        assert_eq!(t.source, TimeSource::Anchored);
        assert_eq!(t.instant_ms, T0 + after);
        assert_eq!(t.device_skew_ms, Some(-2 * HOUR));
        assert!(t.skew_flagged);
    }

    #[test]
    fn reboot_since_anchor_falls_back_to_device_clock() {
        let e = evidence(HOUR, -2 * HOUR, "boot-b", Some(anchor("boot-a", -2 * HOUR)));
        let t = trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS);
        assert_eq!(t.source, TimeSource::DeviceClock);
        assert_eq!(t.unanchored_reason, Some(UnanchoredReason::Rebooted));
        assert_eq!(t.instant_ms, e.device_wall_ms);
        // The skew known from the last sync is still reported and flagged.
        assert_eq!(t.device_skew_ms, Some(-2 * HOUR));
        assert!(t.skew_flagged);
    }

    #[test]
    fn no_anchor_yet_uses_device_clock_unflagged() {
        let e = evidence(0, 0, "boot-a", None);
        let t = trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS);
        assert_eq!(t.source, TimeSource::DeviceClock);
        assert_eq!(t.unanchored_reason, Some(UnanchoredReason::NoAnchor));
        assert_eq!(t.device_skew_ms, None);
        assert!(!t.skew_flagged);
    }

    #[test]
    fn elapsed_before_anchor_is_inconsistent() {
        let e = evidence(-10_000, 0, "boot-a", Some(anchor("boot-a", 0)));
        let t = trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS);
        assert_eq!(
            t.unanchored_reason,
            Some(UnanchoredReason::ElapsedWentBackwards)
        );
    }

    #[test]
    fn server_cuts_future_claims_to_receipt_time() {
        let e = evidence(0, 5 * HOUR, "boot-x", None);
        let t = bound_by_receipt(
            trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS),
            T0,
            DEFAULT_SKEW_TOLERANCE_MS,
        );
        assert_eq!(t.source, TimeSource::ServerReceipt);
        assert_eq!(t.instant_ms, T0);
        assert!(t.skew_flagged);
        assert_eq!(t.device_skew_ms, Some(5 * HOUR));
        // A claim in the past is left alone.
        let e = evidence(0, -HOUR, "boot-x", None);
        let t = bound_by_receipt(
            trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS),
            T0,
            DEFAULT_SKEW_TOLERANCE_MS,
        );
        assert_eq!(t.source, TimeSource::DeviceClock);
    }

    #[test]
    fn anchor_from_exchange_takes_the_midpoint() {
        let before = ClockReading {
            wall_ms: 1_000,
            boot_elapsed_ms: 10_000,
            boot_id: "b".into(),
        };
        let after = ClockReading {
            wall_ms: 1_400,
            boot_elapsed_ms: 10_400,
            boot_id: "b".into(),
        };
        let a = ServerTimeAnchor::from_exchange(T0, &before, &after);
        assert_eq!(a.boot_elapsed_ms, 10_200);
        assert_eq!(a.round_trip_ms, 400);
        assert_eq!(anchored_now_ms(&after, Some(&a)), T0 + 200);
    }

    #[test]
    fn a_signed_anchor_keeps_what_the_phone_sent() {
        let key = crate::anchor::AnchorKey::new(b"k");
        let before = ClockReading {
            wall_ms: 1_000,
            boot_elapsed_ms: 10_000,
            boot_id: "b".into(),
        };
        let after = ClockReading {
            wall_ms: 1_400,
            boot_elapsed_ms: 10_400,
            boot_id: "b".into(),
        };
        let signed = key.sign("dev", "b", before.boot_elapsed_ms, T0);
        let a = ServerTimeAnchor::from_signed(&signed, &before, &after);
        assert_eq!(a.boot_elapsed_ms, 10_000);
        assert_eq!(a.round_trip_ms, 400);
        assert_eq!(a.signed(), Some(signed));
        // Late by at most the round trip, never early.
        assert_eq!(anchored_now_ms(&after, Some(&a)), T0 + 400);
        let unsigned = ServerTimeAnchor::from_exchange(T0, &before, &after);
        assert_eq!(unsigned.signed(), None);
    }

    #[test]
    fn the_anchor_is_a_lower_bound() {
        let e = evidence(HOUR, -5 * HOUR, "boot-b", Some(anchor("boot-a", 0)));
        let t = bound_by_anchor(trusted_time(&e, DEFAULT_SKEW_TOLERANCE_MS), T0);
        assert_eq!(t.instant_ms, T0);
        assert!(t.skew_flagged);
        let honest = evidence(HOUR, 0, "boot-a", Some(anchor("boot-a", 0)));
        let t = bound_by_anchor(trusted_time(&honest, DEFAULT_SKEW_TOLERANCE_MS), T0);
        assert_eq!(t.instant_ms, T0 + HOUR);
        assert!(!t.skew_flagged);
    }

    #[test]
    fn only_a_claim_below_the_smallest_offset_contradicts() {
        let record = BootObservation {
            server_time_ms: T0,
            boot_elapsed_ms: 5_000_000,
        };
        let later = |elapsed_after: i64, server_after: i64| BootObservation {
            server_time_ms: T0 + server_after,
            boot_elapsed_ms: 5_000_000 + elapsed_after,
        };
        // In step, with a little latency, hours apart either way: consistent.
        assert!(!contradicts(&record, &later(3 * HOUR, 3 * HOUR + 900)));
        assert!(!contradicts(&record, &later(-2 * HOUR, -2 * HOUR + 900)));
        // A slower request than the record's, however slow: latency only adds.
        assert!(!contradicts(&record, &later(HOUR, HOUR + 40_000)));
        assert!(!contradicts(&record, &later(HOUR, HOUR + 8 * HOUR)));
        // A faster request than a slow recorded one (45 s): within the allowance.
        assert!(!contradicts(&record, &later(HOUR, HOUR - 45_000)));
        // A day of drift at 400 ppm (fast elapsed clock) is within tolerance; 1500 not.
        assert!(!contradicts(&record, &later(24 * HOUR, 24 * HOUR - 34_560)));
        assert!(contradicts(&record, &later(24 * HOUR, 24 * HOUR - 129_600)));
        // The elapsed clock ran ahead ten minutes while the server's ran one.
        assert!(contradicts(&record, &later(10 * 60_000, 60_000)));
        // A claim eight hours earlier on the same elapsed reading.
        assert!(contradicts(
            &record,
            &later(30 * 60_000, 30 * 60_000 - 8 * HOUR)
        ));
        // Extreme values never overflow.
        let extreme = BootObservation {
            server_time_ms: i64::MIN,
            boot_elapsed_ms: i64::MAX,
        };
        assert!(contradicts(&record, &extreme));
        assert!(!contradicts(&extreme, &record));
    }

    #[test]
    fn extreme_values_saturate_instead_of_panicking() {
        let extremes = [i64::MIN, -1, 0, MAX_TIME_MS, i64::MAX];
        for &a in &extremes {
            for &b in &extremes {
                let mut anchor = anchor("boot-a", 0);
                anchor.server_time_ms = a;
                anchor.boot_elapsed_ms = b;
                anchor.device_wall_ms = b;
                let e = TimeEvidence {
                    device_wall_ms: a,
                    boot_elapsed_ms: a,
                    boot_id: "boot-a".into(),
                    anchor: Some(anchor),
                };
                let t = bound_by_receipt(trusted_time(&e, i64::MAX), b, i64::MAX);
                let t = bound_by_anchor(t, a);
                assert!(t.device_skew_ms.is_some());
                let _ = delivery_delay_ms(t.instant_ms, b);
                let reading = ClockReading {
                    wall_ms: a,
                    boot_elapsed_ms: b,
                    boot_id: "boot-a".into(),
                };
                let later = ClockReading {
                    boot_elapsed_ms: a,
                    ..reading.clone()
                };
                let _ = ServerTimeAnchor::from_exchange(a, &reading, &later);
                let _ = anchored_now_ms(&later, e.anchor.as_ref());
            }
        }
        // Saturated, not wrapped: an elapsed reading i64::MAX after an anchor at
        // i64::MAX stays at the top of the timeline.
        let mut a = anchor("boot-a", 0);
        a.server_time_ms = i64::MAX;
        a.boot_elapsed_ms = 0;
        let e = evidence(0, 0, "boot-a", Some(a));
        let e = TimeEvidence {
            boot_elapsed_ms: i64::MAX,
            ..e
        };
        assert_eq!(trusted_time(&e, 0).instant_ms, i64::MAX);
    }

    #[test]
    fn the_record_keeps_the_smallest_offset() {
        let slow = BootObservation {
            server_time_ms: T0 + 45_000,
            boot_elapsed_ms: 5_000_000,
        };
        let fast = BootObservation {
            server_time_ms: T0 + HOUR + 200,
            boot_elapsed_ms: 5_000_000 + HOUR,
        };
        assert_eq!(keep_smallest_offset(None, slow), slow);
        assert_eq!(keep_smallest_offset(Some(slow), fast), fast);
        assert_eq!(keep_smallest_offset(Some(fast), slow), fast);
    }

    #[test]
    fn delivery_delay_is_never_negative() {
        assert_eq!(delivery_delay_ms(T0, T0 + 5_000), 5_000);
        assert_eq!(delivery_delay_ms(T0, T0 - 5_000), 0);
    }

    #[test]
    fn system_clock_reads_monotonically() {
        let clock = SystemClock::default();
        let a = clock.read();
        let b = clock.read();
        assert!(b.boot_elapsed_ms >= a.boot_elapsed_ms);
        assert_eq!(a.boot_id, b.boot_id);
        assert!(a.wall_ms > 1_700_000_000_000);
    }
}
