//! hadir-ffi: the uniffi surface of hadir-core for the Android (Kotlin) and iOS (Swift)
//! shells. It converts types and delegates; every rule lives in hadir-core.
//!
//! Shape (after mozilla/application-services and matrix-rust-sdk): one public object,
//! [`HadirEngine`], over the core's `Device`; one small public error, [`HadirError`],
//! mapped once from the core's errors; platform features as foreign traits the shells
//! implement ([`DeviceKeyProvider`], [`ClockProvider`], [`Logger`], [`SyncListener`]).
//! The API is synchronous and thread-safe (the shells call it off the UI thread); network
//! work runs on the library's own tokio runtime, and the background sync is a
//! [`TaskHandle`] the shell can cancel.

uniffi::setup_scaffolding!();

mod engine;
mod error;
mod platform;
mod runtime;
mod types;

pub use engine::HadirEngine;
pub use error::HadirError;
pub use platform::{
    ClockProvider, ClockSample, DeviceKeyProvider, LogLevel, Logger, PlatformError, SyncListener,
};
pub use runtime::TaskHandle;
pub use types::*;
