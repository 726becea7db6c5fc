//! Sealing a saved state under an application key: XChaCha20-Poly1305 with a random 24-byte
//! nonce (random nonces of that size never repeat in practice, unlike 12-byte ones), so one
//! key can seal any number of snapshots.

use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;

use super::{Rng, Secret};
use crate::error::{ApiMisuse, Error, Result};

/// The length of a state key: 32 bytes.
pub(crate) const STATE_KEY_LEN: usize = 32;
/// The length of the random nonce in front of a sealed state.
pub(crate) const STATE_NONCE_LEN: usize = 24;

fn cipher(key: &Secret) -> Result<XChaCha20Poly1305> {
    if key.len() != STATE_KEY_LEN {
        return Err(ApiMisuse::InvalidLength.into());
    }
    XChaCha20Poly1305::new_from_slice(key.as_bytes()).map_err(|_| ApiMisuse::InvalidLength.into())
}

/// `nonce ‖ XChaCha20-Poly1305(key, nonce, aad, plaintext)`, the nonce drawn from `rng`.
///
/// # Errors
/// [`ApiMisuse::InvalidLength`] for a key that is not 32 bytes.
pub(crate) fn seal_state(
    key: &Secret,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl Rng,
) -> Result<Vec<u8>> {
    let cipher = cipher(key)?;
    let mut nonce = [0u8; STATE_NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Internal("state seal failed"))?;
    let mut out = Vec::with_capacity(STATE_NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens what [`seal_state`] made; the plaintext zeroizes itself on drop.
///
/// # Errors
/// [`Error::AuthenticationFailed`] for a wrong key or altered, truncated bytes;
/// [`ApiMisuse::InvalidLength`] for a key that is not 32 bytes.
pub(crate) fn open_state(
    key: &Secret,
    aad: &[u8],
    sealed: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let cipher = cipher(key)?;
    let (nonce, ct) = sealed
        .split_at_checked(STATE_NONCE_LEN)
        .ok_or(Error::AuthenticationFailed)?;
    let nonce =
        <[u8; STATE_NONCE_LEN]>::try_from(nonce).map_err(|_| Error::AuthenticationFailed)?;
    cipher
        .decrypt(&nonce.into(), Payload { msg: ct, aad })
        .map(zeroize::Zeroizing::new)
        .map_err(|_| Error::AuthenticationFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn seal_open_wrong_key_tamper_truncate() {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let key = Secret::from_slice(&[7; 32]).unwrap();
        let sealed = seal_state(&key, b"aad", b"state", &mut r).unwrap();
        assert_eq!(
            open_state(&key, b"aad", &sealed).unwrap().as_slice(),
            b"state"
        );
        let other = Secret::from_slice(&[8; 32]).unwrap();
        assert_eq!(
            open_state(&other, b"aad", &sealed),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(
            open_state(&key, b"aaX", &sealed),
            Err(Error::AuthenticationFailed)
        );
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(
                open_state(&key, b"aad", &bad),
                Err(Error::AuthenticationFailed)
            );
            assert_eq!(
                open_state(&key, b"aad", &sealed[..i]),
                Err(Error::AuthenticationFailed)
            );
        }
        // Two seals of one state differ (fresh nonces).
        assert_ne!(seal_state(&key, b"aad", b"state", &mut r).unwrap(), sealed);
        let short = Secret::from_slice(&[7; 16]).unwrap();
        assert_eq!(
            seal_state(&short, b"aad", b"state", &mut r),
            Err(ApiMisuse::InvalidLength.into())
        );
    }
}
