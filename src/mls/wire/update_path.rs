//! Update paths of a Commit (RFC 9420 §7.6).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::Result;

use super::{LeafNode, MAX_VEC_LEN};

/// An HPKE ciphertext: the KEM output and the AEAD ciphertext (RFC 9420 §7.6).
///
/// ```text
/// struct {
///     opaque kem_output<V>;
///     opaque ciphertext<V>;
/// } HPKECiphertext;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HpkeCiphertext {
    /// The encapsulated key.
    pub kem_output: Vec<u8>,
    /// The AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

impl Decode for HpkeCiphertext {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            kem_output: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            ciphertext: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for HpkeCiphertext {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.kem_output);
        w.write_opaque(&self.ciphertext);
    }
}

/// A new public key on the committer's filtered direct path, with the path secret
/// encrypted to each node of the copath child's resolution (RFC 9420 §7.6).
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     HPKECiphertext encrypted_path_secret<V>;
/// } UpdatePathNode;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpdatePathNode {
    /// `HPKEPublicKey encryption_key` (`opaque <V>`).
    pub encryption_key: Vec<u8>,
    /// One ciphertext per node of the resolution, in resolution order.
    pub encrypted_path_secret: Vec<HpkeCiphertext>,
}

impl Decode for UpdatePathNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            encryption_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            encrypted_path_secret: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for UpdatePathNode {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.encryption_key);
        w.write_vec(&self.encrypted_path_secret);
    }
}

/// The committer's new leaf and new keys along its filtered direct path (RFC 9420 §7.6).
///
/// ```text
/// struct {
///     LeafNode leaf_node;
///     UpdatePathNode nodes<V>;
/// } UpdatePath;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpdatePath {
    /// The committer's new leaf (source `commit`).
    pub leaf_node: LeafNode,
    /// One entry per node of the filtered direct path, leaf to root.
    pub nodes: Vec<UpdatePathNode>,
}

impl Decode for UpdatePath {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            leaf_node: LeafNode::decode(r)?,
            nodes: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for UpdatePath {
    fn encode(&self, w: &mut Writer) {
        self.leaf_node.encode(w);
        w.write_vec(&self.nodes);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::InvalidMessage;
    use crate::mls::wire::leaf_node::tests::sample as sample_leaf;
    use crate::mls::wire::testing::check_round_trip;
    use crate::mls::wire::LeafNodeSource;

    pub(crate) fn sample() -> UpdatePath {
        let ct = |b| HpkeCiphertext {
            kem_output: vec![b; 32],
            ciphertext: vec![b; 48],
        };
        UpdatePath {
            leaf_node: sample_leaf(LeafNodeSource::Commit {
                parent_hash: vec![1; 32],
            }),
            nodes: vec![
                UpdatePathNode {
                    encryption_key: vec![2; 32],
                    encrypted_path_secret: vec![ct(3), ct(4)],
                },
                UpdatePathNode {
                    encryption_key: vec![5; 32],
                    encrypted_path_secret: vec![],
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_every_truncation_fails() {
        check_round_trip(&sample());
        check_round_trip(&HpkeCiphertext {
            kem_output: vec![],
            ciphertext: vec![1],
        });
    }

    #[test]
    fn a_ciphertext_overrunning_its_vector_is_rejected() {
        // encrypted_path_secret<V> of 2 bytes holding a kem_output that claims 5.
        assert_eq!(
            UpdatePathNode::decode_exact(&[0, 2, 5, 0]),
            Err(InvalidMessage::Truncated.into())
        );
    }
}
