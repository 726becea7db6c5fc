//! TreeKEM costs in full (populated) trees of 10, 100, 1 000 and 10 000 leaves: creating an
//! UpdatePath (prepare, tree hash, encrypt), applying one (merge, tree hash, decrypt), the
//! tree hash after one path changed, and — in the same run — the public-key operations an
//! UpdatePath needs (one key derivation and one HPKE seal per filtered-direct-path node), so
//! the overhead ratio can be read off directly.
//!
//! Run: `cargo bench --bench tree`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::crypto::{CipherSuite, HpkePrivateKey, Secret, SignaturePrivateKey, Suite};
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::{treekem, LeafTemplate, RatchetTree, TreeDiff, TreePrivateKeys};
use crate::mls::wire::{
    Capabilities, Credential, LeafNode, LeafNodeSource, Lifetime, Node, ParentNode, ProtocolVersion,
};
use criterion::{BatchSize, BenchmarkId, Criterion};
use rand_core::SeedableRng;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

const GROUP: &[u8] = b"bench group";
const CONTEXT: &[u8] = b"provisional group context";

struct Fixture {
    tree: RatchetTree,
    signers: Vec<SignaturePrivateKey>,
    /// Private keys of leaf 1, which shares every ancestor with leaf 0 (the sender).
    receiver: TreePrivateKeys,
}

fn node_key(suite: &Suite, seed: u32) -> (HpkePrivateKey, Vec<u8>) {
    let mut ikm = [0u8; 32];
    ikm[..4].copy_from_slice(&seed.to_be_bytes());
    let (sk, pk) = suite
        .derive_key_pair(&Secret::from_slice(&ikm).unwrap())
        .unwrap();
    (sk, pk.as_bytes().to_vec())
}

/// A tree of `n` members in which every parent node holds a key (as after every member has
/// committed), so each copath resolution is one node.
fn fixture(n: u32) -> Fixture {
    let suite = CipherSuite(1).suite().unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(n));
    let mut signers = Vec::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let signer = SignaturePrivateKey::generate(&mut rng);
        let (_, pk) = node_key(&suite, 2 * i);
        let mut leaf = LeafNode {
            encryption_key: pk,
            signature_key: signer.public_key().to_bytes().to_vec(),
            credential: Credential::Basic {
                identity: i.to_be_bytes().to_vec(),
            },
            capabilities: Capabilities {
                versions: vec![ProtocolVersion::MLS10],
                cipher_suites: vec![suite.id()],
                ..Capabilities::default()
            },
            leaf_node_source: LeafNodeSource::KeyPackage(Lifetime::starting_at(NOW, KP_LIFETIME)),
            extensions: vec![],
            signature: vec![],
        };
        let tbs = leaf.to_be_signed(GROUP, i).unwrap();
        leaf.signature = signer
            .sign_with_label(b"LeafNodeTBS", &tbs)
            .unwrap()
            .to_vec();
        signers.push(signer);
        leaves.push(leaf);
    }
    let mut tree = RatchetTree::new(suite, leaves[0].clone()).unwrap();
    let mut diff = TreeDiff::new(&tree);
    for leaf in &leaves[1..] {
        diff.add_leaf(leaf.clone()).unwrap();
    }
    let changes = diff.into_changes();
    tree.merge(changes).unwrap();
    let mut diff = TreeDiff::new(&tree);
    let width = tree.size().width();
    for x in (1..width).step_by(2) {
        let (_, pk) = node_key(&suite, x);
        let parent = ParentNode {
            encryption_key: pk,
            parent_hash: vec![],
            unmerged_leaves: vec![],
        };
        diff.set(NodeIndex(x), Some(Node::Parent(Box::new(parent))))
            .unwrap();
    }
    let changes = diff.into_changes();
    tree.merge(changes).unwrap();
    let (leaf_key, _) = node_key(&suite, 2);
    let mut receiver = TreePrivateKeys::new(LeafIndex(1), leaf_key);
    for p in tree.size().direct_path(LeafIndex(1).node()).unwrap() {
        let (sk, _) = node_key(&suite, p.0);
        receiver.apply(&tree, &TreeDiff::new(&tree).into_changes(), vec![(p, sk)]);
    }
    Fixture {
        tree,
        signers,
        receiver,
    }
}

fn create_path(f: &Fixture, rng: &mut rand_chacha::ChaCha20Rng) -> crate::mls::wire::UpdatePath {
    let mut diff = TreeDiff::new(&f.tree);
    let template = LeafTemplate {
        leaf: f.tree.leaf(LeafIndex(0)).unwrap(),
        signer: &f.signers[0],
        group_id: GROUP,
    };
    let prepared = treekem::prepare_path(&mut diff, LeafIndex(0), template, rng).unwrap();
    let _root = diff.root_hash().unwrap();
    prepared
        .encrypt(&diff, CONTEXT, &[], crate::parallel::default_threads(), rng)
        .unwrap()
}

/// The tree benchmarks (`benches/tree.rs` runs them).
pub fn benches(c: &mut Criterion) {
    let sizes = [10u32, 100, 1_000, 10_000];
    let fixtures: Vec<(u32, Fixture)> = sizes.iter().map(|&n| (n, fixture(n))).collect();
    let suite = CipherSuite(1).suite().unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);

    let mut g = c.benchmark_group("update_path_create");
    for (n, f) in &fixtures {
        g.bench_with_input(BenchmarkId::from_parameter(n), f, |b, f| {
            b.iter(|| create_path(f, &mut rng))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("update_path_apply");
    for (n, f) in &fixtures {
        let path = create_path(f, &mut rng);
        g.bench_with_input(BenchmarkId::from_parameter(n), f, |b, f| {
            b.iter(|| {
                let mut diff = TreeDiff::new(&f.tree);
                let fdp = treekem::merge_path(&mut diff, LeafIndex(0), &path).unwrap();
                let _root = diff.root_hash().unwrap();
                treekem::decrypt_path(&diff, &f.receiver, &path, &fdp, CONTEXT, &[]).unwrap()
            });
        });
    }
    g.finish();

    let mut g = c.benchmark_group("tree_hash_after_path_change");
    for (n, f) in &fixtures {
        let path = create_path(f, &mut rng);
        g.bench_with_input(BenchmarkId::from_parameter(n), f, |b, f| {
            b.iter_batched(
                || {
                    // The path's nodes set, hashes not yet recomputed along it.
                    let mut diff = TreeDiff::new(&f.tree);
                    let fdp = diff.filtered_direct_path(LeafIndex(0)).unwrap();
                    for ((node, _), sent) in fdp.iter().zip(&path.nodes) {
                        let p = ParentNode {
                            encryption_key: sent.encryption_key.clone(),
                            parent_hash: vec![],
                            unmerged_leaves: vec![],
                        };
                        diff.set(*node, Some(Node::Parent(Box::new(p)))).unwrap();
                    }
                    diff
                },
                |mut diff| diff.root_hash().unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();

    // The floor: per filtered-direct-path node, one DeriveKeyPair and one HPKE seal.
    let mut g = c.benchmark_group("public_key_ops_of_a_path");
    for (n, f) in &fixtures {
        let depth = f.tree.size().root().level() as usize;
        let (_, pk) = suite
            .derive_key_pair(&Secret::from_slice(&[7; 32]).unwrap())
            .unwrap();
        let secret = Secret::from_slice(&[9; 32]).unwrap();
        g.bench_with_input(BenchmarkId::from_parameter(n), &depth, |b, &depth| {
            b.iter(|| {
                for _ in 0..depth {
                    let _ = suite.derive_key_pair(&secret).unwrap();
                    let _ = suite
                        .encrypt_secret_with_label(
                            &pk,
                            b"UpdatePathNode",
                            CONTEXT,
                            &secret,
                            &mut rng,
                        )
                        .unwrap();
                }
            });
        });
    }
    g.finish();
}
