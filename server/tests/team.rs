//! The supervisor's team view and live feed through `app(state)`: who may read which
//! team, the day states (late, not arrived, on leave, absent, flagged) computed from
//! the office schedule, and a long poll that wakes when a team member checks in — over
//! a real SQLite file with real signatures and JPEG selfies.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use common::*;
use hadir_core::api::{
    CheckInResult, CheckInStatus, DeviceConfig, EnrollRequest, EnrollResponse, LeaveInfo,
    LeaveKind, TeamAttendance, TeamEvents, TeamMember,
};
use hadir_core::clock::{ServerTimeAnchor, TimeEvidence};
use hadir_core::envelope::{DeviceKey as _, base64_encode};
use hadir_core::ids::{PersonId, PersonIdKind};
use hadir_core::schedule::{DayState, OfficeSchedule, day_start_ms, local_date};
use hadir_server::AppState;
use hadir_server::admin;
use hadir_server::clock::{Clock as _, ManualClock};
use hadir_server::storage::PersonRecord;

/// A fourth person, NIP of someone born 1992-03-15, TMT 2019-03, female, serial 005.
const NIP_D: &str = "199203152019032005";
const WIB: i32 = 420;

/// The day every test runs on: Wednesday 2 December 2026, in WIB.
fn test_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

/// 10:00 WIB on [`test_day`]: under [`midnight_schedule`] anyone checking in then is
/// late by exactly 600 minutes, and the day is far from either midnight.
fn ten_am() -> i64 {
    day_start_ms(test_day(), WIB) + 10 * 3_600_000
}

fn spec(id: &PersonId) -> String {
    format!("{}:{}", id.kind().as_str(), id.value())
}

/// Every day of the week: arrive by 00:00, leave at 23:59 — so anyone checking in is
/// late by the minutes since local midnight, and the day is never over.
fn midnight_schedule() -> OfficeSchedule {
    let json = r#"[{"kind":"check_in","at":"00:00"},{"kind":"check_out","at":"23:59"}]"#;
    let day = format!(
        r#"{{"week":{{"mon":{json},"tue":{json},"wed":{json},"thu":{json},"fri":{json},"sat":{json},"sun":{json}}}}}"#
    );
    admin::schedule_from_json(&day).unwrap()
}

/// A server whose clock the test sets, and phones that sign by that clock.
struct Team {
    env: Env,
    clock: Arc<ManualClock>,
    router: Router,
}

/// Siti (NIP_B) supervises Budi (NIP_A), Andi (non-ASN C) and Dewi (NIP_D); the server's
/// clock shows [`ten_am`].
fn team_env() -> Team {
    let mut env = Env::new();
    let clock = ManualClock::starting_at(ten_am());
    env.state = AppState::open_with_clock(&env.config, clock.clone()).unwrap();
    let s = env.state.storage().as_ref();
    for (kind, id, name) in [
        (PersonIdKind::Nip, NIP_A, "Budi"),
        (PersonIdKind::NonAsn, NON_ASN_C, "Andi (honorer)"),
        (PersonIdKind::Nip, NIP_D, "Dewi"),
    ] {
        admin::add_person(
            s,
            PersonRecord {
                id: PersonId::parse(kind, id).unwrap(),
                display_name: name.into(),
                office_ids: vec![OFFICE.into()],
                supervisor: Some(nip(NIP_B)),
            },
        )
        .unwrap();
    }
    admin::set_schedule(s, OFFICE, midnight_schedule()).unwrap();
    let router = env.router();
    Team { env, clock, router }
}

/// Time evidence of a check-in made at `now`, anchored 10 s earlier, clocks in step.
fn time_at(now: i64) -> TimeEvidence {
    TimeEvidence {
        device_wall_ms: now,
        boot_elapsed_ms: 5_010_000,
        boot_id: "boot-1".into(),
        anchor: Some(ServerTimeAnchor {
            server_time_ms: now - 10_000,
            boot_elapsed_ms: 5_000_000,
            boot_id: "boot-1".into(),
            device_wall_ms: now - 10_000,
            round_trip_ms: 40,
            device_id: None,
            mac: None,
        }),
    }
}

impl Team {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A request signed by `phone` (as `device`) at the server's time.
    fn signed(
        &self,
        phone: &Phone,
        device: &str,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Request<Body> {
        let json = "application/json";
        signed_request_at(&phone.key, device, method, path, body, json, self.now())
    }

    fn request(&self, phone: &Phone, method: &str, path: &str, body: Vec<u8>) -> Request<Body> {
        self.signed(phone, &phone.device_id, method, path, body)
    }

    /// `phone` asks to enroll `who`, with a fresh code.
    fn enroll_request(&self, phone: &Phone, who: &PersonId) -> Request<Body> {
        let body = serde_json::to_vec(&EnrollRequest {
            enrollment_code: self.env.code_for(who),
            person: who.clone(),
            public_key: base64_encode(&phone.key.public_key()),
            device_label: imei_label(),
            platform: "test".into(),
            app_version: "0.1.0".into(),
            attestation: Vec::new(),
        })
        .unwrap();
        self.signed(phone, "enroll", "POST", "/v1/enroll", body)
    }

    /// A new phone with `who` enrolled on it.
    async fn enroll(&self, who: &PersonId) -> Phone {
        let mut phone = Phone::new();
        phone.anchor_secret = Some(self.env.state.storage().anchor_secret().unwrap());
        let r = send(&self.router, self.enroll_request(&phone, who)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        phone.device_id = serde_json::from_slice::<EnrollResponse>(&r.body)
            .unwrap()
            .device_id;
        phone
    }

    /// `phone` checks `who` in `north_m` metres north of the office centre with a fresh
    /// selfie (pattern `seed`), now: uploads it, submits the signed envelope, returns the
    /// result.
    async fn check_in(
        &self,
        phone: &Phone,
        who: &PersonId,
        north_m: f64,
        seed: u64,
    ) -> CheckInResult {
        let s = selfie(seed, 1);
        let path = format!("/v1/selfies/{}", s.sha256_hex());
        let r = send(
            &self.router,
            self.request(phone, "PUT", &path, s.jpeg.clone()),
        )
        .await;
        assert!(
            r.status.is_success(),
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let mut p = payload(&phone.device_id, who, north_of_center(north_m), &s);
        p.fix.fix_time_ms = self.now() - 3_000;
        p.time = time_at(self.now());
        let body = serde_json::to_vec(&hadir_core::api::CheckInBatch {
            envelopes: vec![phone.envelope(&p)],
        })
        .unwrap();
        let r = send(
            &self.router,
            self.request(phone, "POST", "/v1/checkins", body),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice::<hadir_core::api::CheckInBatchResponse>(&r.body)
            .unwrap()
            .results
            .remove(0)
    }

    async fn get(&self, phone: &Phone, path: &str) -> Reply {
        send(&self.router, self.request(phone, "GET", path, vec![])).await
    }

    async fn team_of(&self, phone: &Phone, query: &str) -> TeamAttendance {
        let r = self.get(phone, &format!("/v1/team?{query}")).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        serde_json::from_slice(&r.body).unwrap()
    }

    /// Waits until the server holds exactly `n` live polls; panics after 10 s rather
    /// than hanging the test run when they never arrive.
    async fn polls_held(&self, n: usize) {
        let mut held = self.env.state.live().held();
        tokio::time::timeout(Duration::from_secs(10), held.wait_for(|h| *h == n))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the server did not hold exactly {n} live polls within 10 s (holds {})",
                    *self.env.state.live().held().borrow()
                )
            })
            .unwrap();
    }
}

fn member<'a>(team: &'a TeamAttendance, name: &str) -> &'a TeamMember {
    team.members
        .iter()
        .find(|m| m.display_name == name)
        .unwrap_or_else(|| panic!("{name} not in the team"))
}

#[tokio::test]
async fn supervisor_reads_the_days_of_their_team() {
    let t = team_env();
    let today = local_date(t.now(), WIB);
    assert_eq!(today, test_day());
    let s = t.env.state.storage().as_ref();
    admin::add_leave(
        s,
        &non_asn(NON_ASN_C),
        LeaveInfo {
            kind: LeaveKind::Sakit,
            from: today.pred_opt().unwrap(),
            to: today,
            note: "surat dokter".into(),
        },
    )
    .unwrap();

    let supervisor = t.enroll(&nip(NIP_B)).await;
    let budi = t.enroll(&nip(NIP_A)).await;
    let dewi = t.enroll(&nip(NIP_D)).await;

    // Budi checks in inside; Dewi tries from 2 km away and is rejected.
    let ok = t.check_in(&budi, &nip(NIP_A), 0.0, 1).await;
    assert_eq!(ok.status, CheckInStatus::Accepted, "{ok:?}");
    let no = t.check_in(&dewi, &nip(NIP_D), 2_000.0, 2).await;
    assert_eq!(no.status, CheckInStatus::Rejected);

    let team = t
        .team_of(&supervisor, &format!("supervisor={}", spec(&nip(NIP_B))))
        .await;
    assert_eq!(team.date, today);
    assert_eq!(team.supervisor, nip(NIP_B));
    let names: Vec<&str> = team
        .members
        .iter()
        .map(|m| m.display_name.as_str())
        .collect();
    assert_eq!(names, ["Andi (honorer)", "Budi", "Dewi"], "sorted by name");

    let b = member(&team, "Budi");
    assert_eq!(b.state, DayState::Late);
    assert_eq!(
        b.late_minutes,
        Some(600),
        "10:00 against an arrival due at 00:00"
    );
    assert!(
        b.deviation_codes[0].starts_with("TL"),
        "{:?}",
        b.deviation_codes
    );
    assert!(!b.flagged);
    assert_eq!(b.checkins.len(), 1);
    assert_eq!(b.checkins[0].checkin_id, ok.checkin_id);
    assert_eq!(b.checkins[0].device_id, budi.device_id);
    let next = b.next_expected.as_ref().unwrap();
    assert_eq!(next.kind, hadir_core::wire::AttendanceKind::CheckOut);

    let d = member(&team, "Dewi");
    assert_eq!(d.state, DayState::NotArrived);
    assert!(
        d.flagged,
        "a rejected attempt is flagged for the supervisor"
    );
    assert_eq!(d.checkins[0].status, CheckInStatus::Rejected);
    assert!(d.checkins[0].distance_m.unwrap() > 1_500.0);

    let a = member(&team, "Andi (honorer)");
    assert_eq!(a.state, DayState::OnLeave);
    assert_eq!(a.leave.as_ref().unwrap().kind, LeaveKind::Sakit);
    assert_eq!(a.next_expected, None);

    // A past date: Budi and Dewi were absent, Andi was on leave that day too.
    let yesterday = today.pred_opt().unwrap();
    let past = t
        .team_of(
            &supervisor,
            &format!("supervisor={}&date={yesterday}", spec(&nip(NIP_B))),
        )
        .await;
    assert_eq!(member(&past, "Budi").state, DayState::Absent);
    assert_eq!(member(&past, "Dewi").state, DayState::Absent);
    assert_eq!(member(&past, "Andi (honorer)").state, DayState::OnLeave);
    assert!(member(&past, "Budi").next_expected.is_none());
    // A holiday is a day off for everyone.
    let mut with_holiday = midnight_schedule();
    with_holiday.holidays.push(hadir_core::schedule::Holiday {
        date: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
        name: "Hari Raya Natal".into(),
    });
    admin::set_schedule(s, OFFICE, with_holiday).unwrap();
    let xmas = t
        .team_of(
            &supervisor,
            &format!("supervisor={}&date=2026-12-25", spec(&nip(NIP_B))),
        )
        .await;
    let b = member(&xmas, "Budi");
    assert_eq!(
        (b.state, b.holiday.as_deref()),
        (DayState::DayOff, Some("Hari Raya Natal"))
    );

    // The configuration tells each phone its schedule and who supervises.
    let r = t.get(&supervisor, "/v1/config").await;
    let config: DeviceConfig = serde_json::from_slice(&r.body).unwrap();
    assert!(config.people[0].is_supervisor);
    assert_eq!(config.schedule(OFFICE).holidays.len(), 1);
    let r = t.get(&budi, "/v1/config").await;
    let config: DeviceConfig = serde_json::from_slice(&r.body).unwrap();
    assert!(!config.people[0].is_supervisor);
    assert_eq!(config.schedules[OFFICE].week.mon[0].at.to_string(), "00:00");
}

#[tokio::test]
async fn only_the_supervisor_on_their_own_device_reads_the_team() {
    let t = team_env();
    let supervisor = t.enroll(&nip(NIP_B)).await;
    let budi = t.enroll(&nip(NIP_A)).await;
    let siti = spec(&nip(NIP_B));
    let budi_spec = spec(&nip(NIP_A));

    let refused = |r: Reply, code: &str| {
        assert_eq!(r.code(), code, "{}", String::from_utf8_lossy(&r.body));
        r.status
    };
    // Budi supervises nobody.
    let r = t
        .get(&budi, &format!("/v1/team?supervisor={budi_spec}"))
        .await;
    assert_eq!(refused(r, "TEAM_NOT_SUPERVISOR"), StatusCode::FORBIDDEN);
    // Budi's device cannot speak for Siti.
    let r = t.get(&budi, &format!("/v1/team?supervisor={siti}")).await;
    assert_eq!(refused(r, "TEAM_FORBIDDEN"), StatusCode::FORBIDDEN);
    let r = t
        .get(&budi, &format!("/v1/team/events?supervisor={siti}&after=0"))
        .await;
    assert_eq!(refused(r, "TEAM_FORBIDDEN"), StatusCode::FORBIDDEN);
    // Not even once Siti is a guest on Budi's shared phone.
    let r = send(&t.router, t.enroll_request(&budi, &nip(NIP_B))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["person"]["is_supervisor"], false);
    let r = t.get(&budi, &format!("/v1/team?supervisor={siti}")).await;
    assert_eq!(refused(r, "TEAM_FORBIDDEN"), StatusCode::FORBIDDEN);
    // Bad queries say which parameter.
    for query in [
        "",
        "supervisor=198503122010011003",
        "supervisor=nip:123",
        &format!("supervisor={siti}&date=2026-13-01"),
    ] {
        let r = t.get(&supervisor, &format!("/v1/team?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.code(), "BAD_QUERY");
        assert!(!r.json()["message"].as_str().unwrap().is_empty());
    }
    // Unsigned: 401.
    let r = send(
        &t.router,
        Request::get(format!("/v1/team?supervisor={siti}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // And the supervisor herself succeeds.
    let team = t.team_of(&supervisor, &format!("supervisor={siti}")).await;
    assert_eq!(team.members.len(), 3);
}

#[tokio::test]
async fn the_live_feed_answers_when_a_team_member_checks_in() {
    let t = team_env();
    let supervisor = t.enroll(&nip(NIP_B)).await;
    let budi = t.enroll(&nip(NIP_A)).await;
    let siti = spec(&nip(NIP_B));

    // No cursor: the current position at once.
    let r = t
        .get(&supervisor, &format!("/v1/team/events?supervisor={siti}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let start: TeamEvents = serde_json::from_slice(&r.body).unwrap();
    assert!(start.events.is_empty());
    let team = t.team_of(&supervisor, &format!("supervisor={siti}")).await;
    assert_eq!(team.cursor, start.cursor);

    // Nothing happens: the poll ends empty when its wait runs out, cursor unchanged.
    let started = Instant::now();
    let r = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=1",
                start.cursor
            ),
        )
        .await;
    let idle: TeamEvents = serde_json::from_slice(&r.body).unwrap();
    assert!(idle.events.is_empty());
    assert_eq!(idle.cursor, start.cursor);
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited");

    // A poll waits; Siti's own check-in (not her team) does not answer it; Budi's does.
    let poll = {
        let router = t.router.clone();
        let request = t.request(
            &supervisor,
            "GET",
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=20",
                start.cursor
            ),
            vec![],
        );
        tokio::spawn(async move {
            let started = Instant::now();
            (send(&router, request).await, started.elapsed())
        })
    };
    t.polls_held(1).await;
    let own = t.check_in(&supervisor, &nip(NIP_B), 0.0, 5).await;
    assert_eq!(own.status, CheckInStatus::Accepted, "{own:?}");
    let results = t.check_in(&budi, &nip(NIP_A), 0.0, 6).await;
    let (reply, waited) = poll.await.unwrap();
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        waited < Duration::from_secs(10),
        "answered on the check-in, not the timeout: {waited:?}"
    );
    let events: TeamEvents = serde_json::from_slice(&reply.body).unwrap();
    // Only Budi's: the supervisor's own check-in, stored first, is not a team event.
    assert_eq!(events.events.len(), 1, "{events:?}");
    let e = &events.events[0];
    assert_eq!(e.checkin.checkin_id, results.checkin_id);
    assert_eq!(e.member.person, nip(NIP_A));
    assert_eq!(e.member.state, DayState::Late);
    assert_eq!(events.cursor, e.seq);
    assert!(e.seq > start.cursor);

    // From that cursor, nothing new; from the start, the same event again (a client
    // that lost an answer asks again and gets it).
    let r = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=0",
                events.cursor
            ),
        )
        .await;
    assert!(
        serde_json::from_slice::<TeamEvents>(&r.body)
            .unwrap()
            .events
            .is_empty()
    );
    let r = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=0",
                start.cursor
            ),
        )
        .await;
    let again: TeamEvents = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(again.events.len(), 1);
    assert_eq!(again.events[0].checkin.checkin_id, results.checkin_id);
}

#[tokio::test]
async fn the_feed_returns_every_members_check_ins_in_order_resets_and_caps_waiters() {
    let t = team_env();
    let supervisor = t.enroll(&nip(NIP_B)).await;
    let budi = t.enroll(&nip(NIP_A)).await;
    let dewi = t.enroll(&nip(NIP_D)).await;
    let siti = spec(&nip(NIP_B));
    let team = t.team_of(&supervisor, &format!("supervisor={siti}")).await;

    // Budi, Dewi, Budi: three events, in the order the server stored them.
    let mut ids = Vec::new();
    for (n, (phone, who)) in [(&budi, NIP_A), (&dewi, NIP_D), (&budi, NIP_A)]
        .into_iter()
        .enumerate()
    {
        let r = t.check_in(phone, &nip(who), 0.0, 10 + n as u64).await;
        ids.push(r.checkin_id.clone());
    }
    let r = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=0",
                team.cursor
            ),
        )
        .await;
    let events: TeamEvents = serde_json::from_slice(&r.body).unwrap();
    let got: Vec<&str> = events
        .events
        .iter()
        .map(|e| e.checkin.checkin_id.as_str())
        .collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(events.events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(!events.reset);
    // The second Budi event carries his day with both check-ins.
    assert_eq!(events.events[2].member.checkins.len(), 2);

    // A cursor beyond anything stored (a restored database): reset to the present.
    let r = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=5",
                events.cursor + 1_000
            ),
        )
        .await;
    let reset: TeamEvents = serde_json::from_slice(&r.body).unwrap();
    assert!(reset.reset && reset.events.is_empty());
    assert_eq!(reset.cursor, events.cursor);

    // One supervisor holds at most a few polls at once.
    let poll = || {
        let router = t.router.clone();
        let request = t.request(
            &supervisor,
            "GET",
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=20",
                events.cursor
            ),
            vec![],
        );
        tokio::spawn(async move { send(&router, request).await })
    };
    let most = hadir_server::team::MAX_WAITS_PER_SUPERVISOR;
    let held: Vec<_> = (0..most).map(|_| poll()).collect();
    t.polls_held(most).await;
    let refused = poll().await.unwrap();
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "RATE_LIMITED");
    for h in &held {
        h.abort();
    }
    t.polls_held(0).await;
    // The client went away: its slot is free again.
    let again = t
        .get(
            &supervisor,
            &format!(
                "/v1/team/events?supervisor={siti}&after={}&wait_s=0",
                events.cursor
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn supervision_cannot_go_in_a_circle() {
    let t = team_env();
    let s = t.env.state.storage().as_ref();
    let siti_under = |supervisor: &str| {
        admin::add_person(
            s,
            PersonRecord {
                id: nip(NIP_B),
                display_name: "Siti".into(),
                office_ids: vec![OFFICE.into()],
                supervisor: Some(nip(supervisor)),
            },
        )
        .unwrap_err()
    };
    // Siti supervises Budi; Budi cannot become Siti's supervisor.
    let err = siti_under(NIP_A);
    assert!(err.to_string().contains("circle"), "{err}");
    // Nor her own.
    let err = siti_under(NIP_B);
    assert!(err.to_string().contains("own supervisor"), "{err}");
}
