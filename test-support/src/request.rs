//! Requests as an enrolled phone signs them: the `hadir-*` signature headers, and the
//! body of an enrollment.

use hadir_core::api::EnrollRequest;
use hadir_core::auth::{
    HEADER_DEVICE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, RequestToSign,
};
use hadir_core::envelope::{DeviceKey, base64_encode};
use hadir_core::ids::{DeviceLabel, PersonId};

/// The signature headers (name, value) of a request by `device` (or `enroll` before
/// enrollment), signed by `key` at `timestamp_ms` with `nonce`.
pub fn signed_headers(
    key: &dyn DeviceKey,
    device: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    timestamp_ms: i64,
    nonce: &str,
) -> Vec<(&'static str, String)> {
    let signature = RequestToSign {
        method,
        path_and_query,
        timestamp_ms,
        nonce,
        device,
        body,
    }
    .sign(key)
    .expect("a test key signs");
    vec![
        (HEADER_DEVICE, device.to_string()),
        (HEADER_TIMESTAMP, timestamp_ms.to_string()),
        (HEADER_NONCE, nonce.to_string()),
        (HEADER_SIGNATURE, signature),
    ]
}

/// The JSON body of `POST /v1/enroll`: `key`'s public key bound to `person` with `code`.
pub fn enroll_request(
    key: &dyn DeviceKey,
    code: &str,
    person: &PersonId,
    label: DeviceLabel,
) -> Vec<u8> {
    serde_json::to_vec(&EnrollRequest {
        enrollment_code: code.into(),
        person: person.clone(),
        public_key: base64_encode(&key.public_key()),
        device_label: label,
        platform: "test".into(),
        app_version: "0.1.0".into(),
        attestation: Vec::new(),
    })
    .expect("serialises")
}

/// A valid IMEI (its Luhn check digit holds) as a device label.
pub fn imei_label() -> DeviceLabel {
    DeviceLabel::Imei("490154203237518".into())
}
