//! A client's real life, all at once (deterministic, seeded): clients over an ordered
//! delivery service (first commit of an epoch wins) with concurrent commits every epoch,
//! members offline for several epochs, crashes restored from snapshots (the same snapshot
//! twice: a "ghost" instance that sends media too), devices that lose their state and rejoin
//! by external commit in place of their old leaf, duplicated / reordered / dropped media on
//! three streams per sender, and media that crosses commits (frames of the past epoch
//! arriving late, frames of the next epoch overtaking its commit), on a clock that moves.
//!
//! Checked all along: every online member that caught up has the same
//! `epoch_authenticator`; a relay-side detector that sees every frame (ghosts' included)
//! never sees one (epoch, KID, CTR) twice — no (key, nonce) reuse; no handshake is lost
//! (every member processes the whole log in order without an error); media is lost only to
//! the network: a duplicate is `Replayed`, a frame of the next epoch is held and released
//! exactly once when its commit arrives, nothing else fails.
//!
//! `chaos_small` runs in the README's test command; `chaos_full` (30 clients, 200 epochs)
//! prints its figures: `cargo test --release --test meeting_chaos -- --ignored --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};

use meetkey::error::{Error, Stale};
use meetkey::meeting::{
    CommitIntent, Event, ExternalJoins, Governance, MediaStream, Meeting, MeetingConfig,
};
use meetkey::mls::{KeyPackageBundle, Lifetime, MessageKind, MlsMessage};
use meetkey::routing::Policy;
use meetkey::sframe::Header;
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

const NOW: u64 = 1_800_000_000;

struct Client {
    name: String,
    meeting: Meeting,
    /// How much of the delivery service's log this client processed.
    pos: usize,
    offline_rounds: u32,
    /// A snapshot to crash back to, and the log position it was taken at.
    snapshot: Option<(Vec<u8>, usize)>,
}

#[derive(Debug, Default)]
struct Figures {
    epochs: u64,
    commits: u64,
    conflicts: u64,
    retries: u64,
    restores: u64,
    ghosts: u64,
    joins: u64,
    leaves: u64,
    frames: u64,
    deliveries: u64,
    replays_refused: u64,
    early_held: u64,
    early_released: u64,
    late_decrypted: u64,
    rejoins: u64,
    violations: u64,
}

/// A frame as its receiver reports it: (sender leaf, stream, epoch, counter).
type FrameKey = (u32, MediaStream, u64, u64);

/// The delivery service: one ordered log; the first commit of an epoch wins.
#[derive(Default)]
struct Ds {
    log: Vec<MlsMessage>,
    committed_epochs: HashSet<u64>,
}

impl Ds {
    /// Appends `m` if it is for the meeting's current epoch (a commit: the first one);
    /// refuses it otherwise (`None`).
    fn submit(&mut self, m: MlsMessage) -> Option<usize> {
        let (_, epoch) = m.group_and_epoch().unwrap();
        let current = self.committed_epochs.iter().max().map_or(0, |e| e + 1);
        if epoch != current {
            return None;
        }
        if m.kind() == MessageKind::Commit {
            self.committed_epochs.insert(epoch);
        }
        self.log.push(m);
        Some(self.log.len() - 1)
    }
}

/// A device's signature key, the same every time for one name (a rejoining device keeps
/// its identity key; its state is what it lost).
fn signer(name: &str) -> SignaturePrivateKey {
    let seed = name
        .bytes()
        .fold(0x000C_4A05_u64, |h, b| h.rotate_left(7) ^ u64::from(b));
    SignaturePrivateKey::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn key_package(name: &str, r: &mut ChaCha20Rng) -> KeyPackageBundle {
    Meeting::key_package(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        name.as_bytes(),
        signer(name),
        Lifetime::starting_at(NOW, 86_400),
        r,
    )
    .unwrap()
}

fn chance(r: &mut ChaCha20Rng, percent: u32) -> bool {
    r.next_u32() % 100 < percent
}

struct World {
    r: ChaCha20Rng,
    ds: Ds,
    clients: Vec<Client>,
    /// Bundles of KeyPackages offered in Adds, by KeyPackage encoding.
    bundles: HashMap<Vec<u8>, (String, KeyPackageBundle)>,
    /// Adds accepted by the DS, waiting for their Welcome: (committer, commit index, KPs).
    joiners: Vec<(String, usize, Vec<Vec<u8>>)>,
    /// Every (epoch, KID, CTR) a relay saw.
    seen: HashSet<(u64, u64, u64)>,
    /// Early frames each receiver holds, to be released exactly once.
    held: HashMap<usize, HashSet<FrameKey>>,
    /// Commits lost by clients, to re-issue after the catch-up.
    lost: Vec<(usize, CommitIntent)>,
    /// The clock (Unix seconds): one second per round.
    now: u64,
    figures: Figures,
    next_name: u32,
}

fn kp_bytes(b: &KeyPackageBundle) -> Vec<u8> {
    b.key_package.to_bytes().unwrap()
}

impl World {
    fn new(seed: u64, n: usize) -> Self {
        let mut r = ChaCha20Rng::seed_from_u64(seed);
        let policy = Policy::new("eu-west").unwrap();
        let governance = Governance::new([b"c0"], ExternalJoins::RejoinOnly).unwrap();
        let mut creator = Meeting::create_with_governance(
            MeetingConfig::default(),
            key_package("c0", &mut r),
            b"chaos",
            &policy,
            &governance,
            &mut r,
        )
        .unwrap();
        let bundles: Vec<_> = (1..n)
            .map(|i| key_package(&format!("c{i}"), &mut r))
            .collect();
        let kps: Vec<_> = bundles.iter().map(|b| b.key_package.clone()).collect();
        let mut ds = Ds::default();
        let out = creator.add(&kps, NOW, &mut r).unwrap();
        ds.submit(out.commit).unwrap();
        creator.process(&ds.log[0]).unwrap();
        let welcome = creator.take_welcome().unwrap();
        let mut clients = vec![client("c0".into(), creator, 1)];
        for (i, b) in bundles.into_iter().enumerate() {
            let m = Meeting::join_welcome(MeetingConfig::default(), &welcome, b).unwrap();
            clients.push(client(format!("c{}", i + 1), m, 1));
        }
        Self {
            r,
            ds,
            clients,
            bundles: HashMap::new(),
            joiners: Vec::new(),
            seen: HashSet::new(),
            held: HashMap::new(),
            lost: Vec::new(),
            now: NOW,
            figures: Figures::default(),
            next_name: u32::try_from(n).unwrap(),
        }
    }

    fn online(&self, i: usize) -> bool {
        self.clients[i].offline_rounds == 0 && self.clients[i].meeting.is_active()
    }

    /// Processes the log from where client `i` stopped: every entry must be accepted.
    fn catch_up_one(&mut self, i: usize) -> Vec<Event> {
        while self.clients[i].pos < self.ds.log.len() && self.clients[i].meeting.is_active() {
            let m = &self.ds.log[self.clients[i].pos];
            if let Err(e) = self.clients[i].meeting.process(m) {
                let name = &self.clients[i].name;
                panic!(
                    "violation: {name} refused log entry {}: {e:?}",
                    self.clients[i].pos
                );
            }
            self.clients[i].pos += 1;
        }
        let events = self.clients[i].meeting.drain_events();
        for e in &events {
            if let Event::PendingCommitDiscarded { intent, .. } = e {
                if *intent != CommitIntent::Rotate && chance(&mut self.r, 50) {
                    self.lost.push((i, intent.clone()));
                }
            }
        }
        events
    }

    /// Online clients catch up; some lost commits are re-issued; joiners come in.
    fn catch_up(&mut self) {
        for i in 0..self.clients.len() {
            if self.online(i) {
                self.catch_up_one(i);
            }
        }
        self.check_early_releases();
        for (i, intent) in std::mem::take(&mut self.lost) {
            if !self.online(i) || self.clients[i].meeting.has_pending_commit() {
                continue;
            }
            if let Ok(out) = self.clients[i].meeting.retry(&intent, NOW, &mut self.r) {
                self.save(i);
                self.figures.retries += 1;
                self.submit_commit(i, out.commit, &intent);
            }
        }
        let joiners = std::mem::take(&mut self.joiners);
        for (committer, index, kps) in joiners {
            let Some(c) = self.clients.iter().position(|c| c.name == committer) else {
                continue;
            };
            if self.clients[c].pos <= index {
                self.joiners.push((committer, index, kps));
                continue;
            }
            let welcome = self.clients[c]
                .meeting
                .take_welcome()
                .expect("a confirmed Add releases its Welcome");
            for k in kps {
                let (name, bundle) = self.bundles.remove(&k).unwrap();
                let m = Meeting::join_welcome(MeetingConfig::default(), &welcome, bundle).unwrap();
                self.figures.joins += 1;
                self.clients.push(client(name, m, index + 1));
                let last = self.clients.len() - 1;
                self.catch_up_one(last);
            }
        }
    }

    fn submit_commit(&mut self, i: usize, commit: MlsMessage, intent: &CommitIntent) {
        match self.ds.submit(commit) {
            Some(index) => {
                self.figures.commits += 1;
                if let CommitIntent::Add(kps) = intent {
                    let kps = kps.iter().map(|k| k.to_bytes().unwrap()).collect();
                    self.joiners
                        .push((self.clients[i].name.clone(), index, kps));
                }
            }
            None => self.figures.conflicts += 1,
        }
    }

    /// One to four online members commit in the same epoch: the DS keeps the first.
    fn commits(&mut self) {
        let online: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.online(i) && !self.clients[i].meeting.has_pending_commit())
            .filter(|&i| self.clients[i].pos == self.ds.log.len())
            .collect();
        if online.is_empty() {
            return;
        }
        let k = 1 + self.r.next_u32() as usize % 4;
        let mut attempts = Vec::new();
        for _ in 0..k {
            let i = online[self.r.next_u32() as usize % online.len()];
            if self.clients[i].meeting.has_pending_commit() {
                continue;
            }
            let (out, intent) = if chance(&mut self.r, 10) && self.clients.len() < 60 {
                let name = format!("c{}", self.next_name);
                self.next_name += 1;
                let b = key_package(&name, &mut self.r);
                let kp = b.key_package.clone();
                self.bundles.insert(kp_bytes(&b), (name, b));
                let intent = CommitIntent::Add(vec![kp.clone()]);
                (self.clients[i].meeting.add(&[kp], NOW, &mut self.r), intent)
            } else {
                (
                    self.clients[i].meeting.rotate(NOW, &mut self.r),
                    CommitIntent::Rotate,
                )
            };
            let out = out.unwrap();
            // The app saves before it sends (write-ahead): a crash restores the pending
            // commit, whose echo then merges it.
            self.save(i);
            attempts.push((i, out.commit, intent));
        }
        // The DS receives them in any order.
        while !attempts.is_empty() {
            let j = self.r.next_u32() as usize % attempts.len();
            let (i, commit, intent) = attempts.swap_remove(j);
            self.submit_commit(i, commit, &intent);
        }
    }

    /// Offline spells, leave requests, crashes.
    fn life(&mut self) {
        for i in 0..self.clients.len() {
            let c = &mut self.clients[i];
            if c.offline_rounds > 0 {
                c.offline_rounds -= 1;
                continue;
            }
            if !c.meeting.is_active() {
                continue;
            }
            if chance(&mut self.r, 4) {
                self.clients[i].offline_rounds = 1 + self.r.next_u32() % 5;
            } else if chance(&mut self.r, 5) {
                self.save(i);
            } else if chance(&mut self.r, 8) {
                self.restore(i);
            } else if chance(&mut self.r, 1) {
                self.lose_state_and_rejoin(i);
            } else if chance(&mut self.r, 1) && i != 0 && self.active_count() > 6 {
                let leave = self.clients[i].meeting.leave(&mut self.r).unwrap();
                if self.ds.submit(leave).is_some() {
                    self.figures.leaves += 1;
                }
            }
        }
    }

    /// The app saves client `i`'s state (what a crash restores).
    fn save(&mut self, i: usize) {
        let snap = self.clients[i].meeting.to_bytes().unwrap().to_vec();
        self.clients[i].snapshot = Some((snap, self.clients[i].pos));
    }

    fn active_count(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.meeting.is_active())
            .count()
    }

    /// Client `i` crashes and restarts from its snapshot; a second instance restored from
    /// the same snapshot (a backup, a second app instance) sends a few frames too.
    fn restore(&mut self, i: usize) {
        let Some((snap, pos)) = self.clients[i].snapshot.take() else {
            return;
        };
        let mut restored =
            Meeting::from_bytes(MeetingConfig::default(), &snap, &mut self.r).unwrap();
        let mut ghost = Meeting::from_bytes(MeetingConfig::default(), &snap, &mut self.r).unwrap();
        self.figures.restores += 1;
        self.figures.ghosts += 1;
        for m in [&mut restored, &mut ghost] {
            if m.is_active() {
                for stream in [MediaStream::AUDIO, MediaStream::VIDEO, MediaStream::AUDIO] {
                    let epoch = m.epoch();
                    let f = send(m, stream);
                    self.detect(epoch, &f);
                }
            }
        }
        self.clients[i].meeting = restored;
        self.clients[i].pos = pos;
        // Frames held for the next epoch are not part of a saved state.
        self.held.remove(&i);
        self.catch_up_one(i);
    }

    /// Client `i`'s device loses its state (no snapshot survives) and rejoins by external
    /// commit from the GroupInfo a caught-up member publishes, with the same identity key:
    /// its new leaf replaces its old one.
    fn lose_state_and_rejoin(&mut self, i: usize) {
        let Some(k) = (0..self.clients.len())
            .find(|&k| k != i && self.online(k) && self.clients[k].pos == self.ds.log.len())
        else {
            return;
        };
        let gi = self.clients[k].meeting.group_info().unwrap();
        let name = self.clients[i].name.clone();
        let bundle = key_package(&name, &mut self.r);
        let (mut m, commit) =
            Meeting::rejoin_external(MeetingConfig::default(), &gi, bundle, &mut self.r).unwrap();
        let old_leaf = self.clients[i].meeting.own_leaf();
        let Some(index) = self.ds.submit(commit) else {
            return; // the epoch moved on: the device tries again later
        };
        self.figures.rejoins += 1;
        self.figures.commits += 1;
        m.drain_events();
        self.clients[i].meeting = m;
        self.clients[i].pos = index + 1;
        self.clients[i].snapshot = None;
        self.held.remove(&i);
        // A Welcome the device had not handed out yet is lost with its state: those joiners
        // never come (their leaves stay until someone removes them).
        self.joiners.retain(|(committer, ..)| *committer != name);
        // Every member that processes the rejoin sees the device come back at a new leaf.
        for c in 0..self.clients.len() {
            if c == i || !self.online(c) {
                continue;
            }
            let events = self.catch_up_one(c);
            assert!(
                events.iter().any(|e| matches!(
                    e,
                    Event::ParticipantRejoined { old_leaf: o, .. } if *o == old_leaf
                )),
                "violation: {} did not see {name} rejoin",
                self.clients[c].name
            );
        }
    }

    /// The relay-side detector: one (epoch, KID, CTR) — one (key, nonce) — never twice.
    fn detect(&mut self, epoch: u64, frame: &[u8]) {
        let (h, _) = Header::decode(frame).unwrap();
        self.figures.frames += 1;
        if !self.seen.insert((epoch, h.kid, h.ctr)) {
            self.figures.violations += 1;
            panic!(
                "violation: (epoch {epoch}, KID {}, CTR {}) twice",
                h.kid, h.ctr
            );
        }
    }

    /// Every online member at the newest epoch or one behind sends two frames on random
    /// streams; the network drops, duplicates and reorders them on the way to every other
    /// such member. Run once when all are caught up and once in the middle of a catch-up,
    /// so frames cross commits both ways: a frame of the past epoch is decrypted under its
    /// retained key, one of the next epoch is held for its commit.
    fn media(&mut self) {
        let newest = (0..self.clients.len())
            .filter(|&i| self.online(i))
            .map(|i| self.clients[i].meeting.epoch())
            .max()
            .unwrap_or(0);
        let senders: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.online(i) && self.clients[i].meeting.epoch() + 1 >= newest)
            .collect();
        let mut in_flight = Vec::new();
        for &i in &senders {
            for _ in 0..2 {
                let epoch = self.clients[i].meeting.epoch();
                let stream = [
                    MediaStream::AUDIO,
                    MediaStream::VIDEO,
                    MediaStream::SCREEN_SHARE,
                ][self.r.next_u32() as usize % 3];
                let f = send(&mut self.clients[i].meeting, stream);
                self.detect(epoch, &f);
                let key = (self.clients[i].meeting.own_leaf(), stream, epoch);
                for &j in &senders {
                    if j == i || chance(&mut self.r, 10) {
                        continue;
                    }
                    in_flight.push((j, f.clone(), key));
                    if chance(&mut self.r, 10) {
                        in_flight.push((j, f.clone(), key));
                    }
                }
            }
        }
        while !in_flight.is_empty() {
            let k = self.r.next_u32() as usize % in_flight.len();
            let (j, f, (leaf, stream, epoch)) = in_flight.swap_remove(k);
            let mut out = vec![0u8; f.len()];
            self.figures.deliveries += 1;
            let ctr = Header::decode(&f).unwrap().0.ctr;
            let receiver_epoch = self.clients[j].meeting.epoch();
            match self.clients[j]
                .meeting
                .decrypt_frame(b"rtp", &f, &mut out, self.now)
            {
                Ok(info) => {
                    assert_eq!(&out[..info.len], b"chaos frame");
                    assert_eq!(
                        (info.sender, info.stream, info.epoch),
                        (leaf, stream, epoch)
                    );
                    if epoch < receiver_epoch {
                        self.figures.late_decrypted += 1;
                    }
                }
                Err(Error::Stale(Stale::Replayed)) => self.figures.replays_refused += 1,
                Err(Error::Stale(Stale::EarlyFrame)) if epoch == receiver_epoch + 1 => {
                    self.figures.early_held += 1;
                    self.held
                        .entry(j)
                        .or_default()
                        .insert((leaf, stream, epoch, ctr));
                }
                Err(e) => {
                    self.figures.violations += 1;
                    panic!("violation: a genuine frame of epoch {epoch} failed at epoch {receiver_epoch}: {e:?}");
                }
            }
        }
    }

    /// Every frame a caught-up receiver held for the next epoch came back exactly once.
    fn check_early_releases(&mut self) {
        for (j, expected) in std::mem::take(&mut self.held) {
            if !self.online(j) || self.clients[j].pos != self.ds.log.len() {
                // Not there yet: check once it is.
                self.held.insert(j, expected);
                continue;
            }
            let mut released = HashSet::new();
            while let Some(f) = self.clients[j].meeting.take_early_frame() {
                assert_eq!(f.plaintext, b"chaos frame");
                let i = f.info;
                assert!(
                    released.insert((i.sender, i.stream, i.epoch, i.counter)),
                    "violation: an early frame released twice"
                );
                self.figures.early_released += 1;
            }
            assert_eq!(
                released, expected,
                "violation: {} lost or invented early frames",
                self.clients[j].name
            );
        }
    }

    /// Some online members process the log (commits reach members at different times).
    fn catch_up_partly(&mut self) {
        for i in 0..self.clients.len() {
            if self.online(i) && chance(&mut self.r, 50) {
                self.catch_up_one(i);
            }
        }
    }

    /// Every online member that processed the whole log agrees.
    fn check_agreement(&self) {
        let caught_up: Vec<&Client> = self
            .clients
            .iter()
            .filter(|c| c.offline_rounds == 0 && c.meeting.is_active())
            .filter(|c| c.pos == self.ds.log.len())
            .collect();
        let Some((first, rest)) = caught_up.split_first() else {
            return;
        };
        for c in rest {
            assert_eq!(c.meeting.epoch(), first.meeting.epoch(), "{}", c.name);
            assert_eq!(
                c.meeting.epoch_authenticator(),
                first.meeting.epoch_authenticator(),
                "violation: {} forked",
                c.name
            );
        }
    }

    fn run(&mut self, epochs: u64) -> &Figures {
        let start = self.clients[0].meeting.epoch();
        let mut rounds = 0;
        while self.ds.committed_epochs.len() as u64 + start - 1 < start + epochs {
            rounds += 1;
            assert!(rounds < epochs * 20, "no progress");
            self.now += 1;
            self.catch_up();
            self.check_agreement();
            self.media();
            self.commits();
            self.catch_up_partly();
            self.media();
            self.catch_up();
            self.check_agreement();
            self.life();
        }
        // Everyone comes back online and catches up.
        for c in &mut self.clients {
            c.offline_rounds = 0;
        }
        self.catch_up();
        self.catch_up();
        self.check_agreement();
        self.figures.epochs = self.clients[0].meeting.epoch();
        &self.figures
    }
}

fn client(name: String, meeting: Meeting, pos: usize) -> Client {
    Client {
        name,
        meeting,
        pos,
        offline_rounds: 0,
        snapshot: None,
    }
}

fn send(m: &mut Meeting, stream: MediaStream) -> Vec<u8> {
    let mut out = vec![0u8; m.encrypted_len(stream, 11).unwrap()];
    let n = m
        .encrypt_frame(stream, b"rtp", b"chaos frame", &mut out)
        .unwrap();
    assert_eq!(n, out.len());
    out
}

#[test]
fn chaos_small() {
    let mut w = World::new(0xC4A05, 8);
    let f = w.run(40);
    println!("{f:?}");
    assert_eq!(f.violations, 0);
    assert!(f.epochs >= 40);
    assert!(f.conflicts > 0 && f.restores > 0 && f.frames > 0 && f.replays_refused > 0);
    assert!(f.early_held > 0 && f.early_released > 0 && f.late_decrypted > 0);
}

#[test]
#[ignore = "the full run: cargo test --release --test meeting_chaos -- --ignored --nocapture"]
fn chaos_full() {
    let mut w = World::new(0x000C_4A05_F011, 30);
    let f = w.run(200);
    println!("{f:#?}");
    assert_eq!(f.violations, 0);
    assert!(f.epochs >= 200);
    assert!(f.rejoins > 0 && f.early_released > 0);
}
