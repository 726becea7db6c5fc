//! What a hostile message costs a member before it is refused (issue 13, "bounded cost
//! before authentication"): each input is built to be as expensive as the limits allow,
//! then handed to a member; the program prints the time (median of 5) and the peak heap
//! above the baseline while it was processed.
//!
//! ```sh
//! cargo run --release --example hostile_costs
//! ```
//!
//! Inputs (each at most 16 MiB, `MAX_VEC_LEN`):
//! - a GroupInfo whose ratchet tree is 16 MiB of blank nodes (refused while decoding);
//! - a GroupInfo, validly signed by its forger and with the right tree hash, with the
//!   widest tree the limits allow (2^17 − 1 nodes), refused by tree validation;
//! - an external commit with 65 536 PSK proposals (the proposal limit), refused for the
//!   unknown PSKs after every linear check ran; and one with 65 537, refused at once;
//! - a join request whose KeyPackage carries a 16 MiB extension, refused for its size
//!   (`Limits::max_proposal_size`) before any signature is checked over it;
//! - an external commit whose new leaf carries a 16 MiB extension, in a meeting open to
//!   external joins: every check runs over it (and it is accepted).
//!
//! Each time includes decoding the message (and, where the member is restored per run,
//! `Meeting::from_bytes` of a one-member state, well under a millisecond).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use meetkey::codec::{Decode, Encode};
use meetkey::crypto::{CipherSuite, SignaturePrivateKey};
use meetkey::meeting::{ExternalJoins, Governance, Meeting, MeetingConfig};
use meetkey::mls::group::{Group, GroupConfig, KeyPackageBundle};
use meetkey::mls::wire::{
    Credential, Extension, ExtensionType, GroupInfo, Lifetime, MlsMessage, MlsMessageBody,
    PreSharedKey, PreSharedKeyId, Proposal, ProposalOrRef, Psk, RatchetTree,
};
use meetkey::routing::Policy;
use rand_core::SeedableRng;

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// atomics, which never allocate.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

const NOW: u64 = 1_800_000_000;
type Rng = rand_chacha::ChaCha20Rng;

fn kp(name: &str, r: &mut Rng) -> KeyPackageBundle {
    let suite = CipherSuite(1).suite().unwrap();
    Meeting::key_package(
        &suite,
        name.as_bytes(),
        SignaturePrivateKey::generate(r),
        Lifetime::starting_at(NOW, 86_400),
        r,
    )
    .unwrap()
}

/// A stopwatch for the report; nothing measured depends on it.
#[allow(clippy::disallowed_methods, reason = "measurement only")]
fn stopwatch() -> Instant {
    Instant::now()
}

/// Runs `f` five times; prints the median time and the peak heap above the level before.
fn measure<T: core::fmt::Debug>(what: &str, bytes: usize, mut f: impl FnMut() -> T) {
    let mut times = Vec::new();
    let mut peak = 0;
    let mut outcome = String::new();
    for _ in 0..5 {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = stopwatch();
        let out = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
        outcome = format!("{out:?}");
        drop(out);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| {what} | {:.2} MiB | {:.1} ms | {:.1} MiB | {outcome} |",
        bytes as f64 / 1_048_576.0,
        times[2],
        peak as f64 / 1_048_576.0
    );
}

fn main() {
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
        version: meetkey::mls::wire::ProtocolVersion::MLS10,
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
    measure("GroupInfo, 16 MiB of blank tree nodes", blank.len(), || {
        let gi = MlsMessage::decode_exact(&blank).unwrap();
        Meeting::join_external(
            MeetingConfig::default(),
            &gi,
            kp("eve", &mut r.clone()),
            &mut r.clone(),
        )
        .map(|_| ())
    });

    // 2. The widest tree the limits allow, signed by the forger itself (its own leaf 0).
    let forger = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
    let forged_leaf = {
        let b = KeyPackageBundle::new(
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
        Some(meetkey::mls::wire::Node::Leaf(Box::new(
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
    wide.group_context.tree_hash = meetkey::mls::tree::RatchetTree::from_wire(suite, &wire)
        .unwrap()
        .root_hash()
        .as_bytes()
        .to_vec();
    let wide =
        meetkey::mls::welcome::sign_group_info(&CipherSuite(1).suite().unwrap(), &forger, wide)
            .unwrap();
    let wide = wrap(wide).to_bytes().unwrap();
    measure(
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
        let psks: Vec<ProposalOrRef> = (0..n)
            .map(|i| {
                ProposalOrRef::Proposal(Proposal::PreSharedKey(Box::new(PreSharedKey {
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
            &mut r,
        )
        .unwrap();
        let commit = commit.to_bytes().unwrap();
        let saved = alice.to_bytes().unwrap();
        let mut m = Meeting::from_bytes(MeetingConfig::default(), &saved).unwrap();
        measure(
            &format!("external commit, {} proposals", n + 1),
            commit.len(),
            || m.process(&MlsMessage::decode_exact(&commit)?),
        );
    }

    // 4. A join request with a 16 MiB KeyPackage extension.
    let signer_seed = [5; 32];
    let big = KeyPackageBundle::new(
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
        meetkey::crypto::HpkePrivateKey::from_slice(&[1; 32]).unwrap(),
        meetkey::crypto::HpkePrivateKey::from_slice(&[2; 32]).unwrap(),
        SignaturePrivateKey::from_seed(&signer_seed).unwrap(),
    );
    let request = Meeting::join_request(&alice.group_info().unwrap(), &bundle)
        .unwrap()
        .to_bytes()
        .unwrap();
    let saved = alice.to_bytes().unwrap();
    measure(
        "join request, 16 MiB KeyPackage extension",
        request.len(),
        || {
            let mut m = Meeting::from_bytes(MeetingConfig::default(), &saved).unwrap();
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
        meetkey::crypto::HpkePrivateKey::from_slice(&[1; 32]).unwrap(),
        meetkey::crypto::HpkePrivateKey::from_slice(&[2; 32]).unwrap(),
        SignaturePrivateKey::from_seed(&signer_seed).unwrap(),
    );
    let commit =
        Group::forge_external_commit(GroupConfig::default(), &gi, bundle, None, vec![], &mut r)
            .unwrap()
            .to_bytes()
            .unwrap();
    measure(
        "external commit, 16 MiB leaf extension (an open meeting: accepted)",
        commit.len(),
        || {
            let mut m = Meeting::from_bytes(MeetingConfig::default(), &saved).unwrap();
            m.process(&MlsMessage::decode_exact(&commit)?)
        },
    );
    alice.drain_events();
}
