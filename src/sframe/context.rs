//! The stateful SFrame contexts: an [`Encryptor`] per sending key and a [`Decryptor`] holding
//! the receiving keys by KID (RFC 9605 §4.4.3, §4.4.4).
//!
//! ```text
//!  Encryptor { KID, next CTR, SframeCipher }                     Decryptor { KID ─► (SframeCipher, ReplayWindow) }
//!  encrypt(metadata, plaintext, out):                             decrypt(metadata, frame, out):
//!    CTR = next; next = CTR + 1 (exhaustion is an error)            header = parse(frame); key = keys[KID]
//!    out = header ‖ AEAD.Encrypt(key, nonce(CTR),                   replay check ─► AEAD.Decrypt into out
//!                                header ‖ metadata, plaintext)      ─► replay window updated on success only
//! ```
//!
//! Both paths run without heap allocation, with every AEAD key expanded once per KID. (The
//! AES-GCM suites join header and metadata on the stack up to
//! [`SFRAME_STACK_AAD_LEN`](crate::crypto::SFRAME_STACK_AAD_LEN) bytes; longer metadata costs
//! one temporary buffer. The AES-CTR-HMAC suites take metadata of any length.)

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::header::Header;
use super::replay::{ReplayBitmap, ReplayProtection, ReplayWindow};
use super::suite::{cipher_for, BaseKey, SframeSuite};
use crate::crypto::SframeCipher;
use crate::error::{ApiMisuse, Error, InvalidMessage, Result, Stale};

/// Encrypts frames under one KID, with a counter that never repeats.
///
/// RFC 9605 §4.4.1: a `base_key` used here must not be used for decryption or by another
/// sender; the MLS [`KeyStore`](super::KeyStore) enforces that for its keys.
#[derive(Debug)]
pub struct Encryptor {
    kid: u64,
    next_ctr: Option<u64>,
    cipher: SframeCipher,
}

impl Encryptor {
    /// An encryptor for `kid` under `base_key`, starting at CTR 0.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for an unknown suite.
    pub fn new(suite: SframeSuite, kid: u64, base_key: &BaseKey) -> Result<Self> {
        Self::with_counter(suite, kid, base_key, 0)
    }

    /// An encryptor that resumes at `next_ctr` (RFC 9605 §9.1: a context restored from storage
    /// continues after the last CTR it stored).
    ///
    /// # Errors
    /// As [`Encryptor::new`].
    pub fn with_counter(
        suite: SframeSuite,
        kid: u64,
        base_key: &BaseKey,
        next_ctr: u64,
    ) -> Result<Self> {
        Ok(Self {
            kid,
            next_ctr: Some(next_ctr),
            cipher: cipher_for(suite, base_key, kid)?,
        })
    }

    /// The KID this encryptor writes.
    #[must_use]
    #[cfg(test)]
    pub(crate) const fn kid(&self) -> u64 {
        self.kid
    }

    /// The CTR of the next frame, or `None` once all 2^64 values are used.
    #[must_use]
    #[cfg(test)]
    pub(crate) const fn next_counter(&self) -> Option<u64> {
        self.next_ctr
    }

    /// The output length for a plaintext of `plaintext_len` bytes encrypted next
    /// (header + plaintext + tag), or `None` on overflow or exhaustion.
    #[must_use]
    pub fn output_len(&self, plaintext_len: usize) -> Option<usize> {
        let header = Header::new(self.kid, self.next_ctr?).encoded_len();
        header
            .checked_add(plaintext_len)?
            .checked_add(self.cipher.tag_len())
    }

    /// The header length of the next frame, or `None` once the counter is exhausted (where
    /// [`Encryptor::encrypt_in_place`] expects the plaintext to start).
    #[must_use]
    pub fn header_len(&self) -> Option<usize> {
        Some(Header::new(self.kid, self.next_ctr?).encoded_len())
    }

    /// Encrypts one frame in place, without copying the payload: the plaintext must already
    /// sit at `frame[h..h + plaintext_len]` with `h = header_len()`; the header is written in
    /// front, the tag after, and the frame length returned.
    ///
    /// # Errors
    /// As [`Encryptor::encrypt`]: [`ApiMisuse::CounterExhausted`], or
    /// [`ApiMisuse::BufferTooSmall`] when `frame` cannot hold header, payload and tag (no
    /// counter consumed). On any error `frame` holds no plaintext past the header.
    pub fn encrypt_in_place(
        &mut self,
        metadata: &[u8],
        frame: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize> {
        let ctr = self.next_ctr.ok_or(ApiMisuse::CounterExhausted)?;
        let header = Header::new(self.kid, ctr);
        let header_len = header.encoded_len();
        let total = header_len
            .checked_add(plaintext_len)
            .and_then(|n| n.checked_add(self.cipher.tag_len()))
            .ok_or(ApiMisuse::BufferTooSmall)?;
        let frame = frame.get_mut(..total).ok_or(ApiMisuse::BufferTooSmall)?;
        self.next_ctr = ctr.checked_add(1);
        header.encode(frame)?;
        let (header_bytes, rest) = frame.split_at_mut(header_len);
        let (body, tag) = rest.split_at_mut(plaintext_len);
        match self
            .cipher
            .seal_in_place(ctr, header_bytes, metadata, body, tag)
        {
            Ok(()) => Ok(total),
            Err(e) => {
                body.fill(0);
                Err(e)
            }
        }
    }

    /// Encrypts one frame into `out` as `header ‖ ciphertext ‖ tag` and returns its length
    /// (RFC 9605 §4.4.3). `metadata` is authenticated, not sent.
    ///
    /// The CTR is consumed before the AEAD runs, so no (KID, CTR) pair is ever used twice,
    /// even after an error (RFC 9605 §7.4: senders MUST NOT encrypt twice with one nonce).
    ///
    /// # Errors
    /// [`ApiMisuse::CounterExhausted`] after CTR 2^64 - 1 was used (rotate the key);
    /// [`ApiMisuse::BufferTooSmall`] when `out` is shorter than [`Encryptor::output_len`]
    /// (no counter is consumed then). On any error `out` holds no plaintext.
    pub fn encrypt(&mut self, metadata: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<usize> {
        let ctr = self.next_ctr.ok_or(ApiMisuse::CounterExhausted)?;
        let header = Header::new(self.kid, ctr);
        let header_len = header.encoded_len();
        let total = header_len
            .checked_add(plaintext.len())
            .and_then(|n| n.checked_add(self.cipher.tag_len()))
            .ok_or(ApiMisuse::BufferTooSmall)?;
        let out = out.get_mut(..total).ok_or(ApiMisuse::BufferTooSmall)?;
        self.next_ctr = ctr.checked_add(1);
        header.encode(out)?;
        let (header_bytes, rest) = out.split_at_mut(header_len);
        let (body, tag) = rest.split_at_mut(plaintext.len());
        body.copy_from_slice(plaintext);
        match self
            .cipher
            .seal_in_place(ctr, header_bytes, metadata, body, tag)
        {
            Ok(()) => Ok(total),
            Err(e) => {
                body.fill(0);
                Err(e)
            }
        }
    }
}

/// The receiving state of one KID: its expanded key and its replay window.
#[derive(Debug)]
pub(crate) struct KeyState {
    cipher: SframeCipher,
    window: ReplayWindow,
}

/// What [`Decryptor::decrypt`] found: the header, and the plaintext length in `out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decrypted {
    /// The authenticated header (KID and CTR).
    pub header: Header,
    /// The plaintext is `out[..len]`.
    pub len: usize,
}

/// A frame split into its parts (nothing verified yet).
pub(crate) struct Parsed<'a> {
    pub(crate) header: Header,
    header_bytes: &'a [u8],
    ciphertext: &'a [u8],
    tag: &'a [u8],
}

/// Decrypts frames of any number of senders, each KID with its own key and replay window.
#[derive(Debug)]
pub struct Decryptor {
    suite: SframeSuite,
    tag_len: usize,
    replay: ReplayProtection,
    keys: HashMap<u64, KeyState, BuildHasherDefault<KidHasher>>,
}

/// The hash of the KID map: the SplitMix64 finalizer, a few cycles instead of SipHash's ~20 ns
/// per frame.
///
/// Flooding resistance is not needed: entries are inserted only by the application
/// ([`Decryptor::add_key`]) or after a frame authenticated under the derived key
/// ([`KeyStore`](super::KeyStore)), so an outsider cannot choose the keys of the table;
/// lookups of arbitrary KIDs cost one probe sequence of a table the attacker did not shape.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KidHasher(u64);

impl Hasher for KidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let mut x = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = x ^ (x >> 31);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Decryptor {
    /// A decryptor for `suite` with replay protection on (a 128-frame window per KID).
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for an unknown suite.
    pub fn new(suite: SframeSuite) -> Result<Self> {
        Self::with_replay_protection(suite, ReplayProtection::default())
    }

    /// A decryptor with the given replay protection.
    ///
    /// # Errors
    /// As [`Decryptor::new`], and [`ApiMisuse::InvalidLength`] for a window outside 1..=128.
    pub fn with_replay_protection(suite: SframeSuite, replay: ReplayProtection) -> Result<Self> {
        Ok(Self {
            suite,
            tag_len: suite.algorithm()?.tag_len(),
            replay: replay.validate()?,
            keys: HashMap::default(),
        })
    }

    /// Installs the key of `kid`, derived from `base_key`, replacing any key it had (the
    /// replay window starts afresh).
    ///
    /// # Errors
    /// Never for a decryptor that was constructed (the suite is known).
    pub fn add_key(&mut self, kid: u64, base_key: &BaseKey) -> Result<()> {
        let state = self.key_state(kid, base_key)?;
        self.keys.insert(kid, state);
        Ok(())
    }

    /// Deletes the key of `kid`; returns whether there was one.
    pub fn remove_key(&mut self, kid: u64) -> bool {
        self.keys.remove(&kid).is_some()
    }

    /// Whether a key for `kid` is installed.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn has_key(&self, kid: u64) -> bool {
        self.keys.contains_key(&kid)
    }

    /// Decrypts one SFrame ciphertext (`header ‖ ciphertext ‖ tag`) into `out` (RFC 9605
    /// §4.4.4); the plaintext is `out[..len]`.
    ///
    /// Contract: `frame` is only read. Nothing is released before the tag verified. On an
    /// error before authentication, `out` and the decryptor are untouched. On
    /// [`Error::AuthenticationFailed`] the first `ciphertext length` bytes of `out` are zero
    /// and the decryptor (replay window included) is untouched.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] or [`InvalidMessage::NonMinimalHeaderValue`] for a bad
    /// header or a frame shorter than header + tag; [`Stale::UnknownKeyId`];
    /// [`Stale::Replayed`] / [`Stale::BelowReplayWindow`]; [`ApiMisuse::BufferTooSmall`] when
    /// `out` is shorter than the ciphertext; [`Error::AuthenticationFailed`] (no detail) when
    /// the frame or metadata was altered or the key is wrong.
    pub fn decrypt(&mut self, metadata: &[u8], frame: &[u8], out: &mut [u8]) -> Result<Decrypted> {
        let parsed = self.parse(frame)?;
        let state = self
            .keys
            .get_mut(&parsed.header.kid)
            .ok_or(Stale::UnknownKeyId)?;
        open(state, &parsed, metadata, out)
    }

    /// Decrypts one SFrame ciphertext in place, without copying: the plaintext replaces the
    /// ciphertext at `frame[header.encoded_len()..][..len]`.
    ///
    /// Contract: on an error before authentication `frame` and the decryptor are untouched;
    /// on [`Error::AuthenticationFailed`] the ciphertext span of `frame` is zeroed (no
    /// plaintext is released) and the decryptor is untouched. Use [`Decryptor::decrypt`] when
    /// the frame must survive a failure.
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`], without `BufferTooSmall`.
    pub fn decrypt_in_place(&mut self, metadata: &[u8], frame: &mut [u8]) -> Result<Decrypted> {
        let (header, header_len, ct_len) = {
            let parsed = self.parse(frame)?;
            (
                parsed.header,
                parsed.header_bytes.len(),
                parsed.ciphertext.len(),
            )
        };
        let state = self.keys.get_mut(&header.kid).ok_or(Stale::UnknownKeyId)?;
        state.window.check(header.ctr)?;
        let (header_bytes, rest) = frame
            .split_at_mut_checked(header_len)
            .ok_or(InvalidMessage::Truncated)?;
        let (ct, tag) = rest
            .split_at_mut_checked(ct_len)
            .ok_or(InvalidMessage::Truncated)?;
        if state
            .cipher
            .open_in_place(header.ctr, header_bytes, metadata, ct, tag)
            .is_err()
        {
            ct.fill(0);
            return Err(Error::AuthenticationFailed);
        }
        state.window.accept(header.ctr);
        Ok(Decrypted {
            header,
            len: ct_len,
        })
    }

    /// Splits `frame` into header, ciphertext and tag.
    pub(crate) fn parse<'a>(&self, frame: &'a [u8]) -> Result<Parsed<'a>> {
        let (header, header_len) = Header::decode(frame)?;
        let (header_bytes, body) = frame
            .split_at_checked(header_len)
            .ok_or(InvalidMessage::Truncated)?;
        let ct_len = body
            .len()
            .checked_sub(self.tag_len)
            .ok_or(InvalidMessage::Truncated)?;
        let (ciphertext, tag) = body.split_at(ct_len);
        Ok(Parsed {
            header,
            header_bytes,
            ciphertext,
            tag,
        })
    }

    /// A fresh receiving state for `kid` (derived, not installed).
    pub(crate) fn key_state(&self, kid: u64, base_key: &BaseKey) -> Result<KeyState> {
        Ok(KeyState {
            cipher: cipher_for(self.suite, base_key, kid)?,
            window: ReplayWindow::new(self.replay),
        })
    }

    pub(crate) fn key_mut(&mut self, kid: u64) -> Option<&mut KeyState> {
        self.keys.get_mut(&kid)
    }

    pub(crate) fn insert(&mut self, kid: u64, state: KeyState) {
        self.keys.insert(kid, state);
    }

    /// The replay state of every KID that accepted a frame: `(kid, top, seen)`.
    pub(crate) fn replay_states(&self) -> Vec<(u64, u64, ReplayBitmap)> {
        let mut v: Vec<(u64, u64, ReplayBitmap)> = self
            .keys
            .iter()
            .filter_map(|(&kid, s)| s.window.snapshot().map(|(top, seen)| (kid, top, seen)))
            .collect();
        v.sort_unstable_by_key(|&(kid, ..)| kid);
        v
    }

    /// `state` with the replay window a saved state held (`top`, `seen`).
    pub(crate) const fn with_window(
        &self,
        mut state: KeyState,
        top: u64,
        seen: ReplayBitmap,
    ) -> KeyState {
        state.window = ReplayWindow::restored(self.replay, top, seen);
        state
    }

    /// Drops every key whose KID fails `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        self.keys.retain(|&kid, _| keep(kid));
    }
}

/// Replay check, AEAD open into `out`, then the window update.
pub(crate) fn open(
    state: &mut KeyState,
    parsed: &Parsed<'_>,
    metadata: &[u8],
    out: &mut [u8],
) -> Result<Decrypted> {
    let ctr = parsed.header.ctr;
    state.window.check(ctr)?;
    let len = parsed.ciphertext.len();
    let out = out.get_mut(..len).ok_or(ApiMisuse::BufferTooSmall)?;
    out.copy_from_slice(parsed.ciphertext);
    if state
        .cipher
        .open_in_place(ctr, parsed.header_bytes, metadata, out, parsed.tag)
        .is_err()
    {
        // Every open failure is an authentication failure, reported without detail; the
        // span is wiped whichever backend ran (ring already zeroed it for AES-GCM).
        out.fill(0);
        return Err(Error::AuthenticationFailed);
    }
    state.window.accept(ctr);
    Ok(Decrypted {
        header: parsed.header,
        len,
    })
}
