//! Ratchet-tree decoding and validation (RFC 9420 §7.9.2, §12.4.3.1).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::CipherSuite;
use crate::mls::tree::{verify, RatchetTree};
use crate::mls::wire::{self, MAX_VEC_LEN};

/// The input of [`ratchet_tree_validate`]:
///
/// ```text
/// struct {
///     CipherSuite cipher_suite;   // 3 selects suite 3, anything else suite 1
///     opaque group_id<V>;         // leaf signatures of update/commit leaves cover it
///     optional<Node> ratchet_tree<V>;
/// } TreeInput;
/// ```
///
/// The decoded triple must re-encode to the bytes it consumed. A tree that builds must give
/// back the same wire tree and hash the same when rebuilt; a tree that validates must pass
/// each check of validation on its own.
///
/// # Panics
/// When one of those properties fails.
pub fn ratchet_tree_validate(data: &[u8]) {
    let _ = tree_verdict(data);
}

/// `None` when `data` does not decode or build; else whether the tree validated.
pub(super) fn tree_verdict(data: &[u8]) -> Option<bool> {
    let mut r = Reader::new(data);
    let cipher_suite = r.read_u16().ok()?;
    let group_id = r.read_opaque(MAX_VEC_LEN).ok()?;
    let tree = wire::RatchetTree::decode(&mut r).ok()?;
    let consumed = data.len().saturating_sub(r.remaining().len());
    let mut w = Writer::new();
    w.write_u16(cipher_suite);
    w.write_opaque(group_id);
    tree.encode(&mut w);
    assert_eq!(
        w.into_bytes().ok().as_deref(),
        data.get(..consumed),
        "the tree input did not re-encode"
    );

    let id = if cipher_suite == 3 { 3 } else { 1 };
    let suite = CipherSuite(id).suite().ok()?;
    let built = RatchetTree::from_wire(suite, &tree).ok()?;
    assert_eq!(
        built.to_wire(),
        tree,
        "a built tree changed on the way back"
    );
    let again = RatchetTree::from_wire(suite, &built.to_wire());
    assert_eq!(
        again.as_ref().map(RatchetTree::root_hash).ok(),
        Some(built.root_hash()),
        "the same tree hashed twice differently"
    );
    let valid = verify::verify_tree(&built, group_id).is_ok();
    if valid {
        assert!(verify::verify_structure(&built).is_ok());
        assert!(verify::verify_parent_hashes(&built).is_ok());
        assert!(verify::verify_leaf_signatures(&built, group_id).is_ok());
        assert!(
            built.leaves().next().is_some(),
            "a valid tree with no member"
        );
    }
    Some(valid)
}
