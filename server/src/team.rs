//! The supervisor's team: `GET /v1/team` (each direct report's day: present, late,
//! absent, on leave, flagged, with their check-ins) and `GET /v1/team/events`, a long
//! poll that answers as soon as a team member's check-in is stored.
//!
//! Authorisation: the request is signed by an enrolled device (as every request), the
//! `supervisor` it names must be that device's **owner** (a guest on a shared phone
//! never reads a team), and the team is exactly the people whose supervisor the admin
//! registered as that person. Nothing else can widen it.
//!
//! Days follow [`hadir_core::schedule`], the same rules the phone uses: each member's
//! day is the requested date in their own office's time zone.
//!
//! Live feed: positions are the check-ins table's commit order (`seq`). A waiting poll
//! holds no thread and no database connection; [`LiveHub`] wakes only the polls of the
//! supervisors whose people just had a check-in stored. `GET /v1/team` returns the
//! current position, so a client that reads the view and then polls from its `cursor`
//! misses nothing.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::NaiveDate;
use hadir_core::api::{
    LeaveInfo, MAX_TEAM_WAIT_S, TeamAttendance, TeamEvent, TeamEvents, TeamMember,
};
use hadir_core::ids::PersonId;
use hadir_core::roster::{self, TeamRefusal};
use hadir_core::schedule::{
    self, DayState, RecordedAttendance, day_start_ms, local_date, next_expected,
};
use serde::Deserialize;
use tokio::sync::{Notify, Semaphore, watch};

use crate::AppState;
use crate::auth::{SMALL_LIMIT, Signed};
use crate::directory::{DeviceEntry, PersonEntry, StaticDirectory};
use crate::error::AppError;
use crate::storage::{FeedCheckIn, person_key};

/// Most events in one answer of `GET /v1/team/events`.
pub const MAX_EVENTS: usize = 200;

const MS_PER_DAY: i64 = 86_400_000;

/// Most long polls one supervisor may hold at once (a phone needs one; a few allow an
/// app restarted while its old poll is still open).
pub const MAX_WAITS_PER_SUPERVISOR: usize = 4;

/// Per supervisor key: the notifier their polls wait on, and how many wait.
type Waiters = Arc<Mutex<HashMap<String, (Arc<Notify>, usize)>>>;

/// Wakes the long polls of the supervisors whose team just changed.
#[derive(Debug)]
pub struct LiveHub {
    waiters: Waiters,
    permits: Arc<Semaphore>,
    held: Arc<watch::Sender<usize>>,
}

/// A registered long poll; unregisters itself when dropped (answer sent, client gone).
#[derive(Debug)]
pub struct LiveWait {
    waiters: Waiters,
    supervisor_key: String,
    notify: Arc<Notify>,
    held: Arc<watch::Sender<usize>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for LiveWait {
    fn drop(&mut self) {
        let mut waiters = self.waiters.lock().expect("live hub lock");
        if let Some(entry) = waiters.get_mut(&self.supervisor_key) {
            entry.1 -= 1;
            if entry.1 == 0 {
                waiters.remove(&self.supervisor_key);
            }
        }
        self.held.send_modify(|n| *n -= 1);
    }
}

impl LiveHub {
    /// A hub admitting at most `max_waiters` polls at once.
    pub fn new(max_waiters: usize) -> Self {
        LiveHub {
            waiters: Arc::new(Mutex::new(HashMap::new())),
            permits: Arc::new(Semaphore::new(max_waiters.max(1))),
            held: Arc::new(watch::channel(0).0),
        }
    }

    /// The number of polls held, as it changes: what a test waits on instead of
    /// sleeping ("the poll is waiting", "the client that went away freed its slot").
    pub fn held(&self) -> watch::Receiver<usize> {
        self.held.subscribe()
    }

    /// Registers a poll of this supervisor: 503 when the server holds its most polls,
    /// 429 when the supervisor already holds [`MAX_WAITS_PER_SUPERVISOR`].
    pub fn register(&self, supervisor_key: &str) -> Result<LiveWait, AppError> {
        let permit = self
            .permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded { retry_after_s: 5 })?;
        let mut waiters = self.waiters.lock().expect("live hub lock");
        let entry = waiters
            .entry(supervisor_key.to_string())
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        if entry.1 >= MAX_WAITS_PER_SUPERVISOR {
            return Err(AppError::RateLimited { retry_after_s: 5 });
        }
        entry.1 += 1;
        self.held.send_modify(|n| *n += 1);
        Ok(LiveWait {
            held: self.held.clone(),
            waiters: self.waiters.clone(),
            supervisor_key: supervisor_key.to_string(),
            notify: entry.0.clone(),
            _permit: permit,
        })
    }

    /// Wakes the supervisors of these people (who just had a check-in stored).
    pub fn wake<'a>(&self, statics: &StaticDirectory, person_keys: impl Iterator<Item = &'a str>) {
        let waiters = self.waiters.lock().expect("live hub lock");
        if waiters.is_empty() {
            return;
        }
        for key in person_keys {
            if let Some((notify, _)) = statics
                .people
                .get(key)
                .and_then(|p| p.supervisor_key.as_ref())
                .and_then(|s| waiters.get(s))
            {
                notify.notify_waiters();
            }
        }
    }
}

/// Query of `GET /v1/team`.
#[derive(Debug, Deserialize)]
pub struct TeamQuery {
    /// The supervisor, `kind:value` (e.g. `nip:198503122010011003`).
    pub supervisor: String,
    /// Office-local date `YYYY-MM-DD`; default: today in the supervisor's office.
    pub date: Option<String>,
}

/// Query of `GET /v1/team/events`.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// The supervisor, `kind:value`.
    pub supervisor: String,
    /// The cursor of the last answer (or of `GET /v1/team`); absent: answer at once
    /// with the current position and no events.
    pub after: Option<i64>,
    /// Seconds to wait for an event, at most [`MAX_TEAM_WAIT_S`] (the default).
    pub wait_s: Option<u32>,
}

fn bad_query(detail: impl Into<String>) -> AppError {
    AppError::BadQuery(detail.into())
}

/// Parses `kind:value` into a person id.
pub fn parse_person_spec(spec: &str) -> Result<PersonId, AppError> {
    spec.parse()
        .map_err(|e: hadir_core::ids::IdError| bad_query(format!("supervisor: {e}")))
}

/// A supervisor allowed to read their team, and the team.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The supervisor's [`person_key`].
    pub supervisor_key: String,
    /// The supervisor.
    pub supervisor: PersonEntry,
    /// Their direct reports' keys.
    pub team: Vec<String>,
}

impl AppState {
    /// Checks that `spec` names this device's owner and that they supervise a team.
    pub fn authorize_supervisor(
        &self,
        device: &DeviceEntry,
        spec: &str,
    ) -> Result<Authorized, AppError> {
        let id = parse_person_spec(spec)?;
        let key = person_key(&id);
        let statics = self.directory().statics();
        let is_owner = device
            .members
            .iter()
            .any(|m| m.person_key == key && m.is_owner);
        roster::team_access(is_owner, statics.direct_reports(&key)).map_err(|r| match r {
            TeamRefusal::NotDeviceOwner => AppError::TeamForbidden,
            TeamRefusal::NoDirectReports => AppError::TeamNotSupervisor,
        })?;
        let supervisor = statics
            .people
            .get(&key)
            .cloned()
            .ok_or(AppError::TeamForbidden)?;
        let team = statics.teams.get(&key).cloned().unwrap_or_default();
        Ok(Authorized {
            supervisor_key: key,
            supervisor,
            team,
        })
    }

    /// The blocking part of `GET /v1/team`.
    pub fn team_attendance(
        &self,
        device: &DeviceEntry,
        query: &TeamQuery,
    ) -> Result<TeamAttendance, AppError> {
        let auth = self.authorize_supervisor(device, &query.supervisor)?;
        let statics = self.directory().statics();
        let now = self.now_ms();
        let date = match &query.date {
            Some(text) => schedule::iso_date::parse(text)
                .ok_or_else(|| bad_query(format!("date: {text:?} is not a date YYYY-MM-DD")))?,
            None => local_date(now, statics.home(&auth.supervisor).utc_offset_minutes),
        };
        // The position first: a check-in stored while the view is built is then sent
        // again as an event rather than lost.
        let cursor = self.storage().latest_seq()?;
        let leaves = self.storage().leaves_on(&auth.team, date)?;
        let mut members = Vec::with_capacity(auth.team.len());
        for key in &auth.team {
            let Some(person) = statics.people.get(key) else {
                continue;
            };
            members.push(self.member_day(&statics, person, date, now, leaves.get(key))?);
        }
        members.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(TeamAttendance {
            supervisor: auth.supervisor.id,
            date,
            members,
            cursor,
            server_time_ms: now,
        })
    }

    /// One member's day on an office-local date.
    fn member_day(
        &self,
        statics: &StaticDirectory,
        person: &PersonEntry,
        date: NaiveDate,
        now: i64,
        leave: Option<&LeaveInfo>,
    ) -> Result<TeamMember, AppError> {
        let home = statics.home(person);
        let (office_id, offset, schedule) = (
            home.office.map(|o| o.id.clone()),
            home.utc_offset_minutes,
            home.schedule,
        );
        let start = day_start_ms(date, offset);
        let key = person_key(&person.id);
        let rows = self.storage().checkins_between(
            std::slice::from_ref(&key),
            start,
            start + MS_PER_DAY,
        )?;
        let accepted: Vec<RecordedAttendance> = rows
            .iter()
            .filter(|r| r.checkin.status.counts_as_attendance())
            .filter_map(|r| {
                r.checkin.trusted_time_ms.map(|at_ms| RecordedAttendance {
                    kind: r.checkin.kind,
                    at_ms,
                })
            })
            .collect();
        let plan = schedule.day(date);
        let summary =
            schedule::day_status(&schedule, &plan, offset, now, leave.is_some(), &accepted);
        let mut deviation_codes: Vec<String> = summary.arrival.iter().map(|d| d.code()).collect();
        deviation_codes.extend(summary.others.iter().map(|(_, d)| d.code()));
        let is_today = local_date(now, offset) == date;
        let next = (is_today && summary.state != DayState::OnLeave)
            .then(|| {
                let kinds: Vec<_> = accepted.iter().map(|r| r.kind).collect();
                next_expected(&schedule, offset, now, &kinds)
            })
            .flatten();
        Ok(TeamMember {
            person: person.id.clone(),
            display_name: person.display_name.clone(),
            date,
            office_id,
            state: summary.state,
            late_minutes: roster::late_minutes(&summary),
            deviation_codes,
            flagged: roster::flagged(rows.iter().map(|r| r.checkin.status)),
            leave: leave.cloned(),
            holiday: plan.holiday,
            next_expected: next,
            checkins: rows.into_iter().map(|r| r.checkin).collect(),
        })
    }

    /// Events after `after` for a team (blocking): each new check-in with its member's
    /// day (the office-local date of the check-in).
    pub fn team_events_after(
        &self,
        team: &[String],
        after: i64,
    ) -> Result<Vec<TeamEvent>, AppError> {
        let feed = self.storage().checkins_after(team, after, MAX_EVENTS)?;
        if feed.is_empty() {
            return Ok(Vec::new());
        }
        let statics = self.directory().statics();
        let now = self.now_ms();
        let mut days: HashMap<(String, NaiveDate), TeamMember> = HashMap::new();
        let mut events = Vec::with_capacity(feed.len());
        for FeedCheckIn {
            seq,
            person_key: key,
            received_ms,
            checkin,
        } in feed
        {
            let Some(person) = statics.people.get(&key) else {
                continue;
            };
            let offset = statics.home(person).utc_offset_minutes;
            let date = local_date(checkin.trusted_time_ms.unwrap_or(received_ms), offset);
            let member = match days.get(&(key.clone(), date)) {
                Some(m) => m.clone(),
                None => {
                    let leave = self.storage().leaves_on(std::slice::from_ref(&key), date)?;
                    let m = self.member_day(&statics, person, date, now, leave.get(&key))?;
                    days.insert((key.clone(), date), m.clone());
                    m
                }
            };
            events.push(TeamEvent {
                seq,
                checkin,
                member,
            });
        }
        Ok(events)
    }
}

fn query_error(e: QueryRejection) -> AppError {
    bad_query(e.body_text())
}

/// `GET /v1/team?supervisor=kind:value[&date=YYYY-MM-DD]`.
pub async fn team(
    State(state): State<AppState>,
    query: Result<Query<TeamQuery>, QueryRejection>,
    signed: Signed<SMALL_LIMIT>,
) -> Result<Json<TeamAttendance>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let st = state.clone();
    Ok(Json(
        tokio::task::spawn_blocking(move || st.team_attendance(&signed.device, &query)).await??,
    ))
}

/// `GET /v1/team/events?supervisor=kind:value&after=SEQ[&wait_s=N]`: answers as soon as
/// there are events after `after`, or with none when `wait_s` runs out.
pub async fn team_events(
    State(state): State<AppState>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    signed: Signed<SMALL_LIMIT>,
) -> Result<Json<TeamEvents>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let st = state.clone();
    let device = signed.device.clone();
    let spec = query.supervisor.clone();
    let auth =
        tokio::task::spawn_blocking(move || st.authorize_supervisor(&device, &spec)).await??;
    let st = state.clone();
    let latest = tokio::task::spawn_blocking(move || st.storage().latest_seq()).await??;
    let Some(after) = query.after else {
        return Ok(Json(TeamEvents {
            events: vec![],
            cursor: latest,
            reset: false,
            server_time_ms: state.now_ms(),
        }));
    };
    if after < 0 {
        return Err(bad_query("after: must be 0 or more"));
    }
    if after > latest {
        // A cursor from before a restore, or from another server: start over.
        return Ok(Json(TeamEvents {
            events: vec![],
            cursor: latest,
            reset: true,
            server_time_ms: state.now_ms(),
        }));
    }
    let wait = Duration::from_secs(u64::from(
        query.wait_s.unwrap_or(MAX_TEAM_WAIT_S).min(MAX_TEAM_WAIT_S),
    ));
    let deadline = tokio::time::Instant::now() + wait;
    let registration = state.live().register(&auth.supervisor_key)?;
    let team = Arc::new(auth.team);
    loop {
        // Registered before looking, so a check-in stored in between still wakes us.
        let mut notified = pin!(registration.notify.notified());
        notified.as_mut().enable();
        let (st, t) = (state.clone(), team.clone());
        let events = tokio::task::spawn_blocking(move || st.team_events_after(&t, after)).await??;
        if let Some(last) = events.last() {
            return Ok(Json(TeamEvents {
                cursor: last.seq,
                events,
                reset: false,
                server_time_ms: state.now_ms(),
            }));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(Json(TeamEvents {
                events: vec![],
                cursor: after,
                reset: false,
                server_time_ms: state.now_ms(),
            }));
        }
    }
}
