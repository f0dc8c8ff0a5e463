//! Shared test fixtures for Hadir: "a test office, an enrolled phone, a signed request".
//!
//! Used by the server's integration tests and benches and by the end-to-end tests, so
//! that every test builds its office, its phones' evidence and its signatures the same
//! way, from the real rules crate (`hadir-core`): real P-256 keys, real normalised JPEG
//! selfies, real DSSE envelopes and real request signatures. It does not link the
//! server; server glue (state, router) stays beside the server's tests.
//!
//! - [`office`]: the test office (geofence, centre, UTC offset) and its people.
//! - [`selfie`]: camera-like JPEGs and the normalised selfies a phone sends.
//! - [`checkin`]: fixes, anchored time evidence, check-in payloads and their envelopes.
//! - [`request`]: the signature headers of a request and an enrollment request.

pub mod checkin;
pub mod office;
pub mod request;
pub mod selfie;

pub use checkin::{SelfieRef, anchored_time, checkin_payload, fix_at, seal_anchor, sign_checkin};
pub use office::{
    CENTER, NIP_A, NIP_B, NON_ASN_C, OFFICE, TEST_PEOPLE, TestOffice, TestPerson, nip, non_asn,
    north_of_center,
};
pub use request::{enroll_request, imei_label, signed_headers};
pub use selfie::{pattern_jpeg, portrait_jpeg, selfie};
