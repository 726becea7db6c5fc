//! Relay directory and geofence policy decoders.

use crate::error::RoutingDocument;
use crate::routing::{DirectoryIn, Policy, SignedDirectory};

/// Relay directory parsing: a payload or signed envelope that parses must serialize again
/// and parse back to the same value.
pub fn routing_directory(data: &[u8]) {
    if let Ok(dir) = DirectoryIn::parse(data) {
        let json = dir.to_json();
        assert!(json.is_ok(), "a parsed directory serializes: {json:?}");
        if let Ok(json) = json {
            assert_eq!(DirectoryIn::parse(&json).as_ref(), Ok(&dir));
        }
    }
    if let Ok(signed) = SignedDirectory::parse(data) {
        match signed.to_json() {
            Ok(json) => assert_eq!(SignedDirectory::parse(&json).as_ref(), Ok(&signed)),
            // Re-escaping can only grow an envelope that was already at the limit.
            Err(e) => assert_eq!(e, RoutingDocument::TooLarge.into()),
        }
    }
}

/// Geofence policy decoding: only the canonical encoding decodes, so a decoded policy
/// re-encodes to exactly the input.
pub fn routing_policy(data: &[u8]) {
    if let Ok(policy) = Policy::decode_canonical(data) {
        assert_eq!(policy.encode_canonical(), data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignaturePrivateKey;

    const CORPUS: [&[u8]; 2] = [
        include_bytes!("../../fuzz/corpus/routing_directory/payload.json"),
        include_bytes!("../../fuzz/corpus/routing_directory/signed.json"),
    ];

    /// Truncations, single-bit flips and a few splices of `seed`, each fed to `harness`.
    fn replay(seed: &[u8], harness: fn(&[u8])) -> usize {
        let mut runs = 0;
        let mut run = |input: &[u8]| {
            harness(input);
            runs += 1;
        };
        run(seed);
        for len in 0..seed.len() {
            run(&seed[..len]);
        }
        for i in 0..seed.len() {
            for bit in 0..8 {
                let mut m = seed.to_vec();
                m[i] ^= 1 << bit;
                run(&m);
            }
            for splice in [
                &b"\""[..],
                b"\\",
                b"{",
                b"]",
                b",",
                b"0",
                b"\\u0000",
                b"\xff",
            ] {
                let mut m = seed.to_vec();
                m.splice(i..i, splice.iter().copied());
                run(&m);
            }
        }
        runs
    }

    #[test]
    fn routing_directory_replays_corpus_and_mutations() {
        let payload = CORPUS[0];
        assert!(
            DirectoryIn::parse(payload).is_ok(),
            "corpus payload is valid"
        );
        let key = SignaturePrivateKey::from_seed(&[3; 32]).unwrap();
        let fresh = SignedDirectory::sign(payload, &key)
            .unwrap()
            .to_json()
            .unwrap();
        assert!(
            SignedDirectory::parse(CORPUS[1]).is_ok(),
            "corpus envelope is valid"
        );
        let mut runs = 0;
        for seed in [payload, CORPUS[1], &fresh, b"{}", b"null"] {
            runs += replay(seed, routing_directory);
        }
        println!("routing_directory: {runs} inputs replayed");
        assert!(runs > 10_000);
    }

    #[test]
    fn routing_policy_replays_mutations() {
        let j = |c| crate::routing::Jurisdiction::parse(c).unwrap();
        let policy = Policy::new("us-east")
            .unwrap()
            .allow_only([j("US"), j("CA")])
            .with_secondaries_outside_home(true);
        let open = Policy::new("eu-west").unwrap().deny([j("RU"), j("BY")]);
        let mut runs = 0;
        for p in [policy, open] {
            runs += replay(&p.encode_canonical(), routing_policy);
        }
        println!("routing_policy: {runs} inputs replayed");
        assert!(runs > 500);
    }
}
