//! SFrame harnesses: header decoding (round trip) and decryption (never panics; a frame that
//! decrypts is a replay the second time). State is built afresh from constants per input;
//! `tests` replays both over the RFC 9605 vectors and deterministic mutations.

use crate::sframe::{BaseKey, Decryptor, Encryptor, Header, SframeSuite};
use crate::Error;

/// The constant base key of the decrypt harness.
const FUZZ_BASE_KEY: [u8; 32] = [0x42; 32];
/// KIDs the decrypt harness installs: short and long header forms.
const FUZZ_KIDS: [u64; 4] = [0, 7, 0x123, u64::MAX];

/// Header decoding: a decoded header re-encodes to exactly the bytes it consumed.
pub fn sframe_header(data: &[u8]) {
    if let Ok((header, len)) = Header::decode(data) {
        let (buf, n) = header.to_array();
        assert_eq!(n, len, "encoded length differs from consumed length");
        assert_eq!(data.get(..len), buf.get(..n), "re-encoding differs");
    }
}

/// Decryption: `data[0]` picks the suite, `data[1] % 32` the metadata length, the rest is
/// `metadata ‖ frame`. A fresh [`Decryptor`] holds keys for a few KIDs. Any result is fine but
/// a panic; a frame that decrypts must be rejected as a replay the second time.
#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
pub fn sframe_decrypt(data: &[u8]) {
    let (Some(&s), Some(&m)) = (data.first(), data.get(1)) else {
        return;
    };
    let suite = SframeSuite(u16::from(s % 5) + 1);
    let rest = data.get(2..).unwrap_or_default();
    let (metadata, frame) = rest.split_at(usize::from(m % 32).min(rest.len()));
    let Ok(mut decryptor) = fuzz_decryptor(suite) else {
        panic!("harness setup failed");
    };
    let mut out = vec![0u8; frame.len()];
    if let Ok(d) = decryptor.decrypt(metadata, frame, &mut out) {
        assert!(d.len <= frame.len());
        let again = decryptor.decrypt(metadata, frame, &mut out);
        assert_eq!(again, Err(Error::Stale(crate::error::Stale::Replayed)));
    }
}

fn fuzz_decryptor(suite: SframeSuite) -> crate::Result<Decryptor> {
    let key = fuzz_base_key(suite)?;
    let mut d = Decryptor::new(suite)?;
    for kid in FUZZ_KIDS {
        d.add_key(kid, &key)?;
    }
    Ok(d)
}

fn fuzz_base_key(suite: SframeSuite) -> crate::Result<BaseKey> {
    let len = suite.algorithm()?.key_len();
    BaseKey::from_slice(FUZZ_BASE_KEY.get(..len.min(32)).unwrap_or_default())
}

/// Whether `data` is a frame the decrypt harness opens (for the corpus replay test).
#[cfg(test)]
pub(super) fn decrypts(data: &[u8]) -> bool {
    sframe_decrypt(data);
    let (Some(&s), Some(&m)) = (data.first(), data.get(1)) else {
        return false;
    };
    let suite = SframeSuite(u16::from(s % 5) + 1);
    let rest = data.get(2..).unwrap_or_default();
    let (metadata, frame) = rest.split_at(usize::from(m % 32).min(rest.len()));
    let mut out = vec![0u8; frame.len()];
    fuzz_decryptor(suite).is_ok_and(|mut d| d.decrypt(metadata, frame, &mut out).is_ok())
}

/// A valid input for [`sframe_decrypt`] (seed corpus and replay test): a frame encrypted with
/// the harness key.
///
/// # Errors
/// Never for suites 1 to 5 and the harness KIDs.
pub fn sframe_decrypt_seed(
    suite_byte: u8,
    kid: u64,
    ctr: u64,
    metadata: &[u8],
    plaintext: &[u8],
) -> crate::Result<Vec<u8>> {
    let suite = SframeSuite(u16::from(suite_byte % 5) + 1);
    let key = fuzz_base_key(suite)?;
    let mut enc = Encryptor::with_counter(suite, kid, &key, ctr)?;
    let mut frame = vec![0u8; enc.output_len(plaintext.len()).unwrap_or(0)];
    let n = enc.encrypt(metadata, plaintext, &mut frame)?;
    frame.truncate(n);
    let meta_len = u8::try_from(metadata.len()).unwrap_or(u8::MAX);
    let mut input = vec![suite_byte, meta_len];
    input.extend_from_slice(metadata);
    input.extend_from_slice(&frame);
    Ok(input)
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "PRNG output is cut on purpose"
)]
mod tests {
    use super::*;

    /// Deterministic xorshift, so the mutations are the same on every run.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn mutations(seed: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
        let mut out = vec![seed.to_vec()];
        for cut in 0..seed.len() {
            out.push(seed[..cut].to_vec());
        }
        for i in 0..seed.len() {
            let mut m = seed.to_vec();
            m[i] ^= 1 << (rng.next() % 8);
            out.push(m);
        }
        for _ in 0..64 {
            let mut m = seed.to_vec();
            let n = (rng.next() % 4) as usize;
            for _ in 0..=n {
                if m.is_empty() {
                    break;
                }
                let i = (rng.next() as usize) % m.len();
                m[i] = rng.next() as u8;
            }
            out.push(m);
        }
        out
    }

    #[test]
    fn header_harness_over_vectors_and_mutations() {
        #[derive(serde::Deserialize)]
        struct File {
            header: Vec<Case>,
        }
        #[derive(serde::Deserialize)]
        struct Case {
            encoded: String,
        }
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/vectors/sframe/rfc9605.json"
        ))
        .unwrap();
        let file: File = serde_json::from_str(&text).unwrap();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut runs = 0;
        for case in &file.header {
            let bytes: Vec<u8> = (0..case.encoded.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&case.encoded[i..i + 2], 16).unwrap())
                .collect();
            for input in mutations(&bytes, &mut rng) {
                sframe_header(&input);
                runs += 1;
            }
        }
        for b in 0..=255u8 {
            sframe_header(&[b]);
            sframe_header(&[b, 0, 0]);
        }
        assert!(runs > 289 * 60, "{runs}");
    }

    #[test]
    fn decrypt_harness_over_seeds_and_mutations() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut accepted = 0;
        for suite_byte in 0..5u8 {
            for (kid, ctr) in [
                (0u64, 0u64),
                (7, 300),
                (0x123, 0x4567),
                (u64::MAX, u64::MAX),
            ] {
                let seed =
                    sframe_decrypt_seed(suite_byte, kid, ctr, b"meta", b"frame payload").unwrap();
                let empty = sframe_decrypt_seed(suite_byte, kid, ctr, b"", b"").unwrap();
                for input in mutations(&seed, &mut rng).into_iter().chain([empty]) {
                    sframe_decrypt(&input);
                }
                // The unmutated seed is the first input; check it really decrypts.
                let mut d = fuzz_decryptor(SframeSuite(u16::from(suite_byte) + 1)).unwrap();
                let frame = &seed[2 + 4..];
                let mut out = vec![0; frame.len()];
                d.decrypt(b"meta", frame, &mut out).unwrap();
                accepted += 1;
            }
        }
        assert_eq!(accepted, 20);
        sframe_decrypt(&[]);
        sframe_decrypt(&[0]);
        sframe_decrypt(&[3, 200]);
    }
}
