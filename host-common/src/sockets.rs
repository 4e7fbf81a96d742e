//! The host socket stack (MirageOS's `--net=socket`): `ukc:tcpip` on the host's own
//! non-blocking sockets, within the host's [`crate::socket_policy`]. `yield` waits on
//! them together with the net devices.

use crate::Devices;
use crate::bindings::ukc::tcpip::types::{Endpoint, Error};
use crate::bindings::ukc::tcpip::{ipv4, tcp, udp};
use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};
use std::collections::BTreeMap;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

/// Most bytes one `read` or `receive` returns.
const MAX_READ: u32 = 1 << 20;
/// Most bytes one `sendfile(2)` moves on Linux.
const MAX_SENDFILE: u64 = 0x7fff_f000;

/// A listening socket.
pub struct Listener(TcpListener);

/// A TCP connection, possibly still connecting.
pub struct Connection {
    stream: TcpStream,
    established: bool,
    /// Why opening it failed: the socket reports it once (`SO_ERROR` clears as it is
    /// read), and every later call must see it too.
    failed: Option<Error>,
}

/// A bound UDP socket.
pub struct Datagrams(UdpSocket);

/// How long a listener rests after an accept failed for want of descriptors or memory:
/// its pending connection keeps it readable, and watching it meanwhile would turn the
/// unikernel's wait into a busy loop.
const ACCEPT_REST: Duration = Duration::from_millis(100);

/// What `yield` watches: each open socket's descriptor, and whether the guest waits for
/// room to write (a connect in progress, or a full send buffer) besides input; and the
/// listeners resting after a failed accept, until when.
#[derive(Default)]
pub(crate) struct Watched {
    sockets: BTreeMap<u32, (RawFd, bool)>,
    resting: BTreeMap<u32, Instant>,
}

impl Watched {
    /// The `pollfd`s for every watched socket; a resting listener's is left for `poll`
    /// to skip (a negative descriptor).
    pub(crate) fn pollfds(&mut self) -> impl Iterator<Item = libc::pollfd> + '_ {
        let now = Instant::now();
        self.resting.retain(|_, until| *until > now);
        self.sockets.iter().map(|(rep, &(fd, wants_write))| libc::pollfd {
            fd: if self.resting.contains_key(rep) { -1 } else { fd },
            events: libc::POLLIN | if wants_write { libc::POLLOUT } else { 0 },
            revents: 0,
        })
    }

    /// When the first resting listener is watched again.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        self.resting.values().min().copied()
    }

    fn rest(&mut self, rep: u32) {
        self.resting.insert(rep, Instant::now() + ACCEPT_REST);
    }

    fn watch(&mut self, rep: u32, fd: RawFd) {
        self.sockets.insert(rep, (fd, false));
    }

    fn wants_write(&mut self, rep: u32, wants: bool) {
        if let Some(entry) = self.sockets.get_mut(&rep) {
            entry.1 = wants;
        }
    }

    fn forget(&mut self, rep: u32) {
        self.sockets.remove(&rep);
        self.resting.remove(&rep);
    }
}

fn endpoint(address: std::io::Result<SocketAddr>) -> Endpoint {
    match address {
        Ok(SocketAddr::V4(v4)) => {
            let [a, b, c, d] = v4.ip().octets();
            Endpoint { address: (a, b, c, d), port: v4.port() }
        }
        _ => Endpoint { address: (0, 0, 0, 0), port: 0 },
    }
}

fn socket_address(endpoint: Endpoint) -> SocketAddrV4 {
    let (a, b, c, d) = endpoint.address;
    SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), endpoint.port)
}

/// Maps an OS error to the error a guest sees.
fn error(e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::WouldBlock => Error::WouldBlock,
        ErrorKind::ConnectionRefused => Error::ConnectionRefused,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => Error::ConnectionReset,
        ErrorKind::TimedOut => Error::TimedOut,
        ErrorKind::AddrInUse => Error::AddressInUse,
        ErrorKind::NotConnected => Error::NotConnected,
        ErrorKind::InvalidInput => Error::InvalidArgument,
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable | ErrorKind::AddrNotAvailable => Error::Unreachable,
        _ => Error::NoResources,
    }
}

/// The shared types of `ukc:tcpip` (no functions).
impl crate::bindings::ukc::tcpip::types::Host for Devices {}

impl ipv4::Host for Devices {
    fn config(&mut self) -> wasmtime::Result<Option<ipv4::Settings>> {
        // The host manages its own addresses.
        Ok(None)
    }
}

impl tcp::Host for Devices {
    fn listen(&mut self, port: u16) -> wasmtime::Result<Result<Resource<Listener>, Error>> {
        if port == 0 || !self.socket_policy.may_listen(port, false) {
            return Ok(Err(Error::InvalidArgument));
        }
        let listener = match TcpListener::bind((self.socket_policy.listen_address(), port)).and_then(|l| {
            l.set_nonblocking(true)?;
            Ok(l)
        }) {
            Ok(listener) => listener,
            Err(e) => return Ok(Err(error(e))),
        };
        let fd = listener.as_raw_fd();
        let handle = self.table.push(Listener(listener))?;
        self.watched.watch(handle.rep(), fd);
        Ok(Ok(handle))
    }

    fn connect(&mut self, remote: Endpoint) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if !self.socket_policy.may_reach(socket_address(remote)) {
            return Ok(Err(Error::Unreachable));
        }
        let opened = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).and_then(|socket| {
            socket.set_nonblocking(true)?;
            socket.set_tcp_nodelay(true)?;
            match socket.connect(&SockAddr::from(socket_address(remote))) {
                Ok(()) => Ok((socket, true)),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok((socket, false)),
                Err(e) => Err(e),
            }
        });
        let (socket, established) = match opened {
            Ok(opened) => opened,
            Err(e) => return Ok(Err(error(e))),
        };
        let stream: TcpStream = socket.into();
        let fd = stream.as_raw_fd();
        let handle = self.table.push(Connection { stream, established, failed: None })?;
        self.watched.watch(handle.rep(), fd);
        self.watched.wants_write(handle.rep(), !established);
        Ok(Ok(handle))
    }
}

impl tcp::HostListener for Devices {
    fn accept(&mut self, listener: Resource<Listener>) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let accepted = self.table.get(&listener)?.0.accept().and_then(|(stream, _)| {
            stream.set_nonblocking(true)?;
            stream.set_nodelay(true)?;
            Ok(stream)
        });
        let stream = match accepted {
            Ok(stream) => stream,
            Err(e) => {
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) {
                    self.watched.rest(listener.rep());
                }
                return Ok(Err(error(e)));
            }
        };
        let fd = stream.as_raw_fd();
        let handle = self.table.push(Connection { stream, established: true, failed: None })?;
        self.watched.watch(handle.rep(), fd);
        Ok(Ok(handle))
    }

    fn local_endpoint(&mut self, listener: Resource<Listener>) -> wasmtime::Result<Endpoint> {
        Ok(endpoint(self.table.get(&listener)?.0.local_addr()))
    }

    fn drop(&mut self, listener: Resource<Listener>) -> wasmtime::Result<()> {
        self.watched.forget(listener.rep());
        self.table.delete(listener)?;
        Ok(())
    }
}

impl Devices {
    /// The connection behind `handle`, after noting whether a pending connect finished.
    fn connection(&mut self, handle: &Resource<Connection>) -> wasmtime::Result<Result<&mut Connection, Error>> {
        let rep = handle.rep();
        let connection = self.table.get_mut(handle)?;
        if let Some(failed) = connection.failed {
            return Ok(Err(failed));
        }
        if !connection.established {
            match connection.stream.take_error() {
                Ok(Some(e)) | Err(e) => {
                    let failed = error(e);
                    connection.failed = Some(failed);
                    return Ok(Err(failed));
                }
                Ok(None) if connection.stream.peer_addr().is_ok() => {
                    connection.established = true;
                    self.watched.wants_write(rep, false);
                }
                Ok(None) => return Ok(Err(Error::WouldBlock)),
            }
        }
        Ok(Ok(self.table.get_mut(handle)?))
    }
}

impl Devices {
    /// `connection.write`: sends what the socket takes of `data`.
    pub(crate) fn tcp_write(
        &mut self,
        handle: &Resource<Connection>,
        data: &[u8],
    ) -> wasmtime::Result<Result<u32, Error>> {
        let rep = handle.rep();
        let connection = match self.connection(handle)? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let written = connection.stream.write(data);
        self.watched.wants_write(rep, matches!(&written, Err(e) if e.kind() == ErrorKind::WouldBlock));
        Ok(written.map(|n| n as u32).map_err(error))
    }

    /// `ukc:sendfile`'s send: `head`, then `len` bytes of the open file `file` from
    /// `offset` (all of them in the file), as the socket takes them; how many it took,
    /// `head`'s first.
    pub(crate) fn tcp_send_file(
        &mut self,
        handle: &Resource<Connection>,
        head: &[u8],
        file: RawFd,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let rep = handle.rep();
        let connection = match self.connection(handle)? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let sent = send_file(connection.stream.as_fd(), head, file, offset, len);
        self.watched.wants_write(rep, matches!(&sent, Err(e) if e.kind() == ErrorKind::WouldBlock));
        Ok(sent.map_err(error))
    }
}

/// Sends `head`, then `len` bytes of `file` from `offset`, on the non-blocking `socket`:
/// the file's bytes go from the page cache to the socket without a copy through this
/// process. Returns how many bytes were taken; would-block when none were.
fn send_file(socket: BorrowedFd<'_>, head: &[u8], file: RawFd, offset: u64, len: u64) -> std::io::Result<u64> {
    let mut taken = 0;
    if !head.is_empty() {
        // With more to follow, the head waits to leave in one segment with the body.
        let more = if len > 0 { libc::MSG_MORE } else { 0 };
        // SAFETY: `head` is readable for its length.
        let sent =
            unsafe { libc::send(socket.as_raw_fd(), head.as_ptr().cast(), head.len(), libc::MSG_NOSIGNAL | more) };
        if sent < 0 {
            return Err(std::io::Error::last_os_error());
        }
        taken = sent as u64;
        if taken < head.len() as u64 || len == 0 {
            return Ok(taken);
        }
    }
    let position = libc::off_t::try_from(offset).map_err(|_| std::io::Error::from(ErrorKind::InvalidInput));
    // Linux moves at most this much in one call anyway.
    let count = len.min(MAX_SENDFILE) as usize;
    // SAFETY: both descriptors are open; `position` is a valid `off_t` to update.
    let sent = position.and_then(|mut at| match unsafe { libc::sendfile(socket.as_raw_fd(), file, &mut at, count) } {
        n if n < 0 => Err(std::io::Error::last_os_error()),
        n => Ok(n as u64),
    });
    match sent {
        Ok(n) if n > 0 => Ok(taken + n),
        // Nothing of the file went after a head sent with more to follow (no room, the file
        // shrank, or it failed): the head must not wait for bytes that are not coming, and
        // it is what was taken; a failure shows again on the next call.
        _ if taken > 0 => {
            // Setting `TCP_NODELAY`, already set, pushes what waits. A socket that is not
            // TCP (the tests' socket pairs) refuses it, and holds nothing back.
            let _ = SockRef::from(&socket).set_tcp_nodelay(true);
            Ok(taken)
        }
        Ok(_) => Ok(0),
        Err(e) => Err(e),
    }
}

impl tcp::HostConnection for Devices {
    fn read(&mut self, connection: Resource<Connection>, max: u32) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let connection = match self.connection(&connection)? {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        // Into fresh capacity, not zeroed memory: a server asks for 16 KiB and gets a
        // request of a few hundred bytes.
        let len = max.min(MAX_READ) as usize;
        let mut data: Vec<u8> = Vec::with_capacity(len);
        // SAFETY: recv writes at most `len` bytes into the spare capacity, which holds `len`.
        let received = unsafe { libc::recv(connection.stream.as_raw_fd(), data.as_mut_ptr().cast(), len, 0) };
        if received < 0 {
            return Ok(Err(error(std::io::Error::last_os_error())));
        }
        // SAFETY: the kernel wrote `received` (at most `len`) bytes.
        unsafe { data.set_len(received as usize) };
        Ok(Ok(data))
    }

    /// Not what unikernels call: [`crate::in_place`] replaces it (the trait requires it).
    fn write(&mut self, handle: Resource<Connection>, data: Vec<u8>) -> wasmtime::Result<Result<u32, Error>> {
        self.tcp_write(&handle, &data)
    }

    fn shutdown(&mut self, connection: Resource<Connection>) -> wasmtime::Result<Result<(), Error>> {
        Ok(match self.connection(&connection)? {
            Ok(c) => c.stream.shutdown(Shutdown::Write).map_err(error),
            Err(e) => Err(e),
        })
    }

    fn is_established(&mut self, connection: Resource<Connection>) -> wasmtime::Result<bool> {
        Ok(self.connection(&connection)?.is_ok())
    }

    fn remote_endpoint(&mut self, connection: Resource<Connection>) -> wasmtime::Result<Endpoint> {
        Ok(endpoint(self.table.get(&connection)?.stream.peer_addr()))
    }

    fn local_endpoint(&mut self, connection: Resource<Connection>) -> wasmtime::Result<Endpoint> {
        Ok(endpoint(self.table.get(&connection)?.stream.local_addr()))
    }

    fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        // Closing the descriptor lets the kernel send what is queued, then FIN.
        self.watched.forget(connection.rep());
        self.table.delete(connection)?;
        Ok(())
    }
}

impl udp::Host for Devices {
    fn bind(&mut self, port: u16) -> wasmtime::Result<Result<Resource<Datagrams>, Error>> {
        if !self.socket_policy.may_listen(port, true) {
            return Ok(Err(Error::InvalidArgument));
        }
        let socket = match UdpSocket::bind((self.socket_policy.listen_address(), port)).and_then(|s| {
            s.set_nonblocking(true)?;
            Ok(s)
        }) {
            Ok(socket) => socket,
            Err(e) => return Ok(Err(error(e))),
        };
        let fd = socket.as_raw_fd();
        let handle = self.table.push(Datagrams(socket))?;
        self.watched.watch(handle.rep(), fd);
        Ok(Ok(handle))
    }
}

impl udp::HostSocket for Devices {
    fn send(
        &mut self,
        socket: Resource<Datagrams>,
        data: Vec<u8>,
        remote: Endpoint,
    ) -> wasmtime::Result<Result<(), Error>> {
        if data.is_empty() {
            return Ok(Err(Error::InvalidArgument));
        }
        if !self.socket_policy.may_reach(socket_address(remote)) {
            return Ok(Err(Error::Unreachable));
        }
        let sent = self.table.get(&socket)?.0.send_to(&data, socket_address(remote));
        Ok(sent.map(drop).map_err(error))
    }

    fn receive(&mut self, socket: Resource<Datagrams>) -> wasmtime::Result<Result<udp::Datagram, Error>> {
        // Into fresh capacity, not zeroed memory: a datagram may be 64 KiB, most are tens
        // of bytes, and a server asks once more than there are datagrams (zeroing 64 KiB
        // per call was the largest single cost of the dns example's queries).
        let mut data: Vec<u8> = Vec::with_capacity(65536);
        let socket = socket2::SockRef::from(&self.table.get(&socket)?.0);
        Ok(match socket.recv_from(data.spare_capacity_mut()) {
            Ok((n, from)) => {
                // SAFETY: the kernel wrote `n` bytes, at most the spare capacity it was given.
                unsafe { data.set_len(n) };
                let from = from.as_socket().ok_or_else(|| std::io::Error::other("a datagram from a non-IP address"));
                Ok(udp::Datagram { data, remote: endpoint(from) })
            }
            Err(e) => Err(error(e)),
        })
    }

    fn local_endpoint(&mut self, socket: Resource<Datagrams>) -> wasmtime::Result<Endpoint> {
        Ok(endpoint(self.table.get(&socket)?.0.local_addr()))
    }

    fn drop(&mut self, socket: Resource<Datagrams>) -> wasmtime::Result<()> {
        self.watched.forget(socket.rep());
        self.table.delete(socket)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::net::UnixStream;

    /// A file of `len` bytes, each its offset's low byte.
    fn file_of(len: usize) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&(0..len).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    fn received(reader: &mut UnixStream) -> Vec<u8> {
        let mut bytes = vec![0; 1 << 20];
        let n = reader.read(&mut bytes).unwrap();
        bytes.truncate(n);
        bytes
    }

    #[test]
    fn the_head_then_the_range_of_the_file() {
        let (sender, mut reader) = UnixStream::pair().unwrap();
        let file = file_of(1000);
        let sent = send_file(sender.as_fd(), b"HEAD ", file.as_raw_fd(), 10, 5).unwrap();
        assert_eq!(sent, 10);
        assert_eq!(received(&mut reader), b"HEAD \x0a\x0b\x0c\x0d\x0e");
        assert_eq!(send_file(sender.as_fd(), b"", file.as_raw_fd(), 995, 5).unwrap(), 5, "to the end");
        assert_eq!(send_file(sender.as_fd(), b"only", file.as_raw_fd(), 0, 0).unwrap(), 4, "a head alone");
        assert_eq!(received(&mut reader), b"\xe3\xe4\xe5\xe6\xe7only");
        // A file that ends early, or fails, after the head went: the head is what was taken.
        assert_eq!(send_file(sender.as_fd(), b"gone", file.as_raw_fd(), 2000, 5).unwrap(), 4);
        assert_eq!(send_file(sender.as_fd(), b"bad", -1, 0, 5).unwrap(), 3);
        assert_eq!(send_file(sender.as_fd(), b"", -1, 0, 5).unwrap_err().raw_os_error(), Some(libc::EBADF));
        assert_eq!(received(&mut reader), b"gonebad");
    }

    #[test]
    fn a_full_socket_takes_part_then_nothing() {
        let (sender, mut reader) = UnixStream::pair().unwrap();
        sender.set_nonblocking(true).unwrap();
        let file = file_of(4 << 20);
        let head = vec![b'h'; 100];
        let first = send_file(sender.as_fd(), &head, file.as_raw_fd(), 0, 4 << 20).unwrap();
        assert!(first > 100 && first < 100 + (4 << 20), "the head and part of the file: {first}");
        let mut total = first;
        let refused = loop {
            match send_file(sender.as_fd(), b"", file.as_raw_fd(), total - 100, (4 << 20) - (total - 100)) {
                Ok(n) => total += n,
                Err(e) => break e,
            }
        };
        assert_eq!(refused.kind(), ErrorKind::WouldBlock, "no room: nothing taken");
        let head_refused = send_file(sender.as_fd(), &head, file.as_raw_fd(), 0, 1).unwrap_err();
        assert_eq!(head_refused.kind(), ErrorKind::WouldBlock, "not even the head");
        let mut got = received(&mut reader);
        assert_eq!(&got[..100], &head[..]);
        got.drain(..100);
        assert!(got.iter().enumerate().all(|(i, &b)| b == i as u8), "the file's bytes, in order");
    }
}
