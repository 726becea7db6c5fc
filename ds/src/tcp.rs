//! The embedded delivery service over loopback TCP: [`TcpServer`] serves an
//! [`EmbeddedDs`](crate::embedded::EmbeddedDs) to [`TcpDs`] clients, so a meeting's
//! handshakes cross a real socket with no setup.
//!
//! ```text
//!  request:  uint8 op; uint32 len; opaque body[len]
//!  response: uint8 status (0 ok, 1 conflict, 2 none, 3 refused, 4 error); uint32 len; body
//!  op 1 publish(message)                     → ok: uint64 seq | conflict
//!  op 2 fetch(meeting<V>, uint64 after, uint32 max) → ok: { uint64 seq; opaque entry<V>; }*
//!  op 3 publish_key_package(owner<V>, uint8 last_resort, key_package)
//!  op 4 claim_key_package(owner)              → ok: key package | none
//!  op 5 put_group_info(group_info)
//!  op 6 group_info(meeting)                   → ok: group info | none
//!  op 7 send_welcome(owner<V>, welcome)
//!  op 8 take_welcome(owner)                   → ok: welcome | none
//!  <V>: uint32 length prefix
//! ```
//!
//! The server starts one thread to accept and one per connection (it is a server: the
//! application starts it explicitly, and [`TcpServer::shutdown`] stops it). Requests larger
//! than [`MAX_FRAME`] are refused before anything is allocated for them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use meetkey::mls::{KeyPackage, MlsMessage};

use crate::embedded::EmbeddedDs;
use crate::{encode, DeliveryService, DsError, Entry, Published};

/// The largest request or response body.
pub const MAX_FRAME: usize = 16 << 20;

const OP_PUBLISH: u8 = 1;
const OP_FETCH: u8 = 2;
const OP_PUBLISH_KP: u8 = 3;
const OP_CLAIM_KP: u8 = 4;
const OP_PUT_GI: u8 = 5;
const OP_GET_GI: u8 = 6;
const OP_SEND_WELCOME: u8 = 7;
const OP_TAKE_WELCOME: u8 = 8;

const ST_OK: u8 = 0;
const ST_CONFLICT: u8 = 1;
const ST_NONE: u8 = 2;
const ST_REFUSED: u8 = 3;
const ST_ERROR: u8 = 4;

fn write_frame(s: &mut TcpStream, tag: u8, body: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(body.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    s.write_all(&out)
}

fn read_frame(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head)?;
    let [tag, a, b, c, d] = head;
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    if len > MAX_FRAME {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok((tag, body))
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b);
}

/// A reader over a request body; every read is bounds-checked.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// The embedded service, served on a loopback port.
#[derive(Debug)]
pub struct TcpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TcpServer {
    /// Serves `ds` on 127.0.0.1 (a free port).
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start(ds: EmbeddedDs) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let ds = ds.clone();
                std::thread::spawn(move || serve(conn, ds));
            }
        });
        Ok(Self {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// Where it listens.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections (open ones end when their clients hang up).
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Answers one connection's requests until it closes or sends something malformed.
fn serve(mut conn: TcpStream, mut ds: EmbeddedDs) {
    while let Ok((op, body)) = read_frame(&mut conn) {
        let (status, reply) = match handle(&mut ds, op, &body) {
            Ok(r) => r,
            Err(DsError::Refused(_)) => (ST_REFUSED, Vec::new()),
            Err(DsError::Unavailable(_)) => (ST_ERROR, Vec::new()),
        };
        if write_frame(&mut conn, status, &reply).is_err() {
            break;
        }
    }
}

fn message(bytes: &[u8]) -> Result<MlsMessage, DsError> {
    MlsMessage::from_bytes(bytes).map_err(|_| DsError::Refused("malformed message"))
}

fn optional(v: Option<Vec<u8>>) -> (u8, Vec<u8>) {
    v.map_or((ST_NONE, Vec::new()), |b| (ST_OK, b))
}

fn handle(ds: &mut EmbeddedDs, op: u8, body: &[u8]) -> Result<(u8, Vec<u8>), DsError> {
    let malformed = || DsError::Refused("malformed request");
    let mut b = Body(body);
    Ok(match op {
        OP_PUBLISH => match ds.publish(&message(body)?)? {
            Published::Appended { seq } => (ST_OK, seq.to_be_bytes().to_vec()),
            Published::Conflict => (ST_CONFLICT, Vec::new()),
        },
        OP_FETCH => {
            let meeting = b.bytes().ok_or_else(malformed)?;
            let after = b.u64().ok_or_else(malformed)?;
            let max = b.u32().ok_or_else(malformed)? as usize;
            let mut out = Vec::new();
            for e in ds.fetch(meeting, after, max.min(1024))? {
                if out.len() + e.message.len() + 12 > MAX_FRAME {
                    break;
                }
                out.extend_from_slice(&e.seq.to_be_bytes());
                put_bytes(&mut out, &e.message);
            }
            (ST_OK, out)
        }
        OP_PUBLISH_KP => {
            let owner = b.bytes().ok_or_else(malformed)?;
            let last_resort = b.u8().ok_or_else(malformed)? == 1;
            let kp = KeyPackage::try_from(message(b.rest())?)
                .map_err(|_| DsError::Refused("not a KeyPackage"))?;
            ds.publish_key_package(owner, &kp, last_resort)?;
            (ST_OK, Vec::new())
        }
        OP_CLAIM_KP => optional(ds.claim_key_package(body)?),
        OP_PUT_GI => {
            ds.put_group_info(&message(body)?)?;
            (ST_OK, Vec::new())
        }
        OP_GET_GI => optional(ds.group_info(body)?),
        OP_SEND_WELCOME => {
            let owner = b.bytes().ok_or_else(malformed)?;
            ds.send_welcome(owner, &message(b.rest())?)?;
            (ST_OK, Vec::new())
        }
        OP_TAKE_WELCOME => optional(ds.take_welcome(body)?),
        _ => return Err(DsError::Refused("unknown operation")),
    })
}

/// A client of a [`TcpServer`].
#[derive(Debug)]
pub struct TcpDs {
    conn: TcpStream,
}

impl TcpDs {
    /// Connects to the server at `addr`; every request may take `timeout`.
    ///
    /// # Errors
    /// [`DsError::Unavailable`] when it cannot connect.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Self, DsError> {
        let io = |e: std::io::Error| DsError::Unavailable(e.to_string());
        let conn = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
        conn.set_read_timeout(Some(timeout)).map_err(io)?;
        conn.set_write_timeout(Some(timeout)).map_err(io)?;
        conn.set_nodelay(true).map_err(io)?;
        Ok(Self { conn })
    }

    fn call(&mut self, op: u8, body: &[u8]) -> Result<(u8, Vec<u8>), DsError> {
        let io = |e: std::io::Error| DsError::Unavailable(e.to_string());
        write_frame(&mut self.conn, op, body).map_err(io)?;
        let (status, reply) = read_frame(&mut self.conn).map_err(io)?;
        match status {
            ST_REFUSED => Err(DsError::Refused("refused by the server")),
            ST_ERROR => Err(DsError::Unavailable("server error".into())),
            s => Ok((s, reply)),
        }
    }

    fn optional(&mut self, op: u8, body: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        Ok(match self.call(op, body)? {
            (ST_OK, b) => Some(b),
            _ => None,
        })
    }
}

fn bad_reply() -> DsError {
    DsError::Unavailable("malformed reply".into())
}

impl DeliveryService for TcpDs {
    fn publish(&mut self, message: &MlsMessage) -> Result<Published, DsError> {
        crate::handshake_of(message)?;
        match self.call(OP_PUBLISH, &encode(message)?)? {
            (ST_CONFLICT, _) => Ok(Published::Conflict),
            (ST_OK, b) => Ok(Published::Appended {
                seq: Body(&b).u64().ok_or_else(bad_reply)?,
            }),
            _ => Err(bad_reply()),
        }
    }

    fn fetch(&mut self, meeting: &[u8], after: u64, max: usize) -> Result<Vec<Entry>, DsError> {
        let mut req = Vec::new();
        put_bytes(&mut req, meeting);
        req.extend_from_slice(&after.to_be_bytes());
        req.extend_from_slice(&u32::try_from(max).unwrap_or(u32::MAX).to_be_bytes());
        let (_, reply) = self.call(OP_FETCH, &req)?;
        let mut b = Body(&reply);
        let mut out = Vec::new();
        while !b.0.is_empty() {
            let seq = b.u64().ok_or_else(bad_reply)?;
            let message = b.bytes().ok_or_else(bad_reply)?.to_vec();
            out.push(Entry { seq, message });
        }
        Ok(out)
    }

    fn publish_key_package(
        &mut self,
        owner: &[u8],
        key_package: &KeyPackage,
        last_resort: bool,
    ) -> Result<(), DsError> {
        let mut req = Vec::new();
        put_bytes(&mut req, owner);
        req.push(u8::from(last_resort));
        req.extend_from_slice(&encode(&MlsMessage::from(key_package.clone()))?);
        self.call(OP_PUBLISH_KP, &req).map(|_| ())
    }

    fn claim_key_package(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        self.optional(OP_CLAIM_KP, owner)
    }

    fn put_group_info(&mut self, group_info: &MlsMessage) -> Result<(), DsError> {
        let (_, bytes) = crate::group_info_of(group_info)?;
        self.call(OP_PUT_GI, &bytes).map(|_| ())
    }

    fn group_info(&mut self, meeting: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        self.optional(OP_GET_GI, meeting)
    }

    fn send_welcome(&mut self, owner: &[u8], welcome: &MlsMessage) -> Result<(), DsError> {
        let mut req = Vec::new();
        put_bytes(&mut req, owner);
        req.extend_from_slice(&crate::welcome_bytes(welcome)?);
        self.call(OP_SEND_WELCOME, &req).map(|_| ())
    }

    fn take_welcome(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        self.optional(OP_TAKE_WELCOME, owner)
    }
}
