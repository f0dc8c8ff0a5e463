//! hadir-core: the rules a phone and the server share.
//!
//! The phone is not trusted: it collects evidence (a GPS fix, a selfie, its clocks),
//! signs it, and keeps it in a durable outbox until the server has decided. The server
//! uses the very same functions to decide again, so the two can never disagree about a
//! geofence, a selfie hash or a trusted instant.
//!
//! Pure rules: [`anchor`] (signed time anchors), [`attestation`] (the key attestation
//! challenge of an enrollment code), [`geofence`], [`fix`], [`photo`], [`envelope`],
//! [`clock`], [`ids`], [`enrollment_qr`] (the enrollment slip's QR),
//! [`schedule`], [`qr`] (the office QR token), [`roster`] (home office, supervisors, enrollment codes, a team
//! member's day), [`wire`], [`api`] and [`auth`]. No I/O engine lives here: the phone's
//! outbox and sync client are the `hadir-device` crate, which the server never links.

pub mod anchor;
pub mod api;
pub mod attestation;
pub mod auth;
pub mod clock;
pub mod enrollment_qr;
pub mod envelope;
pub mod fix;
pub mod geofence;
pub mod ids;
pub mod photo;
pub mod qr;
pub mod roster;
pub mod schedule;
pub mod wire;
