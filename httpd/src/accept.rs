//! The accept loop: the connection cap ([`Slots`]), refusals, and back-off on `accept` errors.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::slots::{Slot, Slots};
use crate::ServerConfig;

/// What a connection over the cap gets before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
Content-Type: text/plain\r\nContent-Length: 39\r\n\r\nToo many connections; try again later.\n";

/// Refused connections lingering at once (to let the 503 reach the client before the close).
const MAX_LINGERING: usize = 256;

/// How long a refused connection lingers.
const LINGER: Duration = Duration::from_millis(500);

/// A listening socket the loop accepts from: TCP, or a Unix socket (the agent's executor
/// socket).
pub(crate) trait Listener {
    /// An accepted connection.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Who is on the other end.
    type Peer: std::fmt::Display + Clone + Send + 'static;

    /// The next connection.
    fn accept(&self) -> impl Future<Output = std::io::Result<(Self::Stream, Self::Peer)>> + Send;

    /// Socket options for an admitted connection.
    fn configure(_stream: &Self::Stream, _peer: &Self::Peer, _config: &ServerConfig) {}
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Peer = SocketAddr;

    fn accept(&self) -> impl Future<Output = std::io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }

    fn configure(stream: &TcpStream, peer: &SocketAddr, config: &ServerConfig) {
        let _ = stream.set_nodelay(true);
        if let Some(keepalive) = &config.keepalive {
            if let Err(err) = socket2::SockRef::from(stream).set_tcp_keepalive(keepalive) {
                tracing::debug!(%peer, %err, "cannot enable TCP keepalive");
            }
        }
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Peer = crate::UnixPeer;

    async fn accept(&self) -> std::io::Result<(UnixStream, crate::UnixPeer)> {
        loop {
            let (stream, _) = UnixListener::accept(self).await?;
            // A client gone before we asked who it was is dropped like a reset connection.
            match crate::UnixPeer::of(&stream) {
                Ok(peer) => return Ok((stream, peer)),
                Err(err) => tracing::debug!(%err, "cannot read a Unix socket peer's credentials"),
            }
        }
    }
}

/// Accepts until dropped, running `conn` for each connection within the cap.
pub(crate) async fn run<L, F, Fut>(listener: L, config: Arc<ServerConfig>, conn: F)
where
    L: Listener,
    F: Fn(L::Stream, L::Peer, Arc<Slot>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Slots::new(config.limits.max_connections);
    let lingering = Arc::new(Semaphore::new(MAX_LINGERING));
    let mut conns = JoinSet::new();
    let mut backoff = Duration::ZERO;
    let mut refusals = Every::second();
    let mut failures = Every::second();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                backoff = Duration::ZERO;
                accepted
            }
            Err(err) if transient(&err) => continue,
            Err(err) => {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: nothing frees up by retrying at once.
                backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                if let Some(n) = failures.tick() {
                    tracing::warn!(%err, failures = n, ?backoff, "accept failed; backing off");
                }
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        while conns.try_join_next().is_some() {}
        let Some(slot) = slots.admit() else {
            if let Some(n) = refusals.tick() {
                tracing::warn!(
                    refused = n,
                    cap = config.limits.max_connections,
                    "connection cap reached; refusing connections"
                );
            }
            if config.tls.is_none() {
                if let Ok(slot) = Arc::clone(&lingering).try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(slot);
                    });
                }
            }
            continue;
        };
        L::configure(&stream, &peer, &config);
        let slot = Arc::new(slot);
        let evicted = Arc::clone(&slot.evicted);
        let served = conn(stream, peer.clone(), slot);
        conns.spawn(async move {
            tokio::select! {
                () = served => {}
                () = evicted.notified() => tracing::debug!(%peer, "closed an idle connection to make room"),
            }
        });
    }
}

/// Writes the 503, then reads (and drops) what the client sent for a moment so the close is a
/// FIN after the answer rather than a reset that could destroy it.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let _ = tokio::time::timeout(LINGER, async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// Errors of one connection, not of the listener: accept the next at once.
fn transient(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ECONNABORTED | libc::ECONNRESET | libc::EINTR | libc::EPROTO | libc::EPERM)
    )
}

/// Whether the client's first byte opens a TLS handshake record (`0x16`).
pub(crate) async fn starts_with_tls(stream: &TcpStream) -> std::io::Result<bool> {
    let mut first = [0u8; 1];
    let n = stream.peek(&mut first).await?;
    Ok(n == 1 && first[0] == 0x16)
}

/// A rate limiter for log lines: counts events, lets one through per period.
#[derive(Debug)]
struct Every {
    period: Duration,
    last: Option<Instant>,
    count: u64,
}

impl Every {
    fn second() -> Self {
        Self {
            period: Duration::from_secs(1),
            last: None,
            count: 0,
        }
    }

    /// Counts one event; returns the count since the last line when a line is due.
    fn tick(&mut self) -> Option<u64> {
        self.count += 1;
        let now = Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < self.period)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}
