//! Persistence of a secret tree (part of a group's saved state).

use crate::codec::{Reader, Writer};

use super::*;

/// Persistence of a secret tree (part of a group's saved state). Secrets leave their types
/// only into the caller's state buffer, which must be zeroized after use.
impl SecretTree {
    /// Appends the tree's state: size, node secrets, and each ratchet with its kept keys.
    pub(crate) fn write_state(&self, w: &mut Writer) {
        w.write_u32(self.size.leaves());
        let mut nodes: Vec<_> = self.nodes.iter().collect();
        nodes.sort_by_key(|(n, _)| **n);
        w.write_u32(u32::try_from(nodes.len()).unwrap_or(u32::MAX));
        for (n, secret) in nodes {
            w.write_u32(n.0);
            secret.write_opaque_to(w);
        }
        let mut leaves: Vec<_> = self.leaves.iter().collect();
        leaves.sort_by_key(|(l, _)| **l);
        w.write_u32(u32::try_from(leaves.len()).unwrap_or(u32::MAX));
        for (l, r) in leaves {
            w.write_u32(l.0);
            for ratchet in [&r.handshake, &r.application] {
                ratchet.secret.write_opaque_to(w);
                w.write_u32(ratchet.generation);
                w.write_u32(u32::try_from(ratchet.kept.len()).unwrap_or(u32::MAX));
                for (g, k, n) in &ratchet.kept {
                    w.write_u32(*g);
                    k.0.write_opaque_to(w);
                    n.0.write_opaque_to(w);
                }
            }
        }
    }

    /// Reads a state written by [`SecretTree::write_state`].
    ///
    /// # Errors
    /// [`InvalidMessage`](crate::error::InvalidMessage) for malformed or out-of-range state.
    pub(crate) fn read_state(
        suite: Suite,
        config: RatchetConfig,
        r: &mut Reader<'_>,
    ) -> Result<Self> {
        use crate::error::InvalidMessage;
        let size = TreeSize::new(r.read_u32()?).map_err(|_| InvalidMessage::InvalidValue)?;
        let read_secret = |r: &mut Reader<'_>| -> Result<Secret> {
            Secret::from_slice(r.read_opaque(crate::crypto::MAX_SECRET_LEN)?)
                .map_err(|_| InvalidMessage::InvalidValue.into())
        };
        let n_nodes = r.read_u32()?;
        let mut nodes = HashMap::new();
        for _ in 0..n_nodes {
            let n = NodeIndex(r.read_u32()?);
            if !size.contains(n) {
                return Err(InvalidMessage::InvalidValue.into());
            }
            nodes.insert(n, read_secret(r)?);
        }
        let n_leaves = r.read_u32()?;
        let mut leaves = HashMap::new();
        let max_kept = config.out_of_order_tolerance;
        for _ in 0..n_leaves {
            let l = LeafIndex(r.read_u32()?);
            if !size.contains_leaf(l) {
                return Err(InvalidMessage::InvalidValue.into());
            }
            let mut ratchets = Vec::with_capacity(2);
            for _ in 0..2 {
                let secret = read_secret(r)?;
                let generation = r.read_u32()?;
                let n_kept = r.read_u32()?;
                if n_kept > max_kept {
                    return Err(InvalidMessage::LengthTooLarge.into());
                }
                let mut kept = Vec::new();
                for _ in 0..n_kept {
                    let g = r.read_u32()?;
                    kept.push((g, AeadKey(read_secret(r)?), AeadNonce(read_secret(r)?)));
                }
                ratchets.push(Ratchet {
                    secret,
                    generation,
                    kept,
                });
            }
            let application = ratchets
                .pop()
                .ok_or(crate::error::Error::Internal("ratchet"))?;
            let handshake = ratchets
                .pop()
                .ok_or(crate::error::Error::Internal("ratchet"))?;
            leaves.insert(
                l,
                LeafRatchets {
                    handshake,
                    application,
                },
            );
        }
        Ok(Self {
            suite,
            size,
            config,
            nodes,
            leaves,
        })
    }
}
