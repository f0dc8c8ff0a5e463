//! hadir-ffi: the uniffi surface of hadir-core for the Android (Kotlin) and iOS (Swift)
//! shells. It converts types and delegates; every rule lives in hadir-core.
//!
//! Shape (after mozilla/application-services and matrix-rust-sdk): one public object,
//! [`HadirEngine`], over the core's `Device`; one small public error, [`HadirError`],
//! mapped once from the core's errors; platform features as foreign traits the shells
//! implement ([`DeviceKeyProvider`], [`ClockProvider`], [`Logger`], [`SyncListener`]).
//! Network and heavy work is `async` (Kotlin `suspend`, Swift `async`) and runs on the
//! library's own tokio runtime; cancelling a Kotlin coroutine aborts it (uniffi's Swift
//! support does not pass Task cancellation to Rust: on Swift an async call runs to
//! completion and a [`TaskHandle`] stops only by its `cancel()`). Cheap local reads are
//! synchronous and safe from any thread. The background sync and the live team feed are
//! [`TaskHandle`]s whose callbacks arrive in order on a thread of their own, where they
//! may block and call back into the engine.

uniffi::setup_scaffolding!();

mod engine;
mod error;
mod ids;
mod logging;
mod platform;
mod runtime;
mod types;

pub use engine::HadirEngine;
pub use error::HadirError;
pub use ids::{EnrollmentQrInfo, check_person_id, parse_enrollment_qr};
pub use platform::{
    ClockProvider, ClockSample, DeviceKeyProvider, LogLevel, Logger, PlatformError, SyncListener,
    attestation_challenge,
};
pub use runtime::TaskHandle;
pub use types::*;
