//! Seed inputs for every harness: cut from the vectors and made by the fixture group.
//!
//! This is where the committed corpus (`fuzz/corpus/<target>/`) came from: it was written
//! once from [`all`] by a throwaway program (nothing in the repository writes files). The
//! replay test also runs the harnesses over [`all`] directly, so inputs the fixture makes
//! today are checked to reach the end of each state machine even if the committed corpus
//! goes stale (regenerate it then, see `fuzz/README.md`).

use std::collections::BTreeMap;

use crate::codec::{Encode, Writer};
use crate::crypto::SignaturePrivateKey;
use crate::mls::group::{CommitOptions, Group};
use crate::mls::wire::{
    Commit, FramedContentBody, GroupContextExtensions, MlsMessage, MlsMessageBody, Proposal, Remove,
};
use crate::routing::{Jurisdiction, Policy, SignedDirectory};

use super::group::{add, bundle, config, external_proposer, Mode, Three, EXTERNAL_SENDERS_BIT};
use super::rng::SeedRng;
use super::routing::OPERATOR_SEED;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;

/// A named seed input of one target.
pub(super) type Seed = (&'static str, String, Vec<u8>);

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector(name: &str) -> Vec<BTreeMap<String, serde_json::Value>> {
    let path = format!("{}/vectors/mls/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn field(case: &BTreeMap<String, serde_json::Value>, f: &str) -> Vec<u8> {
    hex(case[f].as_str().unwrap())
}

fn bytes(m: &impl Encode) -> Vec<u8> {
    m.to_bytes().unwrap()
}

/// The body of an MLSMessage: without `version` and `wire_format` (2 + 2 bytes).
fn body(msg: &[u8]) -> Vec<u8> {
    msg[4..].to_vec()
}

fn with_mode(mode: Mode, suite: u16, hs: bool, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![mode.byte(suite, hs)];
    v.extend_from_slice(rest);
    v
}

fn commit_body(m: &MlsMessage) -> Commit {
    let MlsMessageBody::PublicMessage(pm) = &m.body else {
        panic!("public commit expected")
    };
    let FramedContentBody::Commit(c) = &pm.content.body else {
        panic!("commit expected")
    };
    (**c).clone()
}

/// Every seed: (target, file name, bytes).
pub(super) fn all() -> Vec<Seed> {
    let mut out: Vec<Seed> = Vec::new();
    let mut put = |t: &'static str, n: String, b: Vec<u8>| out.push((t, n, b));

    // Vectors: messages.json, cases 0 and 50 of each suite (the file has 100 per suite
    // 1, 2, 3 in turn; suite 2 cases still exercise the decoders).
    let messages = vector("messages.json");
    for (i, case) in messages.iter().enumerate().filter(|(i, _)| i % 50 == 0) {
        for f in [
            "mls_welcome",
            "mls_group_info",
            "mls_key_package",
            "public_message_application",
            "public_message_proposal",
            "public_message_commit",
            "private_message",
        ] {
            put("mls_message", format!("vec-{i}-{f}"), field(case, f));
        }
        put(
            "welcome_join",
            format!("vec-{i}"),
            body(&field(case, "mls_welcome")),
        );
        put(
            "external_join",
            format!("vec-{i}"),
            body(&field(case, "mls_group_info")),
        );
        put(
            "key_package_validate",
            format!("vec-{i}"),
            body(&field(case, "mls_key_package")),
        );
        put(
            "private_message_unprotect",
            format!("vec-{i}"),
            field(case, "private_message"),
        );
        put(
            "commit_process",
            format!("vec-{i}-public-commit"),
            with_mode(
                Mode::Network,
                1,
                false,
                &field(case, "public_message_commit"),
            ),
        );
        put(
            "commit_process",
            format!("vec-{i}-commit"),
            with_mode(Mode::MaliciousCommit, 1, false, &field(case, "commit")),
        );
    }
    for (i, case) in vector("tree-validation.json").iter().enumerate() {
        let suite = u16::try_from(case["cipher_suite"].as_u64().unwrap()).unwrap();
        let mut w = Writer::new();
        w.write_u16(suite);
        w.write_opaque(&field(case, "group_id"));
        w.write_raw(&field(case, "tree"));
        put(
            "ratchet_tree_validate",
            format!("vec-{i}"),
            w.into_bytes().unwrap(),
        );
    }

    // The fixture group, in both suites and both handshake wire formats.
    for suite in [1u16, 3] {
        for hs in [false, true] {
            let tag = format!("s{suite}{}", if hs { "-private" } else { "" });
            let mut f = Three::new(suite, hs);
            let rng = &mut SeedRng::new(b"meetkey fuzz seeds");
            let welcome = bytes(&f.welcome);
            let group_info = |g: &Group, tree: bool| match g.group_info(tree).unwrap().body {
                MlsMessageBody::GroupInfo(gi) => bytes(&*gi),
                _ => unreachable!(),
            };
            if !hs {
                put("welcome_join", tag.clone(), welcome.clone());
                put(
                    "external_join",
                    format!("{tag}-alice"),
                    group_info(&f.alice, true),
                );
                put(
                    "external_join",
                    format!("{tag}-bob"),
                    group_info(&f.bob, true),
                );
                put(
                    "external_join",
                    format!("{tag}-no-tree"),
                    group_info(&f.alice, false),
                );
                for name in ["alice", "dave", "erin"] {
                    put(
                        "key_package_validate",
                        format!("{tag}-{name}"),
                        bytes(&bundle(suite, name).key_package),
                    );
                }
                let mut w = Writer::new();
                w.write_u16(suite);
                w.write_opaque(f.alice.group_id());
                f.alice.tree().to_wire().encode(&mut w);
                put(
                    "ratchet_tree_validate",
                    tag.clone(),
                    w.into_bytes().unwrap(),
                );
            }
            let net = |m: &MlsMessage| with_mode(Mode::Network, suite, hs, &bytes(m));
            let dave = bundle(suite, "dave").key_package;

            // Messages from each member, for the others to process.
            let app = f.carol.encrypt_application(b"hi", b"aad", rng).unwrap();
            put("commit_process", format!("{tag}-application"), net(&app));
            put("mls_message", format!("{tag}-application"), bytes(&app));
            let leave = f.carol.propose_leave(rng).unwrap();
            put("commit_process", format!("{tag}-leave"), net(&leave));
            let mut f = Three::new(suite, hs);
            let update = f.bob.commit(vec![], &CommitOptions::at(NOW), rng).unwrap();
            put(
                "commit_process",
                format!("{tag}-bob-commit"),
                net(&update.commit),
            );
            put(
                "mls_message",
                format!("{tag}-commit"),
                bytes(&update.commit),
            );
            let adds = f
                .alice
                .commit(
                    vec![crate::mls::Proposal(add(dave.clone()))],
                    &CommitOptions::at(NOW),
                    rng,
                )
                .unwrap();
            put(
                "commit_process",
                format!("{tag}-add-dave"),
                net(&adds.commit),
            );
            if let Some(w) = &adds.welcome {
                put("mls_message", format!("{tag}-welcome"), bytes(w));
                if !hs {
                    put("welcome_join", format!("{tag}-dave-only"), body(&bytes(w)));
                }
            }
            let mut f = Three::new(suite, hs);
            let remove = f
                .alice
                .commit(
                    vec![crate::mls::Proposal(Proposal::Remove(Remove {
                        removed: 2,
                    }))],
                    &CommitOptions {
                        force_path: false,
                        ..CommitOptions::at(NOW)
                    },
                    rng,
                )
                .unwrap();
            put(
                "commit_process",
                format!("{tag}-remove-carol"),
                net(&remove.commit),
            );
            if !hs {
                let commit = commit_body(&remove.commit);
                put(
                    "commit_process",
                    format!("{tag}-malicious-remove"),
                    with_mode(Mode::MaliciousCommit, suite, hs, &bytes(&commit)),
                );
            }
            // An external commit by Dave from Alice's GroupInfo.
            let f = Three::new(suite, hs);
            let MlsMessageBody::GroupInfo(gi) = f.alice.group_info(true).unwrap().body else {
                unreachable!()
            };
            let (_, external) =
                Group::join_external(config(hs), &gi, bundle(suite, "dave"), None, rng).unwrap();
            put("commit_process", format!("{tag}-external"), net(&external));
            put("mls_message", format!("{tag}-external"), bytes(&external));

            // Proposals from the external sender of a fixture that lists it (§12.1.8).
            let f = Three::new_with(suite, hs, true);
            let server = external_proposer(suite).unwrap();
            for (name, p) in [
                ("remove-carol", Proposal::Remove(Remove { removed: 2 })),
                ("add-dave", add(dave.clone())),
            ] {
                let m = server
                    .propose(
                        f.alice.group_id(),
                        f.alice.epoch(),
                        crate::mls::Proposal(p),
                        b"",
                    )
                    .unwrap();
                let mut input = net(&m);
                if let Some(selector) = input.first_mut() {
                    *selector |= EXTERNAL_SENDERS_BIT;
                }
                put("commit_process", format!("{tag}-ext-{name}"), input);
                if !hs && suite == 1 {
                    put("mls_message", format!("{tag}-ext-{name}"), bytes(&m));
                }
            }

            // Proposal lists for Alice to commit, and proposals for Carol to send.
            let lists: [(&str, Vec<Proposal>); 4] = [
                ("empty", vec![]),
                ("remove-bob", vec![Proposal::Remove(Remove { removed: 1 })]),
                ("add-dave", vec![add(dave.clone())]),
                (
                    "gce",
                    vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                        extensions: vec![],
                    })],
                ),
            ];
            for (name, list) in lists {
                let mut w = Writer::new();
                w.write_vec(&list);
                put(
                    "commit_process",
                    format!("{tag}-alice-commits-{name}"),
                    with_mode(Mode::AliceCommits, suite, hs, &w.into_bytes().unwrap()),
                );
            }
            for (name, p) in [
                ("remove-alice", Proposal::Remove(Remove { removed: 0 })),
                ("add-dave", add(dave)),
            ] {
                put(
                    "commit_process",
                    format!("{tag}-carol-proposes-{name}"),
                    with_mode(Mode::CarolProposes, suite, hs, &bytes(&p)),
                );
            }
        }
    }

    // PrivateMessage: the vector messages, which open in the fixed epochs.
    for (i, case) in vector("message-protection.json").iter().enumerate() {
        for f in ["proposal_priv", "commit_priv", "application_priv"] {
            put(
                "private_message_unprotect",
                format!("mp-{i}-{f}"),
                field(case, f),
            );
        }
    }

    // Routing.
    let payload = include_bytes!("../../fuzz/corpus/routing_directory/payload.json").to_vec();
    put("routing_directory", "payload.json".into(), payload.clone());
    put(
        "routing_directory",
        "signed.json".into(),
        include_bytes!("../../fuzz/corpus/routing_directory/signed.json").to_vec(),
    );
    let operator = SignaturePrivateKey::from_seed(&OPERATOR_SEED).unwrap();
    let signed = SignedDirectory::sign(&payload, &operator)
        .unwrap()
        .to_json()
        .unwrap();
    put("routing_directory_verify", "payload.json".into(), payload);
    put(
        "routing_directory_verify",
        "signed-by-operator.json".into(),
        signed,
    );
    put(
        "routing_directory_verify",
        "expired.json".into(),
        br#"{"version":1,"issued_at":1,"expires_at":2,"relays":[]}"#.to_vec(),
    );
    let j = |c| Jurisdiction::parse(c).unwrap();
    for (name, p) in [
        (
            "allow-us-ca",
            Policy::new("us-east")
                .unwrap()
                .allow_only([j("US"), j("CA")])
                .with_secondaries_outside_home(true),
        ),
        (
            "deny-ru-by",
            Policy::new("eu-west").unwrap().deny([j("RU"), j("BY")]),
        ),
        ("open", Policy::new("ap-south").unwrap()),
    ] {
        put("routing_policy", name.into(), p.encode_canonical());
    }
    // SFrame: header encodings of the RFC 9605 vectors (every length form), and frames the
    // decrypt harness opens (each suite, short and long KIDs and counters, with metadata).
    let sframe: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/vectors/sframe/rfc9605.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    for (i, case) in sframe["header"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .step_by(12)
    {
        put(
            "sframe_header",
            format!("vec-{i}"),
            hex(case["encoded"].as_str().unwrap()),
        );
    }
    for (suite, kid, ctr) in [
        (0u8, 0u64, 0u64),
        (1, 7, 1),
        (2, 0x123, 0xffff),
        (3, u64::MAX, 1 << 40),
        (4, 7, 3),
    ] {
        let input =
            super::sframe_decrypt_seed(suite, kid, ctr, b"rtp", b"media frame payload").unwrap();
        put(
            "sframe_decrypt",
            format!("suite{suite}-kid{kid:x}-ctr{ctr:x}"),
            input,
        );
    }

    // The meeting under a hostile delivery service: a join request, a leave request, and
    // commits of the admin (narrowing the fence, rotating, removing Carol).
    for (name, bytes) in &super::meeting_process::fixture().seeds {
        put("meeting_process", (*name).to_owned(), bytes.clone());
    }
    // Media under a hostile relay: frames of Bob's epoch and of the next one.
    for (name, bytes) in &super::meeting_frames::fixture().seeds {
        put("meeting_frames", (*name).to_owned(), bytes.clone());
    }
    let gov = crate::meeting::Governance::new(
        [b"alice".as_slice(), b"bob"],
        crate::meeting::ExternalJoins::RejoinOnly,
    )
    .unwrap();
    put(
        "governance_decode",
        "two-admins".to_owned(),
        gov.encode_canonical(),
    );
    out
}

/// The external proposals of the seeds are accepted and committed by the fixture that
/// lists their sender (the harness reaches the end), and refused by the one that does not.
#[test]
fn external_sender_seeds_reach_the_end() {
    let ext: Vec<_> = all()
        .into_iter()
        .filter(|(t, n, _)| *t == "commit_process" && n.contains("-ext-"))
        .collect();
    assert_eq!(ext.len(), 8);
    for (_, name, input) in &ext {
        assert_eq!(super::group::commit_outcome(input), 2, "{name}");
        let mut without = input.clone();
        without[0] &= !EXTERNAL_SENDERS_BIT;
        assert_eq!(super::group::commit_outcome(&without), 1, "{name}");
    }
}
