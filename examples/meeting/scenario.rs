//! The whole-meeting scenario shared by `examples/meeting` and `tests/meeting_relays.rs`.
//!
//! ```text
//!  relays (threads, 127.0.0.1:0)  eu-west: eu-w-1 (DE, primary)  eu-w-2 (FR, primary)
//!                                          eu-w-s1 (NL, secondary)  eu-w-x1 (CN, secondary,
//!                                          least loaded — outside every fence)
//!                                  us-east: us-e-1 (US)   ap-east: ap-e-1 (CN)
//!  signed directory (fixed test operator key) ─► DirectoryVerifier ─► Directory
//!  participant: own policy ∩ meeting policy ─► select ─► route ─► TCP to its first healthy hop
//!  frame: participant ─PUBLISH─► its relay ─FORWARD─► other relays in use ─FETCH─► participants
//! ```
//!
//! Handshake messages go through a delivery service (`meetkey-ds`: the embedded one served on
//! a loopback port, or NATS JetStream with `--ds nats://...`): commits and proposals into the meeting's ordered log
//! (the first commit of an epoch wins; two participants race once and the loser re-issues),
//! KeyPackages claimed from it, Welcomes and GroupInfos through it; every participant
//! processes the log from its own cursor. Media frames go through the relays. Every relay and
//! the delivery service record every byte they carry; the caller asserts none of it is
//! plaintext or key material.
//! Deterministic: seeded RNG, a simulated clock, sequential rounds; sockets have timeouts and
//! every loop is bounded.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meetkey::meeting::CommitIntent;
use meetkey::meeting::{Event, MediaStream, Meeting, MeetingConfig};
use meetkey::mls::{KeyPackage, Lifetime, MlsMessage};
use meetkey::routing::{
    Directory, DirectoryVerifier, Health, HealthStatus, Jurisdiction, Policy, Reason,
    SignedDirectory, Tier,
};
use meetkey::{CipherSuite, SignaturePrivateKey};
use meetkey_ds::embedded::EmbeddedDs;
use meetkey_ds::nats::{NatsConfig, NatsDs};
use meetkey_ds::tcp::{TcpDs, TcpServer};
use meetkey_ds::{DeliveryService, Published};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Errors of the scenario (I/O, meetkey, or a broken expectation).
pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn fail<T>(msg: impl Into<String>) -> Res<T> {
    Err(msg.into().into())
}

/// Wall-clock time for the rotation timings the demo prints; no decision depends on it (the
/// meeting's clock is simulated).
#[allow(
    clippy::disallowed_methods,
    reason = "reporting only; time is an input elsewhere"
)]
fn stopwatch() -> Instant {
    Instant::now()
}

const IO_TIMEOUT: Duration = Duration::from_secs(5);
const OP_PUBLISH: u8 = 1;
const OP_FORWARD: u8 = 2;
const OP_FETCH: u8 = 3;
const ACK: u8 = 0;
const REFUSED: u8 = 0xFF;
/// Upper bound of one message on the relay protocol.
const MAX_MESSAGE: usize = 1 << 20;
/// Marks every plaintext frame, so relays' captures can be searched for it.
pub(crate) const PLAINTEXT_MARKER: &[u8] = b"MEDIA|";

/// What the scenario does.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Participants in total (at least 4): the creator, Welcome joiners, two joiners admitted from the waiting room.
    pub(crate) participants: usize,
    /// Frames each participant sends per media round.
    pub(crate) frames_per_round: usize,
    /// RNG seed.
    pub(crate) seed: u64,
    /// Print the timeline as it happens.
    pub(crate) verbose: bool,
    /// The delivery service: `None` for the embedded one, or a NATS URL.
    pub(crate) ds: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            participants: 12,
            frames_per_round: 3,
            seed: 2026,
            verbose: true,
            ds: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Relays

#[derive(Debug, Default)]
struct RelayState {
    /// Frames received (published here or forwarded from another relay), in order.
    log: Vec<Vec<u8>>,
    /// Every byte received for forwarding, concatenated (the capture audited afterwards).
    capture: Vec<u8>,
    frames_in: u64,
    frames_out: u64,
    bytes_in: u64,
    /// Peer relays to forward published frames to.
    peers: Vec<SocketAddr>,
}

#[derive(Debug)]
struct Relay {
    id: String,
    region: String,
    jurisdiction: String,
    tier: Tier,
    weight: u32,
    addr: SocketAddr,
    state: Arc<Mutex<RelayState>>,
    down: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn lock(state: &Mutex<RelayState>) -> std::sync::MutexGuard<'_, RelayState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn write_msg(s: &mut TcpStream, op: u8, body: &[u8]) -> Res<()> {
    let len = u32::try_from(body.len())?;
    let mut buf = Vec::with_capacity(5 + body.len());
    buf.push(op);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(body);
    s.write_all(&buf)?;
    Ok(())
}

fn read_msg(s: &mut TcpStream) -> Res<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head)?;
    let [op, a, b, c, d] = head;
    let len = usize::try_from(u32::from_be_bytes([a, b, c, d]))?;
    if len > MAX_MESSAGE {
        return fail("relay message too large");
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok((op, body))
}

fn connect(addr: SocketAddr) -> Res<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// One request on a fresh connection; returns the reply.
fn request(addr: SocketAddr, op: u8, body: &[u8]) -> Res<(u8, Vec<u8>)> {
    let mut s = connect(addr)?;
    write_msg(&mut s, op, body)?;
    read_msg(&mut s)
}

fn handle(mut s: TcpStream, state: &Mutex<RelayState>, down: &AtomicBool) -> Res<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let (op, body) = read_msg(&mut s)?;
    if down.load(Ordering::SeqCst) {
        return write_msg(&mut s, REFUSED, b"outage");
    }
    match op {
        OP_PUBLISH | OP_FORWARD => {
            let peers = {
                let mut st = lock(state);
                st.capture.extend_from_slice(&body);
                st.bytes_in = st.bytes_in.saturating_add(u64::try_from(body.len())?);
                st.frames_in = st.frames_in.saturating_add(1);
                st.log.push(body.clone());
                if op == OP_PUBLISH {
                    st.peers.clone()
                } else {
                    Vec::new()
                }
            };
            for peer in peers {
                // A peer in outage just misses the frame (its clients moved away).
                let _ = request(peer, OP_FORWARD, &body);
            }
            write_msg(&mut s, ACK, b"")
        }
        OP_FETCH => {
            let from = body
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or("bad fetch")?;
            let mut out = Vec::new();
            {
                let mut st = lock(state);
                let from = usize::try_from(from)?.min(st.log.len());
                let frames = st.log.get(from..).unwrap_or_default();
                out.extend_from_slice(&u32::try_from(frames.len())?.to_be_bytes());
                for f in frames {
                    out.extend_from_slice(&u32::try_from(f.len())?.to_be_bytes());
                    out.extend_from_slice(f);
                }
                let n = u64::try_from(frames.len())?;
                st.frames_out = st.frames_out.saturating_add(n);
            }
            write_msg(&mut s, ACK, &out)
        }
        _ => write_msg(&mut s, REFUSED, b"unknown op"),
    }
}

impl Relay {
    fn start(id: &str, region: &str, jurisdiction: &str, tier: Tier, weight: u32) -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(RelayState::default()));
        let down = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, dn, sp) = (state.clone(), down.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, dn) = (st.clone(), dn.clone());
                // One short-lived handler per request; requests carry their own timeouts.
                std::thread::spawn(move || {
                    let _ = handle(conn, &st, &dn);
                });
            }
        });
        Ok(Self {
            id: id.to_owned(),
            region: region.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
            tier,
            weight,
            addr,
            state,
            down,
            stop,
            thread: Some(thread),
        })
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Participants

struct Participant {
    name: String,
    meeting: Meeting,
    own_policy: Policy,
    health: Health,
    /// The relay currently used and why it was chosen.
    relay: Option<String>,
    why: String,
    /// Next log index to fetch, per relay.
    cursors: BTreeMap<String, u32>,
    /// Frames already seen (a frame reaches a participant once per relay it fetched from).
    seen: std::collections::HashSet<Vec<u8>>,
    received: u64,
    signer_seed: [u8; 32],
    active: bool,
    /// The position of the last entry of the meeting's log it processed.
    cursor: u64,
}

/// A line of the summary table: one participant.
#[derive(Debug, Clone)]
pub(crate) struct RouteRow {
    /// Participant name.
    pub(crate) name: String,
    /// The relay in use at the end.
    pub(crate) relay: String,
    /// Why (the audit reason and role).
    pub(crate) why: String,
    /// Relays used over the meeting, in order.
    pub(crate) history: Vec<String>,
    /// Final epoch.
    pub(crate) epoch: u64,
    /// Frames decrypted.
    pub(crate) received: u64,
}

/// A line of the summary table: one relay.
#[derive(Debug, Clone)]
pub(crate) struct RelayRow {
    /// Relay id.
    pub(crate) id: String,
    /// Region.
    pub(crate) region: String,
    /// Jurisdiction.
    pub(crate) jurisdiction: String,
    /// Tier.
    pub(crate) tier: String,
    /// Directory weight (higher: less loaded).
    pub(crate) weight: u32,
    /// Frames received for forwarding.
    pub(crate) frames_in: u64,
    /// Frames delivered to participants.
    pub(crate) frames_out: u64,
    /// Bytes seen.
    pub(crate) bytes: u64,
    /// The capture (for the audits).
    #[allow(dead_code, reason = "read by tests/meeting_relays.rs")]
    pub(crate) capture: Vec<u8>,
}

/// What happened, for the summary table and the assertions.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The timeline lines.
    pub(crate) timeline: Vec<String>,
    /// Participants.
    pub(crate) routes: Vec<RouteRow>,
    /// Relays.
    pub(crate) relays: Vec<RelayRow>,
    /// (what, epoch, milliseconds) of each rotation.
    pub(crate) rotations: Vec<(String, u64, f64)>,
    /// Frames sent and frames decrypted in total.
    pub(crate) frames_sent: u64,
    /// Frames decrypted in total.
    pub(crate) frames_decrypted: u64,
    /// Whether every active participant showed the same security code.
    pub(crate) codes_match: bool,
    /// The security code compared.
    pub(crate) security_code: String,
    /// Whether any plaintext marker or plaintext frame appeared in a relay capture.
    pub(crate) plaintext_leaked: bool,
    /// Whether key material of any participant appeared in a relay capture.
    pub(crate) key_material_leaked: bool,
    /// Final epoch.
    pub(crate) final_epoch: u64,
    /// Ids of relays whose jurisdiction the meeting policy excludes.
    pub(crate) excluded_relays: Vec<String>,
    /// The delivery service: which, and what it carried.
    pub(crate) ds: DsReport,
}

/// What the delivery service carried.
#[derive(Debug, Default, Clone)]
pub(crate) struct DsReport {
    /// "embedded" or the NATS URL.
    pub(crate) backend: String,
    /// Handshakes published (commits and proposals).
    pub(crate) published: u64,
    /// Commits refused because another commit of their epoch came first.
    pub(crate) conflicts: u64,
    /// Bytes handed to the service, and fetched from it.
    pub(crate) bytes_up: u64,
    pub(crate) bytes_down: u64,
    /// Milliseconds from publishing a commit to its position in the log (the ordering).
    pub(crate) ordering_ms: Vec<f64>,
    /// Whether the service's capture held plaintext or key material.
    pub(crate) plaintext_leaked: bool,
    pub(crate) key_material_leaked: bool,
    /// Every byte the service stored or forwarded (for the audits).
    #[allow(dead_code, reason = "read by tests/meeting_relays.rs")]
    pub(crate) capture: Vec<u8>,
}

impl DsReport {
    /// The `q`-quantile of the ordering latencies.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list of samples"
    )]
    pub(crate) fn ordering(&self, q: f64) -> f64 {
        let mut v = self.ordering_ms.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len().saturating_sub(1)) as f64 * q).round() as usize;
        v.get(i).copied().unwrap_or(0.0)
    }
}

/// The delivery service as the scenario uses it: every byte in and out is captured.
struct Ds {
    inner: Box<dyn DeliveryService>,
    report: DsReport,
    meeting: Vec<u8>,
    /// The embedded service's loopback server, when it is the one in use.
    _server: Option<TcpServer>,
}

impl Ds {
    fn new(url: Option<&str>, meeting: &[u8]) -> Res<Self> {
        let (inner, backend, server): (Box<dyn DeliveryService>, String, _) = match url {
            None => {
                let server = TcpServer::start(EmbeddedDs::new())?;
                let client = TcpDs::connect(server.addr(), Duration::from_secs(5))?;
                let label = format!("embedded, loopback TCP {}", server.addr());
                (Box::new(client), label, Some(server))
            }
            Some(u) => (
                Box::new(NatsDs::connect(u, &NatsConfig::default())?),
                u.to_owned(),
                None,
            ),
        };
        Ok(Self {
            inner,
            report: DsReport {
                backend,
                ..DsReport::default()
            },
            meeting: meeting.to_vec(),
            _server: server,
        })
    }

    fn up(&mut self, bytes: &[u8]) {
        self.report.bytes_up += bytes.len() as u64;
        self.report.capture.extend_from_slice(bytes);
    }

    fn down(&mut self, bytes: &[u8]) {
        self.report.bytes_down += bytes.len() as u64;
        self.report.capture.extend_from_slice(bytes);
    }

    /// Publishes a handshake; returns its position, or `None` for a commit that lost its
    /// epoch.
    fn publish(&mut self, msg: &MlsMessage) -> Res<Option<u64>> {
        let bytes = msg.to_bytes()?;
        self.up(&bytes);
        self.report.published += 1;
        let t = stopwatch();
        let outcome = self.inner.publish(msg)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Published::Appended { seq } => {
                if msg.kind() == meetkey::mls::MessageKind::Commit {
                    self.report.ordering_ms.push(ms);
                }
                Ok(Some(seq))
            }
            Published::Conflict => {
                self.report.conflicts += 1;
                Ok(None)
            }
        }
    }

    /// Processes the log after `p.cursor` at `p` (an honest service: every entry must be
    /// accepted).
    fn sync(&mut self, p: &mut Participant) -> Res<()> {
        loop {
            let entries = self.inner.fetch(&self.meeting, p.cursor, 256)?;
            if entries.is_empty() {
                return Ok(());
            }
            for e in entries {
                self.down(&e.message);
                if e.seq <= p.cursor {
                    continue;
                }
                p.cursor = e.seq;
                p.meeting.process(&MlsMessage::from_bytes(&e.message)?)?;
            }
        }
    }

    fn sync_all(&mut self, ps: &mut [Participant]) -> Res<()> {
        for p in ps.iter_mut().filter(|p| p.active) {
            self.sync(p)?;
        }
        Ok(())
    }

    fn publish_key_package(&mut self, owner: &str, kp: &KeyPackage) -> Res<()> {
        self.up(&MlsMessage::from(kp.clone()).to_bytes()?);
        Ok(self
            .inner
            .publish_key_package(owner.as_bytes(), kp, false)?)
    }

    fn claim_key_package(&mut self, owner: &str) -> Res<KeyPackage> {
        let bytes = self
            .inner
            .claim_key_package(owner.as_bytes())?
            .ok_or("no KeyPackage published")?;
        self.down(&bytes);
        Ok(KeyPackage::try_from(MlsMessage::from_bytes(&bytes)?)?)
    }

    fn put_group_info(&mut self, gi: &MlsMessage) -> Res<()> {
        self.up(&gi.to_bytes()?);
        Ok(self.inner.put_group_info(gi)?)
    }

    fn group_info(&mut self) -> Res<MlsMessage> {
        let bytes = self
            .inner
            .group_info(&self.meeting.clone())?
            .ok_or("no GroupInfo published")?;
        self.down(&bytes);
        Ok(MlsMessage::from_bytes(&bytes)?)
    }

    fn send_welcome(&mut self, owner: &str, welcome: &MlsMessage) -> Res<()> {
        self.up(&welcome.to_bytes()?);
        Ok(self.inner.send_welcome(owner.as_bytes(), welcome)?)
    }

    fn take_welcome(&mut self, owner: &str) -> Res<MlsMessage> {
        let bytes = self
            .inner
            .take_welcome(owner.as_bytes())?
            .ok_or("no Welcome waiting")?;
        self.down(&bytes);
        Ok(MlsMessage::from_bytes(&bytes)?)
    }
}

struct World {
    relays: Vec<Relay>,
    directory: Directory,
    clock: u64,
    rng: ChaCha20Rng,
    report: Report,
    verbose: bool,
    plaintexts: Vec<Vec<u8>>,
    relay_history: BTreeMap<String, Vec<String>>,
    ds: Ds,
}

impl World {
    fn log(&mut self, line: String) {
        let line = format!("[t={:>4}s] {line}", self.clock.saturating_sub(START));
        if self.verbose {
            println!("{line}");
        }
        self.report.timeline.push(line);
    }

    fn relay(&self, id: &str) -> Res<&Relay> {
        self.relays
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| format!("unknown relay {id}").into())
    }
}

const START: u64 = 1_780_000_000;
/// How long the KeyPackages of the demo stay valid (28 days).
const KP_LIFETIME: u64 = 28 * 24 * 3600;

fn signed_directory(relays: &[Relay], operator: &SignaturePrivateKey) -> Res<Vec<u8>> {
    let mut json = format!(
        r#"{{"version":1,"issued_at":{},"expires_at":{},"relays":["#,
        START - 60,
        START + 86_400
    );
    for (i, r) in relays.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"id":"{}","region":"{}","jurisdiction":"{}","tier":"{}","endpoint":"{}","weight":{}}}"#,
            r.id,
            r.region,
            r.jurisdiction,
            r.tier.as_str(),
            r.addr,
            r.weight
        ));
    }
    json.push_str("]}");
    Ok(SignedDirectory::sign(json.as_bytes(), operator)?.to_json()?)
}

fn key_package(
    name: &str,
    seed: [u8; 32],
    rng: &mut ChaCha20Rng,
) -> Res<meetkey::mls::KeyPackageBundle> {
    let suite = CipherSuite(1);
    let lifetime = Lifetime::starting_at(START, KP_LIFETIME);
    Ok(Meeting::key_package(
        suite,
        name.as_bytes(),
        SignaturePrivateKey::from_seed(&seed)?,
        lifetime,
        rng,
    )?)
}

/// The default account policy: home region eu-west, every jurisdiction but CN and RU.
pub(crate) fn default_policy() -> Res<Policy> {
    Ok(Policy::new("eu-west")?.deny([Jurisdiction::parse("CN")?, Jurisdiction::parse("RU")?]))
}

/// Publishes a handshake to the delivery service and lets every active participant process
/// the log; returns the message's position.
fn deliver(w: &mut World, ps: &mut [Participant], msg: &MlsMessage) -> Res<u64> {
    let seq =
        w.ds.publish(msg)?
            .ok_or("the delivery service refused a handshake")?;
    w.ds.sync_all(ps)?;
    Ok(seq)
}

fn describe(reason: Reason, role: Tier) -> String {
    match reason {
        Reason::Chosen { position } => format!("{} #{position}", role.as_str()),
        other => format!("{other:?}"),
    }
}

/// Picks the participant's relay: the first hop of its route that answers.
fn choose_relay(w: &mut World, p: &mut Participant) -> Res<()> {
    let decision = p
        .meeting
        .route(&p.own_policy, &w.directory, &p.health, w.clock);
    let Some(route) = decision.route() else {
        return fail(format!(
            "{}: routing denied: {:?}",
            p.name,
            decision.denial()
        ));
    };
    // Why the route looks as it does: the relays left out, and hops this client saw unwell.
    let mut excluded: Vec<String> = decision
        .audit
        .entries()
        .filter(|(_, v)| !matches!(v.reason, Reason::Chosen { .. }))
        .map(|(r, v)| format!("{} {:?}", r.id(), v.reason))
        .collect();
    excluded.sort();
    let unwell: Vec<String> = route
        .hops()
        .iter()
        .filter(|h| !matches!(h.health, HealthStatus::Healthy | HealthStatus::Unknown))
        .map(|h| format!("{} {:?}", h.relay.id(), h.health))
        .collect();
    let hops: Vec<(String, Tier, Reason)> = route
        .hops()
        .iter()
        .map(|h| {
            let reason = decision
                .audit
                .verdict(h.relay.id())
                .map_or(Reason::Chosen { position: 0 }, |v| v.reason);
            (h.relay.id().to_owned(), h.role, reason)
        })
        .collect();
    let mut failed: Vec<String> = Vec::new();
    for (id, role, reason) in hops {
        let addr = w.relay(&id)?.addr;
        // A FETCH probes the relay (and is cheap).
        match request(addr, OP_FETCH, &u32::MAX.to_be_bytes()) {
            Ok((ACK, _)) => {
                p.health.record_success(&id, w.clock);
                let mut why = describe(reason, role);
                failed.sort();
                if !failed.is_empty() {
                    why = format!("{why}; {} failed", failed.join(","));
                } else if !unwell.is_empty() {
                    why = format!("{why}; {}", unwell.join(","));
                }
                if p.relay.as_deref() != Some(id.as_str()) || why != p.why {
                    let line = format!("{} routes via {id} ({why})", p.name);
                    w.log(line);
                    if p.name == "p00" {
                        let line = format!("p00 audit, left out: {}", excluded.join(", "));
                        w.log(line);
                    }
                    if p.relay.as_deref() != Some(id.as_str()) {
                        w.relay_history
                            .entry(p.name.clone())
                            .or_default()
                            .push(id.clone());
                    }
                    p.relay = Some(id);
                    p.why = why;
                }
                return Ok(());
            }
            _ => {
                p.health.record_failure(&id, w.clock);
                failed.push(id);
            }
        }
    }
    fail(format!("{}: no hop of the route answered", p.name))
}

/// Tells every relay in use to forward to the other relays in use.
fn configure_cascade(w: &World, ps: &[Participant]) -> Res<()> {
    let in_use: Vec<&str> = ps
        .iter()
        .filter(|p| p.active)
        .filter_map(|p| p.relay.as_deref())
        .collect();
    for r in &w.relays {
        let peers = w
            .relays
            .iter()
            .filter(|o| o.id != r.id && in_use.contains(&o.id.as_str()))
            .map(|o| o.addr)
            .collect();
        lock(&r.state).peers = peers;
    }
    Ok(())
}

/// Every active participant sends frames via its relay; then every one fetches and decrypts.
fn media_round(w: &mut World, ps: &mut [Participant], label: &str, frames: usize) -> Res<()> {
    for i in 0..ps.len() {
        let Some(p) = ps.get_mut(i) else { continue };
        if p.active {
            choose_relay(w, p)?;
        }
    }
    configure_cascade(w, ps)?;
    let mut sent = 0u64;
    let mut buf = vec![0u8; 2048];
    for n in 0..frames {
        for (i, p) in ps.iter_mut().enumerate() {
            if !p.active {
                continue;
            }
            let mut noise = [0u8; 24];
            rand_core::RngCore::fill_bytes(&mut w.rng, &mut noise);
            let mut plain = Vec::with_capacity(96);
            plain.extend_from_slice(PLAINTEXT_MARKER);
            plain.extend_from_slice(
                format!("{}|epoch {}|{label}|frame {n}|", p.name, p.meeting.epoch()).as_bytes(),
            );
            plain.extend_from_slice(&noise);
            let len = p
                .meeting
                .encrypt_frame(MediaStream::AUDIO, b"rtp", &plain, &mut buf)?;
            let mut msg = u32::try_from(i)?.to_be_bytes().to_vec();
            msg.extend_from_slice(buf.get(..len).ok_or("frame length")?);
            let relay = p.relay.clone().ok_or("no relay")?;
            let addr = w.relay(&relay)?.addr;
            match request(addr, OP_PUBLISH, &msg)? {
                (ACK, _) => p.health.record_success(&relay, w.clock),
                _ => return fail(format!("{} could not publish via {relay}", p.name)),
            }
            w.plaintexts.push(plain);
            sent += 1;
        }
    }
    // Receive.
    let mut decrypted = 0u64;
    let mut out = vec![0u8; 2048];
    for (i, p) in ps.iter_mut().enumerate() {
        if !p.active {
            continue;
        }
        let relay = p.relay.clone().ok_or("no relay")?;
        let cursor = p.cursors.get(&relay).copied().unwrap_or(0);
        let (status, body) = request(w.relay(&relay)?.addr, OP_FETCH, &cursor.to_be_bytes())?;
        if status != ACK {
            return fail(format!("{}: fetch from {relay} refused", p.name));
        }
        let mut r = body.as_slice();
        let count = take_u32(&mut r)?;
        for _ in 0..count {
            let len = usize::try_from(take_u32(&mut r)?)?;
            let (frame, rest) = r.split_at_checked(len).ok_or("truncated fetch")?;
            r = rest;
            let (sender, frame) = frame.split_at_checked(4).ok_or("short frame")?;
            let sender = usize::try_from(u32::from_be_bytes(sender.try_into()?))?;
            if sender == i || !p.seen.insert(frame.to_vec()) {
                continue;
            }
            let info = p.meeting.decrypt_frame(b"rtp", frame, &mut out, w.clock)?;
            let plain = out.get(..info.len).ok_or("plaintext length")?;
            if !plain.starts_with(PLAINTEXT_MARKER) {
                return fail("decrypted frame lacks the marker");
            }
            decrypted += 1;
            p.received += 1;
        }
        p.cursors.insert(relay, cursor.saturating_add(count));
    }
    let active = u64::try_from(ps.iter().filter(|p| p.active).count())?;
    let expected = sent.saturating_mul(active.saturating_sub(1));
    w.report.frames_sent += sent;
    w.report.frames_decrypted += decrypted;
    w.log(format!(
        "media round '{label}': {sent} frames sent, {decrypted}/{expected} decrypted by the other participants"
    ));
    if decrypted != expected {
        return fail(format!(
            "round {label}: {decrypted} of {expected} frames decrypted"
        ));
    }
    Ok(())
}

fn take_u32(r: &mut &[u8]) -> Res<u32> {
    let (head, rest) = r.split_at_checked(4).ok_or("truncated")?;
    *r = rest;
    Ok(u32::from_be_bytes(head.try_into()?))
}

fn check_codes(w: &mut World, ps: &[Participant]) -> Res<()> {
    let codes: Vec<String> = ps
        .iter()
        .filter(|p| p.active)
        .map(|p| p.meeting.security_code().map(|c| c.to_string()))
        .collect::<Result<_, _>>()?;
    let first = codes.first().cloned().unwrap_or_default();
    let all = codes.iter().all(|c| *c == first);
    w.report.codes_match = all;
    w.report.security_code = first.clone();
    w.log(format!(
        "security code check: {} participants read \"{first}\" — {}",
        codes.len(),
        if all { "all match" } else { "MISMATCH" }
    ));
    if !all {
        return fail("security codes differ");
    }
    Ok(())
}

fn commit_and_deliver(
    w: &mut World,
    ps: &mut [Participant],
    committer: usize,
    what: &str,
    make: impl FnOnce(&mut Meeting, &mut ChaCha20Rng) -> meetkey::Result<meetkey::meeting::Outgoing>,
) -> Res<meetkey::meeting::Outgoing> {
    let t = stopwatch();
    let p = ps.get_mut(committer).ok_or("committer")?;
    let out = make(&mut p.meeting, &mut w.rng)?;
    // The delivery service orders it; its echo in the log confirms the pending commit.
    deliver(w, ps, &out.commit)?;
    let p = ps.get(committer).ok_or("committer")?;
    let epoch = p.meeting.epoch();
    // The committer publishes the new epoch's GroupInfo for external joins.
    let gi = p.meeting.group_info()?;
    w.ds.put_group_info(&gi)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    w.report.rotations.push((what.to_owned(), epoch, ms));
    w.log(format!(
        "{what}: epoch {epoch} (commit + processing by all: {ms:.1} ms)"
    ));
    Ok(out)
}

/// Runs the scenario.
///
/// # Errors
/// Any failure of I/O, of meetkey, or of an expectation (frames that do not decrypt,
/// codes that differ, a route outside the fence).
pub(crate) fn run(opts: &Options) -> Res<Report> {
    if opts.participants < 4 {
        return fail("at least 4 participants");
    }
    // Relays.
    let specs = [
        ("eu-w-1", "eu-west", "DE", Tier::Primary, 40),
        ("eu-w-2", "eu-west", "FR", Tier::Primary, 30),
        ("eu-w-s1", "eu-west", "NL", Tier::Secondary, 10),
        ("eu-w-x1", "eu-west", "CN", Tier::Secondary, 100),
        ("us-e-1", "us-east", "US", Tier::Primary, 50),
        ("ap-e-1", "ap-east", "CN", Tier::Primary, 90),
    ];
    let mut relays = Vec::new();
    for (id, region, j, tier, weight) in specs {
        relays.push(Relay::start(id, region, j, tier, weight)?);
    }
    let operator = SignaturePrivateKey::from_seed(&[0x0D; 32])?;
    let document = signed_directory(&relays, &operator)?;
    let mut verifier = DirectoryVerifier::new([operator.public_key()]);
    let directory = verifier.verify(&document, START)?;
    let meeting_policy = default_policy()?;
    let excluded: Vec<String> = directory
        .relays()
        .iter()
        .filter(|r| !meeting_policy.permits_jurisdiction(r.jurisdiction()))
        .map(|r| r.id().to_owned())
        .collect();

    // A meeting id of its own on a shared NATS server (its log outlives the run).
    let meeting_id: Vec<u8> = match &opts.ds {
        None => b"meetkey demo meeting".to_vec(),
        Some(_) => format!(
            "meetkey demo meeting {:016x}",
            rand_core::RngCore::next_u64(&mut meetkey::SystemRng)
        )
        .into_bytes(),
    };
    let ds = Ds::new(opts.ds.as_deref(), &meeting_id)?;
    let mut w = World {
        relays,
        directory,
        clock: START,
        rng: ChaCha20Rng::seed_from_u64(opts.seed),
        report: Report::default(),
        verbose: opts.verbose,
        plaintexts: Vec::new(),
        relay_history: BTreeMap::new(),
        ds,
    };
    w.report.excluded_relays = excluded.clone();
    let lines: Vec<String> = w
        .relays
        .iter()
        .map(|r| {
            format!(
                "relay {:<8} {:<8} {} {:<9} weight {:>3} listening on {}",
                r.id,
                r.region,
                r.jurisdiction,
                r.tier.as_str(),
                r.weight,
                r.addr
            )
        })
        .collect();
    for line in lines {
        w.log(line);
    }
    w.log(format!(
        "signed directory verified (version {}, {} relays, operator key pinned); meeting policy: home eu-west, deny CN, RU (excludes {})",
        w.directory.version(),
        w.directory.relays().len(),
        excluded.join(", ")
    ));

    let result = scenario(&mut w, opts, meeting_policy);
    for r in &mut w.relays {
        r.shutdown();
    }
    let participants = result?;

    // Audits and the summary.
    let mut plaintext_leaked = false;
    let mut key_leaked = false;
    let mut rows = Vec::new();
    for r in &w.relays {
        let st = lock(&r.state);
        let cap = &st.capture;
        if cap
            .windows(PLAINTEXT_MARKER.len())
            .any(|x| x == PLAINTEXT_MARKER)
            || w.plaintexts
                .iter()
                .any(|p| cap.windows(p.len()).any(|x| x == p.as_slice()))
        {
            plaintext_leaked = true;
        }
        for p in &participants {
            if p.meeting.key_material_occurs_in(cap)
                || cap.windows(32).any(|x| x == p.signer_seed.as_slice())
            {
                key_leaked = true;
            }
        }
        rows.push(RelayRow {
            id: r.id.clone(),
            region: r.region.clone(),
            jurisdiction: r.jurisdiction.clone(),
            tier: r.tier.as_str().to_owned(),
            weight: r.weight,
            frames_in: st.frames_in,
            frames_out: st.frames_out,
            bytes: st.bytes_in,
            capture: cap.clone(),
        });
    }
    w.report.relays = rows;
    {
        let cap = &w.ds.report.capture;
        w.ds.report.plaintext_leaked = cap
            .windows(PLAINTEXT_MARKER.len())
            .any(|x| x == PLAINTEXT_MARKER)
            || w.plaintexts
                .iter()
                .any(|p| cap.windows(p.len()).any(|x| x == p.as_slice()));
        w.ds.report.key_material_leaked = participants.iter().any(|p| {
            p.meeting.key_material_occurs_in(cap)
                || cap.windows(32).any(|x| x == p.signer_seed.as_slice())
        });
    }
    w.report.ds = w.ds.report.clone();
    w.report.plaintext_leaked = plaintext_leaked;
    w.report.key_material_leaked = key_leaked;
    for p in &participants {
        w.report.routes.push(RouteRow {
            name: p.name.clone(),
            relay: if p.active {
                p.relay.clone().unwrap_or_default()
            } else {
                "(left)".to_owned()
            },
            why: p.why.clone(),
            history: w.relay_history.get(&p.name).cloned().unwrap_or_default(),
            epoch: p.meeting.epoch(),
            received: p.received,
        });
    }
    Ok(w.report)
}

fn scenario(w: &mut World, opts: &Options, policy: Policy) -> Res<Vec<Participant>> {
    let n = opts.participants;
    let mut ps: Vec<Participant> = Vec::with_capacity(n);
    let mut seeds = Vec::with_capacity(n);
    for i in 0..n {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut w.rng, &mut seed);
        seeds.push((format!("p{i:02}"), seed));
    }
    let own_policy = |i: usize| -> Res<Policy> {
        // Odd participants also keep secondaries to one: accounts differ, fences agree.
        let p = default_policy()?;
        Ok(if i % 2 == 1 {
            p.with_max_secondaries(1)
        } else {
            p
        })
    };
    let config = MeetingConfig::default();
    let mk = |meeting: Meeting, i: usize, name: &str, seed: [u8; 32]| -> Res<Participant> {
        let mut health = Health::new();
        // Odd participants saw congestion on eu-w-1: they rank eu-w-2 first.
        if i % 2 == 1 {
            health.record_congestion("eu-w-1", START + 3600);
        }
        Ok(Participant {
            name: name.to_owned(),
            meeting,
            own_policy: own_policy(i)?,
            health,
            relay: None,
            why: String::new(),
            cursors: BTreeMap::new(),
            seen: std::collections::HashSet::new(),
            received: 0,
            signer_seed: seed,
            active: true,
            cursor: 0,
        })
    };

    // 1. p00 creates the meeting.
    let (name0, seed0) = seeds.first().cloned().ok_or("no participants")?;
    let kp0 = key_package(&name0, seed0, &mut w.rng)?;
    let meeting_id = w.ds.meeting.clone();
    let m0 = Meeting::create(config.clone(), kp0, &meeting_id, &policy, &mut w.rng)?;
    w.ds.put_group_info(&m0.group_info()?)?;
    ps.push(mk(m0, 0, &name0, seed0)?);
    w.log(format!(
        "{name0} creates the meeting (epoch 0); policy carried in GroupContext extension 0xF0A1"
    ));

    // 2. Welcome joins: everyone but the last two, in one commit.
    let n_welcome = n - 3;
    let mut bundles = Vec::new();
    for (name, seed) in seeds.iter().skip(1).take(n_welcome) {
        let b = key_package(name, *seed, &mut w.rng)?;
        w.ds.publish_key_package(name, &b.key_package)?;
        bundles.push((name.clone(), *seed, b));
    }
    // The host claims each invitee's KeyPackage from the delivery service (once each).
    let mut kps = Vec::new();
    for (name, _, _) in &bundles {
        kps.push(w.ds.claim_key_package(name)?);
    }
    w.clock += 5;
    let out = commit_and_deliver(
        w,
        &mut ps,
        0,
        &format!("{name0} adds {n_welcome} participants"),
        |m, r| m.add(&kps, START + 5, r),
    )?;
    let _ = out;
    // Released once the commit was confirmed (commit_and_deliver processed the echo); the
    // host hands it to the delivery service for each invitee.
    let welcome = ps
        .first_mut()
        .and_then(|p| p.meeting.take_welcome())
        .ok_or("no welcome")?;
    let cursor = ps.first().map(|p| p.cursor).unwrap_or_default();
    for (name, seed, b) in bundles {
        w.ds.send_welcome(&name, &welcome)?;
        let welcome = w.ds.take_welcome(&name)?;
        let m = Meeting::join_welcome(config.clone(), &welcome, b)?;
        let i = ps.len();
        let mut p = mk(m, i, &name, seed)?;
        p.cursor = cursor;
        ps.push(p);
    }
    w.log(format!("{n_welcome} participants joined from the Welcome"));

    // 3. The waiting room: the last two ask to join through the delivery service (an Add
    //    of their own KeyPackage, RFC 9420 new_member_proposal); nobody commits it until
    //    the host's application admits it, and they join from the host's Welcome.
    for (name, seed) in seeds.iter().skip(1 + n_welcome) {
        w.clock += 5;
        let gi = w.ds.group_info()?;
        let b = key_package(name, *seed, &mut w.rng)?;
        let request = Meeting::join_request(&gi, &b)?;
        deliver(w, &mut ps, &request)?;
        let host = ps.first_mut().ok_or("p00")?;
        let reference = host
            .meeting
            .drain_events()
            .into_iter()
            .find_map(|e| match e {
                Event::JoinRequested { reference, .. } => Some(reference),
                _ => None,
            })
            .ok_or("the host saw no join request")?;
        host.meeting.admit(&reference)?;
        let clock = w.clock;
        let out = commit_and_deliver(
            w,
            &mut ps,
            0,
            &format!("{name0} admits {name} from the waiting room"),
            |m, r| m.rotate(clock, r),
        )?;
        let _ = out;
        let welcome = ps
            .first_mut()
            .and_then(|p| p.meeting.take_welcome())
            .ok_or("no welcome for the admitted joiner")?;
        w.ds.send_welcome(name, &welcome)?;
        let welcome = w.ds.take_welcome(name)?;
        let m = Meeting::join_welcome(config.clone(), &welcome, b)?;
        let i = ps.len();
        let mut p = mk(m, i, name, *seed)?;
        p.cursor = ps.first().map(|p| p.cursor).unwrap_or_default();
        ps.push(p);
        w.log(format!("{name} joined from the Welcome after admission"));
    }
    // A device that lost its state rejoins by external commit, replacing its own leaf (the
    // meeting allows rejoins, not first joins, that way: the delivery service, which holds
    // the GroupInfo, cannot add itself).
    {
        w.clock += 5;
        let who = 2usize;
        let gi = w.ds.group_info()?;
        let (name, seed) = {
            let p = ps.get(who).ok_or("rejoiner")?;
            (p.name.clone(), p.signer_seed)
        };
        let b = key_package(&name, seed, &mut w.rng)?;
        let t = stopwatch();
        let (m, commit) = Meeting::rejoin_external(config.clone(), &gi, b, &mut w.rng)?;
        let seq = w.ds.publish(&commit)?.ok_or("the rejoin lost its epoch")?;
        // Same participant, same relays: only its meeting state and log position are new.
        let p = ps.get_mut(who).ok_or("rejoiner")?;
        p.meeting = m;
        p.cursor = seq;
        w.ds.sync_all(&mut ps)?;
        let gi = ps.get(who).ok_or("rejoiner")?.meeting.group_info()?;
        w.ds.put_group_info(&gi)?;
        let epoch = ps.get(who).map(|p| p.meeting.epoch()).unwrap_or_default();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        w.report
            .rotations
            .push((format!("{name} rejoins by external commit"), epoch, ms));
        w.log(format!(
            "{name} rejoins by external commit, replacing its own leaf: epoch {epoch} ({ms:.1} ms)"
        ));
    }
    check_codes(w, &ps)?;

    // 4. Media.
    w.clock += 10;
    media_round(w, &mut ps, "all joined", opts.frames_per_round)?;

    // 5. A participant leaves: p03 asks, p00 commits (rotation for everyone).
    w.clock += 30;
    let leaver = 3usize;
    let leave = ps
        .get_mut(leaver)
        .ok_or("leaver")?
        .meeting
        .leave(&mut w.rng)?;
    let leaver_name = ps.get(leaver).map(|p| p.name.clone()).unwrap_or_default();
    deliver(w, &mut ps, &leave)?;
    // Frames of the old epoch still in flight during the transition.
    let mut in_flight = Vec::new();
    {
        let mut buf = vec![0u8; 256];
        let p1 = ps.get_mut(1).ok_or("p01")?;
        let plain = b"MEDIA|late frame from the old epoch".to_vec();
        let len = p1
            .meeting
            .encrypt_frame(MediaStream::AUDIO, b"rtp", &plain, &mut buf)?;
        in_flight.push(buf.get(..len).ok_or("len")?.to_vec());
        w.plaintexts.push(plain);
    }
    let leave_out = commit_and_deliver(
        w,
        &mut ps,
        0,
        &format!("{leaver_name} leaves; p00 commits the removal"),
        |m, r| m.rotate(START, r),
    )?;
    let _ = leave_out;
    let p_leaver = ps.get_mut(leaver).ok_or("leaver")?;
    if p_leaver.meeting.is_active() {
        return fail("the leaver is still a member");
    }
    p_leaver.active = false;
    let left = p_leaver
        .meeting
        .drain_events()
        .into_iter()
        .any(|e| matches!(e, Event::Left { .. }));
    w.log(format!(
        "{leaver_name} sees Event::Left: {left}; its keys are gone"
    ));
    // The old-epoch frame still decrypts at p02 after the rotation.
    {
        let mut out = vec![0u8; 256];
        let p2 = ps.get_mut(2).ok_or("p02")?;
        let f = in_flight.first().ok_or("frame")?;
        let info = p2.meeting.decrypt_frame(b"rtp", f, &mut out, w.clock)?;
        let line = format!(
            "a frame p01 sent in epoch {} still decrypts at p02 in epoch {}",
            info.epoch,
            p2.meeting.epoch()
        );
        w.log(line);
    }
    check_codes(w, &ps)?;
    media_round(w, &mut ps, "after leave", opts.frames_per_round)?;

    // 6. Outage of the home region's primaries.
    w.clock += 60;
    for id in ["eu-w-1", "eu-w-2"] {
        w.relay(id)?.down.store(true, Ordering::SeqCst);
    }
    w.log("OUTAGE: eu-w-1 and eu-w-2 (the eu-west primaries) stop serving; eu-w-x1 (CN) is the least loaded relay left".to_owned());
    media_round(w, &mut ps, "during outage", opts.frames_per_round)?;

    // 7. Scheduled rotation, driven by the client's clock.
    let rotator = 1usize;
    {
        let p = ps.get_mut(rotator).ok_or("rotator")?;
        p.meeting.rotate_if_due(w.clock, &mut w.rng)?; // starts the schedule
    }
    w.clock += config.rotation_interval.unwrap_or(600);
    let clock = w.clock;
    let name = ps.get(rotator).map(|p| p.name.clone()).unwrap_or_default();
    let t = stopwatch();
    let out = {
        let p = ps.get_mut(rotator).ok_or("rotator")?;
        p.meeting
            .rotate_if_due(clock, &mut w.rng)?
            .ok_or("rotation not due")?
    };
    deliver(w, &mut ps, &out.commit)?;
    let epoch = ps
        .get(rotator)
        .map(|p| p.meeting.epoch())
        .unwrap_or_default();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    w.report
        .rotations
        .push((format!("{name} scheduled rotation"), epoch, ms));
    w.log(format!(
        "{name} scheduled rotation: epoch {epoch} ({ms:.1} ms)"
    ));
    check_codes(w, &ps)?;
    media_round(w, &mut ps, "after rotation", opts.frames_per_round)?;

    // 8. Two participants commit in the same epoch: the delivery service keeps the first;
    //    the other's commit is discarded when it processes the winner, and re-issued.
    commit_race(w, &mut ps, 1, 2)?;
    check_codes(w, &ps)?;

    w.report.final_epoch = ps.first().map(|p| p.meeting.epoch()).unwrap_or_default();
    Ok(ps)
}

/// Participants `a` and `b` both rotate in the same epoch; `a` publishes first.
fn commit_race(w: &mut World, ps: &mut [Participant], a: usize, b: usize) -> Res<()> {
    let clock = w.clock;
    let epoch = ps.get(a).ok_or("racer")?.meeting.epoch();
    let first = ps
        .get_mut(a)
        .ok_or("racer")?
        .meeting
        .rotate(clock, &mut w.rng)?;
    let second = ps
        .get_mut(b)
        .ok_or("racer")?
        .meeting
        .rotate(clock, &mut w.rng)?;
    w.ds.publish(&first.commit)?
        .ok_or("the first commit lost")?;
    if w.ds.publish(&second.commit)?.is_some() {
        return fail("the delivery service stored two commits of one epoch");
    }
    w.ds.sync_all(ps)?;
    let loser = ps.get_mut(b).ok_or("racer")?;
    let intent = loser
        .meeting
        .drain_events()
        .into_iter()
        .find_map(|e| match e {
            Event::PendingCommitDiscarded { intent, .. } => Some(intent),
            _ => None,
        })
        .ok_or("the loser saw no discarded commit")?;
    if intent != CommitIntent::Rotate {
        return fail("the discarded commit's intent changed");
    }
    let (na, nb) = (
        ps.get(a).map(|p| p.name.clone()).unwrap_or_default(),
        ps.get(b).map(|p| p.name.clone()).unwrap_or_default(),
    );
    w.log(format!(
        "{na} and {nb} commit in epoch {epoch} at once: the delivery service keeps {na}'s, refuses {nb}'s (conflict); {nb} processes the winner and re-issues"
    ));
    let what = format!("{nb} re-issues its lost rotation");
    commit_and_deliver(w, ps, b, &what, |m, r| m.retry(&intent, clock, r))?;
    Ok(())
}

/// Prints the summary table.
pub(crate) fn print_summary(r: &Report) {
    println!();
    println!("== Routes (own policy ∩ meeting policy: home eu-west, CN and RU excluded)");
    println!(
        "{:<5} {:<9} {:<34} {:<18} {:>5} {:>7}",
        "who", "relay", "why", "relays used", "epoch", "frames"
    );
    for row in &r.routes {
        println!(
            "{:<5} {:<9} {:<34} {:<18} {:>5} {:>7}",
            row.name,
            row.relay,
            row.why,
            row.history.join(">"),
            row.epoch,
            row.received
        );
    }
    println!();
    println!("== Relays (every byte each relay received for forwarding)");
    println!(
        "{:<8} {:<8} {:<4} {:<9} {:>6} {:>9} {:>10} {:>9}",
        "relay", "region", "jur", "tier", "weight", "frames in", "frames out", "bytes"
    );
    for row in &r.relays {
        println!(
            "{:<8} {:<8} {:<4} {:<9} {:>6} {:>9} {:>10} {:>9}",
            row.id,
            row.region,
            row.jurisdiction,
            row.tier,
            row.weight,
            row.frames_in,
            row.frames_out,
            row.bytes
        );
    }
    println!();
    println!("== Epochs and rotations");
    for (what, epoch, ms) in &r.rotations {
        println!("epoch {epoch:>2}  {ms:>7.1} ms  {what}");
    }
    println!();
    println!(
        "frames: {} sent, {} decrypted; final epoch {}; security code {}",
        r.frames_sent, r.frames_decrypted, r.final_epoch, r.security_code
    );
    println!(
        "audit: plaintext in relay captures: {}; key material in relay captures: {}; excluded relays used: {}",
        if r.plaintext_leaked { "FOUND" } else { "none" },
        if r.key_material_leaked { "FOUND" } else { "none" },
        excluded_used(r).join(", ").if_empty("none")
    );
    let d = &r.ds;
    println!(
        "delivery service ({}): {} handshakes published, {} conflict(s), {} bytes up / {} bytes down; commit ordering p50 {:.2} ms, p99 {:.2} ms ({} commits)",
        d.backend,
        d.published,
        d.conflicts,
        d.bytes_up,
        d.bytes_down,
        d.ordering(0.5),
        d.ordering(0.99),
        d.ordering_ms.len()
    );
    println!(
        "audit: plaintext in the delivery service's capture: {}; key material: {}",
        if d.plaintext_leaked { "FOUND" } else { "none" },
        if d.key_material_leaked {
            "FOUND"
        } else {
            "none"
        }
    );
}

/// Excluded relays that received any byte.
pub(crate) fn excluded_used(r: &Report) -> Vec<String> {
    r.relays
        .iter()
        .filter(|row| r.excluded_relays.contains(&row.id) && row.bytes > 0)
        .map(|row| row.id.clone())
        .collect()
}

trait IfEmpty {
    fn if_empty(self, s: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, s: &str) -> String {
        if self.is_empty() {
            s.to_owned()
        } else {
            self
        }
    }
}
