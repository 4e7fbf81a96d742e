//! `wasi:sockets/tcp` and `tcp-create-socket` on `ukc:tcpip/tcp`. WASI's two-step calls
//! map onto `ukc:tcpip`'s single ones: `finish-bind` remembers the address (ukc listens
//! on a port, on every local address), `start-listen` listens, `start-connect` starts
//! the connection and `finish-connect` says `would-block` until it is open.

use crate::Shim;
use crate::exports::wasi::io::poll::Pollable;
use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::exports::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, NetworkBorrow};
use crate::exports::wasi::sockets::tcp::{self, ShutdownType};
use crate::exports::wasi::sockets::tcp_create_socket;
use crate::network::{check, code, endpoint, socket_address};
use crate::sockets::{Conn, Reader, Watch, Writer, opening_failed};
use crate::ukc::tcpip::tcp::{Listener, connect, listen};
use crate::ukc::tcpip::types::{self, Endpoint};
use std::cell::RefCell;
use std::rc::Rc;

/// A listening socket, with a connection accepted ahead by a pollable.
pub struct Listening {
    listener: Listener,
    ahead: RefCell<Option<Result<Rc<Conn>, ErrorCode>>>,
}

impl Listening {
    /// Whether a connection (or a failure) waits to be taken.
    pub fn pending(&self) -> bool {
        let mut ahead = self.ahead.borrow_mut();
        if ahead.is_none() {
            *ahead = match self.listener.accept() {
                Ok(connection) => Some(Ok(Conn::new(connection))),
                Err(types::Error::WouldBlock) => None,
                Err(e) => Some(Err(code(e))),
            };
        }
        ahead.is_some()
    }

    fn accept(&self) -> Result<Rc<Conn>, ErrorCode> {
        if self.pending() {
            return self.ahead.borrow_mut().take().expect("pending");
        }
        Err(ErrorCode::WouldBlock)
    }
}

enum State {
    Unbound,
    Binding(Endpoint),
    Bound(Endpoint),
    StartedListening(Rc<Listening>),
    Listening(Rc<Listening>),
    Connecting(Rc<Conn>),
    Connected(Rc<Conn>),
    /// Opening the connection failed; the socket is done.
    Closed,
}

/// A TCP socket.
pub struct TcpSocket {
    state: RefCell<State>,
}

impl TcpSocket {
    fn connected(conn: Rc<Conn>) -> (tcp::TcpSocket, InputStream, OutputStream) {
        let streams = streams(&conn);
        (tcp::TcpSocket::new(TcpSocket { state: RefCell::new(State::Connected(conn)) }), streams.0, streams.1)
    }
}

fn streams(conn: &Rc<Conn>) -> (InputStream, OutputStream) {
    (
        InputStream::new(crate::io::InputStream::Socket(Reader(conn.clone()))),
        OutputStream::new(crate::io::OutputStream::Socket(Writer(conn.clone()))),
    )
}

impl tcp_create_socket::Guest for Shim {
    fn create_tcp_socket(family: IpAddressFamily) -> Result<tcp::TcpSocket, ErrorCode> {
        match family {
            IpAddressFamily::Ipv4 => Ok(tcp::TcpSocket::new(TcpSocket { state: RefCell::new(State::Unbound) })),
            IpAddressFamily::Ipv6 => Err(ErrorCode::NotSupported),
        }
    }
}

impl tcp::Guest for Shim {
    type TcpSocket = TcpSocket;
}

impl tcp::GuestTcpSocket for TcpSocket {
    fn start_bind(&self, network: NetworkBorrow<'_>, local: IpSocketAddress) -> Result<(), ErrorCode> {
        check(network);
        let local = endpoint(local)?;
        let mut state = self.state.borrow_mut();
        match *state {
            State::Unbound => {
                *state = State::Binding(local);
                Ok(())
            }
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn finish_bind(&self) -> Result<(), ErrorCode> {
        let mut state = self.state.borrow_mut();
        match *state {
            State::Binding(local) => {
                *state = State::Bound(local);
                Ok(())
            }
            _ => Err(ErrorCode::NotInProgress),
        }
    }

    fn start_connect(&self, network: NetworkBorrow<'_>, remote: IpSocketAddress) -> Result<(), ErrorCode> {
        check(network);
        let remote = endpoint(remote)?;
        if remote.port == 0 || remote.address == (0, 0, 0, 0) {
            return Err(ErrorCode::InvalidArgument);
        }
        let mut state = self.state.borrow_mut();
        match *state {
            State::Unbound | State::Bound(_) => {
                *state = State::Connecting(Conn::new(connect(remote).map_err(code)?));
                Ok(())
            }
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn finish_connect(&self) -> Result<(InputStream, OutputStream), ErrorCode> {
        let mut state = self.state.borrow_mut();
        let State::Connecting(conn) = &*state else {
            return Err(ErrorCode::NotInProgress);
        };
        let conn = conn.clone();
        if conn.connection.is_established() {
            *state = State::Connected(conn.clone());
            return Ok(streams(&conn));
        }
        match opening_failed(&conn) {
            None => Err(ErrorCode::WouldBlock),
            Some(failure) => {
                *state = State::Closed;
                Err(failure)
            }
        }
    }

    fn start_listen(&self) -> Result<(), ErrorCode> {
        let mut state = self.state.borrow_mut();
        let State::Bound(local) = *state else {
            return Err(ErrorCode::InvalidState);
        };
        let listener = listen(local.port).map_err(code)?;
        *state = State::StartedListening(Rc::new(Listening { listener, ahead: RefCell::new(None) }));
        Ok(())
    }

    fn finish_listen(&self) -> Result<(), ErrorCode> {
        let mut state = self.state.borrow_mut();
        let State::StartedListening(listening) = &*state else {
            return Err(ErrorCode::NotInProgress);
        };
        *state = State::Listening(listening.clone());
        Ok(())
    }

    fn accept(&self) -> Result<(tcp::TcpSocket, InputStream, OutputStream), ErrorCode> {
        let State::Listening(listening) = &*self.state.borrow() else {
            return Err(ErrorCode::InvalidState);
        };
        Ok(TcpSocket::connected(listening.accept()?))
    }

    fn local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        match &*self.state.borrow() {
            State::Bound(local) => Ok(socket_address(*local)),
            State::Listening(listening) | State::StartedListening(listening) => {
                Ok(socket_address(listening.listener.local_endpoint()))
            }
            State::Connected(conn) | State::Connecting(conn) => Ok(socket_address(conn.connection.local_endpoint())),
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        match &*self.state.borrow() {
            State::Connected(conn) => Ok(socket_address(conn.connection.remote_endpoint())),
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn is_listening(&self) -> bool {
        matches!(*self.state.borrow(), State::Listening(_))
    }

    fn address_family(&self) -> IpAddressFamily {
        IpAddressFamily::Ipv4
    }

    /// WASI lets an implementation ignore the hint: `ukc:tcpip` sizes its own queue.
    fn set_listen_backlog_size(&self, value: u64) -> Result<(), ErrorCode> {
        if value == 0 {
            return Err(ErrorCode::InvalidArgument);
        }
        Ok(())
    }

    fn keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_keep_alive_enabled(&self, _: bool) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn keep_alive_idle_time(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_keep_alive_idle_time(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn keep_alive_interval(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_keep_alive_interval(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn keep_alive_count(&self) -> Result<u32, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_keep_alive_count(&self, _: u32) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn hop_limit(&self) -> Result<u8, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_hop_limit(&self, _: u8) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn receive_buffer_size(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_receive_buffer_size(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn send_buffer_size(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_send_buffer_size(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn subscribe(&self) -> Pollable {
        match &*self.state.borrow() {
            State::Listening(listening) => crate::io::Pollable::socket(Watch::Accepting(listening.clone())),
            State::Connecting(conn) => crate::io::Pollable::socket(Watch::Opening(conn.clone())),
            _ => crate::io::Pollable::ready(),
        }
    }

    fn shutdown(&self, how: ShutdownType) -> Result<(), ErrorCode> {
        let State::Connected(conn) = &*self.state.borrow() else {
            return Err(ErrorCode::InvalidState);
        };
        if matches!(how, ShutdownType::Receive | ShutdownType::Both) {
            conn.stop_reading();
        }
        if matches!(how, ShutdownType::Send | ShutdownType::Both) {
            // What the program wrote goes first; the stack closes after it.
            conn.flush(true).map_err(|_| ErrorCode::ConnectionReset)?;
            conn.connection.shutdown().map_err(code)?;
        }
        Ok(())
    }
}
