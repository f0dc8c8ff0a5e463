//! Enrollment of a person on this device, and the office configuration it fetches.

use super::*;
use hadir_core::attestation::normalise_enrollment_code;

impl Device {
    /// Enrolls `person` on this device with an admin-issued code. The first person
    /// becomes the device's owner; later ones are colleagues sharing it. Anchors the
    /// clock (a signed anchor, once enrolled) and fetches the configuration too.
    ///
    /// The first enrollment sends the key's attestation chain
    /// ([`DeviceKey::attestation_chain`], its challenge derived from this code); a
    /// colleague added later sends none: the key was attested once.
    pub async fn enroll(
        &self,
        enrollment_code: &str,
        person: PersonId,
        label: DeviceLabel,
    ) -> Result<DevicePerson, DeviceError> {
        label.validate().map_err(|source| DeviceError::InvalidId {
            field: "device_label",
            source,
        })?;
        self.sync_time().await?;
        let attestation = if self.enrollment()?.is_none() {
            self.key
                .attestation_chain()
                .map_err(envelope::EnvelopeError::Signing)?
                .iter()
                .map(|der| envelope::base64_encode(der))
                .collect()
        } else {
            Vec::new()
        };
        let request = EnrollRequest {
            enrollment_code: normalise_enrollment_code(enrollment_code),
            person,
            public_key: envelope::base64_encode(&self.key.public_key()),
            device_label: label,
            platform: self.settings.platform.clone(),
            app_version: self.settings.app_version.clone(),
            attestation,
        };
        let answer = self
            .client
            .enroll(&request, &self.signer(auth::ENROLL_DEVICE)?)
            .await?;
        let enrollment = Enrollment {
            device_id: answer.device_id.clone(),
            server_url: self.client.base_url().to_string(),
            key_id: envelope::key_id(&self.key.public_key()),
        };
        self.store
            .set_value(store::keys::ENROLLMENT, &json_value(&enrollment))?;
        self.store.upsert_person(&EnrolledPerson {
            person_id: answer.person.person.to_string(),
            display_name: answer.person.display_name.clone(),
            enrolled_at_ms: self.anchored_now_ms()?,
            is_device_owner: answer.person.is_device_owner,
        })?;
        self.obtain_anchor().await?;
        self.refresh_config().await?;
        Ok(answer.person)
    }

    /// Fetches the configuration if it changed; returns whether it did.
    pub async fn refresh_config(&self) -> Result<bool, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let etag = self.loaded_config().and_then(|c| c.cached.etag.clone());
        let answer = self
            .client
            .config(etag.as_deref(), &self.signer(&enrollment.device_id)?)
            .await?;
        match answer {
            Conditional::NotModified => Ok(false),
            Conditional::Fresh(config, etag) => {
                for p in &config.people {
                    let known = self
                        .store
                        .people()?
                        .into_iter()
                        .find(|e| e.person_id == p.person.to_string());
                    self.store.upsert_person(&EnrolledPerson {
                        person_id: p.person.to_string(),
                        display_name: p.display_name.clone(),
                        enrolled_at_ms: known
                            .map(|k| k.enrolled_at_ms)
                            .unwrap_or(config.server_time_ms),
                        is_device_owner: p.is_device_owner,
                    })?;
                }
                let cached = CachedConfig { etag, config };
                self.store
                    .set_value(store::keys::CONFIG, &json_value(&cached))?;
                self.install_config(cached)?;
                Ok(true)
            }
        }
    }
}
