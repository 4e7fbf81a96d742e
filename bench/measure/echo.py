"""The TCP bulk client and the kernel-side echo server of the network section, run as a
script inside a network namespace (`ip netns exec NS python3 echo.py ...`); standard
library only.

    echo.py client HOST PORT BYTES SEND_SECONDS SECONDS
                                             sends BYTES, or what it can in SEND_SECONDS,
                                             while reading the echo back on a second
                                             thread; prints `echoed N bytes in NS ns`
                                             (connect to the last byte echoed)
    echo.py serve PORT SECONDS               echoes every connection on a thread of its
                                             own; exits after SECONDS at the latest

Both bound themselves in time (socket timeouts, an alarm), so a stuck peer ends the run
instead of hanging it."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time

CHUNK = 256 * 1024  # bytes per send and per receive
# The payload repeats a 64 KiB block of varied bytes; the client checks every byte it
# gets back against what it sent at that offset.
PERIOD = 65536
PATTERN = bytes((i * 7 + (i >> 8) * 13) % 251 for i in range(PERIOD))


def client(host: str, port: int, total: int, send_seconds: float, seconds: float) -> int:
    signal.alarm(int(seconds) + 1)
    doubled = memoryview(PATTERN * (CHUNK // PERIOD + 2))
    failure: list[str] = []
    done = threading.Event()
    received = 0
    t0 = time.perf_counter()
    sock = socket.create_connection((host, port), timeout=seconds)

    def reader() -> None:
        nonlocal received
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:
            while received < total:
                n = sock.recv_into(view)
                if n == 0:
                    if received < total:  # `total` shrinks when the sender stops early
                        failure.append(f"the server closed after {received} of {total} bytes")
                    break
                start = received % PERIOD
                if buf[:n] != doubled[start:start + n]:
                    failure.append(f"bytes {received}..{received + n} differ from those sent")
                    break
                received += n
        except OSError as e:
            failure.append(f"receiving: {e}")
        done.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    sent = 0
    try:
        while sent < total and not done.is_set():
            n = min(CHUNK, total - sent)
            start = sent % PERIOD
            sock.sendall(doubled[start:start + n])
            sent += n
            if time.perf_counter() - t0 > send_seconds:
                total = sent  # the reader stops at what was sent
                break
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        failure.append(f"sending after {sent} bytes: {e}")
    done.wait(seconds)
    elapsed = time.perf_counter() - t0
    sock.close()
    if not done.is_set():
        failure.append(f"{received} of {total} bytes echoed after {seconds} s")
    if failure:
        print(f"echo client: {failure[0]}", file=sys.stderr)
        return 1
    print(f"echoed {received} bytes in {int(elapsed * 1e9)} ns")
    return 0


def serve(port: int, seconds: float) -> int:
    signal.alarm(int(seconds))
    listener = socket.create_server(("0.0.0.0", port), backlog=16)

    def echo(conn: socket.socket) -> None:
        buf = memoryview(bytearray(CHUNK))
        conn.settimeout(seconds)
        with conn:
            try:
                while n := conn.recv_into(buf):
                    conn.sendall(buf[:n])
            except OSError:
                pass

    print("echo server: listening", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=echo, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["client"] and len(a) == 6:
        sys.exit(client(a[1], int(a[2]), int(a[3]), float(a[4]), float(a[5])))
    if a[:1] == ["serve"] and len(a) == 3:
        sys.exit(serve(int(a[1]), float(a[2])))
    sys.exit(__doc__)
