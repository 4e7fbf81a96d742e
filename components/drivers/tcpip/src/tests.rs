//! Two stacks wired back to back through in-memory queues, driven with a fake clock.

use crate::config::Addressing;
use crate::conn::{self, Ending};
use crate::device::{ETHERNET_HEADER, Link};
use crate::stack::{NetError, Stack, Step, instant, pick_port};
use crate::tcp::{self, BACKLOG};
use core::net::Ipv4Addr;
use smoltcp::iface::SocketHandle;
use smoltcp::wire::{IpEndpoint, Ipv4Cidr};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use ukc_hvt_abi::tso;

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of the wire; `cut` drops everything sent. `segmented` counts the frames the
/// stack handed over to be cut into segments.
struct Wire {
    inbox: Queue,
    outbox: Queue,
    cut: Rc<RefCell<bool>>,
    segmented: Rc<Cell<usize>>,
}

/// The wire's MTU.
const MTU: usize = 1500;

impl Link for Wire {
    fn read(&mut self) -> Option<Vec<u8>> {
        self.inbox.borrow_mut().pop_front()
    }

    fn write(&mut self, frame: &[u8]) {
        assert!(frame.len() <= ETHERNET_HEADER + MTU, "a frame of {} bytes is too long for the wire", frame.len());
        if !*self.cut.borrow() {
            self.outbox.borrow_mut().push_back(frame.to_vec());
        }
    }

    /// Cuts as a host without segmentation offload does, checking what the host checks.
    fn write_segments(&mut self, frame: &[u8], segment: usize) {
        let layout = tso::check(frame, segment, MTU).expect("the stack hands over frames the host accepts");
        self.segmented.set(self.segmented.get() + 1);
        tso::cut(frame, layout, &mut Vec::new(), |segment| {
            self.write(segment);
            Ok::<(), ()>(())
        })
        .unwrap();
    }
}

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

struct Net {
    server: Stack<Wire>,
    client: Stack<Wire>,
    cut: Rc<RefCell<bool>>,
    /// The fake monotonic clock, in nanoseconds.
    now: u64,
}

fn stack(ip: Ipv4Addr, last: u8, inbox: &Queue, outbox: &Queue, cut: &Rc<RefCell<bool>>) -> Stack<Wire> {
    let wire = Wire { inbox: inbox.clone(), outbox: outbox.clone(), cut: cut.clone(), segmented: Rc::default() };
    let addressing = Addressing::Static { cidr: Ipv4Cidr::new(ip, 24), gateway: None };
    Stack::new(wire, [2, 0, 0, 0, 0, last], MTU, addressing, 0x5eed + u64::from(last), instant(0))
}

impl Net {
    fn new() -> Net {
        let (a, b, cut) = (Queue::default(), Queue::default(), Rc::new(RefCell::new(false)));
        Net { server: stack(SERVER, 2, &a, &b, &cut), client: stack(CLIENT, 1, &b, &a, &cut), cut, now: 1_000_000 }
    }

    /// Polls both stacks, a millisecond apart, until the wire is quiet.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            self.now += 1_000_000;
            self.server.poll(instant(self.now));
            self.client.poll(instant(self.now));
            let quiet =
                self.server.phy.link.inbox.borrow().is_empty() && self.client.phy.link.inbox.borrow().is_empty();
            if quiet {
                return;
            }
        }
        panic!("the stacks never went quiet");
    }

    /// Lets `seconds` pass, polling every 100 ms so that timers fire.
    fn wait(&mut self, seconds: u64) {
        for _ in 0..seconds * 10 {
            self.now += 100_000_000;
            self.server.poll(instant(self.now));
            self.client.poll(instant(self.now));
        }
        self.settle();
    }

    fn connect(&mut self, port: u16) -> SocketHandle {
        self.client.connect(IpEndpoint::new(SERVER.into(), port), instant(self.now)).unwrap()
    }

    fn accept(&mut self, port: u16) -> Result<SocketHandle, NetError> {
        self.server.tcp.accept(port, &mut self.server.sockets, instant(self.now))
    }
}

fn write(stack: &mut Stack<Wire>, handle: SocketHandle, data: &[u8]) -> Result<u32, NetError> {
    let (conn, socket) = stack.tcp.conn_mut(handle, &mut stack.sockets)?;
    conn.write(socket, data)
}

fn read(stack: &mut Stack<Wire>, handle: SocketHandle) -> Result<Vec<u8>, NetError> {
    let (conn, socket) = stack.tcp.conn_mut(handle, &mut stack.sockets)?;
    conn.read(socket, 1 << 20)
}

fn shutdown(stack: &mut Stack<Wire>, handle: SocketHandle) -> Result<(), NetError> {
    let (conn, socket) = stack.tcp.conn_mut(handle, &mut stack.sockets)?;
    conn.shutdown(socket)
}

#[test]
fn echoes_and_closes_both_ways() {
    let mut net = Net::new();
    net.server.tcp.listen(7, &mut net.server.sockets).unwrap();
    let client = net.connect(7);
    assert_eq!(read(&mut net.client, client), Err(NetError::WouldBlock), "not established yet");
    net.settle();
    let server = net.accept(7).unwrap();
    assert_eq!(net.accept(7), Err(NetError::WouldBlock));
    assert_eq!(net.server.tcp.conn(server).remote, net.client.tcp.conn(client).local);

    assert_eq!(write(&mut net.client, client, b"hello"), Ok(5));
    net.settle();
    let data = read(&mut net.server, server).unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(read(&mut net.server, server), Err(NetError::WouldBlock));
    write(&mut net.server, server, &data).unwrap();
    shutdown(&mut net.client, client).unwrap();
    net.settle();
    assert_eq!(read(&mut net.client, client).unwrap(), b"hello");
    assert_eq!(read(&mut net.server, server), Ok(Vec::new()), "end of stream after the peer's FIN");
    assert_eq!(write(&mut net.client, client, b"more"), Err(NetError::NotConnected), "shut down");

    net.server.tcp.release(server, &mut net.server.sockets, instant(net.now));
    net.settle();
    assert_eq!(read(&mut net.client, client), Ok(Vec::new()));
    assert_eq!(net.server.tcp.sockets_in_use(), BACKLOG, "the closed connection is freed");
    net.client.tcp.release(client, &mut net.client.sockets, instant(net.now));
    net.settle();
    assert_eq!(net.client.tcp.sockets_in_use(), 0, "TIME-WAIT is not kept");
}

#[test]
fn a_burst_of_connections_finds_a_listener_each() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let clients: Vec<_> = (0..3 * BACKLOG).map(|_| net.connect(80)).collect();
    net.settle();
    let accepted: Vec<_> = std::iter::from_fn(|| net.accept(80).ok()).collect();
    assert_eq!(accepted.len(), clients.len());
    for &client in &clients {
        assert!(net.client.tcp.is_established(client, &net.client.sockets));
    }
}

#[test]
fn many_connections_leak_nothing() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    for _ in 0..300 {
        let client = net.connect(80);
        net.settle();
        let server = net.accept(80).unwrap();
        write(&mut net.client, client, b"ping").unwrap();
        net.client.tcp.release(client, &mut net.client.sockets, instant(net.now));
        net.settle();
        assert_eq!(read(&mut net.server, server).unwrap(), b"ping");
        assert_eq!(read(&mut net.server, server), Ok(Vec::new()));
        net.server.tcp.release(server, &mut net.server.sockets, instant(net.now));
    }
    net.settle();
    assert_eq!(net.server.tcp.sockets_in_use(), BACKLOG);
    assert_eq!(net.client.tcp.sockets_in_use(), 0);
    assert_eq!(net.server.sockets.iter().count(), BACKLOG);
}

#[test]
fn reports_refused_reset_and_timed_out() {
    let mut net = Net::new();
    let refused = net.connect(9);
    net.settle();
    assert_eq!(read(&mut net.client, refused), Err(NetError::ConnectionRefused));
    assert_eq!(write(&mut net.client, refused, b"x"), Err(NetError::ConnectionRefused));

    // Dropping a listener resets the connections nobody accepted.
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let reset = net.connect(80);
    net.settle();
    net.server.tcp.unlisten(80, &mut net.server.sockets, instant(net.now));
    net.settle();
    assert_eq!(read(&mut net.client, reset), Err(NetError::ConnectionReset));
    assert_eq!(net.server.tcp.sockets_in_use(), 0);

    *net.cut.borrow_mut() = true;
    let silent = net.connect(80);
    net.wait(conn::CONNECT_TIMEOUT.secs() + 1);
    assert_eq!(read(&mut net.client, silent), Err(NetError::TimedOut));
}

#[test]
fn listen_and_connect_check_their_arguments() {
    let mut net = Net::new();
    let sockets = &mut net.server.sockets;
    assert_eq!(net.server.tcp.listen(0, sockets), Err(NetError::InvalidArgument));
    net.server.tcp.listen(80, sockets).unwrap();
    assert_eq!(net.server.tcp.listen(80, sockets), Err(NetError::AddressInUse));
    let far = IpEndpoint::new(Ipv4Addr::new(192, 168, 1, 1).into(), 80);
    assert_eq!(net.client.connect(far, instant(net.now)), Err(NetError::Unreachable), "no gateway");
    let zero = IpEndpoint::new(Ipv4Addr::UNSPECIFIED.into(), 80);
    assert_eq!(net.client.connect(zero, instant(net.now)), Err(NetError::InvalidArgument));
}

#[test]
fn yield_returns_on_news_and_at_the_deadline_and_never_spins() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let _ = net.server.step(net.now, net.now); // the news of the configuration
    let deadline = net.now + 5_000_000_000;
    match net.server.step(net.now, deadline) {
        Step::Wait(until) => assert!(until > net.now && until <= deadline, "{until}"),
        step => panic!("nothing happened, yet {step:?}"),
    }
    assert_eq!(net.server.step(deadline, deadline), Step::Return(false));

    // ARP, SYN, SYN-ACK, ACK: the server has news only once the handshake completed.
    let client = net.connect(80);
    for round in 0.. {
        net.client.poll(instant(net.now));
        match net.server.step(net.now, deadline) {
            Step::Return(true) => break,
            Step::Wait(until) if round < 5 => assert!(until > net.now && until <= deadline),
            step => panic!("round {round}: {step:?}"),
        }
    }
    let server = net.accept(80).expect("woken for a connection to accept");
    net.settle();
    let _ = net.server.step(net.now, deadline);
    write(&mut net.client, client, b"x").unwrap();
    net.client.poll(instant(net.now));
    assert_eq!(net.server.step(net.now, deadline), Step::Return(true), "data to read");
    read(&mut net.server, server).unwrap();
    net.settle();
    let _ = net.server.step(net.now, deadline);
    assert!(matches!(net.server.step(net.now, deadline), Step::Wait(_)), "nothing new");
}

#[test]
fn writes_wait_for_room_and_report_it() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let client = net.connect(80);
    net.settle();
    let server = net.accept(80).unwrap();
    let block = vec![7u8; 3 * tcp::FAST_BUFFER];
    let taken = write(&mut net.client, client, &block).unwrap() as usize;
    assert!(taken <= tcp::FAST_BUFFER);
    assert_eq!(write(&mut net.client, client, &block[taken..]), Err(NetError::WouldBlock));
    net.settle();
    assert_eq!(net.client.step(net.now, u64::MAX), Step::Return(true), "acknowledged: room to write again");
    assert!(matches!(net.client.step(net.now, u64::MAX), Step::Wait(_)), "reported once");
    let mut received = read(&mut net.server, server).unwrap().len();
    let more = write(&mut net.client, client, &block[taken..]).unwrap() as usize;
    net.settle();
    received += read(&mut net.server, server).unwrap().len();
    assert_eq!(received, taken + more);

    // Acknowledgements of data that fitted are no news.
    let _ = net.client.step(net.now, u64::MAX);
    write(&mut net.client, client, b"small").unwrap();
    net.settle();
    assert!(matches!(net.client.step(net.now, u64::MAX), Step::Wait(_)));
}

#[test]
fn bulk_data_leaves_as_large_segments_that_the_link_cuts() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let client = net.connect(80);
    net.settle();
    let server = net.accept(80).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut sent, mut received) = (0, Vec::new());
    for _ in 0..1000 {
        if sent < data.len() {
            sent += write(&mut net.server, server, &data[sent..]).unwrap_or(0) as usize;
        }
        net.settle();
        received.extend(read(&mut net.client, client).unwrap_or_default());
        if received.len() == data.len() {
            break;
        }
    }
    assert!(received == data, "the bytes arrive whole and in order");
    let segmented = net.server.phy.link.segmented.get();
    let frames = data.len().div_ceil(MTU - 52);
    assert!(segmented > 0 && segmented * 10 < frames, "{segmented} large segments for {frames} frames");
}

#[test]
fn udp_carries_datagrams_with_their_sender() {
    let mut net = Net::new();
    let server = net.server.bind(53).unwrap();
    assert_eq!(net.server.bind(53), Err(NetError::AddressInUse));
    let client = net.client.bind(0).unwrap();
    let port = net.client.udp.port(client);
    assert!(port >= 49152);
    let to = IpEndpoint::new(SERVER.into(), 53);
    net.client.send(client, b"query", to, instant(net.now)).unwrap();
    assert_eq!(net.client.send(client, b"", to, instant(net.now)), Err(NetError::InvalidArgument));
    assert_eq!(net.client.send(client, &[0; 1473], to, instant(net.now)), Err(NetError::InvalidArgument));
    net.settle();
    let (data, from) = net.server.udp.receive(server, &mut net.server.sockets).unwrap();
    assert_eq!((data.as_slice(), from), (&b"query"[..], IpEndpoint::new(CLIENT.into(), port)));
    assert_eq!(net.server.udp.receive(server, &mut net.server.sockets), Err(NetError::WouldBlock));
}

#[test]
fn endings_follow_what_was_seen() {
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    let client = net.connect(80);
    let conn = net.client.tcp.conn(client);
    let start = instant(net.now);
    assert_eq!(conn::ending(conn, start), Ending::Refused);
    assert_eq!(conn::ending(conn, start + conn::CONNECT_TIMEOUT), Ending::TimedOut);
    net.settle();
    let conn = net.client.tcp.conn(client);
    assert_eq!(conn::ending(conn, instant(net.now) + conn::IDLE_TIMEOUT), Ending::Reset, "nothing unacknowledged");
}

#[test]
fn ephemeral_ports_skip_those_in_use() {
    assert_eq!(pick_port(0, |_| false), Some(49152));
    assert_eq!(pick_port(16383, |_| false), Some(65535));
    assert_eq!(pick_port(16383, |p| p == 65535), Some(49152), "wraps around");
    assert_eq!(pick_port(7, |_| true), None);
}

#[test]
fn syns_to_an_exhausted_listener_are_dropped_not_refused() {
    use smoltcp::phy::Device;
    let mut net = Net::new();
    net.server.tcp.listen(80, &mut net.server.sockets).unwrap();
    net.connect(80);
    // ARP request, ARP reply, then the SYN waits in the server's queue.
    net.client.poll(instant(net.now));
    net.server.poll(instant(net.now));
    net.client.poll(instant(net.now));
    let syn = net.server.phy.link.inbox.borrow().front().cloned().expect("a SYN");
    assert_eq!(crate::device::syn_port(&syn), Some(80));
    assert_eq!(crate::device::syn_port(&syn[..20]), None, "truncated");

    net.server.phy.exhausted = vec![80];
    assert!(net.server.phy.receive(instant(net.now)).is_none(), "dropped");
    net.server.phy.exhausted.clear();
    net.server.phy.link.inbox.borrow_mut().push_back(syn);
    assert!(net.server.phy.receive(instant(net.now)).is_some());
}
