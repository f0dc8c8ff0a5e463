//! The listener that caps open connections: every accepted socket holds a permit from a
//! semaphore sized by the open-file budget ([`crate::open_files`]), idle keep-alive
//! connections included, and gives it back when the socket is closed (dropped). With no
//! permit free the listener does not call `accept` at all: new connections wait in the
//! kernel's backlog until one closes, instead of being accepted and dropped in a loop or
//! running the process out of files (`EMFILE`). Accept errors are handled by axum's
//! listener underneath (logged, retried).
//!
//! A connection on which nothing is read or written for [`IDLE_LIMIT`] is closed, so a
//! phone that vanished (lost signal, a carrier's NAT dropping the mapping) or a client
//! holding sockets open on purpose cannot keep a permit for ever. (axum's `serve` gives
//! hyper no timer, so hyper's own header-read timeout does not run.)

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// How long a connection may carry no byte either way before it is closed: longer than
/// the longest legitimate silence, a team long poll held for
/// [`hadir_core::api::MAX_TEAM_WAIT_S`] seconds, with a wide margin.
pub const IDLE_LIMIT: Duration = Duration::from_secs(hadir_core::api::MAX_TEAM_WAIT_S as u64 + 60);

/// A [`Listener`] that accepts at most `max_connections` connections open at once.
#[derive(Debug)]
pub struct CappedListener<L> {
    inner: L,
    permits: Arc<Semaphore>,
    idle_limit: Duration,
}

impl<L: Listener> CappedListener<L> {
    /// Wraps `inner` so that at most `max_connections` (at least 1) of its connections
    /// are open at once, each closed after [`IDLE_LIMIT`] without traffic.
    pub fn new(inner: L, max_connections: usize) -> Self {
        CappedListener::with_idle_limit(inner, max_connections, IDLE_LIMIT)
    }

    /// [`CappedListener::new`] with another idle limit.
    pub fn with_idle_limit(inner: L, max_connections: usize, idle_limit: Duration) -> Self {
        CappedListener {
            inner,
            permits: Arc::new(Semaphore::new(
                max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            idle_limit,
        }
    }
}

impl<L: Listener> Listener for CappedListener<L> {
    type Io = CappedConnection<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Wait for a connection to close before accepting another. The semaphore is
        // never closed, so acquiring only waits.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the connection semaphore is never closed");
        let (io, addr) = self.inner.accept().await;
        (
            CappedConnection {
                io,
                _permit: permit,
                idle_limit: self.idle_limit,
                idle_deadline: Box::pin(tokio::time::sleep(self.idle_limit)),
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection; its permit returns when it is dropped (the socket closed).
/// Reading or writing fails with `TimedOut` once no byte has moved for its idle limit,
/// and hyper then closes it.
#[derive(Debug)]
pub struct CappedConnection<Io> {
    io: Io,
    _permit: OwnedSemaphorePermit,
    idle_limit: Duration,
    idle_deadline: Pin<Box<Sleep>>,
}

impl<Io> CappedConnection<Io> {
    /// Passes on a ready I/O result, restarting the idle clock when bytes moved; while
    /// the I/O waits, watches the idle clock (its timer wakes the connection's task).
    fn track<T>(
        &mut self,
        polled: Poll<io::Result<T>>,
        moved: impl Fn(&T) -> bool,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(Ok(value)) => {
                if moved(&value) {
                    let next = Instant::now() + self.idle_limit;
                    self.idle_deadline.as_mut().reset(next);
                }
                Poll::Ready(Ok(value))
            }
            Poll::Pending => Poll::Pending,
            other => other,
        }
    }

    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.idle_deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl<Io: AsyncRead + Unpin> AsyncRead for CappedConnection<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let filled = buf.filled().len();
        if polled.is_pending() && self.idle_expired(cx) {
            return Poll::Ready(Err(idle_error()));
        }
        self.track(polled, |_| filled > before)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for CappedConnection<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if polled.is_pending() && self.idle_expired(cx) {
            return Poll::Ready(Err(idle_error()));
        }
        self.track(polled, |n| *n > 0)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if polled.is_pending() && self.idle_expired(cx) {
            return Poll::Ready(Err(idle_error()));
        }
        self.track(polled, |n| *n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    /// With the cap reached, the next connection is not accepted until one closes;
    /// then it is, and it carries bytes both ways.
    #[tokio::test]
    async fn the_next_connection_waits_for_one_to_close() {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = CappedListener::new(tcp, 2);
        let _a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (first, _) = listener.accept().await;
        let (second, _) = listener.accept().await;
        assert_eq!(listener.permits.available_permits(), 0);
        // The third is in the backlog; accepting it waits for a permit.
        let mut third = Box::pin(listener.accept());
        assert!(futures_poll_once(third.as_mut()).await.is_none());
        drop(b);
        drop(second);
        let (mut accepted, _) = third.await;
        c.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        accepted.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        accepted.write_all(b"pong").await.unwrap();
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        drop(first);
        assert_eq!(listener.permits.available_permits(), 1);
    }

    /// A connection carrying nothing is closed at the idle limit, one that keeps
    /// talking is not (tokio's paused clock: no real waiting).
    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_closed_at_the_idle_limit() {
        let limit = Duration::from_secs(85);
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = CappedListener::with_idle_limit(tcp, 2, limit);
        let mut talker = TcpStream::connect(addr).await.unwrap();
        let _silent = TcpStream::connect(addr).await.unwrap();
        let (mut talking, _) = listener.accept().await;
        let (mut silent, _) = listener.accept().await;
        let started = Instant::now();
        let closed_after = tokio::spawn(async move {
            let error = silent.read(&mut [0u8; 1]).await.unwrap_err();
            (error.kind(), started.elapsed(), silent)
        });
        // Talk every 60 s for 4 minutes: never idle for the limit.
        let mut got = [0u8; 1];
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(60)).await;
            talker.write_all(b"x").await.unwrap();
            talking.read_exact(&mut got).await.unwrap();
        }
        assert!(started.elapsed() >= Duration::from_secs(240));
        let (kind, after, silent) = closed_after.await.unwrap();
        assert_eq!(kind, io::ErrorKind::TimedOut);
        assert!(
            after >= limit && after < limit + Duration::from_secs(1),
            "{after:?}"
        );
        assert_eq!(
            listener.permits.available_permits(),
            0,
            "held until dropped"
        );
        drop(silent);
        assert_eq!(listener.permits.available_permits(), 1);
    }

    /// Polls a future once: `Some` if it completed.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            Poll::Ready(match Pin::new(&mut f).poll(cx) {
                Poll::Ready(out) => Some(out),
                Poll::Pending => None,
            })
        })
        .await
    }
}
