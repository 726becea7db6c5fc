//! The cryptography of a Welcome (RFC 9420 §12.4.3) and the hash references of §5.2, as
//! pure functions.
//!
//! ```text
//!  committer:  group_info ─ sign_group_info ─► GroupInfo ─ encrypt_group_info(welcome_secret)
//!                                                               │
//!                                                     encrypted_group_info ──┐ (HPKE context)
//!              GroupSecrets ─ encrypt_group_secrets(init_key of the KeyPackage)
//!                                          └─► EncryptedGroupSecrets { key_package_ref, .. }
//!  joiner:     decrypt_group_secrets(init_priv, key_package_ref) ─► GroupSecrets
//!              joiner_secret ─► (+ psk_secret) intermediate ─► welcome_secret
//!              decrypt_group_info(welcome_secret) ─► GroupInfo ─ verify_group_info_signature
//! ```
//!
//! The joiner's other checks (the signer's leaf, the tree, the confirmation tag against the
//! key schedule, a unique group id) need group state and belong to `mls::group`.

use zeroize::Zeroize;

use crate::codec::{Decode, Encode, Writer};
use crate::crypto::{
    HpkePrivateKey, HpkePublicKey, LabeledSealer, Rng, SignaturePrivateKey, SignaturePublicKey,
    Suite, MAX_SECRET_LEN,
};
use crate::error::{PeerMisbehaved, Result};

use super::key_schedule::WelcomeSecret;
use super::wire::{GroupInfo, GroupSecrets, HpkeCiphertext, KeyPackage, Welcome};

/// The label of `EncryptWithLabel` for GroupSecrets.
const WELCOME_LABEL: &[u8] = b"Welcome";

/// The label of the GroupInfo signature.
const GROUP_INFO_TBS: &[u8] = b"GroupInfoTBS";

/// The label of a KeyPackageRef (RFC 9420 §5.2), in full: `RefHash` adds no prefix.
const KEY_PACKAGE_REF_LABEL: &[u8] = b"MLS 1.0 KeyPackage Reference";

/// `MakeKeyPackageRef(value) = RefHash("MLS 1.0 KeyPackage Reference", value)` over the
/// encoded KeyPackage (RFC 9420 §5.2), with the KeyPackage's own suite.
///
/// # Errors
/// [`PeerMisbehaved::CipherSuiteMismatch`] when the KeyPackage names another suite than
/// `suite`; [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for
/// an absurdly large KeyPackage.
pub(crate) fn key_package_ref(suite: &Suite, key_package: &KeyPackage) -> Result<Vec<u8>> {
    if key_package.cipher_suite != suite.id() {
        return Err(PeerMisbehaved::CipherSuiteMismatch.into());
    }
    let value = key_package.to_bytes()?;
    Ok(suite
        .ref_hash(KEY_PACKAGE_REF_LABEL, &value)?
        .as_bytes()
        .to_vec())
}

/// The sealer of every new member's GroupSecrets for one Welcome:
/// `EncryptWithLabel(·, "Welcome", encrypted_group_info, ·)`. The HPKE `info` holds the whole
/// encrypted GroupInfo (with the tree, O(n) bytes), hashed here once instead of once per new
/// member.
///
/// # Errors
/// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for an
/// encrypted GroupInfo over 2^30 − 1 bytes.
pub(crate) fn group_secrets_sealer(
    suite: &Suite,
    encrypted_group_info: &[u8],
) -> Result<LabeledSealer> {
    suite.labeled_sealer(WELCOME_LABEL, encrypted_group_info)
}

/// Encrypts `secrets` to a new member's `init_key` (RFC 9420 §12.4.3.1) with the Welcome's
/// [`group_secrets_sealer`]:
///
/// ```text
/// encrypted_group_secrets =
///   EncryptWithLabel(init_key, "Welcome", encrypted_group_info, group_secrets)
/// ```
///
/// The encoding of the secrets is zeroized once encrypted.
///
/// # Errors
/// [`InvalidMessage::InvalidKey`](crate::error::InvalidMessage::InvalidKey) for an invalid
/// `init_key`; [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow)
/// for an absurd PSK list.
pub(crate) fn encrypt_group_secrets(
    sealer: &LabeledSealer,
    init_key: &HpkePublicKey,
    secrets: &GroupSecrets,
    rng: &mut impl Rng,
) -> Result<HpkeCiphertext> {
    // Size the buffer up front so that no reallocation leaves a copy of the secrets behind.
    let mut psks = Writer::new();
    psks.write_vec(&secrets.psks);
    let capacity = 2 * (4 + MAX_SECRET_LEN) + 1 + psks.as_bytes().len();
    let mut w = Writer::with_capacity(capacity);
    secrets.encode(&mut w);
    let mut plaintext = w.into_bytes()?;
    let sealed = sealer.seal(init_key, &plaintext, rng);
    plaintext.zeroize();
    let sealed = sealed?;
    Ok(HpkeCiphertext {
        kem_output: sealed.kem_output,
        ciphertext: sealed.ciphertext,
    })
}

/// Finds the entry of `welcome` for our KeyPackage (`key_package_ref`, see
/// [`key_package_ref`]) and decrypts its GroupSecrets with the KeyPackage's `init_priv`
/// (RFC 9420 §12.4.3.1). The decrypted bytes are zeroized once decoded.
///
/// `suite` is the KeyPackage's suite; the Welcome MUST name the same one.
///
/// # Errors
/// - [`PeerMisbehaved::CipherSuiteMismatch`] when the Welcome names another suite;
/// - [`PeerMisbehaved::NoGroupSecretsForUs`] when no entry carries `key_package_ref`;
/// - [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when the
///   entry does not decrypt;
/// - [`InvalidMessage`](crate::error::InvalidMessage) when the plaintext is not exactly a
///   GroupSecrets, or the `kem_output` is malformed.
#[cfg(test)]
pub(crate) fn decrypt_group_secrets(
    suite: &Suite,
    init_priv: &HpkePrivateKey,
    welcome: &Welcome,
    key_package_ref: &[u8],
) -> Result<GroupSecrets> {
    let init_key = init_priv.public_key()?;
    decrypt_group_secrets_with_public(suite, init_priv, &init_key, welcome, key_package_ref)
}

/// [`decrypt_group_secrets`] for a joiner that has its KeyPackage's `init_key` at hand
/// (HPKE `Decap` needs it; deriving it from `init_priv` costs a scalar multiplication). An
/// `init_key` that is not `init_priv`'s makes the decryption fail.
///
/// # Errors
/// As [`decrypt_group_secrets`].
pub(crate) fn decrypt_group_secrets_with_public(
    suite: &Suite,
    init_priv: &HpkePrivateKey,
    init_key: &HpkePublicKey,
    welcome: &Welcome,
    key_package_ref: &[u8],
) -> Result<GroupSecrets> {
    if welcome.cipher_suite != suite.id() {
        return Err(PeerMisbehaved::CipherSuiteMismatch.into());
    }
    let entry = welcome
        .secrets
        .iter()
        .find(|e| e.new_member == key_package_ref)
        .ok_or(PeerMisbehaved::NoGroupSecretsForUs)?;
    let mut plaintext = suite.decrypt_with_label_known_public(
        init_priv,
        init_key,
        WELCOME_LABEL,
        &welcome.encrypted_group_info,
        &entry.encrypted_group_secrets.kem_output,
        &entry.encrypted_group_secrets.ciphertext,
    )?;
    let secrets = GroupSecrets::decode_exact(&plaintext);
    plaintext.zeroize();
    secrets
}

/// The joiner secret of decrypted GroupSecrets, typed for the key schedule (a copy: the
/// GroupSecrets keep theirs until dropped).
#[must_use]
#[cfg(test)]
pub(crate) fn joiner_secret(secrets: &GroupSecrets) -> super::key_schedule::JoinerSecret {
    super::key_schedule::JoinerSecret(secrets.joiner_secret.duplicate())
}

/// Encrypts a signed GroupInfo for a Welcome (RFC 9420 §12.4.3.1) with
///
/// ```text
/// welcome_key   = ExpandWithLabel(welcome_secret, "key", "", AEAD.Nk)
/// welcome_nonce = ExpandWithLabel(welcome_secret, "nonce", "", AEAD.Nn)
/// encrypted_group_info = AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo)
/// ```
///
/// # Errors
/// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for an absurdly
/// large GroupInfo.
pub(crate) fn encrypt_group_info(
    suite: &Suite,
    welcome_secret: &WelcomeSecret,
    group_info: &GroupInfo,
) -> Result<Vec<u8>> {
    let (key, nonce) = welcome_secret.key_and_nonce(suite)?;
    suite.aead_seal(&key, &nonce, &[], &group_info.to_bytes()?)
}

/// Decrypts the `encrypted_group_info` of a Welcome with the welcome key and nonce (see
/// [`encrypt_group_info`]) and checks that its GroupContext names `suite` (RFC 9420
/// §12.4.3.1: the GroupInfo's suite MUST match the KeyPackage's).
///
/// # Errors
/// - [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when it does
///   not open (e.g. a wrong joiner secret or PSKs);
/// - [`InvalidMessage`](crate::error::InvalidMessage) when the plaintext is not exactly a
///   GroupInfo;
/// - [`PeerMisbehaved::CipherSuiteMismatch`] when the GroupInfo names another suite.
pub(crate) fn decrypt_group_info(
    suite: &Suite,
    welcome_secret: &WelcomeSecret,
    encrypted_group_info: &[u8],
) -> Result<GroupInfo> {
    let (key, nonce) = welcome_secret.key_and_nonce(suite)?;
    let plaintext = suite.aead_open(&key, &nonce, &[], encrypted_group_info)?;
    let group_info = GroupInfo::decode_exact(&plaintext)?;
    if group_info.group_context.cipher_suite != suite.id() {
        return Err(PeerMisbehaved::CipherSuiteMismatch.into());
    }
    Ok(group_info)
}

/// Signs a GroupInfo as member `group_info.signer` (RFC 9420 §12.4.3):
/// `signature = SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)`. Any signature already in
/// `group_info` is replaced.
///
/// # Errors
/// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for an absurdly
/// large GroupInfo.
pub(crate) fn sign_group_info(
    suite: &Suite,
    signer: &SignaturePrivateKey,
    mut group_info: GroupInfo,
) -> Result<GroupInfo> {
    let _ = suite; // Ed25519 for both implemented suites.
    let signature = signer.sign_with_label(GROUP_INFO_TBS, &group_info.to_be_signed()?)?;
    group_info.signature = signature.to_vec();
    Ok(group_info)
}

/// A GroupInfo whose signature verified under its signer's key (RFC 9420 §12.4.3). Only
/// [`verify_group_info`] makes one: joining reads the group's context, tree hash and
/// confirmation tag only from it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VerifiedGroupInfo<'a>(&'a GroupInfo);

impl core::ops::Deref for VerifiedGroupInfo<'_> {
    type Target = GroupInfo;

    fn deref(&self) -> &GroupInfo {
        self.0
    }
}

/// Checks a GroupInfo's signature (see [`verify_group_info_signature`]) and returns it as
/// [`VerifiedGroupInfo`].
///
/// # Errors
/// As [`verify_group_info_signature`].
pub(crate) fn verify_group_info<'a>(
    suite: &Suite,
    key: &SignaturePublicKey,
    group_info: &'a GroupInfo,
) -> Result<VerifiedGroupInfo<'a>> {
    verify_group_info_signature(suite, key, group_info)?;
    Ok(VerifiedGroupInfo(group_info))
}

/// Verifies the signature of a GroupInfo with the key of the leaf at `signer` (RFC 9420
/// §12.4.3: new members MUST verify it; the caller takes the key from the ratchet tree and
/// rejects a blank leaf).
///
/// # Errors
/// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when the
/// signature does not verify.
pub(crate) fn verify_group_info_signature(
    suite: &Suite,
    key: &SignaturePublicKey,
    group_info: &GroupInfo,
) -> Result<()> {
    let _ = suite; // Ed25519 for both implemented suites.
    key.verify_with_label(
        GROUP_INFO_TBS,
        &group_info.to_be_signed()?,
        &group_info.signature,
    )
}

#[cfg(test)]
mod tests;
