//! The delivery-service contract on both backends: the embedded one always, NATS JetStream
//! against a real `nats-server` on loopback (skipped when it is not installed, required in CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use meetkey::error::{Error, InvalidMessage, Unsupported};
use meetkey::meeting::{CommitIntent, Event, Meeting, MeetingConfig};
use meetkey_ds::embedded::EmbeddedDs;
use meetkey_ds::nats::{NatsConfig, NatsDs};
use meetkey_ds::tcp::{TcpDs, TcpServer};
use meetkey_ds::{DeliveryService, Member, Published};
use std::time::Duration;
use support::{assert_converged, meeting, rng, NatsServer, NOW};

/// Five members commit in the same epoch at once: the service stores exactly one commit,
/// the four others get a conflict; every member converges on the winner, and every loser's
/// intent is re-issued and lands in a later epoch.
fn five_commit_at_once(ds: &mut impl DeliveryService) {
    let mut r = rng(1);
    let mut ms = meeting(ds, b"race", 6, &mut r);
    assert_converged(ds, &mut ms);
    let epoch = ms[0].meeting().epoch();
    let commits: Vec<_> = ms[1..]
        .iter_mut()
        .map(|m| m.meeting_mut().rotate(NOW, &mut r).unwrap().commit)
        .collect();
    let outcomes: Vec<Published> = commits.iter().map(|c| ds.publish(c).unwrap()).collect();
    let winners = outcomes
        .iter()
        .filter(|o| matches!(o, Published::Appended { .. }))
        .count();
    assert_eq!(winners, 1, "{outcomes:?}");
    assert_converged(ds, &mut ms);
    assert_eq!(ms[0].meeting().epoch(), epoch + 1);
    // The losers: their commit was discarded with its intent; each re-issues it.
    let mut reissued = 0;
    for (i, o) in outcomes.iter().enumerate() {
        if *o == Published::Conflict {
            let m = &mut ms[i + 1];
            assert!(!m.meeting().has_pending_commit());
            m.commit(ds, &CommitIntent::Rotate, NOW, &mut r, 3).unwrap();
            reissued += 1;
        }
    }
    assert_eq!(reissued, 4);
    assert_converged(ds, &mut ms);
    assert_eq!(ms[0].meeting().epoch(), epoch + 5);
}

/// A member crashes between publishing its commit and the echo: restored from the state it
/// saved before publishing (and its cursor), it merges the echo and converges.
fn crash_between_publish_and_echo(ds: &mut impl DeliveryService) {
    let mut r = rng(2);
    let mut ms = meeting(ds, b"crash", 3, &mut r);
    assert_converged(ds, &mut ms);
    let out = ms[1].meeting_mut().rotate(NOW, &mut r).unwrap();
    let saved = ms[1].meeting().to_bytes().unwrap();
    let cursor = ms[1].cursor();
    assert!(matches!(
        ds.publish(&out.commit).unwrap(),
        Published::Appended { .. }
    ));
    // Killed here. Restart:
    let restored = Meeting::from_bytes(MeetingConfig::default(), &saved, &mut r).unwrap();
    assert!(restored.has_pending_commit());
    ms[1] = Member::new(restored, cursor);
    let report = ms[1].sync(ds).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(!ms[1].meeting().has_pending_commit());
    assert_converged(ds, &mut ms);
}

/// KeyPackages are handed out once; the last-resort one is handed out when no other is
/// left, and never consumed. GroupInfo: the latest one.
fn key_packages_once_and_group_info(ds: &mut impl DeliveryService) {
    let mut r = rng(3);
    let one = support::bundle("kp-owner", &mut r);
    let two = support::bundle("kp-owner", &mut r);
    let last = support::bundle("kp-owner", &mut r);
    ds.publish_key_package(b"kp-owner", &one.key_package, false)
        .unwrap();
    ds.publish_key_package(b"kp-owner", &two.key_package, false)
        .unwrap();
    ds.publish_key_package(b"kp-owner", &last.key_package, true)
        .unwrap();
    let mut got: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            ds.claim_key_package(b"kp-owner")
                .unwrap()
                .expect("a KeyPackage")
        })
        .collect();
    let enc = |b: &meetkey::mls::KeyPackageBundle| {
        meetkey::mls::MlsMessage::from(b.key_package.clone())
            .to_bytes()
            .unwrap()
    };
    // Two distinct ones, then the last-resort one twice.
    assert_eq!(got[2], enc(&last));
    assert_eq!(got[3], enc(&last));
    got.truncate(2);
    got.sort();
    let mut want = vec![enc(&one), enc(&two)];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(ds.claim_key_package(b"nobody").unwrap(), None);

    let mut ms = meeting(ds, b"gi", 2, &mut r);
    assert_converged(ds, &mut ms);
    assert_eq!(ds.group_info(b"gi").unwrap(), None);
    let gi = ms[0].meeting().group_info().unwrap();
    ds.put_group_info(&gi).unwrap();
    assert_eq!(ds.group_info(b"gi").unwrap(), Some(gi.to_bytes().unwrap()));
    // Not a GroupInfo: refused.
    let commit = ms[0].meeting_mut().rotate(NOW, &mut r).unwrap().commit;
    ms[0].meeting_mut().discard_pending();
    assert_eq!(
        ds.put_group_info(&commit),
        Err(meetkey_ds::DsError::Refused("not a GroupInfo"))
    );
}

#[test]
fn embedded_five_commit_at_once() {
    five_commit_at_once(&mut EmbeddedDs::new());
}

#[test]
fn embedded_crash_between_publish_and_echo() {
    crash_between_publish_and_echo(&mut EmbeddedDs::new());
}

#[test]
fn embedded_key_packages_and_group_info() {
    key_packages_once_and_group_info(&mut EmbeddedDs::new());
}

/// A hostile service injects garbage and a replayed commit into the log: the member reports
/// them, is unchanged by them, and goes on with the genuine log.
#[test]
fn embedded_hostile_entries_are_typed_errors_and_change_nothing() {
    let mut ds = EmbeddedDs::new();
    let mut r = rng(4);
    let mut ms = meeting(&mut ds, b"hostile", 3, &mut r);
    assert_converged(&mut ds, &mut ms);
    let before = ms[2].meeting().to_bytes().unwrap();
    ds.inject(b"hostile", vec![0xde, 0xad]).unwrap();
    let report = ms[2].sync(&mut ds).unwrap();
    assert_eq!(
        report.refused,
        vec![(2, Error::Unsupported(Unsupported::ProtocolVersion(0xdead)))]
    );
    assert!(
        *before == *ms[2].meeting().to_bytes().unwrap(),
        "garbage changed the meeting"
    );
    // A genuine commit of a member, tampered on the way: refused by everyone, who stay as
    // they were; a truncated one likewise.
    let out = ms[1].meeting_mut().rotate(NOW, &mut r).unwrap();
    ms[1].meeting_mut().discard_pending();
    let mut bytes = out.commit.to_bytes().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    ds.inject(b"hostile", bytes.clone()).unwrap();
    ds.inject(b"hostile", bytes[..bytes.len() / 2].to_vec())
        .unwrap();
    let report = ms[2].sync(&mut ds).unwrap();
    assert_eq!(report.refused.len(), 2, "{:?}", report.refused);
    assert_eq!(report.refused[0].1, Error::AuthenticationFailed);
    assert!(matches!(
        report.refused[1].1,
        Error::InvalidMessage(InvalidMessage::Truncated)
    ));
    assert!(
        *before == *ms[2].meeting().to_bytes().unwrap(),
        "a forged commit changed the meeting"
    );
    // The genuine log goes on.
    let (_, own) = ms[0]
        .commit(&mut ds, &CommitIntent::Rotate, NOW, &mut r, 1)
        .unwrap();
    assert!(own
        .events
        .iter()
        .any(|e| matches!(e, Event::Rotated { .. })));
    for m in &mut ms[1..] {
        let report = m.sync(&mut ds).unwrap();
        assert!(report
            .events
            .iter()
            .any(|e| matches!(e, Event::Rotated { .. })));
    }
    assert_converged(&mut ds, &mut ms);
}

fn tcp() -> (TcpServer, TcpDs) {
    let server = TcpServer::start(EmbeddedDs::new()).unwrap();
    let ds = TcpDs::connect(server.addr(), Duration::from_secs(5)).unwrap();
    (server, ds)
}

#[test]
fn tcp_five_commit_at_once() {
    let (_server, mut ds) = tcp();
    five_commit_at_once(&mut ds);
}

#[test]
fn tcp_crash_between_publish_and_echo() {
    let (_server, mut ds) = tcp();
    crash_between_publish_and_echo(&mut ds);
}

#[test]
fn tcp_key_packages_and_group_info() {
    let (_server, mut ds) = tcp();
    key_packages_once_and_group_info(&mut ds);
}

/// Malformed requests get a refusal, not a crash, and the connection goes on.
#[test]
fn tcp_server_refuses_malformed_requests() {
    use std::io::{Read, Write};
    let (server, mut ds) = tcp();
    let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
    for (op, body) in [(1u8, vec![0xde, 0xad]), (2, vec![0, 0, 0, 9]), (99, vec![])] {
        raw.write_all(&[op, 0, 0, 0, u8::try_from(body.len()).unwrap()])
            .unwrap();
        raw.write_all(&body).unwrap();
        let mut head = [0u8; 5];
        raw.read_exact(&mut head).unwrap();
        assert_eq!(head[0], 3, "op {op}: refused");
    }
    // A frame over the limit closes the connection without allocating it.
    raw.write_all(&[1, 0xff, 0xff, 0xff, 0xff]).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(raw.read(&mut buf).unwrap_or(0), 0);
    // Other clients are unaffected.
    assert_eq!(ds.group_info(b"nothing").unwrap(), None);
}

fn nats(name: &str) -> Option<(NatsServer, NatsDs)> {
    let server = NatsServer::start(name)?;
    let ds = NatsDs::connect(&server.url(), &NatsConfig::default()).unwrap();
    Some((server, ds))
}

#[test]
fn nats_five_commit_at_once() {
    let Some((_server, mut ds)) = nats("race") else {
        return;
    };
    five_commit_at_once(&mut ds);
}

#[test]
fn nats_crash_between_publish_and_echo() {
    let Some((_server, mut ds)) = nats("crash") else {
        return;
    };
    crash_between_publish_and_echo(&mut ds);
}

#[test]
fn nats_key_packages_and_group_info() {
    let Some((_server, mut ds)) = nats("kp") else {
        return;
    };
    key_packages_once_and_group_info(&mut ds);
}

/// The server is restarted mid-meeting (file store): the log, KeyPackages and GroupInfo are
/// all there after the restart, and the meeting goes on.
#[test]
fn nats_server_restart_loses_nothing() {
    let Some((mut server, mut ds)) = nats("restart") else {
        return;
    };
    let mut r = rng(5);
    let mut ms = meeting(&mut ds, b"restart", 4, &mut r);
    ms[1]
        .commit(&mut ds, &CommitIntent::Rotate, NOW, &mut r, 1)
        .unwrap();
    assert_converged(&mut ds, &mut ms);
    let log_before = ds.fetch(b"restart", 0, 100).unwrap();
    server.restart();
    let mut ds = NatsDs::connect(&server.url(), &NatsConfig::default()).unwrap();
    assert_eq!(ds.fetch(b"restart", 0, 100).unwrap(), log_before);
    ms[2]
        .commit(&mut ds, &CommitIntent::Rotate, NOW, &mut r, 1)
        .unwrap();
    assert_converged(&mut ds, &mut ms);
    assert_eq!(ms[0].meeting().epoch(), 3);
}

/// Retries `f` while the service is unavailable: a cluster that just formed, or lost a node,
/// answers "temporarily unavailable" until it has elected its stream leaders. That depends
/// on the servers' timing and the machine's load, so this waits for it — up to 600 tries,
/// 100 ms apart — the one pause in these tests, polling an outside process.
fn retrying<T>(mut f: impl FnMut() -> Result<T, meetkey_ds::MemberError>) -> T {
    let mut last = None;
    for _ in 0..600 {
        match f() {
            Ok(t) => return t,
            Err(meetkey_ds::MemberError::Ds(meetkey_ds::DsError::Unavailable(e))) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the cluster stayed unavailable: {last:?}");
}

/// A three-node JetStream cluster (stream and buckets with three replicas); one node is
/// stopped mid-meeting: the meeting goes on, nothing is lost and nobody forks.
#[test]
fn nats_cluster_survives_a_node_stopped_mid_meeting() {
    let Some(mut cluster) = support::Cluster::start("cluster") else {
        return;
    };
    let config = NatsConfig {
        replicas: 3,
        ..NatsConfig::default()
    };
    let mut ds = retrying(|| Ok(NatsDs::connect(&cluster.urls(), &config)?));
    let mut r = rng(6);
    let mut ms = meeting(&mut ds, b"cluster", 4, &mut r);
    ms[1]
        .commit(&mut ds, &CommitIntent::Rotate, NOW, &mut r, 1)
        .unwrap();
    assert_converged(&mut ds, &mut ms);
    let before = ds.fetch(b"cluster", 0, 100).unwrap();
    cluster.nodes[2].stop();
    for (i, who) in [2usize, 3, 0].into_iter().enumerate() {
        retrying(|| {
            ms[who].commit(&mut ds, &CommitIntent::Rotate, NOW, &mut r, 3)?;
            Ok(())
        });
        assert_eq!(ms[who].meeting().epoch(), 3 + i as u64);
    }
    for m in &mut ms {
        retrying(|| m.sync(&mut ds));
    }
    assert_converged(&mut ds, &mut ms);
    let after = retrying(|| Ok(ds.fetch(b"cluster", 0, 100)?));
    assert_eq!(after[..before.len()], before[..], "the log lost entries");
    assert_eq!(after.len(), before.len() + 3);
}
