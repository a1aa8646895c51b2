//! The HTTP/1.1 server loop of every Meseta daemon (master, agent, and the framework binaries):
//! hyper with bounds, so hostile clients on the host network cannot take a server down.
//!
//! - [`Limits`]: a header read timeout (which is also the keep-alive idle timeout), a body read
//!   timeout ([`RequestBody`]), and a cap on connections per listener. At the cap the oldest
//!   connection that has not sent a request yet is closed to make room; when every connection
//!   is busy, newcomers get `503 Service Unavailable` with `Connection: close` (TLS listeners
//!   just close them), logged at most once a second with a count.
//! - `accept` errors such as `EMFILE` back off (10 ms doubling to 1 s) instead of spinning.
//! - Responses are never timed: event streams (SUBSCRIBE RecordIO, SSE) live as long as the
//!   client reads them.
//! - [`Tls`]: HTTPS when `LIBPROCESS_SSL_ENABLED` is set, as libprocess does.
//!
//! Binaries should call [`raise_nofile_limit`] first: the cap defaults to three quarters of the
//! soft `RLIMIT_NOFILE`.

mod accept;
pub mod body;
pub mod limits;
pub mod response;
mod slots;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixListener};

use crate::slots::Slot;

pub use body::{BodyError, RequestBody};
pub use limits::{nofile_limit, raise_nofile_limit, LimitError, Limits};
pub use response::ResponseBody;
pub use tls::{ClientTls, Tls, TlsError};

/// Both ends of the TCP connection a request came on; every request carries it in its
/// extensions (`req.extensions().get::<ConnInfo>()`), e.g. to find the peer's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The server's address of this connection.
    pub local: SocketAddr,
}

/// The process on the other end of a Unix socket connection, as the kernel recorded it when
/// that process connected (`SO_PEERCRED`); every request on such a connection carries it in
/// its extensions instead of a [`ConnInfo`].
#[derive(Debug, Clone)]
pub struct UnixPeer {
    /// Its pid (in the server's pid namespace).
    pub pid: i32,
    /// Its effective uid.
    pub uid: u32,
    /// A pidfd of that very process (`SO_PEERPIDFD`, Linux 6.5+), or `None` on older kernels.
    /// While it shows the process alive, `pid` still names the process that connected.
    pub pidfd: Option<Arc<std::os::fd::OwnedFd>>,
}

impl UnixPeer {
    /// The credentials of `stream`'s peer.
    pub fn of(stream: &tokio::net::UnixStream) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let cred = stream.peer_cred()?;
        Ok(Self {
            pid: cred.pid().unwrap_or(0),
            uid: cred.uid(),
            pidfd: peer_pidfd(stream.as_raw_fd()).map(Arc::new),
        })
    }
}

impl std::fmt::Display for UnixPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} (uid {})", self.pid, self.uid)
    }
}

/// `SO_PEERPIDFD` (Linux 6.5+; the libc crate does not name it yet).
fn peer_pidfd(fd: std::os::fd::RawFd) -> Option<std::os::fd::OwnedFd> {
    const SO_PEERPIDFD: libc::c_int = 77;
    let mut pidfd: libc::c_int = -1;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(0);
    // SAFETY: getsockopt writes at most `len` bytes into `pidfd`, which lives on this stack.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_PEERPIDFD,
            std::ptr::addr_of_mut!(pidfd).cast(),
            &mut len,
        )
    };
    // SAFETY: on success the kernel installed a new descriptor that nothing else owns.
    (rc == 0 && pidfd >= 0)
        .then(|| unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(pidfd) })
}

/// A note a handler may attach to one connection, once, and find again on every later request
/// of that connection (`req.extensions().get::<ConnTag>()`): e.g. whom the peer was verified
/// to be, so that a kept-alive client is not checked again on each call.
#[derive(Debug, Clone, Default)]
pub struct ConnTag(Arc<std::sync::OnceLock<String>>);

impl ConnTag {
    /// The note, if one was set on this connection.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Sets the note; a connection keeps its first one (later calls change nothing).
    pub fn set(&self, note: String) {
        let _ = self.0.set(note);
    }
}

/// How a listener serves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Timeouts and the connection cap.
    pub limits: Limits,
    /// HTTPS, when set.
    pub tls: Option<Tls>,
    /// TCP keepalive probing on every accepted socket (the master uses it to notice vanished
    /// agents).
    pub keepalive: Option<socket2::TcpKeepalive>,
}

/// Why the server settings in the environment are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A `MESETA_HTTP_*` variable.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// The `LIBPROCESS_SSL_*` variables.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl ServerConfig {
    /// Limits and TLS from the process environment, no keepalive.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Ok(Self {
            limits: Limits::from_process_env()?,
            tls: Tls::from_process_env()?,
            keepalive: None,
        })
    }

    /// The URL scheme clients use: `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// Binds `addr` with `SO_REUSEADDR` and a deep accept queue (4096, capped by the kernel's
/// `net.core.somaxconn`): a burst of connections beyond a short queue would wait for a SYN
/// retransmission (1 s, then 3 s, ...).
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Serves `listener` until the returned future is dropped (which also closes every
/// connection): `handler(request, peer)` answers each request.
pub async fn serve<H, Fut, B>(listener: TcpListener, config: ServerConfig, handler: H)
where
    H: Fn(Request<RequestBody>, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let handler = Arc::new(handler);
    let config = Arc::new(config);
    accept::run(listener, Arc::clone(&config), move |stream, peer, slot| {
        let (handler, config) = (Arc::clone(&handler), Arc::clone(&config));
        async move { connection(stream, peer, &config, handler, slot).await }
    })
    .await;
}

/// Binds a Unix socket at `path` with mode 0666, as Mesos's `createDomainSocket` does: a
/// socket left there by an earlier run is replaced; any other file is left alone (the bind
/// fails). Must be called within a tokio runtime.
pub fn bind_unix(path: &std::path::Path) -> std::io::Result<UnixListener> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // The mode is set through a handle on what is at `path` now, never by name: whoever can
    // write to the directory could otherwise swap in a symlink and have root chmod its target.
    let bound = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
        .open(path)?;
    if !bound.metadata()?.file_type().is_socket() {
        return Err(std::io::Error::other(format!(
            "{} was replaced while the socket was being created",
            path.display()
        )));
    }
    let handle = format!("/proc/self/fd/{}", bound.as_raw_fd());
    std::fs::set_permissions(handle, std::fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Serves plain HTTP on the Unix socket `listener` with the same bounds as [`serve`]; each
/// request carries its connection's [`UnixPeer`] (and a [`ConnTag`]) in its extensions.
pub async fn serve_unix<H, Fut, B>(listener: UnixListener, limits: Limits, handler: H)
where
    H: Fn(Request<RequestBody>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let handler = Arc::new(handler);
    let config = Arc::new(ServerConfig {
        limits,
        tls: None,
        keepalive: None,
    });
    accept::run(listener, config, move |stream, peer, slot| {
        let handler = Arc::clone(&handler);
        async move { http(stream, Conn::Unix(peer), limits, handler, slot).await }
    })
    .await;
}

/// What a request learns of its connection.
#[derive(Clone)]
enum Conn {
    Tcp(ConnInfo),
    Unix(UnixPeer),
}

impl std::fmt::Display for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(info) => info.peer.fmt(f),
            Self::Unix(peer) => peer.fmt(f),
        }
    }
}

async fn connection<H, Fut, B>(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ServerConfig,
    handler: Arc<H>,
    slot: Arc<Slot>,
) where
    H: Fn(Request<RequestBody>, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limits = config.limits;
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let info = Conn::Tcp(ConnInfo { peer, local });
    let handler = Arc::new(move |req| handler(req, peer));
    let Some(tls) = &config.tls else {
        return http(stream, info, limits, handler, slot).await;
    };
    // The TLS handshake (and the peek that tells TLS from plain HTTP) count against the header
    // read timeout.
    let wait = limits.header_read_timeout;
    if tls.downgrade {
        match tokio::time::timeout(wait, accept::starts_with_tls(&stream)).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return http(stream, info, limits, handler, slot).await,
            Ok(Err(_)) | Err(_) => return,
        }
    }
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&tls.config));
    match tokio::time::timeout(wait, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => http(tls_stream, info, limits, handler, slot).await,
        Ok(Err(err)) => tracing::debug!(%peer, %err, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

async fn http<I, H, Fut, B>(io: I, info: Conn, limits: Limits, handler: Arc<H>, slot: Arc<Slot>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<RequestBody>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tag = ConnTag::default();
    let conn = info.clone();
    let svc = service_fn(move |req: Request<Incoming>| {
        slot.mark_busy();
        let mut req = req.map(|b| RequestBody::new(b, limits.body_read_timeout));
        match &conn {
            Conn::Tcp(info) => {
                req.extensions_mut().insert(*info);
            }
            Conn::Unix(peer) => {
                req.extensions_mut().insert(peer.clone());
            }
        }
        req.extensions_mut().insert(tag.clone());
        let response = handler(req);
        async move { Ok::<_, Infallible>(response.await) }
    });
    let result = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), svc)
        .await;
    if let Err(err) = result {
        tracing::debug!(peer = %info, %err, "connection ended");
    }
}
