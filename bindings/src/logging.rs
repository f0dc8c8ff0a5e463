//! The log line queue between the engine and the shell's [`Logger`]: lines are queued
//! and delivered in order on one thread (`hadir-log`), so logging never blocks the
//! engine and a `Logger` that calls the engine never re-enters it from inside itself.
//!
//! Rules (also on [`Logger`]):
//! - at most [`LOG_QUEUE_LINES`] lines wait; when the queue is full, new lines are
//!   dropped and the next line delivered is preceded by a `Warn` line counting them;
//! - lines caused by engine calls made from inside `Logger::log` (on the `hadir-log`
//!   thread, and the async work such a call starts) are not delivered, so a logger that
//!   calls the engine cannot feed itself forever.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::platform::{LogLevel, Logger};

/// Lines that may wait for the logger before new ones are dropped.
pub const LOG_QUEUE_LINES: usize = 256;

thread_local! {
    /// True on the `hadir-log` thread.
    static ON_LOG_THREAD: Cell<bool> = const { Cell::new(false) };
}

tokio::task_local! {
    /// Set on work started from inside the logger: its lines are not delivered.
    static STARTED_BY_LOGGER: ();
}

/// A cheap, cloneable handle to the log queue (no logger: lines are discarded).
#[derive(Clone, Default)]
pub(crate) struct LogQueue {
    inner: Option<Arc<Queue>>,
}

struct Queue {
    lines: mpsc::Sender<(LogLevel, String)>,
    dropped: AtomicU64,
}

impl LogQueue {
    /// Starts the `hadir-log` thread delivering to `logger`; it ends when every handle
    /// is dropped.
    pub(crate) fn start(logger: Option<Arc<dyn Logger>>) -> LogQueue {
        let Some(logger) = logger else {
            return LogQueue::default();
        };
        let (lines, mut inbox) = mpsc::channel::<(LogLevel, String)>(LOG_QUEUE_LINES);
        let queue = Arc::new(Queue {
            lines,
            dropped: AtomicU64::new(0),
        });
        let counter = Arc::downgrade(&queue);
        let started = std::thread::Builder::new()
            .name("hadir-log".into())
            .spawn(move || {
                ON_LOG_THREAD.with(|on| on.set(true));
                while let Some((level, message)) = inbox.blocking_recv() {
                    let dropped = counter
                        .upgrade()
                        .map_or(0, |q| q.dropped.swap(0, Ordering::Relaxed));
                    if dropped > 0 {
                        let _ = logger.log(
                            LogLevel::Warn,
                            format!("{dropped} log lines dropped: the logger fell behind"),
                        );
                    }
                    // A failing logger must never fail the engine; there is nowhere
                    // else to report it.
                    let _ = logger.log(level, message);
                }
            });
        match started {
            Ok(_) => LogQueue { inner: Some(queue) },
            Err(_) => LogQueue::default(),
        }
    }

    /// Queues one line (never blocks). See the module docs for when it is dropped.
    pub(crate) fn log(&self, level: LogLevel, message: String) {
        let Some(queue) = &self.inner else { return };
        if ON_LOG_THREAD.with(Cell::get) || STARTED_BY_LOGGER.try_with(|_| ()).is_ok() {
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(_)) = queue.lines.try_send((level, message)) {
            queue.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Marks `work` as started from inside the logger when the caller is on the logger's
/// thread (so its lines are not delivered). Decided now, on the calling thread, not
/// where the work later runs.
pub(crate) fn quiet_if_from_logger<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let from_logger = ON_LOG_THREAD.with(Cell::get);
    async move {
        if from_logger {
            STARTED_BY_LOGGER.scope((), work).await
        } else {
            work.await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::PlatformError;
    use std::sync::{Mutex, mpsc};
    use std::time::Duration;

    /// Collects lines; the first call signals `entered` and blocks until released, so
    /// the test can fill the queue. Every call also logs an echo through the queue, as
    /// a logger calling the engine would.
    struct GatedLogger {
        lines: Mutex<mpsc::Sender<String>>,
        entered: Mutex<mpsc::Sender<()>>,
        gate: Mutex<Option<mpsc::Receiver<()>>>,
        queue: Mutex<Option<LogQueue>>,
    }

    impl Logger for GatedLogger {
        fn log(&self, _level: LogLevel, message: String) -> Result<(), PlatformError> {
            if let Some(gate) = self.gate.lock().unwrap().take() {
                self.entered.lock().unwrap().send(()).unwrap();
                gate.recv().unwrap();
            }
            if let Some(queue) = self.queue.lock().unwrap().as_ref() {
                queue.log(LogLevel::Info, format!("echo of {message}"));
            }
            self.lines.lock().unwrap().send(message).unwrap();
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_in_order_overflow_is_counted_and_echoes_are_dropped() {
        let (lines, received) = mpsc::channel();
        let (entered, entered_rx) = mpsc::channel();
        let (release, gate) = mpsc::channel();
        let logger = Arc::new(GatedLogger {
            lines: Mutex::new(lines),
            entered: Mutex::new(entered),
            gate: Mutex::new(Some(gate)),
            queue: Mutex::new(None),
        });
        let queue = LogQueue::start(Some(logger.clone()));
        *logger.queue.lock().unwrap() = Some(queue.clone());
        queue.log(LogLevel::Info, "first".into());
        entered_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the logger thread took the first line");
        // The queue is empty and the logger blocked: fill it, then overflow by 10.
        for n in 0..LOG_QUEUE_LINES + 10 {
            queue.log(LogLevel::Info, format!("line {n}"));
        }
        release.send(()).unwrap();
        let next = || {
            received
                .recv_timeout(Duration::from_secs(10))
                .expect("a line within 10 s")
        };
        assert_eq!(next(), "first");
        assert_eq!(next(), "10 log lines dropped: the logger fell behind");
        for n in 0..LOG_QUEUE_LINES {
            assert_eq!(next(), format!("line {n}"));
        }
        // Every echo would have been queued before this line: none was delivered.
        queue.log(LogLevel::Info, "last".into());
        assert_eq!(next(), "last");
    }
}
