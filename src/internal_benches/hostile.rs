//! Hostile inputs at the bounds of `Limits`, built from the inside (they need the wire
//! structures an honest client never exposes): a 16 MiB blank tree, a self-signed GroupInfo
//! at the node limit, external commits with 2^16 proposals, a 16 MiB KeyPackage extension.
//! `cargo run --release --example hostile_costs` measures what each costs to refuse.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use crate::codec::Decode;
use crate::crypto::{CipherSuite, SignaturePrivateKey};
use crate::meeting::{ExternalJoins, Governance, Meeting, MeetingConfig};
use crate::mls::group::{Group, GroupConfig, KeyPackageBundle};
use crate::mls::wire::{
    Credential, Extension, ExtensionType, GroupInfo, Lifetime, MlsMessage, MlsMessageBody,
    PreSharedKey, PreSharedKeyId, Proposal, Psk, RatchetTree,
};
use crate::routing::Policy;
use rand_core::SeedableRng;

const NOW: u64 = 1_800_000_000;
type Rng = rand_chacha::ChaCha20Rng;

fn kp(name: &str, r: &mut Rng) -> KeyPackageBundle {
    let suite = CipherSuite(1).suite().unwrap();
    Meeting::key_package(
        suite.id(),
        name.as_bytes(),
        SignaturePrivateKey::generate(r),
        Lifetime::starting_at(NOW, 86_400),
        r,
    )
    .unwrap()
}

/// What `run` reports each input to: its name, size, and a run returning the outcome.
pub type Measure<'a> = &'a mut dyn FnMut(&str, usize, &mut dyn FnMut() -> String);

fn measured<T: core::fmt::Debug>(
    measure: Measure<'_>,
    what: &str,
    bytes: usize,
    mut f: impl FnMut() -> T,
) {
    measure(what, bytes, &mut || format!("{:?}", f()));
}

/// Builds each hostile input and hands it to `measure` (what, size in bytes, a run that
/// returns the outcome as text); `examples/hostile_costs.rs` times the runs and counts heap.
pub fn run(measure: Measure<'_>) {
    let mut r = Rng::seed_from_u64(1);
    let policy = Policy::new("eu-west").unwrap();
    let open = Governance::new([b"alice"], ExternalJoins::Open).unwrap();
    let mut alice = Meeting::create_with_governance(
        MeetingConfig::default(),
        kp("alice", &mut r),
        b"hostile",
        &policy,
        &open,
        &mut r,
    )
    .unwrap();
    let gi = match alice.group_info().unwrap().body {
        MlsMessageBody::GroupInfo(gi) => *gi,
        _ => unreachable!(),
    };
    let wrap = |gi: GroupInfo| MlsMessage {
        version: crate::mls::wire::ProtocolVersion::MLS10,
        body: MlsMessageBody::GroupInfo(Box::new(gi)),
    };
    let leaf0 = {
        let ext = gi
            .extensions
            .iter()
            .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
            .unwrap();
        RatchetTree::decode_exact(&ext.extension_data).unwrap().0[0].clone()
    };
    let with_tree = |nodes: Vec<_>| {
        let mut g = gi.clone();
        let data = RatchetTree(nodes).to_bytes().unwrap();
        for e in &mut g.extensions {
            if e.extension_type == ExtensionType::RATCHET_TREE {
                e.extension_data.clone_from(&data);
            }
        }
        g
    };

    println!("| input | size | time (median of 5) | peak heap | outcome |");
    println!("|---|---|---|---|---|");

    // 1. 16 MiB of blank nodes.
    let mut nodes = vec![leaf0.clone()];
    nodes.extend(std::iter::repeat_n(None, (16 << 20) - 1024));
    nodes.push(leaf0);
    let blank = wrap(with_tree(nodes)).to_bytes().unwrap();
    measured(
        measure,
        "GroupInfo, 16 MiB of blank tree nodes",
        blank.len(),
        || {
            let gi = MlsMessage::decode_exact(&blank).unwrap();
            Meeting::join_external(
                MeetingConfig::default(),
                &gi,
                kp("eve", &mut r.clone()),
                &mut r.clone(),
            )
            .map(|_| ())
        },
    );

    // 2. The widest tree the limits allow, signed by the forger itself (its own leaf 0).
    let forger = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
    let forged_leaf = {
        let b = KeyPackageBundle::with_suite(
            &CipherSuite(1).suite().unwrap(),
            Credential::Basic {
                identity: b"forger".to_vec(),
            },
            SignaturePrivateKey::from_seed(&[9; 32]).unwrap(),
            Lifetime::starting_at(NOW, 86_400),
            &[],
            &mut r,
        )
        .unwrap();
        Some(crate::mls::wire::Node::Leaf(Box::new(
            b.key_package.leaf_node,
        )))
    };
    let max_nodes = 2 * (1usize << 16) - 1;
    let mut nodes = vec![forged_leaf.clone()];
    nodes.extend(std::iter::repeat_n(None, max_nodes - 2));
    nodes.push(forged_leaf);
    let suite = CipherSuite(1).suite().unwrap();
    let wire = RatchetTree(nodes.clone());
    let mut wide = with_tree(nodes);
    wide.signer = 0;
    // The forger gets the tree hash right, so validation runs past the hash.
    wide.group_context.tree_hash = crate::mls::tree::RatchetTree::from_wire(suite, &wire)
        .unwrap()
        .root_hash()
        .as_bytes()
        .to_vec();
    let wide =
        crate::mls::welcome::sign_group_info(&CipherSuite(1).suite().unwrap(), &forger, wide)
            .unwrap();
    let wide = wrap(wide).to_bytes().unwrap();
    measured(
        measure,
        "GroupInfo, self-signed, 2^17 − 1 nodes (the limit)",
        wide.len(),
        || {
            let gi = MlsMessage::decode_exact(&wide).unwrap();
            Meeting::join_external(
                MeetingConfig::default(),
                &gi,
                kp("eve", &mut r.clone()),
                &mut r.clone(),
            )
            .map(|_| ())
        },
    );

    // 3. External commits full of PSKs.
    for n in [65_536u32 - 1, 65_536] {
        let psks: Vec<crate::mls::Proposal> = (0..n)
            .map(|i| {
                crate::mls::Proposal(Proposal::PreSharedKey(Box::new(PreSharedKey {
                    psk: PreSharedKeyId {
                        psk: Psk::External {
                            psk_id: i.to_be_bytes().to_vec(),
                        },
                        psk_nonce: vec![7; 32],
                    },
                })))
            })
            .collect();
        let commit = Group::forge_external_commit(
            GroupConfig::default(),
            &gi,
            kp("eve", &mut r),
            None,
            psks,
            vec![],
            &mut r,
        )
        .unwrap();
        let commit = commit.to_bytes().unwrap();
        let saved = alice.to_bytes().unwrap();
        let mut m = Meeting::from_bytes(
            MeetingConfig::default(),
            &saved,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
        )
        .unwrap();
        measured(
            measure,
            &format!("external commit, {} proposals", n + 1),
            commit.len(),
            || m.process(&MlsMessage::decode_exact(&commit)?),
        );
    }

    // 4. A join request with a 16 MiB KeyPackage extension.
    let signer_seed = [5; 32];
    let big = KeyPackageBundle::with_suite(
        &CipherSuite(1).suite().unwrap(),
        Credential::Basic {
            identity: b"mallory".to_vec(),
        },
        SignaturePrivateKey::from_seed(&signer_seed).unwrap(),
        Lifetime::starting_at(NOW, 86_400),
        &[
            ExtensionType(0xF0A1),
            ExtensionType(0xF0A2),
            ExtensionType(0xF0F0),
        ],
        &mut r,
    )
    .unwrap();
    let mut key_package = big.key_package.clone();
    key_package.extensions.push(Extension {
        extension_type: ExtensionType(0xF0F0),
        extension_data: vec![0x55; (16 << 20) - 4096],
    });
    let signer = SignaturePrivateKey::from_seed(&signer_seed).unwrap();
    key_package.signature = signer
        .sign_with_label(b"KeyPackageTBS", &key_package.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    let bundle = KeyPackageBundle::from_parts(
        key_package,
        crate::crypto::HpkePrivateKey::from_slice(&[1; 32]).unwrap(),
        crate::crypto::HpkePrivateKey::from_slice(&[2; 32]).unwrap(),
        SignaturePrivateKey::from_seed(&signer_seed).unwrap(),
    );
    let request = Meeting::join_request(&alice.group_info().unwrap(), &bundle)
        .unwrap()
        .to_bytes()
        .unwrap();
    let saved = alice.to_bytes().unwrap();
    measured(
        measure,
        "join request, 16 MiB KeyPackage extension",
        request.len(),
        || {
            let mut m = Meeting::from_bytes(
                MeetingConfig::default(),
                &saved,
                &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
            )
            .unwrap();
            m.process(&MlsMessage::decode_exact(&request)?)
        },
    );

    // 5. An external commit whose new leaf carries a 16 MiB extension (signed over it).
    let mut leaf_kp = big.key_package;
    leaf_kp.leaf_node.extensions.push(Extension {
        extension_type: ExtensionType(0xF0F0),
        extension_data: vec![0x66; (16 << 20) - 8192],
    });
    let bundle = KeyPackageBundle::from_parts(
        leaf_kp,
        crate::crypto::HpkePrivateKey::from_slice(&[1; 32]).unwrap(),
        crate::crypto::HpkePrivateKey::from_slice(&[2; 32]).unwrap(),
        SignaturePrivateKey::from_seed(&signer_seed).unwrap(),
    );
    let commit = Group::forge_external_commit(
        GroupConfig::default(),
        &gi,
        bundle,
        None,
        vec![],
        vec![],
        &mut r,
    )
    .unwrap()
    .to_bytes()
    .unwrap();
    measured(
        measure,
        "external commit, 16 MiB leaf extension (an open meeting: accepted)",
        commit.len(),
        || {
            let mut m = Meeting::from_bytes(
                MeetingConfig::default(),
                &saved,
                &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
            )
            .unwrap();
            m.process(&MlsMessage::decode_exact(&commit)?)
        },
    );
    alice.drain_events();
}
