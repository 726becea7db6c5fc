//! The checks RFC 9420 calls MUST on leaf nodes (§7.3), key packages (§10.1) and proposal
//! lists (§12.2), each citing its section. Identity is the application's: a
//! [`CredentialValidator`] decides whether a credential is acceptable; the checks here are
//! ours.

use crate::crypto::{HpkePublicKey, SignaturePublicKey, Suite};
use crate::error::{Error, PeerMisbehaved, Result};

use super::wire::{
    Credential, CredentialType, ExtensionType, KeyPackage, LeafNode, LeafNodeSource, ProposalType,
    ProtocolVersion,
};

/// The label of a LeafNode signature (RFC 9420 §7.2).
pub(crate) const LEAF_NODE_LABEL: &[u8] = b"LeafNodeTBS";
/// The label of a KeyPackage signature (RFC 9420 §10).
pub(crate) const KEY_PACKAGE_LABEL: &[u8] = b"KeyPackageTBS";

/// Whether `t` is a default extension type (RFC 9420 §7.2: `application_id`, `ratchet_tree`,
/// `required_capabilities`, `external_pub`, `external_senders`). Every client supports
/// these, and a LeafNode's capabilities MUST NOT list them.
pub(crate) const fn is_default_extension(t: ExtensionType) -> bool {
    matches!(t.0, 0x0001..=0x0005)
}

/// Whether `t` is a default proposal type (RFC 9420 §7.2: `add` to
/// `group_context_extensions`). Every client supports these, and a LeafNode's capabilities
/// MUST NOT list them.
pub(crate) const fn is_default_proposal(t: ProposalType) -> bool {
    matches!(t.0, 0x0001..=0x0007)
}

/// The application's judgement of identities (RFC 9420 §5.3.1): whether a credential is
/// acceptable, and whether a new credential may replace an old one for the same member.
pub trait CredentialValidator: core::fmt::Debug + Send + Sync {
    /// Whether `credential`, presented with `signature_key`, identifies an acceptable client.
    ///
    /// # Errors
    /// The application's reason to reject; meetkey reports
    /// [`PeerMisbehaved::CredentialRejected`].
    fn validate(&self, credential: &Credential, signature_key: &[u8]) -> Result<()>;

    /// Whether `new` may replace `old` for the same member (an Update, or a commit path
    /// that changes the leaf). The default accepts only the identical identity.
    fn same_client(&self, old: &Credential, new: &Credential) -> bool {
        old == new
    }

    /// Whether a member rejoining by external commit (RFC 9420 §12.4.3.2, a "resync" that
    /// removes its own previous leaf) may present a new signature key. The default refuses:
    /// whoever holds the member's credential but not its signing key cannot take its
    /// place. Like every method here, it must decide the same way at every member.
    fn approve_signature_key_change(&self, old: &LeafNode, new: &LeafNode) -> bool {
        let _ = (old, new);
        false
    }
}

/// A validator that accepts every basic credential whose identity is not empty (for tests
/// and closed deployments that authenticate members out of band).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AcceptBasicCredentials;

impl CredentialValidator for AcceptBasicCredentials {
    fn validate(&self, credential: &Credential, _signature_key: &[u8]) -> Result<()> {
        match credential {
            Credential::Basic { identity } if !identity.is_empty() => Ok(()),
            _ => Err(PeerMisbehaved::CredentialRejected.into()),
        }
    }
}

/// Where a LeafNode appears, which decides its required source and signature context.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeafContext<'a> {
    /// In a KeyPackage: source `key_package`, lifetime checked against `now` if given.
    KeyPackage {
        /// The current time (seconds since the Unix epoch), if the lifetime is to be checked.
        now: Option<u64>,
    },
    /// In an Update proposal from `leaf_index`: source `update`.
    Update {
        /// The group.
        group_id: &'a [u8],
        /// The sender's leaf.
        leaf_index: u32,
    },
    /// In the UpdatePath of a commit from `leaf_index`: source `commit`.
    Commit {
        /// The group.
        group_id: &'a [u8],
        /// The committer's leaf.
        leaf_index: u32,
    },
}

/// The group parameters a leaf must be compatible with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupParams<'a> {
    /// The group's cipher suite.
    pub suite: &'a Suite,
    /// The extension types every member must support (`required_capabilities`), if any.
    pub required_extensions: &'a [ExtensionType],
    /// The proposal types every member must support.
    pub required_proposals: &'a [ProposalType],
    /// The credential types every member must support (never implied, §11.1).
    pub required_credentials: &'a [CredentialType],
    /// The application's credential policy.
    pub credentials: &'a dyn CredentialValidator,
    /// RFC 9420 §7.2: the longest total lifetime (seconds) of a KeyPackage accepted into
    /// the group.
    pub max_key_package_lifetime: u64,
}

/// Validates a LeafNode (RFC 9420 §7.3), except the uniqueness of its keys in the tree,
/// which needs the tree (see `mls::tree::verify`).
///
/// # Errors
/// [`Error::AuthenticationFailed`] for a bad signature; [`PeerMisbehaved`] details for
/// every other rule.
pub(crate) fn validate_leaf_node(
    leaf: &LeafNode,
    context: LeafContext<'_>,
    params: &GroupParams<'_>,
) -> Result<()> {
    // §7.3: the credential is valid (the application decides).
    params
        .credentials
        .validate(&leaf.credential, &leaf.signature_key)
        .map_err(|_| Error::from(PeerMisbehaved::CredentialRejected))?;
    // §7.3: the leaf_node_source matches where the leaf appears; lifetime for key packages.
    let (group_id, leaf_index) = match (context, &leaf.leaf_node_source) {
        (LeafContext::KeyPackage { now }, LeafNodeSource::KeyPackage(lifetime)) => {
            if let Some(now) = now {
                if now < lifetime.not_before || now > lifetime.not_after {
                    return Err(PeerMisbehaved::LifetimeExpired.into());
                }
            }
            (&[][..], 0)
        }
        (
            LeafContext::Update {
                group_id,
                leaf_index,
            },
            LeafNodeSource::Update,
        )
        | (
            LeafContext::Commit {
                group_id,
                leaf_index,
            },
            LeafNodeSource::Commit { .. },
        ) => (group_id, leaf_index),
        _ => return Err(PeerMisbehaved::UnexpectedLeafSource.into()),
    };
    // §7.3 (a valid HPKE public key): a low-order X25519 point would make every later
    // encryption to this leaf fail, stalling the group's path commits.
    HpkePublicKey::validated(&leaf.encryption_key)?;
    // §7.3: the signature verifies with the leaf's signature key.
    let key = SignaturePublicKey::from_bytes(&leaf.signature_key)?;
    let tbs = leaf.to_be_signed(group_id, leaf_index)?;
    key.verify_with_label(LEAF_NODE_LABEL, &tbs, &leaf.signature)?;
    // §7.2: the credential type is listed in the leaf's capabilities.
    let caps = &leaf.capabilities;
    if !caps
        .credentials
        .contains(&leaf.credential.credential_type())
    {
        return Err(PeerMisbehaved::UnsupportedCapability.into());
    }
    // §7.3: every extension of the leaf is listed in its capabilities; §7.2: except the
    // default types, which every client supports and which MUST NOT be listed (so a leaf
    // with an `application_id` extension does not list it).
    if !leaf
        .extensions
        .iter()
        .map(|e| e.extension_type)
        .all(|t| is_default_extension(t) || caps.extensions.contains(&t))
    {
        return Err(PeerMisbehaved::UnsupportedCapability.into());
    }
    // §11.1: the group's required capabilities are supported (default types always are,
    // §7.2).
    if !params
        .required_extensions
        .iter()
        .all(|&e| is_default_extension(e) || caps.extensions.contains(&e))
        || !params
            .required_proposals
            .iter()
            .all(|&p| is_default_proposal(p) || caps.proposals.contains(&p))
        || !params
            .required_credentials
            .iter()
            .all(|c| caps.credentials.contains(c))
    {
        return Err(PeerMisbehaved::UnsupportedCapability.into());
    }
    // The group's version and suite are supported.
    if !caps.versions.contains(&ProtocolVersion::MLS10)
        || !caps.cipher_suites.contains(&params.suite.id())
    {
        return Err(PeerMisbehaved::UnsupportedCapability.into());
    }
    Ok(())
}

/// The credential types of a set of members (RFC 9420 §7.3): the types every one of them
/// supports, and the types they use. Built once in O(n), then each leaf checks in O(1).
#[derive(Debug, Clone, Default)]
pub(crate) struct CredentialTypes {
    supported_by_all: Option<Vec<CredentialType>>,
    in_use: Vec<CredentialType>,
}

impl CredentialTypes {
    /// The credential types of `members`.
    pub(crate) fn of<'a>(members: impl IntoIterator<Item = &'a LeafNode>) -> Self {
        let mut t = Self::default();
        for m in members {
            t.add(m);
        }
        t
    }

    /// Adds a member.
    pub(crate) fn add(&mut self, leaf: &LeafNode) {
        let supported = &leaf.capabilities.credentials;
        match &mut self.supported_by_all {
            Some(all) => all.retain(|c| supported.contains(c)),
            None => self.supported_by_all = Some(supported.clone()),
        }
        let own = leaf.credential.credential_type();
        if !self.in_use.contains(&own) {
            self.in_use.push(own);
        }
    }

    /// RFC 9420 §7.3: `leaf`'s credential type is supported by all the members, and `leaf`
    /// supports every type they use.
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnsupportedCapability`] when either fails.
    pub(crate) fn check(&self, leaf: &LeafNode) -> Result<()> {
        let own = leaf.credential.credential_type();
        let supported = self
            .supported_by_all
            .as_ref()
            .is_none_or(|all| all.contains(&own));
        if !supported
            || !self
                .in_use
                .iter()
                .all(|c| leaf.capabilities.credentials.contains(c))
        {
            return Err(PeerMisbehaved::UnsupportedCapability.into());
        }
        Ok(())
    }
}

/// A KeyPackage that passed the checks of RFC 9420 §10.1 for a group: only
/// [`validate_key_package`] makes one, and a commit adds members only from these.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValidKeyPackage<'a>(&'a KeyPackage);

impl core::ops::Deref for ValidKeyPackage<'_> {
    type Target = KeyPackage;

    fn deref(&self) -> &KeyPackage {
        self.0
    }
}

/// Validates a KeyPackage for a group of `params.suite` (RFC 9420 §10.1).
///
/// # Errors
/// As [`validate_leaf_node`], plus [`PeerMisbehaved::KeyPackageMismatch`] for a wrong
/// version or suite or an `init_key` equal to the leaf's encryption key, and
/// [`Error::AuthenticationFailed`] for a bad KeyPackage signature.
pub(crate) fn validate_key_package<'a>(
    kp: &'a KeyPackage,
    params: &GroupParams<'_>,
    now: Option<u64>,
) -> Result<ValidKeyPackage<'a>> {
    // §10.1: version and cipher suite match the group.
    if kp.version != ProtocolVersion::MLS10 || kp.cipher_suite != params.suite.id() {
        return Err(PeerMisbehaved::KeyPackageMismatch.into());
    }
    // §10.1: the leaf is valid for a KeyPackage.
    validate_leaf_node(&kp.leaf_node, LeafContext::KeyPackage { now }, params)?;
    // §7.2: the total lifetime is at most the application's maximum (a KeyPackage valid
    // for decades defeats the lifetime's point).
    if let LeafNodeSource::KeyPackage(lifetime) = &kp.leaf_node.leaf_node_source {
        let total = lifetime.not_after.checked_sub(lifetime.not_before);
        if total.is_none_or(|t| t > params.max_key_package_lifetime) {
            return Err(PeerMisbehaved::LifetimeExpired.into());
        }
    }
    // §10.1: the init key is a valid HPKE public key (the Welcome is encrypted to it).
    HpkePublicKey::validated(&kp.init_key)?;
    // §10: extensions in the KeyPackage's `extensions` are listed in the leaf's
    // capabilities (default types excepted, §7.2: they are never listed).
    if !kp
        .extensions
        .iter()
        .map(|e| e.extension_type)
        .all(|t| is_default_extension(t) || kp.leaf_node.capabilities.extensions.contains(&t))
    {
        return Err(PeerMisbehaved::UnsupportedCapability.into());
    }
    // §10.1: the KeyPackage signature verifies with the leaf's signature key.
    let key = SignaturePublicKey::from_bytes(&kp.leaf_node.signature_key)?;
    key.verify_with_label(KEY_PACKAGE_LABEL, &kp.to_be_signed()?, &kp.signature)?;
    // §10.1: init_key differs from the leaf's encryption key.
    if kp.init_key == kp.leaf_node.encryption_key {
        return Err(PeerMisbehaved::KeyPackageMismatch.into());
    }
    Ok(ValidKeyPackage(kp))
}

/// The extension, proposal and credential types a `required_capabilities` extension lists.
pub(crate) type RequiredCapabilities = (Vec<ExtensionType>, Vec<ProposalType>, Vec<CredentialType>);

/// The `required_capabilities` extension (RFC 9420 §11.1), decoded from GroupContext
/// extensions.
///
/// ```text
/// struct {
///     ExtensionType extension_types<V>;
///     ProposalType proposal_types<V>;
///     CredentialType credential_types<V>;
/// } RequiredCapabilities;
/// ```
///
/// # Errors
/// [`InvalidMessage`](crate::error::InvalidMessage) when the extension does not decode.
pub(crate) fn required_capabilities(
    extensions: &[super::wire::Extension],
) -> Result<RequiredCapabilities> {
    let Some(ext) = extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::REQUIRED_CAPABILITIES)
    else {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    };
    let mut r = crate::codec::Reader::new(&ext.extension_data);
    let exts: Vec<ExtensionType> = r.read_vec(super::wire::MAX_VEC_LEN)?;
    let props: Vec<ProposalType> = r.read_vec(super::wire::MAX_VEC_LEN)?;
    let creds: Vec<CredentialType> = r.read_vec(super::wire::MAX_VEC_LEN)?;
    r.finish()?;
    Ok((exts, props, creds))
}

/// Whether an `external` sender may send proposals of type `t` (RFC 9420 §12.1.8, the
/// "Ext" column of the proposal type registry, §17.4): `add`, `remove`, `psk`, `reinit`
/// and `group_context_extensions`; not `update` or `external_init`.
#[must_use]
pub(crate) const fn external_sender_may_propose(t: ProposalType) -> bool {
    matches!(
        t,
        ProposalType::ADD
            | ProposalType::REMOVE
            | ProposalType::PSK
            | ProposalType::REINIT
            | ProposalType::GROUP_CONTEXT_EXTENSIONS
    )
}

/// Decodes and validates the `external_senders` extension among GroupContext
/// `extensions` (RFC 9420 §12.1.8.1), `None` without one. RFC 9420 §5.3.1: when an
/// `external_senders` extension is added to the group or updated, each credential MUST be
/// validated with the AS — here the application's [`CredentialValidator`], given the
/// entry's signature key; each signature key must also be a valid key of the group's
/// signature scheme.
///
/// # Errors
/// [`InvalidMessage`](crate::error::InvalidMessage) when the extension does not decode or a
/// signature key is not a valid key; [`PeerMisbehaved::CredentialRejected`] when the
/// application rejects a credential.
pub(crate) fn external_senders(
    extensions: &[super::wire::Extension],
    credentials: &dyn CredentialValidator,
) -> Result<Option<Vec<super::wire::ExternalSender>>> {
    let Some(senders) = super::wire::ExternalSender::from_extensions(extensions)? else {
        return Ok(None);
    };
    for s in &senders {
        SignaturePublicKey::from_bytes(&s.signature_key)?;
        credentials
            .validate(&s.credential, &s.signature_key)
            .map_err(|_| Error::from(PeerMisbehaved::CredentialRejected))?;
    }
    Ok(Some(senders))
}
