//! A stand-in for a DevTools window attached to `wrangler dev`'s inspector.
//!
//! wrangler's inspector proxy (`InspectorProxyWorker`, in wrangler's own workerd) subscribes to
//! the Worker's inspector (`Runtime.enable`, `Network.enable`) and keeps every event it receives
//! in a buffer (`runtimeMessageBuffer`) that is emptied only into a connected DevTools client.
//! With nobody attached that buffer grows with every request for as long as `wrangler dev`
//! runs: tens of KiB per request in wrangler's proxy workerd, whatever the Worker is (the
//! hand-written bench Worker shows it too). The soak attaches this client, which reads and
//! drops every message, so that the memory it measures is the Worker's and not that buffer's.
//!
//! Attached, it also measures what the Worker's isolate keeps: every [`HEAP_EVERY`] (and once
//! more when told to stop) it sends `HeapProfiler.collectGarbage` and then
//! `Runtime.getHeapUsage` to the Worker's inspector, so each sample is the JavaScript heap that
//! survives a full collection (plus the array buffers, the wasm memory among them, where V8
//! reports them), which is what a leak in the Worker would grow.
//!
//! The client is a minimal RFC 6455 WebSocket client over loopback: the upgrade request carries
//! neither `Origin` nor `User-Agent` (how wrangler recognises VS Code's debugger, which it
//! admits); it answers pings and counts what it read.

use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util::Result;

/// How long the drain waits for a byte before it checks whether it should stop.
const POLL: Duration = Duration::from_millis(200);
/// How often the Worker's heap is measured.
pub(crate) const HEAP_EVERY: Duration = Duration::from_secs(5);
/// How long the last heap measurement may take once the drain is told to stop.
const LAST_PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// Command ids of the drain start here, far below wrangler's own (100000001 on).
const FIRST_ID: u64 = 1;

/// One measurement of the Worker isolate's heap after a full garbage collection (bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeapSample {
    /// Since the drain started.
    pub(crate) at: Duration,
    /// `usedSize`: live JavaScript heap.
    pub(crate) used: u64,
    /// `totalSize`: the heap V8 has reserved.
    pub(crate) total: u64,
    /// `backingStorageSize` (array buffers, wasm memories), where this V8 reports it.
    pub(crate) backing: Option<u64>,
}

/// What the drain read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Drained {
    pub(crate) messages: u64,
    pub(crate) bytes: u64,
    /// The inspector ended the connection before the drain was told to stop.
    pub(crate) closed_early: bool,
    /// The heap of the Worker's isolate, every [`HEAP_EVERY`] and at the end.
    pub(crate) heap: Vec<HeapSample>,
    /// An error the inspector answered a heap command with, if any.
    pub(crate) heap_error: Option<String>,
}

/// A connected DevTools stand-in; [`Drain::run`] reads until `stop` is set.
pub(crate) struct Drain {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Drain {
    /// Connects to the inspector proxy on 127.0.0.1:`port` (`wrangler dev --inspector-port`)
    /// and completes the WebSocket upgrade of `/ws`.
    pub(crate) fn connect(port: u16) -> Result<Drain> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let fail = |e: std::io::Error| format!("DevTools stand-in: inspector on {addr}: {e}");
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(fail)?;
        // wrangler answers the upgrade only once it is connected to the Worker's inspector.
        stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(fail)?;
        let mut writer = stream.try_clone().map_err(fail)?;
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: bGF5ZXJzIHNvYWsgZHJhaW4=\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        writer.write_all(request.as_bytes()).map_err(fail)?;
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            reader.read_exact(&mut byte).map_err(fail)?;
            head.push(byte[0]);
            if head.len() > 16 * 1024 {
                return Err(format!("DevTools stand-in: inspector on {addr}: upgrade response too long"));
            }
        }
        let head = String::from_utf8_lossy(&head);
        let status = head.lines().next().unwrap_or_default();
        if status.split(' ').nth(1) != Some("101") {
            return Err(format!("DevTools stand-in: inspector on {addr} refused the upgrade: {status}"));
        }
        reader.get_ref().set_read_timeout(Some(POLL)).map_err(fail)?;
        Ok(Drain { reader, writer })
    }

    /// Sends one command (a masked text frame; the all-zero key leaves the payload as it is).
    fn send(&mut self, id: u64, method: &str) -> std::io::Result<()> {
        let text = format!("{{\"id\":{id},\"method\":\"{method}\"}}");
        let mut frame = vec![0x81];
        match text.len() {
            n @ 0..=125 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(text.as_bytes());
        self.writer.write_all(&frame)
    }

    /// Sends `HeapProfiler.collectGarbage` and `Runtime.getHeapUsage`; returns the latter's id.
    fn probe(&mut self, next_id: &mut u64) -> Result<u64> {
        let id = *next_id;
        *next_id += 2;
        self.send(id, "HeapProfiler.collectGarbage")
            .and_then(|()| self.send(id + 1, "Runtime.getHeapUsage"))
            .map_err(|e| format!("DevTools stand-in: sending a heap probe: {e}"))?;
        Ok(id + 1)
    }

    /// Reads and drops messages until `stop` is set or the inspector closes the connection,
    /// measuring the Worker's heap along the way (see the module docs). The first heap probe
    /// is answered after everything wrangler buffered before the stand-in attached; `settled`
    /// is set then, and sample times count from it.
    pub(crate) fn run(mut self, stop: &AtomicBool, settled: &AtomicBool) -> Result<Drained> {
        let mut started = Instant::now();
        let mut drained = Drained::default();
        let mut next_id = FIRST_ID;
        // The `Runtime.getHeapUsage` whose answer is awaited, if any.
        let mut awaited: Option<u64> = None;
        let mut next_probe = started;
        // Once `stop` is set: a last probe is sent and awaited until this deadline.
        let mut finishing: Option<Instant> = None;
        loop {
            let now = Instant::now();
            match finishing {
                None if stop.load(Ordering::Relaxed) => {
                    awaited = Some(self.probe(&mut next_id)?);
                    finishing = Some(now + LAST_PROBE_TIMEOUT);
                }
                None if awaited.is_none() && now >= next_probe => {
                    awaited = Some(self.probe(&mut next_id)?);
                    next_probe = now + HEAP_EVERY;
                }
                Some(deadline) if awaited.is_none() || now >= deadline => return Ok(drained),
                _ => {}
            }
            let (opcode, payload) = match self.frame().map_err(|e| format!("DevTools stand-in: {e}"))? {
                Frame::Idle => continue,
                Frame::End => {
                    drained.closed_early = finishing.is_none();
                    return Ok(drained);
                }
                Frame::Data(opcode, payload) => (opcode, payload),
            };
            match opcode {
                // A ping must be answered with its payload (client frames are masked; the
                // all-zero key leaves the payload as it is).
                0x9 => {
                    let mut pong = vec![0x8A, 0x80 | payload.len().min(125) as u8, 0, 0, 0, 0];
                    pong.extend_from_slice(&payload[..payload.len().min(125)]);
                    self.writer.write_all(&pong).map_err(|e| format!("DevTools stand-in: pong: {e}"))?;
                }
                0x8 => {
                    drained.closed_early = finishing.is_none();
                    return Ok(drained);
                }
                0x1 | 0x2 => {
                    drained.messages += 1;
                    drained.bytes += payload.len() as u64;
                    // Answers to this client's commands: `{"id":N,…}` with N below wrangler's.
                    if payload.starts_with(b"{\"id\":") {
                        if let Some((id, answer)) = answer(&payload) {
                            if Some(id) == awaited {
                                awaited = None;
                            }
                            if !settled.load(Ordering::Relaxed) {
                                started = Instant::now();
                                settled.store(true, Ordering::Relaxed);
                            }
                            match answer {
                                Answer::Heap { used, total, backing } => {
                                    drained.heap.push(HeapSample { at: started.elapsed(), used, total, backing })
                                }
                                Answer::Error(e) => drained.heap_error = Some(e),
                                Answer::Other => {}
                            }
                        }
                    }
                }
                // Continuations are counted with their bytes only; pongs are ignored.
                _ => drained.bytes += payload.len() as u64,
            }
        }
    }

    /// The next frame (`opcode`, unmasked payload); [`Frame::Idle`] when nothing arrived for
    /// [`POLL`] at a frame boundary, [`Frame::End`] when the connection ended there.
    fn frame(&mut self) -> std::io::Result<Frame> {
        let mut head = [0u8; 2];
        match self.fill(&mut head, true)? {
            Fill::Full => {}
            Fill::Idle => return Ok(Frame::Idle),
            Fill::End => return Ok(Frame::End),
        }
        let opcode = head[0] & 0x0F;
        let masked = head[1] & 0x80 != 0;
        let len = match head[1] & 0x7F {
            126 => {
                let mut b = [0u8; 2];
                self.fill(&mut b, false)?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                self.fill(&mut b, false)?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut key = [0u8; 4];
        if masked {
            self.fill(&mut key, false)?;
        }
        if len > 256 * 1024 * 1024 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("frame of {len} bytes")));
        }
        let mut payload = vec![0u8; len as usize];
        self.fill(&mut payload, false)?;
        if masked {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        Ok(Frame::Data(opcode, payload))
    }

    /// Fills `buf`, waiting out read timeouts. At a frame boundary (`boundary`, nothing read
    /// yet) a timeout yields [`Fill::Idle`] and an orderly end [`Fill::End`]; inside a frame
    /// the end of the stream is an error.
    fn fill(&mut self, buf: &mut [u8], boundary: bool) -> std::io::Result<Fill> {
        let mut at = 0;
        while at < buf.len() {
            match self.reader.read(&mut buf[at..]) {
                Ok(0) if boundary && at == 0 => return Ok(Fill::End),
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => at += n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    if boundary && at == 0 {
                        return Ok(Fill::Idle);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Fill::Full)
    }
}

enum Fill {
    Full,
    Idle,
    End,
}

enum Frame {
    Idle,
    End,
    Data(u8, Vec<u8>),
}

/// What the inspector answered one of this client's commands.
enum Answer {
    Heap { used: u64, total: u64, backing: Option<u64> },
    Error(String),
    Other,
}

/// Parses an answer `{"id":N,"result":…}` / `{"id":N,"error":…}` to a command of this client
/// (ids below wrangler's own); `None` for anything else.
fn answer(payload: &[u8]) -> Option<(u64, Answer)> {
    let doc: serde_json::Value = serde_json::from_slice(payload).ok()?;
    let id = doc["id"].as_u64().filter(|id| (FIRST_ID..100_000_000).contains(id))?;
    if let Some(e) = doc.get("error") {
        return Some((id, Answer::Error(e.to_string())));
    }
    let r = &doc["result"];
    let answer = match (r["usedSize"].as_f64(), r["totalSize"].as_f64()) {
        (Some(used), Some(total)) => Answer::Heap {
            used: used as u64,
            total: total as u64,
            backing: r["backingStorageSize"].as_f64().map(|b| b as u64),
        },
        _ => Answer::Other,
    };
    Some((id, answer))
}
