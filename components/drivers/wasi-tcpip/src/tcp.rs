//! TCP listeners and connections on `wasi:sockets/tcp`, without blocking.

use crate::addr;
use crate::conn::{Conn, Open, State};
use crate::exports::ukc::tcpip::tcp::{self as wit_tcp, GuestConnection, GuestListener};
use crate::exports::ukc::tcpip::types::{Endpoint, Error};
use crate::watch::{self, Watch};
use std::rc::Rc;
use wasip2::io::poll::Pollable;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::IpAddressFamily;
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::tcp_create_socket::create_tcp_socket;

/// A socket listening on a port of every local address.
pub struct Listener(Rc<Listening>);

struct Listening {
    socket: TcpSocket,
}

impl Listener {
    /// Binds port `port` (not 0: a listener needs a known port) and listens on it.
    pub fn open(port: u16) -> Result<Listener, Error> {
        if port == 0 {
            return Err(Error::InvalidArgument);
        }
        let socket = create_tcp_socket(IpAddressFamily::Ipv4).map_err(addr::error)?;
        socket.start_bind(&instance_network(), addr::any_address(port)).map_err(addr::error)?;
        addr::finish_tcp(&socket, TcpSocket::finish_bind)?;
        socket.start_listen().map_err(addr::error)?;
        addr::finish_tcp(&socket, TcpSocket::finish_listen)?;
        let listening = Rc::new(Listening { socket });
        watch::watch(Rc::downgrade(&listening) as _);
        Ok(Listener(listening))
    }
}

impl Watch for Listening {
    fn subscribe(&self, pollables: &mut Vec<Pollable>) -> bool {
        // A listening socket's pollable is ready when a connection can be accepted.
        pollables.push(self.socket.subscribe());
        false
    }
}

impl GuestListener for Listener {
    fn accept(&self) -> Result<wit_tcp::Connection, Error> {
        let (socket, input, output) = self.0.socket.accept().map_err(addr::error)?;
        Ok(wit_tcp::Connection::new(Connection(Conn::new(State::Open(Open { input, output, socket })))))
    }

    fn local_endpoint(&self) -> Endpoint {
        addr::endpoint(self.0.socket.local_address())
    }
}

/// A TCP connection, possibly still connecting.
pub struct Connection(Rc<Conn>);

impl Connection {
    /// Starts connecting to `remote`; the connection opens in the background.
    pub fn connect(remote: Endpoint) -> Result<Connection, Error> {
        let socket = create_tcp_socket(IpAddressFamily::Ipv4).map_err(addr::error)?;
        socket.start_connect(&instance_network(), addr::socket_address(remote)).map_err(addr::error)?;
        Ok(Connection(Conn::new(State::Connecting(socket))))
    }
}

impl GuestConnection for Connection {
    fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        self.0.read(max)
    }

    fn write(&self, data: Vec<u8>) -> Result<u32, Error> {
        self.0.write(&data)
    }

    fn shutdown(&self) -> Result<(), Error> {
        self.0.shutdown()
    }

    fn is_established(&self) -> bool {
        self.0.is_established()
    }

    fn remote_endpoint(&self) -> Endpoint {
        self.0.endpoint(TcpSocket::remote_address)
    }

    fn local_endpoint(&self) -> Endpoint {
        self.0.endpoint(TcpSocket::local_address)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.release();
    }
}
