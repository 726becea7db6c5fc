//! Signed directory documents and the pinned-key verifier with rollback protection.
//!
//! The operator signs the exact payload bytes with Ed25519, prefixed by
//! [`DIRECTORY_SIGNATURE_LABEL`] so the signature can never be mistaken for one over an MLS
//! structure (whose signed content starts with a length and `"MLS 1.0 "`) or any other
//! meetkey object. The signed document is a JSON envelope carrying the payload verbatim as a
//! string:
//!
//! ```text
//! { "payload": "{\"version\":7,...}", "signature": "<64 bytes as 128 hex digits>" }
//!
//!  verify(document, now):
//!    size ≤ MAX_DIRECTORY_BYTES ─► envelope JSON ─► Ed25519(label ‖ payload) under a pinned key
//!    ─► DirectoryIn::parse(payload) ─► issued_at ≤ now + skew < … ─► now < expires_at
//!    ─► version ≥ last accepted (same version ⇒ same hash) ─► accept: remember (version, hash)
//! ```

use serde::{Deserialize, Serialize};

use super::directory::{Directory, DirectoryIn, MAX_DIRECTORY_BYTES};
use super::hex;
use crate::crypto::{sha256, Digest, SignaturePrivateKey, SignaturePublicKey, SIGNATURE_LEN};
use crate::error::{Error, Result, RoutingDocument, Stale};

/// The domain-separation prefix of every directory signature.
pub(crate) const DIRECTORY_SIGNATURE_LABEL: &[u8] = b"meetkey relay directory v1\0";

/// The default tolerance for an `issued_at` ahead of the client's clock, in seconds.
pub(crate) const DEFAULT_MAX_CLOCK_SKEW: u64 = 300;

/// A directory payload with its operator signature, as fetched from a server.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedDirectory {
    payload: String,
    signature: [u8; SIGNATURE_LEN],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeJson {
    payload: String,
    signature: String,
}

impl SignedDirectory {
    /// Parses the JSON envelope. Checks neither the signature nor the payload.
    ///
    /// # Errors
    /// [`RoutingDocument::TooLarge`] above 8 MiB;
    /// [`RoutingDocument::MalformedJson`] for a bad envelope or a signature that is not 128
    /// hex digits.
    pub fn parse(document: &[u8]) -> Result<Self> {
        if document.len() > MAX_DIRECTORY_BYTES {
            return Err(RoutingDocument::TooLarge.into());
        }
        let env: EnvelopeJson =
            serde_json::from_slice(document).map_err(|_| RoutingDocument::MalformedJson)?;
        let signature = hex::decode_array(&env.signature).ok_or(RoutingDocument::MalformedJson)?;
        Ok(Self {
            payload: env.payload,
            signature,
        })
    }

    /// Signs a payload as it is, after checking that it is a valid directory.
    ///
    /// # Errors
    /// As [`DirectoryIn::parse`]: an operator cannot sign a directory clients would reject.
    pub fn sign(payload: &[u8], key: &SignaturePrivateKey) -> Result<Self> {
        DirectoryIn::parse(payload)?;
        let payload = core::str::from_utf8(payload)
            .map_err(|_| RoutingDocument::MalformedJson)?
            .to_owned();
        let signature = key.sign(&signed_content(payload.as_bytes()));
        Ok(Self { payload, signature })
    }

    /// The envelope JSON to publish.
    ///
    /// # Errors
    /// [`RoutingDocument::TooLarge`] if the envelope exceeds 8 MiB.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let env = EnvelopeJson {
            payload: self.payload.clone(),
            signature: hex::encode(&self.signature),
        };
        let bytes = serde_json::to_vec(&env).map_err(|_| Error::Internal("envelope JSON"))?;
        if bytes.len() > MAX_DIRECTORY_BYTES {
            return Err(RoutingDocument::TooLarge.into());
        }
        Ok(bytes)
    }

    /// The payload bytes exactly as signed.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        self.payload.as_bytes()
    }

    /// The Ed25519 signature.
    #[must_use]
    pub const fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }
}

impl core::fmt::Debug for SignedDirectory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignedDirectory")
            .field("payload_len", &self.payload.len())
            .field("signature", &hex::encode(&self.signature))
            .finish()
    }
}

fn signed_content(payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DIRECTORY_SIGNATURE_LABEL.len() + payload.len());
    m.extend_from_slice(DIRECTORY_SIGNATURE_LABEL);
    m.extend_from_slice(payload);
    m
}

/// The version and payload hash of the last directory a verifier accepted; persist it so a
/// restarted client still refuses rollbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The accepted directory's version.
    pub version: u64,
    /// SHA-256 of its payload.
    pub hash: Digest,
}

/// Checks directories against the operator's pinned keys, their validity period and the last
/// accepted version.
#[derive(Debug, Clone)]
pub struct DirectoryVerifier {
    keys: Vec<SignaturePublicKey>,
    max_clock_skew: u64,
    last: Option<Accepted>,
}

impl DirectoryVerifier {
    /// A verifier that trusts exactly `keys` (more than one while the operator rotates keys)
    /// and has accepted nothing yet. With no keys, every document is rejected.
    pub fn new(keys: impl IntoIterator<Item = SignaturePublicKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            last: None,
        }
    }

    /// Restores the state persisted from [`DirectoryVerifier::last_accepted`].
    #[must_use]
    pub const fn with_last_accepted(mut self, last: Accepted) -> Self {
        self.last = Some(last);
        self
    }

    /// Sets how far in the future (seconds) an `issued_at` may lie.
    #[must_use]
    pub const fn with_max_clock_skew(mut self, seconds: u64) -> Self {
        self.max_clock_skew = seconds;
        self
    }

    /// The last directory accepted, if any.
    #[must_use]
    pub const fn last_accepted(&self) -> Option<Accepted> {
        self.last
    }

    /// Parses and verifies a signed document (see [`DirectoryVerifier::verify_signed`]).
    ///
    /// # Errors
    /// As [`SignedDirectory::parse`] and [`DirectoryVerifier::verify_signed`].
    pub fn verify(&mut self, document: &[u8], now: u64) -> Result<Directory> {
        self.verify_signed(&SignedDirectory::parse(document)?, now)
    }

    /// Accepts a directory only if a pinned key signed it, it is valid at `now` (Unix
    /// seconds), and its version is not below the last one accepted. On success the verifier
    /// remembers it; on any error its state is unchanged.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for a signature no pinned key made;
    /// [`DirectoryIn::parse`] errors for a bad payload;
    /// [`Stale::DirectoryExpired`] when `now >= expires_at`;
    /// [`Stale::DirectoryNotYetValid`] when `issued_at` is beyond the clock skew;
    /// [`Stale::DirectoryRollback`] for a version below the last accepted;
    /// [`Stale::DirectoryEquivocation`] for the last accepted version with other contents.
    pub fn verify_signed(&mut self, signed: &SignedDirectory, now: u64) -> Result<Directory> {
        let message = signed_content(signed.payload());
        if !self
            .keys
            .iter()
            .any(|k| k.verify(&message, &signed.signature).is_ok())
        {
            return Err(Error::AuthenticationFailed);
        }
        let contents = DirectoryIn::parse(signed.payload())?;
        if now >= contents.expires_at {
            return Err(Stale::DirectoryExpired.into());
        }
        if contents.issued_at > now.saturating_add(self.max_clock_skew) {
            return Err(Stale::DirectoryNotYetValid.into());
        }
        let hash = sha256(signed.payload());
        if let Some(last) = self.last {
            if contents.version < last.version {
                return Err(Stale::DirectoryRollback.into());
            }
            if contents.version == last.version && hash != last.hash {
                return Err(Stale::DirectoryEquivocation.into());
            }
        }
        let version = contents.version;
        let directory = Directory::from_verified(contents, hash)?;
        self.last = Some(Accepted { version, hash });
        Ok(directory)
    }
}
