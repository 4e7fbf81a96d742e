//! `yield`: one `wasi:io/poll.poll` over every open socket's pollables and the deadline.
//!
//! Each socket registers here when it opens and says, each time the application waits,
//! which of its pollables matter now (input, room to write, a pending connect or
//! accept). Readiness is level-triggered, as on `ukc-unix`: a socket with unread input
//! keeps `yield` returning at once until the application reads it.

use crate::conn;
use crate::ukc::poll::poll;
use std::cell::RefCell;
use std::rc::Weak;
use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::{Pollable, poll as poll_all};

/// The name `yield` reports for activity on the sockets, as `ukc-unix`'s socket stack.
const SOCKETS: &str = "tcpip";

/// An open socket, as `yield` sees it.
pub trait Watch {
    /// Moves what the socket holds back (queued output) along, and adds the pollables for
    /// what the application may be waiting for on it; `true` when that is ready already.
    fn subscribe(&self, pollables: &mut Vec<Pollable>) -> bool;
}

thread_local! {
    /// Every socket the application holds; an entry dies with its socket.
    static WATCHED: RefCell<Vec<Weak<dyn Watch>>> = const { RefCell::new(Vec::new()) };
}

/// Watches `socket` from now until it is dropped.
pub fn watch(socket: Weak<dyn Watch>) {
    WATCHED.with_borrow_mut(|watched| watched.push(socket));
}

/// Blocks until a socket may have changed (returns `["tcpip"]`) or the monotonic clock
/// reaches `deadline` (returns what the platform's `yield` says then, an empty list on
/// WASI). With no socket open, waiting is the platform's.
pub fn wait(deadline: u64) -> Vec<String> {
    conn::reap_closing();
    // Pollables are children of their sockets and streams: they must be dropped before
    // the application can drop those, so they live only for this call.
    let mut pollables = Vec::new();
    let mut ready_now = false;
    WATCHED.with_borrow_mut(|watched| {
        watched.retain(|socket| socket.strong_count() > 0);
        for socket in watched.iter().filter_map(Weak::upgrade) {
            ready_now |= socket.subscribe(&mut pollables);
        }
    });
    if ready_now {
        return vec![SOCKETS.to_string()];
    }
    if pollables.is_empty() {
        return poll::yield_(deadline);
    }
    let sockets = pollables.len();
    pollables.push(monotonic_clock::subscribe_instant(deadline));
    let list: Vec<&Pollable> = pollables.iter().collect();
    let ready = poll_all(&list);
    if ready.iter().any(|&index| (index as usize) < sockets) {
        vec![SOCKETS.to_string()]
    } else {
        // The deadline has passed: the platform's `yield` returns at once, and passes on
        // input of any device below.
        poll::yield_(deadline)
    }
}
