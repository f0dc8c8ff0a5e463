//! A supervisor's team view and its live feed.

use super::*;

/// What a live team subscription reports besides events.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamFeedProblem {
    /// The server could not be reached or was busy; the subscription retries after
    /// `retry_in_ms` from the same cursor.
    Retrying {
        /// The error's code.
        code: String,
        /// Indonesian message.
        message: String,
        /// When it tries again.
        retry_in_ms: u64,
    },
    /// The server no longer knows the cursor (its database was restored): the feed
    /// continues from now, and the team view should be read again.
    Reset,
}

/// Backoff of the live team feed after a failed poll.
const TEAM_FEED_BACKOFF: Backoff = Backoff::new(1_000, 60_000);

impl Device {
    fn supervisor_on_device(&self, supervisor: &PersonId) -> Result<String, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        if !self
            .store
            .people()?
            .iter()
            .any(|p| p.person_id == supervisor.to_string())
        {
            return Err(DeviceError::PersonNotOnDevice(
                supervisor.value().to_string(),
            ));
        }
        Ok(enrollment.device_id)
    }

    /// A supervisor's team on an office-local `date` (default: today): each member's
    /// state, lateness, leave, flags and check-ins, and the cursor to follow the live
    /// feed from. Needs the network; the server decides who may see which team.
    pub async fn team_attendance(
        &self,
        supervisor: &PersonId,
        date: Option<chrono::NaiveDate>,
    ) -> Result<TeamAttendance, DeviceError> {
        let device_id = self.supervisor_on_device(supervisor)?;
        self.reanchoring(
            |signer| async move { self.client.team(supervisor, date, &signer).await },
            &device_id,
        )
        .await
    }

    /// One poll of the team's live feed: events after `after`, waiting up to `wait_s`
    /// seconds for one.
    pub async fn team_events(
        &self,
        supervisor: &PersonId,
        after: Option<i64>,
        wait_s: u32,
    ) -> Result<TeamEvents, DeviceError> {
        let device_id = self.supervisor_on_device(supervisor)?;
        self.reanchoring(
            |signer| async move {
                self.client
                    .team_events(supervisor, after, wait_s, &signer)
                    .await
            },
            &device_id,
        )
        .await
    }

    /// Sends a signed request; if the server finds its timestamp outside the window
    /// (`AUTH_CLOCK_WINDOW`), re-anchors the clock to the server's and sends it again.
    async fn reanchoring<'a, T, Fut>(
        &'a self,
        request: impl Fn(Signer<'a>) -> Fut,
        device_id: &'a str,
    ) -> Result<T, DeviceError>
    where
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        match request(self.signer(device_id)?).await {
            Err(e) if is_clock_window(&e) => {
                self.sync_time().await?;
                Ok(request(self.signer(device_id)?).await?)
            }
            other => Ok(other?),
        }
    }

    /// Follows the team's live feed from `after` (the cursor of
    /// [`Device::team_attendance`]; `None`: from now), calling `on_event` for each new
    /// team check-in in order. Network failures and busy servers are reported to
    /// `on_problem` and retried from the same cursor with backoff and jitter, so no
    /// event is skipped. Returns only on a final refusal (not a supervisor, device
    /// revoked, ...); cancel it by dropping or aborting the future.
    pub async fn watch_team(
        &self,
        supervisor: &PersonId,
        after: Option<i64>,
        mut on_event: impl FnMut(TeamEvent),
        mut on_problem: impl FnMut(TeamFeedProblem),
    ) -> DeviceError {
        let mut cursor = after;
        let mut failures: u32 = 0;
        loop {
            match self.team_events(supervisor, cursor, MAX_TEAM_WAIT_S).await {
                Ok(answer) => {
                    failures = 0;
                    cursor = Some(answer.cursor);
                    if answer.reset {
                        on_problem(TeamFeedProblem::Reset);
                    }
                    for event in answer.events {
                        on_event(event);
                    }
                }
                Err(e) if e.is_transient() => {
                    let retry_after_ms = e.retry_after_s().unwrap_or(0).saturating_mul(1000);
                    let delay = TEAM_FEED_BACKOFF.delay_ms(failures, retry_after_ms);
                    failures = failures.saturating_add(1);
                    on_problem(TeamFeedProblem::Retrying {
                        code: e.code(),
                        message: "Pantauan tim terputus; menyambung kembali otomatis.".into(),
                        retry_in_ms: delay,
                    });
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                Err(e) => return e,
            }
        }
    }
}

fn is_clock_window(e: &ClientError) -> bool {
    matches!(e, ClientError::Refused { error, .. } if error.code == "AUTH_CLOCK_WINDOW")
}
