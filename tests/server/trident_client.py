"""trident_client.py — test helpers for the TRIDENT server (Python standard library only).

Starts and stops a real `trident serve` process, speaks HTTP (http.client),
multipart uploads, and a minimal WebSocket client (RFC 6455) over a socket.
"""
import array
import base64
import http.client
import json
import math
import os
import re
import signal
import socket
import struct
import subprocess
import time
import uuid
import wave


class Server:
    """A `trident serve` process on a free loopback port (--port 0, read from the log)."""

    def __init__(self, binary, args, env_extra=None, log_path=None, ssl_context=None):
        self.binary = binary
        self.ssl_context = ssl_context  # set: the server speaks HTTPS (--tls-cert/--tls-key in args)
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("TRIDENT_MODEL", None)
        self.env.pop("TRIDENT_LORA", None)
        self.env.update(env_extra or {})
        self.log_path = log_path
        self.proc = None
        self.port = None

    def start(self, wait_ready=False, timeout=60):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.binary, "serve", "--port", "0"] + self.args, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"Listening url=\S+ port=(\d+)", self.log_text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + self.log_text())
            time.sleep(0.02)
        else:
            raise RuntimeError("server did not start:\n" + self.log_text())
        if wait_ready:
            self.wait_log("TRIDENT backend ready", timeout)
        return self

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.log_text():
                return
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_text())
            time.sleep(0.02)
        raise RuntimeError("timed out waiting for %r in the log:\n%s" % (needle, self.log_text()))

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("server did not stop on %s:\n%s" % (sig, self.log_text()))
        self.log.close()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None, timeout=120):
        if self.ssl_context:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def get_json(self, path, headers=None):
        status, _, data = self.request("GET", path, headers=headers)
        return status, json.loads(data) if data else None

    def upload(self, data, filename="audio.wav", field="file", content_type=None, headers=None):
        body, ctype = multipart({field: (filename, data)})
        status, headers, resp = self.request("POST", "/api/analyze", body,
                                             dict(headers or {}, **{"Content-Type": content_type or ctype}))
        try:
            parsed = json.loads(resp)
        except ValueError:
            parsed = None
        return status, headers, parsed

    def metrics(self, headers=None):
        status, _, data = self.request("GET", "/metrics", headers=headers)
        assert status == 200, status
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out


def multipart(fields):
    """fields: name -> (filename, bytes) or str. Returns (body, content type)."""
    boundary = "----trident" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, data = value
            parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                          "Content-Type: application/octet-stream\r\n\r\n" % (boundary, name, filename)).encode()
                         + data + b"\r\n")
        else:
            parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                          % (boundary, name, value)).encode())
    body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
    return body, "multipart/form-data; boundary=" + boundary


class Refused(Exception):
    """The server answered a WebSocket upgrade with an HTTP status instead of 101."""

    def __init__(self, head):
        super().__init__("handshake refused: %r" % head)
        self.head = head
        line = head.split(b"\r\n", 1)[0].split()
        self.status = int(line[1]) if len(line) > 1 and line[1].isdigit() else None


def connect(port, timeout=60, source=None, ssl_context=None):
    """A TCP connection to the server, from the loopback address source (e.g. "127.0.0.2") if given;
    TLS over it when ssl_context is given."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    return ssl_context.wrap_socket(s, server_hostname="localhost") if ssl_context else s


def raw_exchange(port, data, timeout=10, source=None):
    """Sends raw bytes and returns everything the server sends until it closes the connection."""
    s = connect(port, timeout, source)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


class WebSocket:
    """A minimal RFC 6455 client: masked frames out, text/binary/close frames in."""

    def __init__(self, port, path="/ws/live", timeout=60, source=None, headers=None, ssl_context=None):
        self.sock = connect(port, timeout, source, ssl_context)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (path, port, key, extra)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("connection closed during the handshake: %r" % head)
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            while True:  # the refusal's body, up to the server's close
                try:
                    chunk = self.sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                head += chunk
            self.sock.close()
            raise Refused(head)
        self.buf = b""
        self.closed = False

    def send_frame(self, opcode, payload, fin=True, rsv=0):
        header = bytes([(0x80 if fin else 0) | rsv | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
        self.sock.sendall(header + mask + masked)

    def send_binary(self, payload):
        self.send_frame(0x2, payload)

    def send_text(self, text):
        self.send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self, timeout=None, control=False):
        """Returns (opcode, payload) of the next whole message; opcode 8 on close. Pings are
        answered; with control=True pings and pongs are returned instead."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        data, first_op = b"", None
        while True:
            b0, b1 = self._read(2)
            op, fin, n = b0 & 0x0F, b0 & 0x80, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            if b1 & 0x80:
                mask = self._read(4)
                payload = _mask_fast(self._read(n), mask)
            else:
                payload = self._read(n)
            if control and op in (0x9, 0xA):
                return op, payload
            if op == 0x9:
                self.send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                self.closed = True
                return 8, payload
            if first_op is None:
                first_op = op
            data += payload
            if fin:
                return first_op, data

    def recv_event(self, timeout=None):
        op, data = self.recv(timeout)
        if op == 8:
            return None
        assert op == 1, "expected a text message, got opcode %d" % op
        return json.loads(data)

    def close(self):
        try:
            if not self.closed:
                self.send_frame(0x8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


def _mask_fast(payload, mask):
    n = len(payload)
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(m, "little")).to_bytes(n, "little")


def read_wav_pcm16_mono(data):
    """Parses a PCM16 mono WAV: returns (rate, n_samples)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", data[:16]
    pos, rate, n = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt, ch, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
            assert ch == 1 and bits == 16, (ch, bits)
        elif cid == b"data":
            n = size // 2
        pos += 8 + size + (size & 1)
    return rate, n


def wav_container(data, rate=16000, float32=False):
    """A mono WAV file around little-endian samples: PCM16, or IEEE float32."""
    fmt, width = (3, 4) if float32 else (1, 2)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, fmt, 1, rate, rate * width, width, 8 * width) + b"data" +
            struct.pack("<I", len(data)) + data)


def tone_wav(seconds=0.3, freq=440.0):
    """A 16-kHz PCM16 WAV of a sine tone."""
    n = int(16000 * seconds)
    return wav_container(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * freq * i / 16000)))
                                  for i in range(n)))


def wav_float32(path):
    """A 16-kHz mono PCM16 WAV file → float32 little-endian samples (what /ws/live takes)."""
    with wave.open(path) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            raise ValueError("%s is not 16-kHz mono PCM16" % path)
        pcm = array.array("h", w.readframes(w.getnframes()))
    return array.array("f", (x / 32768.0 for x in pcm)).tobytes()


def run_server_tests(what, servers, tmp, tail=3000):
    """Runs the registered tests (trident_testing.run_tests) around real servers: servers()
    returns the Server objects in play (a list, or None entries to skip); a failing test
    prints their logs' tails; at the end every server still running is stopped and, when
    every test passed, tmp is removed. Returns the process's exit code."""
    import shutil
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
    from trident_testing import run_tests

    def live():
        return [s for s in servers() if s is not None and s.proc]

    def on_failure(fn):
        for s in live():
            print("---- %s (tail)\n%s" % (s.log_path, s.log_text()[-tail:]), flush=True)

    def finish(failed):
        for s in live():
            if s.proc.poll() is None:
                s.stop()
        if not failed:
            shutil.rmtree(tmp, ignore_errors=True)

    return run_tests(what, on_failure, finish)


def check_servers_exit_cleanly(servers):
    """Stops every server still running with SIGTERM and checks it exits 0 (under ASan: no
    leak, no error report)."""
    for s in servers:
        if s.proc and s.proc.poll() is None:
            rc = s.stop()
            if rc != 0:
                raise AssertionError("%s exited with %s:\n%s" % (s.log_path, rc, s.log_text()[-3000:]))
