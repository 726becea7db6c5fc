//! The delivery service's costs: commit ordering latency (publish → position in the log,
//! p50/p99) through the embedded service and NATS JetStream on loopback, and sustained
//! throughput with 1 000 concurrent meetings (commits/s, and the NATS server's CPU per
//! commit from /proc).
//!
//! `cargo run --release -p meetkey-ds --example ds_bench [-- --nats nats://127.0.0.1:4222
//!  --server-pid PID]`. Without `--nats` it starts `nats-server` itself (JetStream, temporary
//! store) if it is installed; without one, only the embedded service is measured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use meetkey::meeting::{Meeting, MeetingConfig};
use meetkey::mls::{Lifetime, MlsMessage};
use meetkey::routing::Policy;
use meetkey::{CipherSuite, SignaturePrivateKey};
use meetkey_ds::embedded::EmbeddedDs;
use meetkey_ds::nats::{NatsConfig, NatsDs};
use meetkey_ds::tcp::{TcpDs, TcpServer};
use meetkey_ds::{DeliveryService, Published};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const NOW: u64 = 1_800_000_000;
const MEETINGS: usize = 1_000;
const LATENCY_COMMITS: usize = 300;

#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark reads the wall clock"
)]
fn stopwatch() -> Instant {
    Instant::now()
}

/// A one-member meeting with a run-unique id (a NATS stream outlives the run).
fn meeting(tag: &str, i: usize, run: u64, r: &mut ChaCha20Rng) -> Meeting {
    let kp = Meeting::key_package(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        b"bench",
        SignaturePrivateKey::generate(r),
        Lifetime::starting_at(NOW, 86_400),
        r,
    )
    .unwrap();
    let id = format!("bench-{tag}-{run:x}-{i}");
    Meeting::create(
        MeetingConfig::default(),
        kp,
        id.as_bytes(),
        &Policy::new("eu-west").unwrap(),
        r,
    )
    .unwrap()
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len().saturating_sub(1)) as f64 * q).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

/// Publishes `LATENCY_COMMITS` commits of one meeting one after the other (each merged
/// before the next is made); returns p50 and p99 of publish → appended, in ms.
fn latency(ds: &mut impl DeliveryService, tag: &str, run: u64) -> (f64, f64) {
    let mut r = ChaCha20Rng::seed_from_u64(1);
    let mut m = meeting(&format!("{tag}-latency"), 0, run, &mut r);
    let mut ms = Vec::with_capacity(LATENCY_COMMITS);
    for _ in 0..LATENCY_COMMITS {
        let out = m.rotate(NOW, &mut r).unwrap();
        let t = stopwatch();
        let p = ds.publish(&out.commit).unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(matches!(p, Published::Appended { .. }));
        m.confirm_pending().unwrap();
    }
    (quantile(&mut ms, 0.5), quantile(&mut ms, 0.99))
}

/// The CPU seconds (user + system) a process used so far, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0) // USER_HZ = 100 on Linux
}

/// `rounds` commits in each of `MEETINGS` meetings, round-robin (every meeting has one
/// commit per round in flight): returns commits/s of the publishing and the server's CPU
/// per commit in µs when its pid is known.
fn throughput(
    ds: &mut impl DeliveryService,
    tag: &str,
    run: u64,
    rounds: usize,
    server: Option<u32>,
) -> (f64, Option<f64>) {
    let mut r = ChaCha20Rng::seed_from_u64(2);
    let mut ms: Vec<Meeting> = (0..MEETINGS)
        .map(|i| meeting(tag, i, run, &mut r))
        .collect();
    let mut published = 0usize;
    let mut elapsed = 0.0;
    let mut cpu = 0.0;
    for _ in 0..rounds {
        // Commits are made outside the timed part: the service's cost is what is measured.
        let commits: Vec<MlsMessage> = ms
            .iter_mut()
            .map(|m| m.rotate(NOW, &mut r).unwrap().commit)
            .collect();
        let cpu0 = server.and_then(cpu_seconds);
        let t = stopwatch();
        for c in &commits {
            assert!(matches!(ds.publish(c).unwrap(), Published::Appended { .. }));
        }
        elapsed += t.elapsed().as_secs_f64();
        if let (Some(a), Some(b)) = (cpu0, server.and_then(cpu_seconds)) {
            cpu += b - a;
        }
        published += commits.len();
        for m in &mut ms {
            m.confirm_pending().unwrap();
        }
    }
    let per_commit = server.map(|_| cpu / published as f64 * 1e6);
    (published as f64 / elapsed, per_commit)
}

struct Server(Child, std::path::PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn start_server() -> Option<(Server, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let store = std::env::temp_dir().join(format!("meetkey-ds-bench-{port}"));
    let mut child = ["nats-server", "/usr/sbin/nats-server"]
        .iter()
        .find_map(|b| {
            Command::new(b)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(&store)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .ok()
        })?;
    let err = child.stderr.take()?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(err));
    for l in lines.by_ref() {
        if l.ok()?.contains("Server is ready") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Some((Server(child, store), format!("nats://127.0.0.1:{port}")))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut url, mut pid) = (None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nats" => url = args.next(),
            "--server-pid" => pid = args.next().and_then(|p| p.parse().ok()),
            _ => {
                eprintln!("usage: ds_bench [--nats URL [--server-pid PID]]");
                std::process::exit(2);
            }
        }
    }
    let run = rand_core::RngCore::next_u64(&mut meetkey::SystemRng);
    let mut own = None;
    if url.is_none() {
        if let Some((server, u)) = start_server() {
            pid = Some(server.0.id());
            url = Some(u);
            own = Some(server);
        }
    }
    println!("| service | ordering p50 | ordering p99 | 1 000 meetings: commits/s | server CPU per commit |");
    println!("|---|---:|---:|---:|---:|");
    let mut embedded = EmbeddedDs::new();
    let (p50, p99) = latency(&mut embedded, "emb", run);
    let (rate, _) = throughput(&mut embedded, "emb", run, 5, None);
    println!("| embedded (in-process) | {p50:.3} ms | {p99:.3} ms | {rate:.0} | (in the client) |");
    let server = TcpServer::start(EmbeddedDs::new()).unwrap();
    let mut tcp = TcpDs::connect(server.addr(), std::time::Duration::from_secs(5)).unwrap();
    let (p50, p99) = latency(&mut tcp, "tcp", run);
    let (rate, _) = throughput(&mut tcp, "tcp", run, 5, None);
    println!(
        "| embedded, loopback TCP | {p50:.3} ms | {p99:.3} ms | {rate:.0} | (in-process server) |"
    );
    if let Some(u) = url {
        let mut nats = NatsDs::connect(&u, &NatsConfig::default()).unwrap();
        let (p50, p99) = latency(&mut nats, "nats", run);
        let (rate, cpu) = throughput(&mut nats, "nats", run, 5, pid);
        let cpu = cpu.map_or("n/a".to_owned(), |c| format!("{c:.0} µs"));
        println!("| NATS JetStream, loopback, file store, R1 | {p50:.3} ms | {p99:.3} ms | {rate:.0} | {cpu} |");
    } else {
        println!("(no nats-server: NATS not measured)");
    }
    drop(own);
}
