//! Test support: members with real keys and trees built from them.

use rand_core::SeedableRng;

use crate::crypto::{CipherSuite, HpkePrivateKey, Secret, SignaturePrivateKey, Suite};
use crate::mls::wire::{
    Capabilities, Credential, LeafNode, LeafNodeSource, Lifetime, ProtocolVersion,
};

use super::math::LeafIndex;
use super::treekem::TreePrivateKeys;
use super::verify::LEAF_NODE_LABEL;
use super::{RatchetTree, TreeDiff};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

/// A deterministic RNG for tests.
pub(crate) fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

/// A member: signing key and a signed KeyPackage-source leaf.
pub(crate) struct Member {
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) leaf: LeafNode,
}

pub(crate) fn suite() -> Suite {
    CipherSuite(1).suite().unwrap()
}

/// A member and its HPKE leaf key.
pub(crate) fn member(
    suite: &Suite,
    id: u32,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> (Member, HpkePrivateKey) {
    let signer = SignaturePrivateKey::generate(rng);
    let (leaf_key, leaf_pub) = suite
        .derive_key_pair(&Secret::random(32, rng).unwrap())
        .unwrap();
    let mut leaf = LeafNode {
        encryption_key: leaf_pub.as_bytes().to_vec(),
        signature_key: signer.public_key().to_bytes().to_vec(),
        credential: Credential::Basic {
            identity: format!("member-{id}").into_bytes(),
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
    let tbs = leaf.to_be_signed(&[], 0).unwrap();
    leaf.signature = signer
        .sign_with_label(LEAF_NODE_LABEL, &tbs)
        .unwrap()
        .to_vec();
    (Member { signer, leaf }, leaf_key)
}

/// A tree of `n` members (creator plus `n - 1` adds, all unmerged) and each member's keys.
pub(crate) fn tree(n: u32, seed: u64) -> (RatchetTree, Vec<Member>, Vec<TreePrivateKeys>) {
    let suite = suite();
    let mut rng = rng(seed);
    let (members, leaf_keys): (Vec<Member>, Vec<HpkePrivateKey>) =
        (0..n).map(|i| member(&suite, i, &mut rng)).unzip();
    let mut tree = RatchetTree::new(suite, members[0].leaf.clone()).unwrap();
    let mut diff = TreeDiff::new(&tree);
    for m in &members[1..] {
        diff.add_leaf(m.leaf.clone()).unwrap();
    }
    let changes = diff.into_changes();
    tree.merge(changes).unwrap();
    let keys = (0..n)
        .zip(leaf_keys)
        .map(|(i, sk)| TreePrivateKeys::new(LeafIndex(i), sk))
        .collect();
    (tree, members, keys)
}
