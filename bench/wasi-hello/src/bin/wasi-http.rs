//! The std::net server of ./bench/run: HTTP/1.1 with keep-alive on the port its argument
//! names, one connection at a time (wasm has no threads), every request answered with
//! the same 1 KiB page. The same binary runs under `wasmtime run -S inherit-network` and,
//! composed (`wasi-shim-net`), on the ukc hosts.

use std::io::{Read, Write};
use std::net::TcpListener;

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let listener = TcpListener::bind(("0.0.0.0", port)).unwrap_or_else(|e| panic!("port {port}: {e}"));
    let body = vec![b'x'; 1024];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n", body.len());
    let response = [head.as_bytes(), &body].concat();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        'connection: loop {
            while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                pending.drain(..end + 4);
                if stream.write_all(&response).is_err() {
                    break 'connection;
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
