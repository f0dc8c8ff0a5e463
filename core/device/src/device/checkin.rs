//! The phone's own verdict on a fix, the check-in recorded in the outbox, and the next
//! attendance a person is expected to record.

use super::*;

/// The time as a person's office keeps it ([`Device::local_time`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// The anchored now, Unix ms.
    pub now_ms: i64,
    /// The home office's UTC offset, minutes (WIB 420, WITA 480, WIT 540).
    pub utc_offset_minutes: i32,
    /// The date there.
    pub date: chrono::NaiveDate,
}

/// What the phone concludes from a fix, before or at a check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalCheck {
    /// The geofence verdict for the person's offices.
    pub verdict: GeofenceVerdict,
    /// Fix checks that failed.
    pub issues: Vec<FixIssue>,
    /// Whether the office the verdict names (inside, or nearest when outside) asks for
    /// its monitor's QR ([`hadir_core::api::Office::qr_required`]): scan it before the
    /// selfie.
    pub qr_required: bool,
}

impl LocalCheck {
    /// True when the phone expects the server to accept: inside, and no failed check
    /// that rejects ([`FixIssue::rejects`]; impossible travel is only flagged).
    pub fn looks_ok(&self) -> bool {
        matches!(self.verdict, GeofenceVerdict::Inside { .. })
            && !self.issues.iter().any(FixIssue::rejects)
    }

    /// One Indonesian sentence (or several) for the screen.
    pub fn staff_message(&self) -> String {
        let mut parts = vec![self.verdict.staff_message()];
        parts.extend(self.issues.iter().map(FixIssue::staff_message));
        parts.join(" ")
    }

    fn to_wire(&self) -> LocalVerdict {
        let (geofence, office_id, zone_id, distance_m) = match &self.verdict {
            GeofenceVerdict::Inside {
                office_id, zone_id, ..
            } => (
                LocalGeofenceStatus::Inside,
                Some(office_id.clone()),
                Some(zone_id.clone()),
                None,
            ),
            GeofenceVerdict::Outside {
                nearest_office_id,
                distance_m,
                ..
            } => (
                LocalGeofenceStatus::Outside,
                Some(nearest_office_id.clone()),
                None,
                Some(*distance_m),
            ),
            GeofenceVerdict::TooInaccurate { .. } => {
                (LocalGeofenceStatus::TooInaccurate, None, None, None)
            }
            GeofenceVerdict::NoOffices => (LocalGeofenceStatus::NoOffices, None, None, None),
        };
        LocalVerdict {
            geofence,
            office_id,
            zone_id,
            distance_m,
            issue_codes: self.issues.iter().map(|i| i.code().to_string()).collect(),
        }
    }
}

/// What a check-in request carries from the shell.
#[derive(Debug, Clone)]
pub struct CheckInRequest {
    /// Who is checking in (enrolled on this device).
    pub person: PersonId,
    /// Which attendance time.
    pub kind: AttendanceKind,
    /// The GPS fix taken with the selfie.
    pub fix: GpsFix,
    /// The camera's JPEG, as it came.
    pub selfie_jpeg: Vec<u8>,
    /// The office QR token scanned, if any.
    pub qr_token: Option<String>,
}

/// Proof that a check-in is recorded on the phone.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInReceipt {
    /// The check-in's id.
    pub checkin_id: String,
    /// The trusted instant of the check-in (server-anchored when possible), Unix ms.
    pub recorded_at_ms: i64,
    /// Whether that instant is anchored to the server's clock.
    pub time_anchored: bool,
    /// The phone's own verdict.
    pub local: LocalCheck,
    /// SHA-256 of the normalised selfie.
    pub selfie_sha256: String,
    /// Check-ins waiting to be sent, this one included.
    pub pending_count: u32,
}

/// The next attendance a person is expected to record, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextAttendance {
    /// The office whose schedule applies (the person's first office).
    pub office_id: String,
    /// Its name.
    pub office_name: String,
    /// What is expected, when.
    pub expected: ExpectedAttendance,
    /// One Indonesian sentence for the screen.
    pub staff_message: String,
}

impl Device {
    /// The verdict for `fix` before the camera opens: inside which office, or how far
    /// from the nearest, plus failed fix checks. Works offline from the cached config.
    pub fn check_location(
        &self,
        person: &PersonId,
        fix: &GpsFix,
    ) -> Result<LocalCheck, DeviceError> {
        fix.validate()?;
        let loaded = self.loaded_config().ok_or(DeviceError::NoConfig)?;
        let offices = self
            .person_offices(&loaded, person)
            .ok_or_else(|| DeviceError::PersonNotOnDevice(person.value().to_string()))?;
        let office_refs: Vec<&str> = offices.iter().map(String::as_str).collect();
        let policy = &loaded.cached.config.policy;
        let verdict = loaded.index.locate_in(fix, &office_refs, &policy.geofence);
        let accuracy_limit = fix::accuracy_limit_m(&verdict, &loaded.index, &policy.fix);
        let previous = self.store.last_fix(&person.to_string())?.map(|f| GpsFix {
            latitude: f.latitude,
            longitude: f.longitude,
            accuracy_m: f.accuracy_m,
            fix_time_ms: f.fix_time_ms,
            provider: fix::FixProvider::Unknown,
            is_mock: false,
        });
        let issues = fix::check_fix(
            fix,
            previous.as_ref(),
            self.anchored_now_ms()?,
            accuracy_limit,
            &policy.fix,
        );
        let named_office = match &verdict {
            GeofenceVerdict::Inside { office_id, .. } => Some(office_id),
            GeofenceVerdict::Outside {
                nearest_office_id, ..
            } => Some(nearest_office_id),
            GeofenceVerdict::TooInaccurate { .. } | GeofenceVerdict::NoOffices => None,
        };
        let qr_required = named_office.is_some_and(|id| {
            loaded
                .cached
                .config
                .offices
                .iter()
                .any(|o| &o.id == id && o.qr_required)
        });
        Ok(LocalCheck {
            verdict,
            issues,
            qr_required,
        })
    }

    /// Records a check-in: decides locally, normalises the selfie, signs the payload
    /// and commits envelope and selfie to the outbox in one transaction before
    /// returning. Works offline. A check-in the phone expects to be rejected (outside,
    /// mock location) is still recorded: the server decides, and the receipt says what
    /// the phone saw.
    ///
    /// The selfie work and the signature (hundreds of ms on a cheap phone, a StrongBox
    /// key included) run on tokio's blocking pool, so this future never stalls an
    /// executor thread. Cancellation is exact: dropping the future before the selfie is
    /// signed records nothing; the commit that follows has no suspension point, so once
    /// it starts the check-in is in the outbox for good (never lost, never half-written).
    pub async fn check_in(&self, request: CheckInRequest) -> Result<CheckInReceipt, DeviceError> {
        let (signing, request) = self.start_check_in(request)?;
        let signed = tokio::task::spawn_blocking(move || signing.sign(request))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        self.commit_check_in(signed)
    }

    /// [`Device::check_in`] on the calling thread, for callers with no runtime (the demo
    /// and tests): same checks, same single commit.
    pub fn check_in_blocking(
        &self,
        request: CheckInRequest,
    ) -> Result<CheckInReceipt, DeviceError> {
        let (signing, request) = self.start_check_in(request)?;
        let signed = signing.sign(request)?;
        self.commit_check_in(signed)
    }

    /// The cheap checks of a check-in, and what signing it needs off this thread.
    fn start_check_in(
        &self,
        request: CheckInRequest,
    ) -> Result<(CheckInSigning, CheckInRequest), DeviceError> {
        if !request.kind.is_known() {
            return Err(DeviceError::UnknownAttendanceKind);
        }
        // A token scanned near the end of its window, then a slow selfie: the check-in's
        // time is read at signing, and the server would refuse it QR_EXPIRED for good.
        // Refuse it here instead, recording nothing, so the person rescans.
        if let Some(token) = &request.qr_token
            && hadir_core::qr::is_behind(token, self.anchored_now_ms()?)
        {
            return Err(DeviceError::QrRescan);
        }
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let local = self.check_location(&request.person, &request.fix)?;
        let signing = CheckInSigning {
            device_id: enrollment.device_id,
            local,
            key: self.key.clone(),
            reading: self.read_clock()?,
            anchor: self.anchor(),
            selfie_limits: self.settings.selfie_limits.clone(),
            app_version: self.settings.app_version.clone(),
        };
        Ok((signing, request))
    }

    /// Commits a signed check-in: envelope, selfie and fix, with no suspension point.
    fn commit_check_in(&self, signed: SignedCheckIn) -> Result<CheckInReceipt, DeviceError> {
        let SignedCheckIn {
            request,
            local,
            envelope,
            selfie,
            checkin_id,
            recorded_at_ms,
            time_anchored,
            local_verdict_json,
        } = signed;
        // The outbox row, the fix and the count in one transaction: once it commits,
        // nothing here can fail, so staff are never told "failed" about a check-in
        // that is in the outbox (and then record it twice).
        let pending_count = self.store.record_checkin_with_fix(
            &NewCheckIn {
                checkin_id: checkin_id.clone(),
                person_id: request.person.to_string(),
                kind: request.kind.as_str().to_string(),
                recorded_at_ms,
                envelope_json: envelope.to_json(),
                selfie_jpeg: selfie.jpeg.clone(),
                selfie_sha256_hex: selfie.sha256_hex(),
                local_verdict_json,
            },
            &RecentFix {
                person_id: request.person.to_string(),
                latitude: request.fix.latitude,
                longitude: request.fix.longitude,
                accuracy_m: request.fix.accuracy_m,
                fix_time_ms: request.fix.fix_time_ms,
            },
        )?;
        Ok(CheckInReceipt {
            checkin_id,
            recorded_at_ms,
            time_anchored,
            local,
            selfie_sha256: selfie.sha256_hex(),
            pending_count,
        })
    }

    /// The time for `person`: the anchored now, their home office's UTC offset and the
    /// date there, which the server's team view and day rules use for them.
    pub fn local_time(&self, person: &PersonId) -> Result<LocalTime, DeviceError> {
        let loaded = self.loaded_config().ok_or(DeviceError::NoConfig)?;
        let offices = self
            .person_offices(&loaded, person)
            .ok_or_else(|| DeviceError::PersonNotOnDevice(person.value().to_string()))?;
        let utc_offset_minutes = loaded.cached.config.home(&offices).utc_offset_minutes;
        let now_ms = self.anchored_now_ms()?;
        Ok(LocalTime {
            now_ms,
            utc_offset_minutes,
            date: schedule::local_date(now_ms, utc_offset_minutes),
        })
    }

    /// The next attendance `person` is expected to record, from the cached schedule of
    /// their first office and the check-ins on this phone today (rejected ones do not
    /// count, nor pending ones the phone itself saw outside or with a bad fix). Works
    /// offline. `None` when the person has no office or no working day within three
    /// weeks.
    pub fn next_expected(&self, person: &PersonId) -> Result<Option<NextAttendance>, DeviceError> {
        let loaded = self.loaded_config().ok_or(DeviceError::NoConfig)?;
        let offices = self
            .person_offices(&loaded, person)
            .ok_or_else(|| DeviceError::PersonNotOnDevice(person.value().to_string()))?;
        let home = loaded.cached.config.home(&offices);
        let Some(office) = home.office else {
            return Ok(None);
        };
        let (schedule, offset) = (&home.schedule, home.utc_offset_minutes);
        let now = self.anchored_now_ms()?;
        let today = schedule::local_date(now, offset);
        let recorded: Vec<AttendanceKind> = self
            .store
            .history(Some(&person.to_string()), 64)?
            .iter()
            .filter(|h| match h.state {
                store::OutboxState::Accepted => true,
                store::OutboxState::Rejected => false,
                // Not decided yet: counts if the phone saw it inside with no issue that
                // rejects (one it expects the server to refuse must be done again).
                store::OutboxState::Pending => {
                    serde_json::from_str::<LocalVerdict>(&h.local_verdict_json).is_ok_and(|v| {
                        v.geofence == LocalGeofenceStatus::Inside
                            && !v.issue_codes.iter().any(|c| FixIssue::code_rejects(c))
                    })
                }
            })
            .filter(|h| schedule::local_date(h.recorded_at_ms, offset) == today)
            .filter_map(|h| AttendanceKind::parse(&h.kind))
            .collect();
        Ok(
            schedule::next_expected(schedule, offset, now, &recorded).map(|expected| {
                NextAttendance {
                    office_id: office.id.clone(),
                    office_name: office.name.clone(),
                    staff_message: expected.staff_message(today),
                    expected,
                }
            }),
        )
    }
}

/// What signing a check-in needs, owned, so it can run on another thread.
struct CheckInSigning {
    device_id: String,
    local: LocalCheck,
    key: Arc<dyn DeviceKey>,
    reading: ClockReading,
    anchor: Option<ServerTimeAnchor>,
    selfie_limits: SelfieLimits,
    app_version: String,
}

/// A signed check-in, not yet in the outbox.
struct SignedCheckIn {
    request: CheckInRequest,
    local: LocalCheck,
    envelope: Envelope,
    selfie: photo::SelfieEvidence,
    checkin_id: String,
    recorded_at_ms: i64,
    time_anchored: bool,
    local_verdict_json: String,
}

impl CheckInSigning {
    /// Normalises the selfie and signs the payload: the heavy part, with no effect.
    fn sign(self, mut request: CheckInRequest) -> Result<SignedCheckIn, DeviceError> {
        let camera_jpeg = std::mem::take(&mut request.selfie_jpeg);
        let selfie = photo::normalise_selfie(&camera_jpeg, &self.selfie_limits)?;
        drop(camera_jpeg);
        let evidence = TimeEvidence::new(self.reading, self.anchor);
        let trusted = clock::trusted_time(&evidence, i64::MAX);
        let local_verdict = self.local.to_wire();
        let payload = CheckInPayload {
            version: CHECKIN_PAYLOAD_VERSION,
            checkin_id: hadir_core::wire::new_checkin_id(),
            person: request.person.clone(),
            device_id: self.device_id,
            kind: request.kind,
            fix: request.fix.clone(),
            local_verdict,
            selfie_sha256: selfie.sha256_hex(),
            selfie_phash: hadir_core::wire::phash_hex(selfie.perceptual_hash),
            time: evidence,
            qr_token: request.qr_token.clone(),
            app_version: self.app_version,
        };
        let envelope = Envelope::sign(CHECKIN_PAYLOAD_TYPE, payload.to_bytes(), self.key.as_ref())?;
        Ok(SignedCheckIn {
            local_verdict_json: String::from_utf8(json_value(&payload.local_verdict))
                .expect("JSON is UTF-8"),
            checkin_id: payload.checkin_id.to_string(),
            recorded_at_ms: trusted.instant_ms,
            time_anchored: trusted.source == clock::TimeSource::Anchored,
            local: self.local,
            envelope,
            selfie,
            request,
        })
    }
}
