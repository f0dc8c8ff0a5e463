//! The open-file budget: every connection, database file and selfie being written is an
//! open file, and when the process runs out, `accept` fails and staff check-ins time
//! out on connect with no answer at all. So at start the server raises its soft
//! `RLIMIT_NOFILE` to the hard limit (macOS: at most `OPEN_MAX`), then fits what it
//! holds inside what it got, or inside the limit it kept if the OS refused the raise:
//!
//! * [`FIXED_RESERVE`] files for the listener, the runtime and the standard streams;
//! * [`sqlite_files`] for the database: the writer and at most
//!   [`crate::storage::sqlite::MAX_READERS`] read connections;
//! * check-ins first: `max_in_flight` requests, counted [`FILES_PER_REQUEST`] each (the
//!   connection and a selfie file), get at least half of the rest;
//! * every other file is a connection: `max_connections` sockets may be open at once,
//!   idle keep-alive ones included ([`crate::listener::CappedListener`] stops accepting
//!   at the cap, so the process never meets `EMFILE`); a check-in's selfie file is
//!   counted beside its connection;
//! * long polls (`max_live_waiters`) get the connections the check-ins do not need,
//!   never more than configured.
//!
//! A cap is only ever lowered, and the log says what was derived and why.

/// Files kept for the listening socket, the runtime's event queue and wakers, the
/// standard streams and the selfie directory.
pub const FIXED_RESERVE: u64 = 16;

/// Files one SQLite connection holds: the database and its write-ahead log.
pub const FILES_PER_SQLITE_CONNECTION: u64 = 2;

/// Files one request in progress may hold: its connection and a selfie being written.
pub const FILES_PER_REQUEST: u64 = 2;

/// Files the database holds with `readers` read connections besides the writer: each
/// connection's [`FILES_PER_SQLITE_CONNECTION`], and the shared-memory index they
/// share.
pub fn sqlite_files(readers: usize) -> u64 {
    (1 + readers as u64) * FILES_PER_SQLITE_CONNECTION + 1
}

/// The caps that fit in an open-file limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBudget {
    /// The soft limit the caps were fitted to.
    pub limit: u64,
    /// Files set aside for the database ([`sqlite_files`]).
    pub sqlite_files: u64,
    /// Connections open at once, idle ones included; beyond, the server stops accepting
    /// until one closes.
    pub max_connections: usize,
    /// Requests in progress before 503 (check-ins and everything but long polls).
    pub max_in_flight: usize,
    /// Long polls held at once before 503.
    pub max_live_waiters: usize,
}

/// Why no budget fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "open-file limit {limit} is too low to serve: at least {needed} are needed \
     (raise it with `ulimit -n` or LimitNOFILE=)"
)]
pub struct LimitTooLow {
    /// The limit found.
    pub limit: u64,
    /// The least that serves one request and one poll.
    pub needed: u64,
}

/// Fits the configured caps inside `limit` open files with `sqlite_readers` read
/// connections (see the module docs): each cap is the configured value or less,
/// check-ins keep at least half of what the fixed reserve and the database leave,
/// polls never take the connections the check-ins need, and the connections, the
/// check-ins' selfie files, the database and the reserve together never exceed
/// `limit`. `max_connections` is at most [`tokio::sync::Semaphore::MAX_PERMITS`].
pub fn fit(
    limit: u64,
    sqlite_readers: usize,
    max_in_flight: usize,
    max_live_waiters: usize,
) -> Result<FileBudget, LimitTooLow> {
    let sqlite = sqlite_files(sqlite_readers);
    let needed = FIXED_RESERVE + sqlite + 2 * FILES_PER_REQUEST + 1;
    if limit < needed {
        return Err(LimitTooLow { limit, needed });
    }
    let available = limit - FIXED_RESERVE - sqlite;
    let in_flight = (max_in_flight.max(1) as u64).min(available / 2 / FILES_PER_REQUEST);
    // Each request in progress may hold a selfie file beside its connection.
    let connections = (available - in_flight).min(tokio::sync::Semaphore::MAX_PERMITS as u64);
    let waiters = (max_live_waiters.max(1) as u64).min(connections - in_flight);
    Ok(FileBudget {
        limit,
        sqlite_files: sqlite,
        max_connections: connections as usize,
        max_in_flight: in_flight as usize,
        max_live_waiters: waiters as usize,
    })
}

/// The soft open-file limit before and after trying to raise it.
#[derive(Debug)]
pub struct Raised {
    /// Soft limit found at start.
    pub before: u64,
    /// Soft limit now in effect, read back from the OS whether or not the raise took:
    /// the caps are always fitted to this.
    pub after: u64,
    /// Why the OS refused the raise, if it did (`after` is then the limit kept).
    pub refused: Option<std::io::Error>,
}

/// The most a soft limit may be set to on macOS: `setrlimit` refuses more than
/// `OPEN_MAX` for `RLIMIT_NOFILE` even when the hard limit is unlimited.
pub const MACOS_OPEN_MAX: u64 = 10_240;

/// The ceiling this OS puts on the soft limit beyond the hard one, if any.
pub const OS_SOFT_CEILING: Option<u64> = if cfg!(target_vendor = "apple") {
    Some(MACOS_OPEN_MAX)
} else {
    None
};

/// The soft limit to ask for, or `None` to leave it: the hard limit, clamped to the
/// OS ceiling where there is one (macOS `OPEN_MAX`), and never below the current soft
/// limit (a limit is only ever raised here).
pub fn raise_target(soft: u64, hard: u64, os_ceiling: Option<u64>) -> Option<u64> {
    let target = os_ceiling.map_or(hard, |ceiling| hard.min(ceiling));
    (target > soft).then_some(target)
}

/// The current soft `RLIMIT_NOFILE` and its hard limit.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // `rlim_t` is not 64 bits on every Unix
fn get_limits() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((lim.rlim_cur as u64, lim.rlim_max as u64))
}

/// Raises the soft `RLIMIT_NOFILE` towards the hard limit ([`raise_target`]; an
/// unprivileged process may). If the OS refuses, the current soft limit is read back
/// so the caps still fit what the process has. `Err` only when the limit cannot be
/// read at all.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // `rlim_t` is not 64 bits on every Unix
pub fn raise_soft_limit() -> std::io::Result<Raised> {
    let (before, hard) = get_limits()?;
    let refused = raise_target(before, hard, OS_SOFT_CEILING).and_then(|target| {
        let wanted = libc::rlimit {
            rlim_cur: target as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct we own.
        (unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0)
            .then(std::io::Error::last_os_error)
    });
    let (after, _) = get_limits()?;
    Ok(Raised {
        before,
        after,
        refused,
    })
}

/// Elsewhere there is no such limit to raise; the caps stay as configured.
#[cfg(not(unix))]
pub fn raise_soft_limit() -> std::io::Result<Raised> {
    Ok(Raised {
        before: u64::MAX,
        after: u64::MAX,
        refused: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files in use when every cap is reached.
    fn used(b: &FileBudget) -> u64 {
        FIXED_RESERVE + b.sqlite_files + b.max_connections as u64 + b.max_in_flight as u64
    }

    #[test]
    fn a_large_limit_keeps_the_configured_caps() {
        let b = fit(1 << 20, 8, 512, 20_000).unwrap();
        assert_eq!((b.max_in_flight, b.max_live_waiters), (512, 20_000));
        assert_eq!(used(&b), 1 << 20);
        // No limit at all (not Unix): the connection cap stays a valid semaphore size.
        let unbounded = fit(u64::MAX, 8, 512, 20_000).unwrap();
        assert_eq!(
            unbounded.max_connections,
            tokio::sync::Semaphore::MAX_PERMITS
        );
    }

    #[test]
    fn a_common_default_keeps_half_for_check_ins() {
        // The case: 1,024 files, 3,000 supervisors polling.
        let b = fit(1024, 8, 512, 20_000).unwrap();
        assert_eq!(b.sqlite_files, 19);
        assert_eq!(b.max_in_flight, 247);
        assert_eq!(b.max_connections, 742);
        assert_eq!(b.max_live_waiters, 495);
        assert_eq!(used(&b), 1024);
    }

    #[test]
    fn the_database_readers_are_counted() {
        let few = fit(1024, 1, 512, 20_000).unwrap();
        let many = fit(1024, 64, 512, 20_000).unwrap();
        assert_eq!(
            many.sqlite_files - few.sqlite_files,
            63 * FILES_PER_SQLITE_CONNECTION
        );
        assert!(many.max_connections < few.max_connections);
        assert!(used(&many) <= 1024 && used(&few) <= 1024);
    }

    #[test]
    fn polls_never_take_the_check_ins_share_and_caps_only_shrink() {
        for limit in [40, 68, 96, 128, 256, 1024, 4096, 65_536] {
            for (in_flight, waiters) in [(1, 1), (8, 4), (512, 20_000), (10_000, 10)] {
                let b = fit(limit, 8, in_flight, waiters).unwrap();
                assert!(b.max_in_flight >= 1 && b.max_live_waiters >= 1);
                assert!(b.max_in_flight <= in_flight && b.max_live_waiters <= waiters);
                assert!(used(&b) <= limit, "{limit}: {b:?}");
                // Every request and every poll has a connection to be on.
                assert!(b.max_in_flight + b.max_live_waiters <= b.max_connections);
                // Check-ins get their configured cap or at least half of what is left.
                let for_check_ins = b.max_in_flight as u64 * FILES_PER_REQUEST;
                assert!(
                    b.max_in_flight == in_flight
                        || for_check_ins + FILES_PER_REQUEST
                            > (limit - FIXED_RESERVE - b.sqlite_files) / 2,
                    "{limit} {in_flight} {waiters}: {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_limit_below_the_reserve_is_refused() {
        let e = fit(32, 8, 512, 20_000).unwrap_err();
        assert_eq!(e.limit, 32);
        assert!(e.to_string().contains("ulimit -n"), "{e}");
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let raised = raise_soft_limit().unwrap();
        assert!(raised.refused.is_none(), "{:?}", raised.refused);
        assert!(raised.after >= raised.before);
    }

    #[test]
    fn the_target_is_the_hard_limit_where_the_os_puts_no_ceiling() {
        // Linux: soft 1,024 under a hard 524,288 is raised all the way.
        assert_eq!(raise_target(1024, 524_288, None), Some(524_288));
        // Already there, or above a lowered hard limit: left alone, never lowered.
        assert_eq!(raise_target(524_288, 524_288, None), None);
        assert_eq!(raise_target(4096, 1024, None), None);
    }

    #[test]
    fn the_target_is_clamped_to_open_max_on_macos() {
        // macOS: the hard limit is often unlimited, and setrlimit refuses a soft limit
        // above OPEN_MAX; ask for OPEN_MAX.
        let ceiling = Some(MACOS_OPEN_MAX);
        assert_eq!(raise_target(256, u64::MAX, ceiling), Some(MACOS_OPEN_MAX));
        assert_eq!(raise_target(256, 4096, ceiling), Some(4096));
        assert_eq!(raise_target(MACOS_OPEN_MAX, u64::MAX, ceiling), None);
        assert_eq!(raise_target(20_000, u64::MAX, ceiling), None);
    }

    #[test]
    fn this_os_ceiling_is_open_max_only_on_apple() {
        assert_eq!(
            OS_SOFT_CEILING,
            cfg!(target_vendor = "apple").then_some(MACOS_OPEN_MAX)
        );
    }
}
