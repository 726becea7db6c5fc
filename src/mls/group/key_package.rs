//! KeyPackages (RFC 9420 §10): what a client publishes so others can add it.

use crate::crypto::{CipherSuite, HpkePrivateKey, Rng, Secret, SignaturePrivateKey, Suite};
use crate::error::Result;
use crate::mls::validate::{KEY_PACKAGE_LABEL, LEAF_NODE_LABEL};
use crate::mls::wire::{
    Add, Capabilities, Credential, CredentialType, Extension, ExtensionType, KeyPackage, LeafNode,
    LeafNodeSource, Lifetime, MlsMessage, Proposal, ProtocolVersion, Sender,
};

/// A KeyPackage with the private keys that go with it: the HPKE init key (decrypts the
/// Welcome), the leaf's encryption key and the signing key.
#[derive(Debug)]
pub struct KeyPackageBundle {
    /// The public KeyPackage to publish.
    pub key_package: KeyPackage,
    pub(super) init_key: HpkePrivateKey,
    pub(super) leaf_key: HpkePrivateKey,
    pub(super) signer: SignaturePrivateKey,
}

impl KeyPackageBundle {
    /// A bundle from an existing KeyPackage and its private keys (state restore, test
    /// vectors). The keys are not checked against the KeyPackage here; joining fails if they
    /// do not match.
    #[must_use]
    #[cfg(any(test, all(feature = "bench-internals", feature = "adversary")))]
    pub(crate) const fn from_parts(
        key_package: KeyPackage,
        init_key: HpkePrivateKey,
        leaf_key: HpkePrivateKey,
        signer: SignaturePrivateKey,
    ) -> Self {
        Self {
            key_package,
            init_key,
            leaf_key,
            signer,
        }
    }

    /// A request to join group `group_id` in `epoch` (RFC 9420 §12.1.8): an Add of this
    /// KeyPackage from a `new_member_proposal` sender, a PublicMessage signed with the
    /// KeyPackage's signature key. Members store it and commit it only if their
    /// application admits it.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd KeyPackage.
    pub fn join_request(&self, group_id: &[u8], epoch: u64) -> Result<MlsMessage> {
        let suite = self.key_package.cipher_suite.suite()?;
        let add = Proposal::Add(Box::new(Add {
            key_package: self.key_package.clone(),
        }));
        super::external::non_member_proposal(
            &suite,
            &self.signer,
            group_id,
            epoch,
            Sender::NewMemberProposal,
            add,
            &[],
        )
    }

    /// A fresh KeyPackage for `credential`, signed by `signer`, valid during `lifetime`, with
    /// the given leaf capabilities for extensions (e.g. a meeting's private extension).
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd credential.
    pub fn new(
        suite: CipherSuite,
        credential: Credential,
        signer: SignaturePrivateKey,
        lifetime: Lifetime,
        extensions: &[ExtensionType],
        rng: &mut impl Rng,
    ) -> Result<Self> {
        Self::with_suite(
            &suite.suite()?,
            credential,
            signer,
            lifetime,
            extensions,
            rng,
        )
    }

    /// As [`KeyPackageBundle::new`], with the suite's implementation at hand.
    pub(crate) fn with_suite(
        suite: &Suite,
        credential: Credential,
        signer: SignaturePrivateKey,
        lifetime: Lifetime,
        extensions: &[ExtensionType],
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let (init_key, init_pub) =
            suite.derive_key_pair(&Secret::random(suite.hash_len(), rng)?)?;
        let (leaf_key, leaf_pub) =
            suite.derive_key_pair(&Secret::random(suite.hash_len(), rng)?)?;
        let mut leaf_node = LeafNode {
            encryption_key: leaf_pub.as_bytes().to_vec(),
            signature_key: signer.public_key().to_bytes().to_vec(),
            capabilities: Capabilities {
                versions: vec![ProtocolVersion::MLS10],
                cipher_suites: vec![suite.id()],
                // §7.2: default extension types are never listed (every client has them).
                extensions: extensions
                    .iter()
                    .copied()
                    .filter(|t| !crate::mls::validate::is_default_extension(*t))
                    .collect(),
                proposals: Vec::new(),
                credentials: vec![credential.credential_type(), CredentialType::BASIC]
                    .into_iter()
                    .fold(Vec::new(), |mut v, c| {
                        if !v.contains(&c) {
                            v.push(c);
                        }
                        v
                    }),
            },
            credential,
            leaf_node_source: LeafNodeSource::KeyPackage(lifetime),
            extensions: Vec::<Extension>::new(),
            signature: Vec::new(),
        };
        let tbs = leaf_node.to_be_signed(&[], 0)?;
        leaf_node.signature = signer.sign_with_label(LEAF_NODE_LABEL, &tbs)?.to_vec();
        let mut key_package = KeyPackage {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            init_key: init_pub.as_bytes().to_vec(),
            leaf_node,
            extensions: Vec::new(),
            signature: Vec::new(),
        };
        key_package.signature = signer
            .sign_with_label(KEY_PACKAGE_LABEL, &key_package.to_be_signed()?)?
            .to_vec();
        Ok(Self {
            key_package,
            init_key,
            leaf_key,
            signer,
        })
    }

    /// This bundle with its leaf changed, then validly re-signed (leaf and KeyPackage):
    /// its capabilities list `credential_types` too (besides the credential's own type and
    /// `basic`), and the leaf carries `leaf_extensions` (e.g. `application_id`, RFC 9420
    /// §5.3.3). A leaf extension must be listed in the leaf's capabilities unless it is a
    /// default one (§7.2), or receivers refuse the KeyPackage.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd extension.
    pub fn with_leaf(
        mut self,
        credential_types: &[CredentialType],
        leaf_extensions: Vec<Extension>,
    ) -> Result<Self> {
        let leaf = &mut self.key_package.leaf_node;
        for t in credential_types {
            if !leaf.capabilities.credentials.contains(t) {
                leaf.capabilities.credentials.push(*t);
            }
        }
        leaf.extensions = leaf_extensions;
        leaf.signature = self
            .signer
            .sign_with_label(LEAF_NODE_LABEL, &leaf.to_be_signed(&[], 0)?)?
            .to_vec();
        self.key_package.signature = self
            .signer
            .sign_with_label(KEY_PACKAGE_LABEL, &self.key_package.to_be_signed()?)?
            .to_vec();
        Ok(self)
    }

    /// Writes the bundle — KeyPackage and private keys — into a saved state (which the
    /// caller zeroizes).
    pub(crate) fn write_to(&self, w: &mut crate::codec::Writer) {
        crate::codec::Encode::encode(&self.key_package, w);
        self.init_key.write_to(w);
        self.leaf_key.write_to(w);
        self.signer.write_seed_to(w);
    }

    /// Reads what [`KeyPackageBundle::write_to`] wrote.
    ///
    /// # Errors
    /// [`InvalidMessage`](crate::error::InvalidMessage) for bytes that are not a bundle.
    pub(crate) fn read(r: &mut crate::codec::Reader<'_>) -> Result<Self> {
        use crate::crypto::MAX_SECRET_LEN;
        let key_package = <KeyPackage as crate::codec::Decode>::decode(r)?;
        let init_key = HpkePrivateKey::from_slice(r.read_opaque(MAX_SECRET_LEN)?)?;
        let leaf_key = HpkePrivateKey::from_slice(r.read_opaque(MAX_SECRET_LEN)?)?;
        let signer = SignaturePrivateKey::from_seed(r.read_opaque(MAX_SECRET_LEN)?)?;
        Ok(Self {
            key_package,
            init_key,
            leaf_key,
            signer,
        })
    }
}
