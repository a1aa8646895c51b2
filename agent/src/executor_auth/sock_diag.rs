//! The socket inode of one TCP connection, looked up by its 4-tuple with netlink
//! `sock_diag` (`SOCK_DIAG_BY_FAMILY` with an exact `inet_diag_req_v2.id`, as `ss` does for
//! one socket): the kernel answers from its hash tables, without walking `/proc/net/tcp`.
//!
//! The `netlink-packet-sock-diag` crate (rust-netlink) encodes the request and decodes the
//! answer; `netlink-sys` owns the socket. Blocking: call it from a blocking thread.

use std::net::SocketAddr;
use std::time::Duration;

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_REQUEST};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::Socket;

/// The kernel answers an exact query synchronously; this only bounds a kernel that never
/// does.
const RECV_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a socket could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum SockDiagError {
    /// The netlink socket failed.
    #[error("netlink sock_diag: {0}")]
    Io(#[from] std::io::Error),
    /// The kernel knows no such connection (it closed meanwhile, or it lives in another
    /// network namespace).
    #[error("no TCP socket {local} -> {remote} in the agent's network namespace")]
    NotFound {
        /// The socket's local end.
        local: SocketAddr,
        /// Its remote end.
        remote: SocketAddr,
    },
    /// The answer could not be decoded.
    #[error("undecodable sock_diag answer: {0}")]
    Decode(String),
}

/// The inode of the TCP socket whose local end is `local` and remote end is `remote`.
///
/// For a connection accepted by the agent, pass the client's address as `local` and the
/// agent's as `remote`: the answer is the *client's* socket, which lives in the caller's
/// file descriptor table.
pub fn tcp_socket_inode(local: SocketAddr, remote: SocketAddr) -> Result<u32, SockDiagError> {
    // A dual-stack listener sees an IPv4 client as `::ffff:a.b.c.d`; the client's own socket
    // is usually AF_INET, so that table is asked first.
    let canonical = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    let (v4_local, v4_remote) = (canonical(local), canonical(remote));
    if (v4_local, v4_remote) != (local, remote) && v4_local.is_ipv4() && v4_remote.is_ipv4() {
        match lookup(v4_local, v4_remote) {
            Err(SockDiagError::NotFound { .. }) => {}
            found => return found,
        }
    }
    lookup(local, remote)
}

fn lookup(local: SocketAddr, remote: SocketAddr) -> Result<u32, SockDiagError> {
    let family = if local.is_ipv4() { AF_INET } else { AF_INET6 };
    let mut socket_id = if local.is_ipv4() {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    };
    socket_id.source_address = local.ip();
    socket_id.source_port = local.port();
    socket_id.destination_address = remote.ip();
    socket_id.destination_port = remote.port();
    // INET_DIAG_NOCOOKIE: look the socket up by address, not by cookie.
    socket_id.cookie = [0xff; 8];
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::all(),
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut buf = vec![0; packet.buffer_len()];
    packet.serialize(&mut buf);

    let socket = Socket::new(NETLINK_SOCK_DIAG)?;
    nix::sys::socket::setsockopt(
        &socket,
        nix::sys::socket::sockopt::ReceiveTimeout,
        &nix::sys::time::TimeVal::new(i64::try_from(RECV_TIMEOUT.as_secs()).unwrap_or(1), 0),
    )
    .map_err(std::io::Error::from)?;
    socket.send_to(&buf, &netlink_sys::SocketAddr::new(0, 0), 0)?;
    let mut answer = vec![0u8; 8192];
    let n = socket.recv(&mut &mut answer[..], 0)?;
    let message = NetlinkMessage::<SockDiagMessage>::deserialize(&answer[..n])
        .map_err(|e| SockDiagError::Decode(e.to_string()))?;
    match message.payload {
        NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
            Ok(response.header.inode)
        }
        NetlinkPayload::Error(err) if err.raw_code() == -libc::ENOENT => {
            Err(SockDiagError::NotFound { local, remote })
        }
        NetlinkPayload::Error(err) => Err(SockDiagError::Io(err.to_io())),
        other => Err(SockDiagError::Decode(format!("unexpected {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;

    use super::*;

    /// The inode the kernel reports is the one `/proc/self/fd` shows for the client socket.
    #[test]
    fn finds_the_client_end_of_a_loopback_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        let inode = tcp_socket_inode(peer, server.local_addr().unwrap()).unwrap();
        let fd_path = format!("/proc/self/fd/{}", client.as_raw_fd());
        let expected = std::fs::metadata(&fd_path).unwrap().ino();
        assert_eq!(u64::from(inode), expected);
        let server_side = tcp_socket_inode(server.local_addr().unwrap(), peer).unwrap();
        assert_ne!(server_side, inode);
        // The same connection as a dual-stack listener reports it.
        let mapped = |a: SocketAddr| match a {
            SocketAddr::V4(v4) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
            v6 => v6,
        };
        let via_v6 = tcp_socket_inode(mapped(peer), mapped(server.local_addr().unwrap()));
        assert_eq!(via_v6.unwrap(), inode);
        drop((client, server));
        let gone = "127.0.0.1:1".parse().unwrap();
        assert!(matches!(
            tcp_socket_inode(gone, gone),
            Err(SockDiagError::NotFound { .. })
        ));
    }
}
