use super::*;
use crate::error::Error;
use crate::mls::tree::testing::{self, Member};
use crate::mls::tree::TreeChanges;
use crate::mls::tree::{verify, RatchetTree};
use crate::mls::wire::LeafNodeSource;

const GROUP: &[u8] = b"group";
const CONTEXT: &[u8] = b"provisional group context";

/// Member `sender` commits a fresh path over `tree`; returns the path, the prepared secrets
/// and the staged changes.
fn commit(
    tree: &RatchetTree,
    members: &[Member],
    sender: u32,
    seed: u64,
) -> (UpdatePath, PreparedPath, TreeChanges) {
    let mut diff = TreeDiff::new(tree);
    let m = &members[sender as usize];
    let template = LeafTemplate {
        leaf: tree.leaf(LeafIndex(sender)).unwrap(),
        signer: &m.signer,
        group_id: GROUP,
    };
    let mut rng = testing::rng(seed);
    let prepared = prepare_path(&mut diff, LeafIndex(sender), template, &mut rng).unwrap();
    let path = prepared.encrypt(&diff, CONTEXT, &[], 4, &mut rng).unwrap();
    (path, prepared, diff.into_changes())
}

/// Processes `path` from `sender` as `keys`: the commit secret, new keys and changes.
fn receive(
    tree: &RatchetTree,
    keys: &TreePrivateKeys,
    sender: u32,
    path: &UpdatePath,
) -> Result<(DecryptedPath, TreeChanges)> {
    let mut diff = TreeDiff::new(tree);
    let fdp = merge_path(&mut diff, LeafIndex(sender), path)?;
    let d = decrypt_path(&diff, keys, path, &fdp, CONTEXT, &[])?;
    Ok((d, diff.into_changes()))
}

#[test]
fn every_member_commits_in_turn_and_all_agree() {
    let n = 7;
    let (mut tree, members, mut keys) = testing::tree(n, 1);
    for sender in 0..n {
        let (path, prepared, changes) = commit(&tree, &members, sender, 100 + u64::from(sender));
        let mut staged = Vec::new();
        for j in (0..n).filter(|&j| j != sender) {
            let (d, ch) = receive(&tree, &keys[j as usize], sender, &path).unwrap();
            assert_eq!(&d.commit_secret, prepared.commit_secret(), "member {j}");
            staged.push((j, d.keys, ch));
        }
        let (_, own_keys) = prepared.into_keys();
        keys[sender as usize].apply(&tree, &changes, own_keys);
        for (j, new_keys, ch) in staged {
            keys[j as usize].apply(&tree, &ch, new_keys);
        }
        tree.merge(changes).unwrap();
        // The merged tree is a valid tree a joiner would accept.
        verify::verify_tree(&tree, GROUP).unwrap();
        let fresh = RatchetTree::from_wire(*tree.suite(), &tree.to_wire()).unwrap();
        assert_eq!(fresh.root_hash(), tree.root_hash());
    }
    // Every member now holds the root key.
    let root = tree.size().root();
    assert!(keys.iter().all(|k| k.key(root).is_some()));
}

/// A path from member 2 of a 6-member populated tree, and the tree and keys.
fn populated() -> (RatchetTree, Vec<Member>, Vec<TreePrivateKeys>, UpdatePath) {
    let (mut tree, members, mut keys) = testing::tree(6, 2);
    let (path, prepared, changes) = commit(&tree, &members, 0, 7);
    for j in 1..6u32 {
        let (d, ch) = receive(&tree, &keys[j as usize], 0, &path).unwrap();
        keys[j as usize].apply(&tree, &ch, d.keys);
    }
    keys[0].apply(&tree, &changes, prepared.into_keys().1);
    tree.merge(changes).unwrap();
    let (path, ..) = commit(&tree, &members, 2, 8);
    (tree, members, keys, path)
}

fn assert_rejected_without_change(
    tree: &RatchetTree,
    keys: &TreePrivateKeys,
    path: &UpdatePath,
    expected: Error,
) {
    let before = (tree.to_wire(), tree.root_hash(), keys.len());
    let r = receive(tree, keys, 2, path).map(|_| ());
    assert_eq!(r, Err(expected));
    assert_eq!((tree.to_wire(), tree.root_hash(), keys.len()), before);
}

#[test]
fn update_path_of_the_wrong_length_is_rejected() {
    let (tree, _, keys, mut path) = populated();
    path.nodes.pop();
    assert_rejected_without_change(
        &tree,
        &keys[0],
        &path,
        PeerMisbehaved::UpdatePathLength.into(),
    );
}

#[test]
fn ciphertexts_not_matching_the_resolution_are_rejected() {
    let (tree, _, keys, mut path) = populated();
    // Member 0's ciphertext is in the node above it; drop it so the count is off.
    for node in &mut path.nodes {
        node.encrypted_path_secret.clear();
    }
    assert_rejected_without_change(
        &tree,
        &keys[0],
        &path,
        PeerMisbehaved::UpdatePathLength.into(),
    );
}

#[test]
fn a_ciphertext_to_no_one_does_not_decrypt() {
    let (tree, _, keys, mut path) = populated();
    // Swap in ciphertexts sealed to a key nobody holds.
    let mut rng = testing::rng(77);
    let suite = *tree.suite();
    let (_, stranger) = suite
        .derive_key_pair(&Secret::random(32, &mut rng).unwrap())
        .unwrap();
    let secret = Secret::random(32, &mut rng).unwrap();
    for node in &mut path.nodes {
        for ct in &mut node.encrypted_path_secret {
            let c = suite
                .encrypt_secret_with_label(
                    &stranger,
                    UPDATE_PATH_NODE_LABEL,
                    CONTEXT,
                    &secret,
                    &mut rng,
                )
                .unwrap();
            *ct = HpkeCiphertext {
                kem_output: c.kem_output,
                ciphertext: c.ciphertext,
            };
        }
    }
    assert_rejected_without_change(&tree, &keys[0], &path, Error::AuthenticationFailed);
}

#[test]
fn a_changed_public_key_breaks_the_parent_hash() {
    let (tree, _, keys, mut path) = populated();
    path.nodes[0].encryption_key[5] ^= 0x10;
    assert_rejected_without_change(
        &tree,
        &keys[0],
        &path,
        PeerMisbehaved::ParentHashInvalid.into(),
    );
}

#[test]
fn a_key_that_does_not_match_its_path_secret_is_rejected() {
    // A malicious sender re-signs a leaf over parent hashes of a key it did not derive.
    let (tree, members, keys, _) = populated();
    let mut rng = testing::rng(5);
    let suite = *tree.suite();
    let mut diff = TreeDiff::new(&tree);
    let template = LeafTemplate {
        leaf: tree.leaf(LeafIndex(2)).unwrap(),
        signer: &members[2].signer,
        group_id: GROUP,
    };
    let mut prepared = prepare_path(&mut diff, LeafIndex(2), template, &mut rng).unwrap();
    let (_, other) = suite
        .derive_key_pair(&Secret::random(32, &mut rng).unwrap())
        .unwrap();
    let last = prepared.nodes.last_mut().unwrap();
    last.public = other;
    // Recompute the parent hashes over the substituted key and re-sign the leaf.
    let mut diff = TreeDiff::new(&tree);
    let fdp = diff.filtered_direct_path(LeafIndex(2)).unwrap();
    diff.blank_direct_path(LeafIndex(2)).unwrap();
    let public: Vec<&[u8]> = prepared
        .nodes
        .iter()
        .map(|n| n.public.as_bytes().as_slice())
        .collect();
    let ph = set_path(&mut diff, &fdp, &public).unwrap();
    let mut leaf = prepared.leaf_node.clone();
    leaf.leaf_node_source = LeafNodeSource::Commit { parent_hash: ph };
    let tbs = leaf.to_be_signed(GROUP, 2).unwrap();
    leaf.signature = members[2]
        .signer
        .sign_with_label(LEAF_NODE_LABEL, &tbs)
        .unwrap()
        .to_vec();
    prepared.leaf_node = leaf;
    let path = prepared.encrypt(&diff, CONTEXT, &[], 4, &mut rng).unwrap();
    assert_rejected_without_change(
        &tree,
        &keys[0],
        &path,
        PeerMisbehaved::PathKeyMismatch.into(),
    );
}

#[test]
fn a_leaf_that_is_not_from_a_commit_is_rejected() {
    let (tree, _, keys, mut path) = populated();
    path.leaf_node.leaf_node_source = LeafNodeSource::Update;
    assert_rejected_without_change(
        &tree,
        &keys[0],
        &path,
        PeerMisbehaved::UnexpectedLeafSource.into(),
    );
}

#[test]
fn excluded_new_members_get_no_ciphertext() {
    let (tree, members, _) = testing::tree(3, 3);
    let mut rng = testing::rng(4);
    let (newcomer, _) = testing::member(tree.suite(), 9, &mut rng);
    let mut diff = TreeDiff::new(&tree);
    let added = diff.add_leaf(newcomer.leaf).unwrap();
    let template = LeafTemplate {
        leaf: tree.leaf(LeafIndex(0)).unwrap(),
        signer: &members[0].signer,
        group_id: GROUP,
    };
    let prepared = prepare_path(&mut diff, LeafIndex(0), template, &mut rng).unwrap();
    let with = prepared.encrypt(&diff, CONTEXT, &[], 4, &mut rng).unwrap();
    let without = prepared
        .encrypt(&diff, CONTEXT, &[added], 4, &mut rng)
        .unwrap();
    let count = |p: &UpdatePath| {
        p.nodes
            .iter()
            .map(|n| n.encrypted_path_secret.len())
            .sum::<usize>()
    };
    assert_eq!(count(&with), count(&without) + 1);
}

#[test]
fn broken_trees_fail_validation() {
    let (tree, members, mut keys) = testing::tree(4, 6);
    let (_, prepared, changes) = commit(&tree, &members, 1, 9);
    keys[1].apply(&tree, &changes, prepared.into_keys().1);
    let mut tree = tree;
    tree.merge(changes).unwrap();
    verify::verify_tree(&tree, GROUP).unwrap();
    let suite = *tree.suite();

    // A parent hash that does not chain.
    let mut wire_tree = tree.to_wire();
    let Some(Some(Node::Parent(p))) = wire_tree.0.get_mut(1) else {
        panic!("node 1 should be a parent")
    };
    p.parent_hash[0] ^= 1;
    let broken = RatchetTree::from_wire(suite, &wire_tree).unwrap();
    assert_eq!(
        verify::verify_parent_hashes(&broken),
        Err(PeerMisbehaved::ParentHashInvalid.into())
    );

    // An unmerged leaf that is not below the node.
    let mut wire_tree = tree.to_wire();
    if let Some(Some(Node::Parent(p))) = wire_tree.0.get_mut(1) {
        p.unmerged_leaves = vec![3];
    }
    let broken = RatchetTree::from_wire(suite, &wire_tree).unwrap();
    assert_eq!(
        verify::verify_structure(&broken),
        Err(PeerMisbehaved::InvalidUnmergedLeaf.into())
    );

    // Two leaves with the same encryption key.
    let mut wire_tree = tree.to_wire();
    let key = match &wire_tree.0[0] {
        Some(Node::Leaf(l)) => l.encryption_key.clone(),
        _ => panic!("leaf 0"),
    };
    if let Some(Some(Node::Leaf(l))) = wire_tree.0.get_mut(4) {
        l.encryption_key = key;
    }
    let broken = RatchetTree::from_wire(suite, &wire_tree).unwrap();
    assert_eq!(
        verify::verify_structure(&broken),
        Err(PeerMisbehaved::DuplicateKey.into())
    );
}

/// The thread count changes where the HPKE seals run, never what they produce: with the
/// same RNG, one thread and eight give the same UpdatePath byte for byte.
#[test]
fn the_path_is_the_same_for_every_thread_count() {
    let (tree, members, _) = testing::tree(40, 40);
    let mut rng = testing::rng(5);
    let mut diff = TreeDiff::new(&tree);
    let template = LeafTemplate {
        leaf: tree.leaf(LeafIndex(0)).unwrap(),
        signer: &members[0].signer,
        group_id: GROUP,
    };
    let prepared = prepare_path(&mut diff, LeafIndex(0), template, &mut rng).unwrap();
    let paths: Vec<Vec<u8>> = [1, 2, 8]
        .iter()
        .map(|&threads| {
            let mut rng = testing::rng(6);
            let path = prepared
                .encrypt(&diff, CONTEXT, &[], threads, &mut rng)
                .unwrap();
            crate::codec::Encode::to_bytes(&path).unwrap()
        })
        .collect();
    assert_eq!(paths[0], paths[1]);
    assert_eq!(paths[0], paths[2]);
}
