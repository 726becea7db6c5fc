//! Relay directory and geofence policy decoders.

use crate::crypto::{sha256, SignaturePrivateKey};
use crate::error::{RoutingDocument, Stale};
use crate::routing::{
    select, Accepted, DirectoryIn, DirectoryVerifier, Health, Jurisdiction, Policy, SignedDirectory,
};

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

/// The clock of [`routing_directory_verify`]: inside the validity of the corpus payload.
pub(super) const VERIFY_NOW: u64 = 1_780_000_000;

/// The seed of the pinned operator key of [`routing_directory_verify`].
pub(super) const OPERATOR_SEED: [u8; 32] = [3; 32];

/// Relay directory verification (docs/ARCHITECTURE.md "Routing"), both ways a fuzzer can reach it:
///
/// 1. `data` as a signed document for a verifier pinned to the operator key: nothing the
///    fuzzer forges may verify unless it carries a genuine signature over a payload that
///    parses, and a rejection leaves the verifier as it was.
/// 2. `data` as a payload the operator signs: the verifier accepts exactly the payloads
///    that parse and are valid at the clock; an accepted one is remembered with its hash, a
///    replay is accepted again, an older version or other contents at the same version are
///    refused, a stranger's signature is refused, and a route selected from it never leaves
///    the geofence.
///
/// # Panics
/// When one of those properties fails.
pub fn routing_directory_verify(data: &[u8]) {
    let _ = directory_verdict(data);
}

/// Whether `data`, as a payload signed by the operator, was accepted.
pub(super) fn directory_verdict(data: &[u8]) -> bool {
    let Ok(operator) = SignaturePrivateKey::from_seed(&OPERATOR_SEED) else {
        return false;
    };
    // 1. As a document.
    let mut verifier = DirectoryVerifier::new([operator.public_key()]);
    match verifier.verify(data, VERIFY_NOW) {
        Ok(dir) => {
            let signed = SignedDirectory::parse(data);
            let payload = signed.as_ref().map(|s| DirectoryIn::parse(s.payload()));
            assert!(
                matches!(&payload, Ok(Ok(p)) if p.version == dir.version() && p.relays == dir.relays()),
                "a verified document whose payload does not parse to it"
            );
        }
        Err(_) => assert_eq!(verifier.last_accepted(), None),
    }

    // 2. As a payload.
    let Ok(signed) = SignedDirectory::sign(data, &operator) else {
        return false;
    };
    let mut verifier = DirectoryVerifier::new([operator.public_key()]);
    let parsed = DirectoryIn::parse(data);
    let Ok(dir) = verifier.verify_signed(&signed, VERIFY_NOW) else {
        assert_eq!(
            verifier.last_accepted(),
            None,
            "a rejection changed the verifier"
        );
        assert!(
            parsed.as_ref().map_or(true, |p| VERIFY_NOW >= p.expires_at
                || p.issued_at
                    > VERIFY_NOW.saturating_add(crate::routing::DEFAULT_MAX_CLOCK_SKEW)),
            "a valid, current, signed payload was refused"
        );
        return false;
    };

    let Ok(contents) = parsed else {
        unreachable!("the verifier accepted a payload that does not parse");
    };
    assert_eq!(dir.version(), contents.version);
    assert_eq!(dir.relays(), contents.relays.as_slice());
    assert!(contents.issued_at < contents.expires_at && VERIFY_NOW < contents.expires_at);
    let accepted = Accepted {
        version: contents.version,
        hash: sha256(data),
    };
    assert_eq!(verifier.last_accepted(), Some(accepted));
    assert!(
        verifier.verify_signed(&signed, VERIFY_NOW).is_ok(),
        "a replay was refused"
    );

    if let Some(newer) = contents.version.checked_add(1) {
        let mut ahead =
            DirectoryVerifier::new([operator.public_key()]).with_last_accepted(Accepted {
                version: newer,
                ..accepted
            });
        assert_eq!(
            ahead.verify_signed(&signed, VERIFY_NOW).err(),
            Some(Stale::DirectoryRollback.into())
        );
    }
    let mut other = DirectoryVerifier::new([operator.public_key()]).with_last_accepted(Accepted {
        hash: sha256(b"other contents"),
        ..accepted
    });
    assert_eq!(
        other.verify_signed(&signed, VERIFY_NOW).err(),
        Some(Stale::DirectoryEquivocation.into())
    );
    if let Ok(stranger) = SignaturePrivateKey::from_seed(&[4; 32]) {
        if let Ok(forged) = SignedDirectory::sign(data, &stranger) {
            let mut v = DirectoryVerifier::new([operator.public_key()]);
            assert_eq!(
                v.verify_signed(&forged, VERIFY_NOW).err(),
                Some(crate::Error::AuthenticationFailed)
            );
        }
    }

    // Whatever the directory lists, a route stays inside the fence.
    let home = dir.relays().first().map_or("us-east", |r| r.region());
    let Ok(policy) = Policy::new(home) else {
        return true;
    };
    let fenced = ["US", "CA"]
        .iter()
        .filter_map(|c| Jurisdiction::parse(c).ok());
    for policy in [policy.clone().allow_only(fenced), policy] {
        let decision = select(&policy, &dir, &Health::new(), VERIFY_NOW);
        if let Some(route) = decision.route() {
            assert!(
                route
                    .relays()
                    .all(|r| policy.permits_jurisdiction(r.jurisdiction())),
                "a route left the geofence"
            );
        }
    }
    true
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
        let j = |c| Jurisdiction::parse(c).unwrap();
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
