//! hadir-device: the phone's engine over hadir-core's rules.
//!
//! [`store`] is the SQLite file on the phone (outbox, enrolled people, config cache,
//! recent fixes), [`client`] the signed HTTP client (rustls with bundled roots or a pin)
//! over [`transport`] (HTTP/1.1 keep-alive on hyper),
//! and [`device`] the engine that enrolls, checks in offline and syncs exactly once.
//! The server never links this crate: what both sides decide lives in hadir-core.

pub mod client;
pub mod device;
pub mod store;
pub mod transport;
