//! Where the engine's work runs, and how it stops.
//!
//! - [`run`]: an exported `async` method spawns its work on the library's own tokio
//!   runtime (so it never depends on the caller's executor: Kotlin's dispatcher, Swift's
//!   cooperative pool) and awaits it through [`AbortOnDrop`]: when the shell cancels
//!   a Kotlin coroutine, uniffi drops the future and the spawned work is aborted, not
//!   detached. uniffi 0.32's Swift async support does not pass Task cancellation on to
//!   Rust: on Swift an async call runs to completion, and a [`TaskHandle`] must be
//!   stopped with its `cancel()` (e.g. in `withTaskCancellationHandler`'s `onCancel`).
//! - [`TaskHandle`]: a long-running task (background sync, live team feed) whose
//!   callbacks are delivered in order on one plain thread of its own, never on a
//!   runtime worker, so a callback may block and may call any engine method.
//!
//! Nothing here blocks on the runtime: there is no `block_on` in the bindings.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use std::task::{Context, Poll};
use std::thread::ThreadId;
use tokio::sync::mpsc;

/// The runtime all network work runs on, created on first use: one thread
/// (`hadir-runtime`) drives every task, and heavy work (normalising a selfie, a
/// StrongBox signature) goes to the blocking pool (`hadir-blocking`) so it never stalls
/// the others. A phone's handful of concurrent requests needs no work-stealing
/// scheduler, and leaving tokio's multi-thread scheduler out keeps the phone library
/// within its size budget (docs/PERFORMANCE.md, "Phone library size").
fn runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .thread_name("hadir-blocking")
            // A bound for a phone: DNS lookups stuck on a bad network cannot pile up
            // threads without end (they queue instead).
            .max_blocking_threads(8)
            .enable_all()
            .build()
            .expect("the hadir runtime starts");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("hadir-runtime".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the hadir runtime thread starts");
        handle
    })
}

/// A spawned task that is aborted when this handle is dropped. Awaiting it yields the
/// task's output; a panic inside the task resumes here (uniffi turns it into an
/// exception).
pub(crate) struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only our own Drop aborts the task, and then nobody polls it any more.
            Poll::Ready(Err(e)) => panic!("engine task ended unexpectedly: {e}"),
        }
    }
}

/// Spawns `work` on the library's runtime and waits for it; dropping the returned
/// future aborts the work at its next suspension point.
pub(crate) fn run<T, F>(work: F) -> AbortOnDrop<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    AbortOnDrop(runtime().spawn(work))
}

/// What a task and its delivery thread share: whether the shell cancelled, whether
/// the last callback has returned, the turn a callback holds while it runs, and which
/// thread delivers.
struct TaskState {
    cancelled: AtomicBool,
    stopped: tokio::sync::watch::Sender<bool>,
    /// Held by the delivery thread from its cancelled-check until the callback returns,
    /// and taken by [`TaskHandle::cancel`] from any other thread: so once `cancel`
    /// returns, no callback is running or about to start.
    delivering: Mutex<()>,
    /// The delivery thread, set by itself before its first callback.
    delivery_thread: OnceLock<ThreadId>,
}

impl TaskState {
    /// Whether the caller is this task's delivery thread (inside one of its callbacks).
    fn on_delivery_thread(&self) -> bool {
        self.delivery_thread.get() == Some(&std::thread::current().id())
    }

    /// The delivery turn; a panicking callback leaves nothing half-done to protect.
    fn delivery_turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.delivering.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A long-running task of the engine (the background sync, a live team feed).
///
/// Its callbacks are delivered in order on one thread of its own (`hadir-<name>`), not
/// on a runtime worker, so a callback may block and may call any engine method, sync
/// or async. Events wait in memory while a callback runs.
///
/// Two ways to stop it:
/// - [`TaskHandle::cancel`], from anywhere (a callback included);
/// - on Kotlin, cancelling the coroutine that awaits [`TaskHandle::join`]: tie the
///   subscription to a scope with `scope.launch { handle.join() }`, and leaving the
///   scope stops it. Swift's async support in uniffi does not pass Task cancellation
///   on to Rust, so on Swift call `cancel()` yourself, e.g.
///   `withTaskCancellationHandler { await handle.join() } onCancel: { handle.cancel() }`.
///
/// Once stopped, no callback starts again. Dropping the handle does not stop the task.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    task: tokio::task::AbortHandle,
    state: Arc<TaskState>,
}

impl TaskHandle {
    /// Starts `work` on the runtime, handing it the sender of its events, and a
    /// delivery thread named `hadir-<name>` that passes each event to `deliver`, in
    /// order, until the work ends (and its last event is delivered) or the task is
    /// cancelled.
    pub(crate) fn spawn<E, W, Fut, D>(name: &str, work: W, mut deliver: D) -> TaskHandle
    where
        E: Send + 'static,
        W: FnOnce(mpsc::UnboundedSender<E>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
        D: FnMut(E) + Send + 'static,
    {
        let (events, mut inbox) = mpsc::unbounded_channel::<E>();
        let state = Arc::new(TaskState {
            cancelled: AtomicBool::new(false),
            stopped: tokio::sync::watch::Sender::new(false),
            delivering: Mutex::new(()),
            delivery_thread: OnceLock::new(),
        });
        let delivery_state = state.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("hadir-{name}"))
            .spawn(move || {
                let _ = delivery_state
                    .delivery_thread
                    .set(std::thread::current().id());
                // Ends when the work has ended (its sender dropped) and every event is
                // delivered, or at once when the task is cancelled. The turn is held
                // from the check through the callback, so `cancel` cannot slip between.
                while let Some(event) = inbox.blocking_recv() {
                    let _turn = delivery_state.delivery_turn();
                    if delivery_state.cancelled.load(Ordering::SeqCst) {
                        break;
                    }
                    deliver(event);
                }
                delivery_state.stopped.send_replace(true);
            });
        let task = runtime().spawn(work(events));
        if spawned.is_err() {
            // No thread to deliver on: the task cannot report anything, so it stops.
            task.abort();
            state.cancelled.store(true, Ordering::SeqCst);
            state.stopped.send_replace(true);
        }
        TaskHandle {
            task: task.abort_handle(),
            state,
        }
    }
}

impl TaskHandle {
    /// Marks the task cancelled and aborts its work, without waiting for a running
    /// callback: what a dropped `join()` does, on whatever thread drops it (often the
    /// main thread, which a callback may be blocked on).
    fn stop(&self) {
        self.state.cancelled.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the task: no callback starts after this returns. Called from another
    /// thread while a callback runs, it waits for that callback to return; called from
    /// a callback of this task, it returns at once (that callback finishes, no other
    /// starts). Idempotent; safe from any thread.
    pub fn cancel(&self) {
        self.stop();
        if !self.state.on_delivery_thread() {
            // Waits out a callback that is running or has passed its cancelled-check.
            drop(self.state.delivery_turn());
        }
    }

    /// True once the task has stopped and its last callback has returned.
    pub fn is_finished(&self) -> bool {
        *self.state.stopped.borrow()
    }

    /// Waits until the task has stopped (cancelled, or ended by itself, e.g. a live
    /// feed refused by the server) and its last callback has returned. Cancelling the
    /// waiting Kotlin coroutine cancels the task itself (without waiting for a callback
    /// that is running: none starts after it, but one already running may finish); on
    /// Swift, Task cancellation does not reach Rust, so call [`TaskHandle::cancel`] (see
    /// the type's docs).
    ///
    /// Called from one of this task's own callbacks, it cannot wait for that callback
    /// to return: it cancels the task and returns at once (no further callback starts).
    pub async fn join(&self) {
        if self.state.on_delivery_thread() {
            self.cancel();
            return;
        }
        let mut stopped = self.state.stopped.subscribe();
        let cancel_if_dropped = CancelOnDrop(Some(self));
        // The sender lives in `self.state`, so the channel cannot close while we wait.
        let _ = stopped.wait_for(|stopped| *stopped).await;
        cancel_if_dropped.disarm();
    }
}

/// Cancels a task when the future waiting for it is dropped before it stopped.
struct CancelOnDrop<'a>(Option<&'a TaskHandle>);

impl CancelOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(handle) = self.0 {
            handle.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, mpsc};
    use std::time::Duration;

    fn wait_stopped(handle: &TaskHandle) {
        let mut stopped = handle.state.stopped.subscribe();
        let waiter = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        waiter.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), stopped.wait_for(|s| *s))
                .await
                .expect("stopped within 10 s")
                .unwrap();
        });
    }

    #[test]
    fn events_arrive_in_order_on_a_thread_that_is_not_a_runtime_worker() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = TaskHandle::spawn(
            "test",
            |events| async move {
                for n in 0..100 {
                    events.send(n).unwrap();
                    if n % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            },
            move |n: i32| {
                let thread = std::thread::current();
                assert_eq!(thread.name(), Some("hadir-test"));
                // Not inside a runtime: a callback may block and re-enter the engine.
                assert!(tokio::runtime::Handle::try_current().is_err());
                sink.lock().unwrap().push(n);
            },
        );
        wait_stopped(&handle);
        assert!(handle.is_finished());
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_blocking_callback_delays_delivery_but_loses_nothing() {
        let (release, gate) = mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = TaskHandle::spawn(
            "blocking",
            |events| async move {
                for n in 0..5 {
                    events.send(n).unwrap();
                }
            },
            move |n: i32| {
                if n == 0 {
                    gate.lock().unwrap().recv().unwrap();
                }
                sink.lock().unwrap().push(n);
            },
        );
        assert!(!handle.is_finished(), "held by the first callback");
        release.send(()).unwrap();
        wait_stopped(&handle);
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn cancel_from_inside_a_callback_stops_the_work_and_further_callbacks() {
        let handle_slot: Arc<OnceLock<Arc<TaskHandle>>> = Arc::new(OnceLock::new());
        let (started, started_rx) = mpsc::channel::<()>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let slot = handle_slot.clone();
        let handle = Arc::new(TaskHandle::spawn(
            "cancel",
            |events| async move {
                for n in 0.. {
                    if events.send(n).is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            },
            move |n: i32| {
                sink.lock().unwrap().push(n);
                if n == 0 {
                    started_rx.recv().unwrap();
                }
                if n == 3 {
                    slot.get().unwrap().cancel();
                }
            },
        ));
        handle_slot.set(handle.clone()).ok().unwrap();
        started.send(()).unwrap();
        wait_stopped(&handle);
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2, 3]);
    }

    #[test]
    fn cancel_from_another_thread_waits_for_the_running_callback() {
        let handle_slot: Arc<OnceLock<Arc<TaskHandle>>> = Arc::new(OnceLock::new());
        let (cancel_returned, cancel_returned_rx) = mpsc::channel::<()>();
        let cancel_returned_rx = Mutex::new(cancel_returned_rx);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let returned_during_callback = Arc::new(AtomicBool::new(false));
        let (sink, slot, flag) = (
            seen.clone(),
            handle_slot.clone(),
            returned_during_callback.clone(),
        );
        let (started, started_rx) = mpsc::channel::<()>();
        let handle = Arc::new(TaskHandle::spawn(
            "cancel-wait",
            |events| async move {
                for n in 0..3 {
                    events.send(n).unwrap();
                }
            },
            move |n: i32| {
                sink.lock().unwrap().push(n);
                let handle = loop {
                    if let Some(handle) = slot.get() {
                        break handle;
                    }
                    std::thread::yield_now();
                };
                started.send(()).unwrap();
                while !handle.state.cancelled.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
                // Cancel has been called; it must not return while this callback runs.
                // (Were it not to wait, its signal would arrive well within this time.)
                let early = cancel_returned_rx
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_millis(300));
                flag.store(early.is_ok(), Ordering::SeqCst);
            },
        ));
        handle_slot.set(handle.clone()).ok().unwrap();
        started_rx.recv().unwrap();
        let canceller = {
            let handle = handle.clone();
            std::thread::spawn(move || {
                handle.cancel();
                let _ = cancel_returned.send(());
            })
        };
        canceller.join().unwrap();
        assert!(!returned_during_callback.load(Ordering::SeqCst));
        wait_stopped(&handle);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![0],
            "no callback after cancel returned"
        );
    }

    #[test]
    fn join_from_its_own_callback_cancels_and_returns_at_once() {
        let handle_slot: Arc<OnceLock<Arc<TaskHandle>>> = Arc::new(OnceLock::new());
        let (joined, joined_rx) = mpsc::channel::<()>();
        let (started, started_rx) = mpsc::channel::<()>();
        let started_rx = Mutex::new(started_rx);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (sink, slot) = (seen.clone(), handle_slot.clone());
        let handle = Arc::new(TaskHandle::spawn(
            "join-inside",
            |events| async move {
                for n in 0.. {
                    if events.send(n).is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            },
            move |n: i32| {
                sink.lock().unwrap().push(n);
                if n == 0 {
                    started_rx.lock().unwrap().recv().unwrap();
                    let local = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    local.block_on(slot.get().unwrap().join());
                    joined.send(()).unwrap();
                }
            },
        ));
        handle_slot.set(handle.clone()).ok().unwrap();
        started.send(()).unwrap();
        joined_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("join inside a callback returned instead of deadlocking");
        wait_stopped(&handle);
        assert_eq!(*seen.lock().unwrap(), vec![0]);
    }

    #[test]
    fn dropping_the_awaited_future_aborts_the_spawned_work() {
        let (dropped, dropped_rx) = mpsc::channel::<()>();
        struct Signal(mpsc::Sender<()>);
        impl Drop for Signal {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let signal = Signal(dropped);
        let work = run(async move {
            let _signal = signal;
            std::future::pending::<()>().await
        });
        // Give the runtime the task, then drop our side as a cancelled coroutine would.
        let waker = std::task::Waker::noop();
        let mut work = Box::pin(work);
        assert!(
            work.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        drop(work);
        dropped_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the spawned work was dropped (aborted)");
    }
}
