//! The library's own tokio runtime behind the synchronous API, and [`TaskHandle`], a
//! long-running task handed to the shell so it can cancel it (as matrix-rust-sdk does).

use std::sync::OnceLock;

/// The runtime all network work runs on: two worker threads, created on first use.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hadir-core")
            .enable_all()
            .build()
            .expect("the hadir runtime starts")
    })
}

/// Runs `future` to completion on the library's runtime, from any shell thread.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// A task running on the library's runtime (e.g. the background sync). Dropping the
/// handle does not stop it; call [`TaskHandle::cancel`].
#[derive(uniffi::Object)]
pub struct TaskHandle {
    handle: tokio::task::JoinHandle<()>,
}

impl TaskHandle {
    pub(crate) fn spawn<F>(future: F) -> TaskHandle
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        TaskHandle {
            handle: runtime().spawn(future),
        }
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the task at its next suspension point. Idempotent.
    pub fn cancel(&self) {
        self.handle.abort();
    }

    /// True once the task has stopped (cancelled or finished).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}
