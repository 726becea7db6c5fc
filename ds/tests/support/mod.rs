//! Test support: meetings through a delivery service, and a real `nats-server` on loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use meetkey::meeting::{CommitIntent, Meeting, MeetingConfig};
use meetkey::mls::{KeyPackage, KeyPackageBundle, Lifetime, MlsMessage};
use meetkey::routing::Policy;
use meetkey::{CipherSuite, SignaturePrivateKey};
use meetkey_ds::{DeliveryService, Member};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The clock of these tests: time is an input.
pub const NOW: u64 = 1_800_000_000;

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn bundle(name: &str, r: &mut ChaCha20Rng) -> KeyPackageBundle {
    Meeting::key_package(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        name.as_bytes(),
        SignaturePrivateKey::generate(r),
        Lifetime::starting_at(NOW, 86_400),
        r,
    )
    .unwrap()
}

/// A meeting of `n` members over `ds`: the creator claims the others' KeyPackages from the
/// service, commits the Add through it, and hands the Welcome to each owner; the joiners
/// take it from the service and start at the commit's position.
pub fn meeting(
    ds: &mut impl DeliveryService,
    id: &[u8],
    n: usize,
    r: &mut ChaCha20Rng,
) -> Vec<Member> {
    let policy = Policy::new("eu-west").unwrap();
    let creator =
        Meeting::create(MeetingConfig::default(), bundle("m0", r), id, &policy, r).unwrap();
    let mut bundles = Vec::new();
    for i in 1..n {
        let name = format!("m{i}");
        let b = bundle(&name, r);
        ds.publish_key_package(name.as_bytes(), &b.key_package, false)
            .unwrap();
        bundles.push((name, b));
    }
    let mut kps = Vec::new();
    for (name, _) in &bundles {
        let bytes = ds
            .claim_key_package(name.as_bytes())
            .unwrap()
            .expect("a KeyPackage");
        let kp = KeyPackage::try_from(MlsMessage::from_bytes(&bytes).unwrap()).unwrap();
        kps.push(kp);
    }
    let mut first = Member::new(creator, 0);
    let (seq, _) = first
        .commit(ds, &CommitIntent::Add(kps), NOW, r, 1)
        .unwrap();
    let welcome = first.meeting_mut().take_welcome().expect("a Welcome");
    let mut members = vec![first];
    for (name, b) in bundles {
        ds.send_welcome(name.as_bytes(), &welcome).unwrap();
        let bytes = ds
            .take_welcome(name.as_bytes())
            .unwrap()
            .expect("the Welcome");
        let w = MlsMessage::from_bytes(&bytes).unwrap();
        let m = Meeting::join_welcome(MeetingConfig::default(), &w, b).unwrap();
        members.push(Member::new(m, seq));
    }
    members
}

/// Every member syncs; all are in one epoch with one authenticator.
pub fn assert_converged(ds: &mut impl DeliveryService, members: &mut [Member]) {
    for m in members.iter_mut() {
        let report = m.sync(ds).unwrap();
        assert!(report.refused.is_empty(), "{:?}", report.refused);
    }
    let first = &members[0];
    for m in &members[1..] {
        assert_eq!(m.meeting().epoch(), first.meeting().epoch());
        assert_eq!(
            m.meeting().epoch_authenticator(),
            first.meeting().epoch_authenticator(),
            "forked"
        );
    }
}

/// A `nats-server` with JetStream on a loopback port and a temporary store, stopped (and
/// its store removed) on drop.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    pub store: PathBuf,
    args: Vec<String>,
    /// Log lines that mention a new JetStream metadata leader (cluster nodes).
    leaders: Option<std::sync::mpsc::Receiver<String>>,
}

/// The `nats-server` binary, if there is one. `.ci/run` installs it and sets
/// `MEETKEY_REQUIRE_NATS=1`, so a missing server fails CI instead of skipping.
pub fn nats_server_binary() -> Option<String> {
    let found = [
        "nats-server",
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
    ]
    .into_iter()
    .find(|b| Command::new(b).arg("--version").output().is_ok())
    .map(str::to_owned);
    if found.is_none() && std::env::var_os("MEETKEY_REQUIRE_NATS").is_some() {
        panic!("nats-server is required (MEETKEY_REQUIRE_NATS) but not installed");
    }
    found
}

/// The arguments of a JetStream server on a loopback `port` storing in `store`.
fn node_args(port: u16, store: &std::path::Path) -> Vec<String> {
    vec![
        "-js".into(),
        "-a".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-sd".into(),
        store.display().to_string(),
    ]
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl NatsServer {
    /// Starts a single server; `None` when nats-server is not installed.
    pub fn start(name: &str) -> Option<Self> {
        let port = free_port();
        let store =
            std::env::temp_dir().join(format!("meetkey-nats-{name}-{}-{port}", std::process::id()));
        Self::start_with(node_args(port, &store), port, store)
    }

    /// Starts a server with `args`, waiting (without sleeping) until it logs that it is ready.
    pub fn start_with(args: Vec<String>, port: u16, store: PathBuf) -> Option<Self> {
        nats_server_binary()?;
        let mut s = Self {
            child: None,
            port,
            store,
            args,
            leaders: None,
        };
        s.launch();
        Some(s)
    }

    fn launch(&mut self) {
        let bin = nats_server_binary().unwrap();
        let mut child = Command::new(bin)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("Server is ready") {
                break;
            }
        }
        // Keep draining the log so the server never blocks on a full pipe; report elections.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("metadata leader") {
                    let _ = tx.send(line);
                }
            }
        });
        self.leaders = Some(rx);
        self.child = Some(child);
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (its store stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

/// Three JetStream nodes clustered on loopback ports, each with its own store.
pub struct Cluster {
    pub nodes: Vec<NatsServer>,
}

impl Cluster {
    /// Starts the cluster and waits (on the nodes' logs, without sleeping) until it elected
    /// its JetStream metadata leader; `None` when nats-server is not installed.
    pub fn start(name: &str) -> Option<Self> {
        nats_server_binary()?;
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, c)| format!("nats://127.0.0.1:{c}"))
            .collect();
        let mut nodes = Vec::new();
        for (i, (port, cport)) in ports.iter().enumerate() {
            let store = std::env::temp_dir()
                .join(format!("meetkey-nats-{name}-{}-{port}", std::process::id()));
            let mut args = node_args(*port, &store);
            args.extend([
                "-n".into(),
                format!("node{i}"),
                "--cluster_name".into(),
                "meetkey".into(),
                "--cluster".into(),
                format!("nats://127.0.0.1:{cport}"),
                "--routes".into(),
                routes.join(","),
            ]);
            nodes.push(NatsServer::start_with(args, *port, store)?);
        }
        let elected = nodes.iter().any(|n| {
            n.leaders
                .as_ref()
                .is_some_and(|rx| rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok())
        });
        assert!(elected, "the cluster elected no JetStream metadata leader");
        Some(Self { nodes })
    }

    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
