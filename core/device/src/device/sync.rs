//! Delivering the outbox: one sync pass, exactly once, in order, selfie first.

use super::*;

/// How long the phone keeps a selfie after the server decided its check-in (3 days);
/// the check-in's row stays for history.
pub const DECIDED_SELFIE_KEEP_MS: i64 = 3 * 24 * 3_600_000;

/// The outcome of one sync pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// Check-ins the server accepted in this pass (with or without flags).
    pub accepted: u32,
    /// Of those, accepted with flags.
    pub flagged: u32,
    /// Check-ins the server rejected (final).
    pub rejected: u32,
    /// Still waiting after this pass.
    pub pending: u32,
    /// The server results of this pass, in order.
    pub results: Vec<CheckInResult>,
    /// Why the pass stopped early, if it did (`code`, Indonesian message).
    pub error: Option<(String, String)>,
}

/// When sync last ran and last reached the server ([`Device::sync_status`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// When the last pass started, Unix ms (anchored), if any ever did.
    pub last_attempt_ms: Option<i64>,
    /// When a pass last reached the server, Unix ms (anchored).
    pub last_success_ms: Option<i64>,
    /// Check-ins waiting to be sent.
    pub pending: u32,
}

/// The device-level wait after a pass could not reach the server at all (stored under
/// [`store::keys::SYNC_NOT_BEFORE`]), so that background passes do not all retry at once
/// the moment an outage ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct PassBackoff {
    /// No unforced pass before this instant (anchored timeline, Unix ms).
    not_before_ms: i64,
    /// The wait that set it, ms: a clock that jumped back cannot stretch it further.
    delay_ms: u64,
    /// Passes in a row that could not reach the server.
    failures: u32,
}

impl PassBackoff {
    /// The wait after one more unreachable pass at `now_ms`: drawn from the upper half
    /// of the between-passes [`Backoff`] ceiling (so it is never nothing), and at least
    /// `retry_after_ms`.
    fn after_failure(
        previous: Option<PassBackoff>,
        backoff: Backoff,
        now_ms: i64,
        retry_after_ms: u64,
    ) -> PassBackoff {
        let failures = previous.map_or(0, |p| p.failures);
        let floor = retry_after_ms.max(backoff.ceiling_ms(failures) / 2);
        let delay_ms = backoff.delay_ms(failures, floor);
        PassBackoff {
            not_before_ms: now_ms.saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX)),
            delay_ms,
            failures: failures.saturating_add(1),
        }
    }

    /// Whether an unforced pass at `now_ms` must still wait.
    fn waits_at(&self, now_ms: i64) -> bool {
        now_ms < self.not_before_ms
            && u64::try_from(self.not_before_ms - now_ms).unwrap_or(u64::MAX) <= self.delay_ms
    }
}

impl Device {
    /// One sync pass: anchors the clock (the time probe, then a signed anchor),
    /// refreshes the config, then sends every pending
    /// check-in (oldest first, in batches, selfie first) and records each final result.
    /// With `force`, items waiting out a backoff are sent too (the person pressed
    /// "Kirim sekarang"). Transient failures are retried within the pass with backoff
    /// and jitter; what still fails stays pending with a later retry time. Only one
    /// pass runs at a time.
    ///
    /// A pass that cannot reach the server at all makes the device wait (the
    /// between-passes backoff, growing while the outage lasts); an unforced pass in that
    /// wait tries nothing and reports `NETWORK`. The first pass that reaches the server
    /// ends the wait.
    pub async fn sync_now(&self, force: bool) -> Result<SyncReport, DeviceError> {
        let _guard = self.sync_lock.lock().await;
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let mut report = SyncReport::default();
        self.store_instant(store::keys::SYNC_LAST_ATTEMPT)?;
        // The server holds every decided selfie: the phone keeps its copy only a few
        // days (what the consent screen promises), then frees the bytes, at every pass,
        // reachable server or not.
        if let Ok(now) = self.anchored_now_ms() {
            self.store
                .purge_decided_selfies(now.saturating_sub(DECIDED_SELFIE_KEEP_MS))?;
        }
        let stop = |report: &mut SyncReport, e: DeviceError| {
            report.error = Some((e.code(), e.staff_message()));
        };
        let waiting = self.pass_backoff();
        if !force
            && let Some(wait) = waiting
            && wait.waits_at(self.anchored_now_ms()?)
        {
            let e = DeviceError::Network(format!(
                "unreachable {} time(s) in a row; next pass not before {}",
                wait.failures, wait.not_before_ms
            ));
            stop(&mut report, e);
            report.pending = self.store.pending_count()?;
            return Ok(report);
        }
        // The unsigned probe first (it fixes the request-signature timeline after a
        // reboot with a wrong wall clock), then a signed anchor for the evidence.
        let anchored = async {
            self.with_retries(|| self.sync_time()).await?;
            self.with_retries(|| self.obtain_anchor()).await
        };
        if let Err(e) = anchored.await {
            if let Ok(now) = self.anchored_now_ms() {
                let retry_after_ms = e.retry_after_s().unwrap_or(0).saturating_mul(1000);
                let backoff = self.settings.retry.between_passes();
                let next = PassBackoff::after_failure(waiting, backoff, now, retry_after_ms);
                self.store
                    .set_value(store::keys::SYNC_NOT_BEFORE, &json_value(&next))?;
            }
            stop(&mut report, e);
            report.pending = self.store.pending_count()?;
            return Ok(report);
        }
        if waiting.is_some() {
            self.store.delete_value(store::keys::SYNC_NOT_BEFORE)?;
        }
        self.store_instant(store::keys::SYNC_LAST_SUCCESS)?;
        if let Err(e) = self.refresh_config().await {
            // Sending check-ins does not need a fresh config; report and carry on.
            stop(&mut report, e);
        }
        let mut sent_this_pass = std::collections::HashSet::new();
        loop {
            let due_before = if force {
                i64::MAX
            } else {
                self.anchored_now_ms()?
            };
            let items: Vec<_> = self
                .store
                .pending(MAX_BATCH as u32 * 2, due_before)?
                .into_iter()
                .filter(|i| !sent_this_pass.contains(&i.checkin_id))
                .take(MAX_BATCH)
                .collect();
            if items.is_empty() {
                break;
            }
            match self
                .with_retries(|| self.send_batch_once(&enrollment.device_id, &items))
                .await
            {
                Ok(results) => {
                    for (item, result) in items.iter().zip(results) {
                        sent_this_pass.insert(item.checkin_id.clone());
                        self.record_result(item, &result, &mut report)?;
                    }
                }
                Err(e) => {
                    let retry_after_ms = e.retry_after_s().unwrap_or(0).saturating_mul(1000);
                    let now = self.anchored_now_ms()?;
                    let backoff = self.settings.retry.between_passes();
                    for item in &items {
                        let delay = backoff.delay_ms(item.attempts, retry_after_ms);
                        self.store.mark_attempt_failed(
                            &item.checkin_id,
                            &e.to_string(),
                            now + delay as i64,
                        )?;
                    }
                    stop(&mut report, e);
                    break;
                }
            }
        }
        report.pending = self.store.pending_count()?;
        Ok(report)
    }

    /// When sync last ran and last reached the server, with the pending count.
    pub fn sync_status(&self) -> Result<SyncStatus, DeviceError> {
        let instant = |key| -> Result<Option<i64>, DeviceError> {
            Ok(self
                .store
                .value(key)?
                .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()))
        };
        Ok(SyncStatus {
            last_attempt_ms: instant(store::keys::SYNC_LAST_ATTEMPT)?,
            last_success_ms: instant(store::keys::SYNC_LAST_SUCCESS)?,
            pending: self.store.pending_count()?,
        })
    }

    /// Stores the anchored now under `key` (a clock that cannot be read stores nothing:
    /// the status is advice, never a reason to fail a pass).
    fn store_instant(&self, key: &str) -> Result<(), DeviceError> {
        if let Ok(now) = self.anchored_now_ms() {
            self.store.set_value(key, now.to_string().as_bytes())?;
        }
        Ok(())
    }

    /// The device-level wait after unreachable passes, if any (an unreadable value is
    /// none: it only ever delays).
    fn pass_backoff(&self) -> Option<PassBackoff> {
        self.store
            .value(store::keys::SYNC_NOT_BEFORE)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Runs `attempt` up to `attempts_per_pass` times while it fails transiently (no
    /// answer, busy server), waiting the in-pass [`Backoff`] between tries. A
    /// `Retry-After` longer than the in-pass cap ends the pass instead of blocking it.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<T, DeviceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, DeviceError>>,
    {
        let tries = self.settings.retry.attempts_per_pass.max(1);
        let backoff = self.settings.retry.in_pass();
        let mut n = 0;
        loop {
            match attempt().await {
                Err(e) if e.is_transient() && n + 1 < tries => {
                    let retry_after_ms = e.retry_after_s().unwrap_or(0).saturating_mul(1000);
                    if retry_after_ms > backoff.cap_ms {
                        return Err(e);
                    }
                    let delay = backoff.delay_ms(n, retry_after_ms);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_batch_once(
        &self,
        device_id: &str,
        items: &[store::OutboxItem],
    ) -> Result<Vec<CheckInResult>, DeviceError> {
        let mut envelopes = Vec::with_capacity(items.len());
        for item in items {
            let known = self
                .uploaded_selfies
                .lock()
                .expect("selfie set")
                .contains(&item.selfie_sha256_hex);
            if !item.selfie_jpeg.is_empty() && !known {
                self.client
                    .put_selfie(
                        &item.selfie_sha256_hex,
                        &item.selfie_jpeg,
                        &self.signer(device_id)?,
                    )
                    .await?;
                self.uploaded_selfies
                    .lock()
                    .expect("selfie set")
                    .insert(item.selfie_sha256_hex.clone());
            }
            envelopes.push(
                Envelope::from_json(&item.envelope_json)
                    .map_err(|e| DeviceError::Network(format!("stored envelope: {e}")))?,
            );
        }
        let response = self
            .client
            .post_checkins(&CheckInBatch { envelopes }, &self.signer(device_id)?)
            .await?;
        if response.results.len() != items.len() {
            return Err(DeviceError::Network(format!(
                "{} results for {} check-ins",
                response.results.len(),
                items.len()
            )));
        }
        Ok(response.results)
    }

    fn record_result(
        &self,
        item: &store::OutboxItem,
        result: &CheckInResult,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let now = self.anchored_now_ms()?;
        let json = String::from_utf8(json_value(result)).expect("JSON is UTF-8");
        let code = result.codes.first().cloned().unwrap_or_default();
        match result.status {
            CheckInStatus::Accepted | CheckInStatus::AcceptedWithFlags => {
                let status = if result.status == CheckInStatus::Accepted {
                    "ACCEPTED"
                } else {
                    report.flagged += 1;
                    "ACCEPTED_WITH_FLAGS"
                };
                self.store
                    .mark_accepted(&item.checkin_id, status, &json, now)?;
                report.accepted += 1;
            }
            CheckInStatus::Rejected => {
                self.store
                    .mark_rejected(&item.checkin_id, &code, &result.message, &json, now)?;
                report.rejected += 1;
            }
            CheckInStatus::RetryLater => {
                // The server does not have the selfie after all: upload it again.
                self.uploaded_selfies
                    .lock()
                    .expect("selfie set")
                    .remove(&item.selfie_sha256_hex);
                let delay = self
                    .settings
                    .retry
                    .between_passes()
                    .delay_ms(item.attempts, 0);
                self.store
                    .mark_attempt_failed(&item.checkin_id, &code, now + delay as i64)?;
            }
            CheckInStatus::Unknown => {
                // A newer server's status this build cannot read: not final, so the
                // check-in stays in the outbox and is asked about again later.
                let delay = self
                    .settings
                    .retry
                    .between_passes()
                    .delay_ms(item.attempts, 0);
                let code = if code.is_empty() {
                    CheckInStatus::Unknown.as_str().to_string()
                } else {
                    code
                };
                self.store
                    .mark_attempt_failed(&item.checkin_id, &code, now + delay as i64)?;
            }
        }
        report.results.push(result.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_pass_waits_in_the_upper_half_of_a_growing_ceiling() {
        let backoff = Backoff::new(60_000, 600_000);
        let now = 1_795_000_000_000;
        let mut previous = None;
        for failures in 0..6 {
            let next = PassBackoff::after_failure(previous, backoff, now, 0);
            let ceiling = backoff.ceiling_ms(failures);
            assert!((ceiling / 2..=ceiling).contains(&next.delay_ms), "{next:?}");
            assert_eq!(next.failures, failures + 1);
            assert_eq!(next.not_before_ms, now + next.delay_ms as i64);
            assert!(next.waits_at(now));
            assert!(next.waits_at(next.not_before_ms - 1));
            assert!(!next.waits_at(next.not_before_ms));
            previous = Some(next);
        }
        // Retry-After is a floor.
        let told = PassBackoff::after_failure(None, backoff, now, 900_000);
        assert_eq!(told.delay_ms, 900_000);
    }

    #[test]
    fn a_clock_that_jumped_back_does_not_stretch_the_wait() {
        let wait = PassBackoff::after_failure(None, Backoff::new(1_000, 8_000), 50_000, 0);
        assert!(wait.waits_at(50_000));
        assert!(
            !wait.waits_at(50_000 - 3_600_000),
            "an hour back: the wait is over"
        );
    }
}
