//! Unit tests: directory parsing, signature/expiry/rollback, policy encoding, selection.

use super::*;
use crate::crypto::SignaturePrivateKey;
use crate::error::{Error, InvalidMessage, RoutingDocument, Stale};

const NOW: u64 = 1_800_000_000;

fn operator() -> SignaturePrivateKey {
    SignaturePrivateKey::from_seed(&[0x42; 32]).unwrap()
}

fn relay_json(id: &str, region: &str, j: &str, tier: &str, weight: u32) -> String {
    format!(
        r#"{{"id":"{id}","region":"{region}","jurisdiction":"{j}","tier":"{tier}","endpoint":"{id}.relay.example:443","weight":{weight}}}"#
    )
}

fn payload(version: u64, relays: &[String]) -> Vec<u8> {
    format!(
        r#"{{"version":{version},"issued_at":{},"expires_at":{},"relays":[{}]}}"#,
        NOW - 100,
        NOW + 3600,
        relays.join(",")
    )
    .into_bytes()
}

fn sample(version: u64) -> Vec<u8> {
    payload(
        version,
        &[
            relay_json("us-1", "us-east", "US", "primary", 10),
            relay_json("us-2", "us-east", "US", "primary", 20),
            relay_json("ca-1", "ca-central", "CA", "secondary", 5),
        ],
    )
}

fn signed(p: &[u8]) -> Vec<u8> {
    SignedDirectory::sign(p, &operator())
        .unwrap()
        .to_json()
        .unwrap()
}

fn verified(p: &[u8]) -> Directory {
    DirectoryVerifier::new([operator().public_key()])
        .verify(&signed(p), NOW)
        .unwrap()
}

fn j(code: &str) -> Jurisdiction {
    Jurisdiction::parse(code).unwrap()
}

fn doc_err(e: RoutingDocument) -> Error {
    Error::InvalidMessage(InvalidMessage::Routing(e))
}

#[test]
fn payload_round_trips_and_keeps_order() {
    let d = DirectoryIn::parse(&sample(3)).unwrap();
    assert_eq!(d.version, 3);
    let ids: Vec<_> = d.relays.iter().map(Relay::id).collect();
    assert_eq!(ids, ["us-1", "us-2", "ca-1"]);
    assert_eq!(d.relays[2].tier(), Tier::Secondary);
    assert_eq!(d.relays[2].jurisdiction(), j("CA"));
    assert_eq!(d.relays[0].endpoint(), "us-1.relay.example:443");
    let again = d.to_json().unwrap();
    assert_eq!(again, sample(3), "canonical output is the compact input");
    assert_eq!(DirectoryIn::parse(&again).unwrap(), d);
}

#[test]
fn malformed_directories_get_typed_errors() {
    let r = |id: &str, region: &str, jur: &str, tier: &str| {
        payload(1, &[relay_json(id, region, jur, tier, 1)])
    };
    let cases: Vec<(Vec<u8>, RoutingDocument)> = vec![
        (b"".to_vec(), RoutingDocument::MalformedJson),
        (b"[]".to_vec(), RoutingDocument::MalformedJson),
        (b"{\"version\":1}".to_vec(), RoutingDocument::MalformedJson),
        (sample(1)[..40].to_vec(), RoutingDocument::MalformedJson),
        (
            String::from_utf8(sample(1))
                .unwrap()
                .replacen("{", "{\"extra\":1,", 1)
                .into_bytes(),
            RoutingDocument::MalformedJson,
        ),
        (
            String::from_utf8(sample(1))
                .unwrap()
                .replacen("{", "{\"version\":9,", 1)
                .into_bytes(),
            RoutingDocument::MalformedJson,
        ),
        (
            String::from_utf8(sample(1))
                .unwrap()
                .replace("\"weight\":10", "\"weight\":-1")
                .into_bytes(),
            RoutingDocument::MalformedJson,
        ),
        (
            payload(
                1,
                &[
                    relay_json("a", "r", "US", "primary", 1),
                    relay_json("a", "q", "CA", "primary", 2),
                ],
            ),
            RoutingDocument::DuplicateRelayId,
        ),
        (r("a", "r", "US", "tertiary"), RoutingDocument::UnknownTier),
        (r("a", "r", "US", "Primary"), RoutingDocument::UnknownTier),
        (
            r("a", "r", "us", "primary"),
            RoutingDocument::InvalidJurisdiction,
        ),
        (
            r("a", "r", "XX", "primary"),
            RoutingDocument::InvalidJurisdiction,
        ),
        (
            r("a", "r", "USA", "primary"),
            RoutingDocument::InvalidJurisdiction,
        ),
        (r("", "r", "US", "primary"), RoutingDocument::InvalidField),
        (
            r("a b", "r", "US", "primary"),
            RoutingDocument::InvalidField,
        ),
        (
            r("a", &"r".repeat(65), "US", "primary"),
            RoutingDocument::InvalidField,
        ),
    ];
    for (i, (doc, want)) in cases.iter().enumerate() {
        assert_eq!(DirectoryIn::parse(doc), Err(doc_err(*want)), "case {i}");
    }
    let bad_endpoint = String::from_utf8(sample(1))
        .unwrap()
        .replace("us-1.relay", "us 1.relay");
    assert_eq!(
        DirectoryIn::parse(bad_endpoint.as_bytes()),
        Err(doc_err(RoutingDocument::InvalidField))
    );
    let backwards = r#"{"version":1,"issued_at":5,"expires_at":5,"relays":[]}"#;
    assert_eq!(
        DirectoryIn::parse(backwards.as_bytes()),
        Err(doc_err(RoutingDocument::InvalidValidity))
    );
    let mut huge = sample(1);
    huge.resize(MAX_DIRECTORY_BYTES + 1, b' ');
    assert_eq!(
        DirectoryIn::parse(&huge),
        Err(doc_err(RoutingDocument::TooLarge))
    );
    assert_eq!(
        SignedDirectory::parse(&huge),
        Err(doc_err(RoutingDocument::TooLarge))
    );
    let one = DirectoryIn::parse(&sample(1)).unwrap().relays[0].clone();
    let too_many = DirectoryIn {
        version: 1,
        issued_at: 1,
        expires_at: 2,
        relays: vec![one; MAX_RELAYS + 1],
    };
    assert_eq!(too_many.to_json(), Err(doc_err(RoutingDocument::TooLarge)));
}

#[test]
fn verifier_accepts_a_good_directory_and_remembers_it() {
    let mut v = DirectoryVerifier::new([operator().public_key()]);
    let d = v.verify(&signed(&sample(4)), NOW).unwrap();
    assert_eq!(
        (d.version(), d.issued_at(), d.expires_at()),
        (4, NOW - 100, NOW + 3600)
    );
    assert_eq!(d.hash(), crate::crypto::sha256(&sample(4)));
    assert_eq!(d.relay("ca-1").map(Relay::region), Some("ca-central"));
    assert!(d.relay("cn-1").is_none());
    assert_eq!(
        v.last_accepted(),
        Some(Accepted {
            version: 4,
            hash: d.hash()
        })
    );
}

#[test]
fn bad_signatures_are_rejected_opaquely() {
    let pk = operator().public_key();
    let good = SignedDirectory::sign(&sample(1), &operator()).unwrap();
    let env = String::from_utf8(good.to_json().unwrap()).unwrap();
    // A flipped signature bit.
    let mut sig = *good.signature();
    sig[10] ^= 1;
    let flipped = env.replace(&hex::encode(good.signature()), &hex::encode(&sig));
    // A payload changed after signing (version 1 -> 2).
    let tampered = env.replacen("\\\"version\\\":1", "\\\"version\\\":2", 1);
    assert_ne!(tampered, env);
    // The raw payload signed without the domain-separation label.
    let unlabeled = env.replace(
        &hex::encode(good.signature()),
        &hex::encode(&operator().sign(&sample(1))),
    );
    for doc in [&flipped, &tampered, &unlabeled] {
        let mut v = DirectoryVerifier::new([pk]);
        assert_eq!(
            v.verify(doc.as_bytes(), NOW).unwrap_err(),
            Error::AuthenticationFailed
        );
        assert_eq!(v.last_accepted(), None);
    }
    let stranger = SignaturePrivateKey::from_seed(&[1; 32])
        .unwrap()
        .public_key();
    assert_eq!(
        DirectoryVerifier::new([stranger])
            .verify(env.as_bytes(), NOW)
            .unwrap_err(),
        Error::AuthenticationFailed
    );
    assert_eq!(
        DirectoryVerifier::new([])
            .verify(env.as_bytes(), NOW)
            .unwrap_err(),
        Error::AuthenticationFailed
    );
    // Key rotation: any pinned key will do.
    assert!(DirectoryVerifier::new([stranger, pk])
        .verify(env.as_bytes(), NOW)
        .is_ok());
    // Malformed envelopes.
    let short_sig = env.replace(&hex::encode(good.signature()), "abcd");
    let extra = env.replacen('{', "{\"key\":\"x\",", 1);
    for doc in [short_sig.as_str(), extra.as_str(), "{}", "null"] {
        assert_eq!(
            SignedDirectory::parse(doc.as_bytes()),
            Err(doc_err(RoutingDocument::MalformedJson)),
            "{doc}"
        );
    }
    // An operator tool cannot sign a directory clients would reject.
    assert_eq!(
        SignedDirectory::sign(b"{}", &operator()).unwrap_err(),
        doc_err(RoutingDocument::MalformedJson)
    );
}

#[test]
fn expired_and_future_directories_are_stale() {
    let doc = signed(&sample(1));
    let mut v = DirectoryVerifier::new([operator().public_key()]);
    assert_eq!(
        v.verify(&doc, NOW + 3600).unwrap_err(),
        Stale::DirectoryExpired.into()
    );
    assert_eq!(
        v.verify(&doc, u64::MAX).unwrap_err(),
        Stale::DirectoryExpired.into()
    );
    // issued_at = NOW - 100; default skew 300 s.
    assert_eq!(
        v.verify(&doc, NOW - 401).unwrap_err(),
        Stale::DirectoryNotYetValid.into()
    );
    assert_eq!(v.last_accepted(), None);
    assert!(v.verify(&doc, NOW - 400).is_ok());
    assert!(v.verify(&doc, NOW + 3599).is_ok());
    let mut strict = DirectoryVerifier::new([operator().public_key()]).with_max_clock_skew(0);
    assert_eq!(
        strict.verify(&doc, NOW - 101).unwrap_err(),
        Stale::DirectoryNotYetValid.into()
    );
}

#[test]
fn rollback_and_equivocation_are_refused_without_changing_state() {
    let mut v = DirectoryVerifier::new([operator().public_key()]);
    let v5 = v.verify(&signed(&sample(5)), NOW).unwrap();
    let state = v.last_accepted();
    assert_eq!(
        v.verify(&signed(&sample(4)), NOW).unwrap_err(),
        Stale::DirectoryRollback.into()
    );
    assert_eq!(
        v.verify(&signed(&sample(0)), NOW).unwrap_err(),
        Stale::DirectoryRollback.into()
    );
    let other5 = payload(5, &[relay_json("cn-1", "us-east", "CN", "primary", 99)]);
    assert_eq!(
        v.verify(&signed(&other5), NOW).unwrap_err(),
        Stale::DirectoryEquivocation.into()
    );
    assert_eq!(v.last_accepted(), state);
    // The same document again is fine; a newer one moves the floor up.
    assert_eq!(
        v.verify(&signed(&sample(5)), NOW).unwrap().hash(),
        v5.hash()
    );
    assert_eq!(v.verify(&signed(&sample(6)), NOW).unwrap().version(), 6);
    assert_eq!(
        v.verify(&signed(&sample(5)), NOW).unwrap_err(),
        Stale::DirectoryRollback.into()
    );
    // A restarted client restores its floor.
    let mut restored = DirectoryVerifier::new([operator().public_key()])
        .with_last_accepted(v.last_accepted().unwrap());
    assert_eq!(
        restored.verify(&signed(&sample(5)), NOW).unwrap_err(),
        Stale::DirectoryRollback.into()
    );
    // A validly signed but malformed payload leaves the state as it was.
    let resigned_bad = {
        let p = String::from_utf8(payload(7, &[relay_json("a", "r", "XX", "primary", 1)])).unwrap();
        let sig = operator().sign(&[DIRECTORY_SIGNATURE_LABEL, p.as_bytes()].concat());
        serde_json::json!({"payload": p, "signature": hex::encode(&sig)}).to_string()
    };
    let before = restored.last_accepted();
    assert_eq!(
        restored.verify(resigned_bad.as_bytes(), NOW).unwrap_err(),
        doc_err(RoutingDocument::InvalidJurisdiction)
    );
    assert_eq!(restored.last_accepted(), before);
}

#[test]
fn policy_encoding_is_canonical_and_round_trips() {
    let p = Policy::new("us-east")
        .unwrap()
        .allow_only([j("US"), j("CA"), j("CN")])
        .deny([j("CN")])
        .with_max_primaries(4)
        .with_max_secondaries(1)
        .with_secondaries_outside_home(true);
    let bytes = p.encode_canonical();
    assert_eq!(
        bytes,
        [
            1, 8, 7, b'u', b's', b'-', b'e', b'a', b's', b't', // version, home regions
            1, 4, b'C', b'A', b'U', b'S', // allowed (CN folded away by the deny)
            0, 4, 1, 1 // denied, limits, flag
        ]
    );
    assert_eq!(Policy::decode_canonical(&bytes).unwrap(), p);
    assert_eq!(p.hash(), crate::crypto::sha256(&bytes));
    let open = Policy::new("eu").unwrap().deny([j("RU")]);
    assert_eq!(
        Policy::decode_canonical(&open.encode_canonical()).unwrap(),
        open
    );
    assert_ne!(open.hash(), p.hash());

    let bad = |b: &[u8]| Policy::decode_canonical(b).unwrap_err();
    let nc = doc_err(RoutingDocument::NonCanonical);
    assert_eq!(
        bad(&bytes[..bytes.len() - 1]),
        InvalidMessage::Truncated.into()
    );
    assert_eq!(
        bad(&[&bytes[..], &[0]].concat()),
        InvalidMessage::TrailingBytes.into()
    );
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(bad(&v2), nc);
    let swap = |from: &[u8], to: &[u8]| {
        let pos = bytes.windows(from.len()).position(|w| w == from).unwrap();
        let mut b = bytes.clone();
        b[pos..pos + to.len()].copy_from_slice(to);
        b
    };
    assert_eq!(bad(&swap(b"CAUS", b"USCA")), nc, "unsorted codes");
    assert_eq!(bad(&swap(b"CAUS", b"USUS")), nc, "repeated codes");
    assert_eq!(
        bad(&swap(b"CAUS", b"CAXX")),
        doc_err(RoutingDocument::InvalidJurisdiction)
    );
    assert_eq!(
        bad(&swap(b"us-east", b"us east")),
        doc_err(RoutingDocument::InvalidField)
    );
    assert_eq!(bad(&swap(&[0, 4, 1, 1], &[0, 4, 1, 2])), nc, "flag");
    assert_eq!(
        bad(&swap(&[1, 4, b'C'], &[2, 4, b'C'])),
        InvalidMessage::InvalidOptionalPresence.into()
    );
    // A deny-list beside an allow-list has a shorter canonical form.
    let both = [&bytes[..16], &[2, b'C', b'N', 4, 1, 1]].concat();
    assert_eq!(bad(&both), nc);
    // Two home regions, out of order.
    let regions = [1, 6, 1, b'b', 1, b'a', 0, 0, 3, 2, 0];
    assert_eq!(bad(&regions), nc);
    let sorted = [1, 4, 1, b'a', 1, b'b', 0, 0, 3, 2, 0];
    assert_eq!(
        Policy::decode_canonical(&sorted)
            .unwrap()
            .home_regions()
            .count(),
        2
    );
    // At most 64 home regions.
    let many = |n: usize| {
        let body: Vec<u8> = (0..n)
            .flat_map(|i| [&[3][..], format!("r{i:02}").as_bytes()].concat())
            .collect();
        let len = u16::try_from(body.len()).unwrap() | 0x4000;
        [&[1][..], &len.to_be_bytes(), &body, &[0, 0, 3, 2, 0]].concat()
    };
    assert_eq!(
        Policy::decode_canonical(&many(64))
            .unwrap()
            .home_regions()
            .count(),
        64
    );
    assert_eq!(bad(&many(65)), doc_err(RoutingDocument::TooLarge));
}

#[test]
fn builders_and_intersection_only_narrow() {
    let p = Policy::new("us-east")
        .unwrap()
        .deny([j("CN")])
        .allow_only([j("US"), j("CN")]);
    assert!(p.permits_jurisdiction(j("US")));
    assert!(!p.permits_jurisdiction(j("CN")), "a deny is never undone");
    let p2 = p.allow_only([j("CN"), j("CA")]);
    assert!(p2.fence().is_empty(), "a second allow-list intersects");

    let account = Policy::new("us-east")
        .unwrap()
        .allow_only([j("US"), j("CA")])
        .with_secondaries_outside_home(true);
    let meeting = Policy::new("us-east")
        .unwrap()
        .deny([j("CA")])
        .with_max_primaries(1)
        .with_max_secondaries(5);
    let both = account.intersect(&meeting);
    assert_eq!(both, meeting.intersect(&account));
    assert_eq!(both.fence().iter().collect::<Vec<_>>(), [j("US")]);
    assert_eq!((both.max_primaries(), both.max_secondaries()), (1, 2));
    assert!(!both.secondaries_outside_home());
    assert!(both.is_home_region("us-east"));
    let elsewhere = both.intersect(&Policy::new("eu-west").unwrap());
    assert_eq!(elsewhere.home_regions().count(), 0);
    assert_eq!(
        Policy::decode_canonical(&elsewhere.encode_canonical()).unwrap(),
        elsewhere
    );
    assert!(Policy::new("bad region").is_err_and(
        |e| e == Error::InvalidMessage(InvalidMessage::Routing(RoutingDocument::InvalidField))
    ));
}

fn mixed_directory() -> Directory {
    verified(&payload(
        9,
        &[
            relay_json("us-slow", "us-east", "US", "primary", 90),
            relay_json("us-a", "us-east", "US", "primary", 10),
            relay_json("us-b", "us-east", "US", "primary", 30),
            relay_json("us-c", "us-east", "US", "primary", 20),
            relay_json("us-drained", "us-east", "US", "primary", 0),
            relay_json("us-west-1", "us-west", "US", "primary", 50),
            relay_json("us-sec", "us-east", "US", "secondary", 5),
            relay_json("ca-sec", "ca-central", "CA", "secondary", 80),
            relay_json("de-sec", "us-east", "DE", "secondary", 80),
        ],
    ))
}

#[test]
fn selection_orders_by_health_then_weight_within_limits() {
    let dir = mixed_directory();
    let mut health = Health::new();
    health.record_congestion("us-slow", NOW + 10);
    health.record_success("us-a", NOW - 5);
    let policy = Policy::new("us-east")
        .unwrap()
        .allow_only([j("US"), j("CA")]);
    let d = select(&policy, &dir, &health, NOW);
    let ids: Vec<_> = d.route().unwrap().relays().map(Relay::id).collect();
    // Healthy first, then unknown by weight; congested last; limit 3 primaries.
    assert_eq!(ids, ["us-a", "us-b", "us-c", "us-sec"]);
    let roles: Vec<_> = d.route().unwrap().hops().iter().map(|h| h.role).collect();
    assert_eq!(
        roles,
        [Tier::Primary, Tier::Primary, Tier::Primary, Tier::Secondary]
    );
    let reason = |id| d.audit.verdict(id).unwrap().reason;
    assert_eq!(reason("us-a"), Reason::Chosen { position: 0 });
    assert_eq!(reason("us-sec"), Reason::Chosen { position: 3 });
    assert_eq!(reason("us-slow"), Reason::OverPrimaryLimit);
    assert_eq!(reason("us-drained"), Reason::Drained);
    assert_eq!(reason("us-west-1"), Reason::OutsideHomeRegion);
    assert_eq!(reason("ca-sec"), Reason::OutsideHomeRegion);
    assert_eq!(reason("de-sec"), Reason::OutsideFence);
    assert_eq!(
        d.audit.verdict("us-slow").unwrap().health,
        HealthStatus::Congested
    );
    assert_eq!(d.audit.entries().len(), 9);
    assert_eq!(
        (
            d.audit.directory_version(),
            d.audit.directory_hash(),
            d.audit.policy_hash(),
            d.audit.now()
        ),
        (9, dir.hash(), policy.hash(), NOW)
    );

    // Secondaries abroad, if allowed, come after those at home; the limit holds.
    let abroad = policy
        .clone()
        .with_secondaries_outside_home(true)
        .with_max_secondaries(1);
    let d = select(&abroad, &dir, &health, NOW);
    assert_eq!(d.route().unwrap().relays().last().unwrap().id(), "us-sec");
    assert_eq!(
        d.audit.verdict("ca-sec").unwrap().reason,
        Reason::OverSecondaryLimit
    );
    let d = select(&abroad.with_max_secondaries(2), &dir, &health, NOW);
    assert_eq!(d.route().unwrap().relays().last().unwrap().id(), "ca-sec");
}

#[test]
fn selection_fails_closed_and_says_why() {
    let dir = mixed_directory();
    let mut health = Health::new();
    let nowhere = Policy::new("us-east").unwrap().allow_only([j("FR")]);
    let d = select(&nowhere, &dir, &health, NOW);
    assert_eq!(d.denial(), Some(Denial::NoRelayInsideFence));
    assert!(d.route().is_none());
    assert_eq!(d.audit.denial(), Some(Denial::NoRelayInsideFence));
    assert!(d
        .audit
        .entries()
        .all(|(_, v)| v.reason.is_fence_exclusion()));

    let policy = Policy::new("us-east").unwrap().allow_only([j("US")]);
    for id in ["us-slow", "us-a", "us-b", "us-c", "us-sec"] {
        for _ in 0..3 {
            health.record_failure(id, NOW - 1);
        }
    }
    let d = select(&policy, &dir, &health, NOW);
    assert_eq!(d.denial(), Some(Denial::NoHealthyRelay));
    assert_eq!(d.audit.verdict("us-a").unwrap().reason, Reason::Unhealthy);
    // After the retry time they are worth another try.
    assert!(select(&policy, &dir, &health, NOW + 60).route().is_some());

    let none = Policy::new("us-east")
        .unwrap()
        .with_max_primaries(0)
        .with_max_secondaries(0);
    assert_eq!(
        select(&none, &dir, &Health::new(), NOW).denial(),
        Some(Denial::LimitsAllowNone)
    );
}

#[test]
fn audit_serializes_to_json() {
    let dir = mixed_directory();
    let policy = Policy::new("us-east").unwrap().allow_only([j("US")]);
    let d = select(&policy, &dir, &Health::new(), NOW);
    let json: serde_json::Value = serde_json::from_str(&d.audit.to_json().unwrap()).unwrap();
    assert_eq!(json["directory_version"], 9);
    assert_eq!(json["directory_hash"], hex::encode(dir.hash().as_bytes()));
    assert_eq!(json["policy_hash"].as_str().unwrap().len(), 64);
    assert_eq!(json["denial"], serde_json::Value::Null);
    let relays = json["relays"].as_array().unwrap();
    assert_eq!(relays.len(), 9);
    assert_eq!(relays[0]["id"], "us-slow");
    assert_eq!(
        relays[0]["reason"],
        serde_json::json!({"kind": "Chosen", "position": 0})
    );
    assert_eq!(relays[1]["reason"]["kind"], "OverPrimaryLimit");
    assert_eq!(relays[8]["jurisdiction"], "DE");
    assert_eq!(relays[8]["tier"], "secondary");
    assert_eq!(relays[8]["reason"]["kind"], "OutsideFence");
    assert_eq!(relays[8]["health"], "Unknown");
}
