use super::*;
use crate::crypto::CipherSuite;
use crate::error::Error;

fn tree(n: u32, config: RatchetConfig) -> SecretTree {
    let suite = CipherSuite(1).suite().unwrap();
    let root = EncryptionSecret::from_slice(&[7; 32]).unwrap();
    SecretTree::new(suite, root, TreeSize::new(n).unwrap(), config)
}

/// The key a sender uses for each generation, in order.
fn sent_keys(n: u32, leaf: u32, count: usize) -> Vec<AeadKey> {
    let mut t = tree(n, RatchetConfig::default());
    (0..count)
        .map(|i| {
            let (g, k, _) = t
                .next_sending_key(LeafIndex(leaf), RatchetKind::Application)
                .unwrap();
            assert_eq!(g as usize, i);
            k
        })
        .collect()
}

fn open_ok(t: &mut SecretTree, leaf: u32, generation: u32, expected: &AeadKey) -> Result<()> {
    t.open_with(
        LeafIndex(leaf),
        RatchetKind::Application,
        generation,
        |k, _| {
            assert_eq!(k, expected);
            Ok(())
        },
    )
}

#[test]
fn receiver_matches_sender_in_and_out_of_order() {
    let sent = sent_keys(8, 5, 6);
    let mut rx = tree(8, RatchetConfig::default());
    // Out of order: 3 first, then 0, 1, 5, 2, 4.
    for g in [3u32, 0, 1, 5, 2, 4] {
        open_ok(&mut rx, 5, g, &sent[g as usize]).unwrap();
    }
}

#[test]
fn each_generation_opens_once() {
    let sent = sent_keys(4, 1, 3);
    let mut rx = tree(4, RatchetConfig::default());
    open_ok(&mut rx, 1, 2, &sent[2]).unwrap();
    assert_eq!(
        open_ok(&mut rx, 1, 2, &sent[2]),
        Err(Error::Stale(Stale::GenerationConsumed))
    );
    open_ok(&mut rx, 1, 0, &sent[0]).unwrap();
    assert_eq!(
        open_ok(&mut rx, 1, 0, &sent[0]),
        Err(Error::Stale(Stale::GenerationConsumed))
    );
}

#[test]
fn failed_open_leaves_the_tree_unchanged() {
    let sent = sent_keys(4, 2, 4);
    let mut rx = tree(4, RatchetConfig::default());
    let held = rx.held_node_secrets();
    // A forged message claiming generation 3 from a leaf never heard from.
    let r: Result<()> = rx.open_with(LeafIndex(2), RatchetKind::Application, 3, |_, _| {
        Err(Error::AuthenticationFailed)
    });
    assert_eq!(r, Err(Error::AuthenticationFailed));
    assert_eq!(rx.held_node_secrets(), held);
    // And from a leaf already known.
    open_ok(&mut rx, 2, 0, &sent[0]).unwrap();
    let r: Result<()> = rx.open_with(LeafIndex(2), RatchetKind::Application, 3, |_, _| {
        Err(Error::AuthenticationFailed)
    });
    assert_eq!(r, Err(Error::AuthenticationFailed));
    // Generation 1 is still the next one, not a skipped one, and 3 still opens.
    open_ok(&mut rx, 2, 1, &sent[1]).unwrap();
    open_ok(&mut rx, 2, 3, &sent[3]).unwrap();
    open_ok(&mut rx, 2, 2, &sent[2]).unwrap();
}

#[test]
fn forward_distance_and_tolerance_are_bounded() {
    let config = RatchetConfig {
        out_of_order_tolerance: 2,
        maximum_forward_distance: 10,
    };
    let sent = sent_keys(2, 0, 12);
    let mut rx = tree(2, config);
    let mut rx2 = tree(2, config);
    assert_eq!(
        open_ok(&mut rx, 0, 11, &sent[11]),
        Err(Error::Stale(Stale::GenerationTooFarAhead))
    );
    open_ok(&mut rx2, 0, 10, &sent[10]).unwrap();
    // Only the two most recent skipped generations (8, 9) were kept.
    assert_eq!(
        open_ok(&mut rx2, 0, 7, &sent[7]),
        Err(Error::Stale(Stale::GenerationConsumed))
    );
    open_ok(&mut rx2, 0, 8, &sent[8]).unwrap();
    open_ok(&mut rx2, 0, 9, &sent[9]).unwrap();
    open_ok(&mut rx, 0, 10, &sent[10]).unwrap();
}

#[test]
fn deletion_schedule_consumes_the_path() {
    let mut t = tree(8, RatchetConfig::default());
    assert_eq!(t.held_node_secrets(), 1);
    t.next_sending_key(LeafIndex(0), RatchetKind::Handshake)
        .unwrap();
    // Root 7, 3 and 1 and leaf 0 consumed; siblings 11, 5 and leaf node 2 held.
    assert_eq!(t.held_node_secrets(), 3);
    t.next_sending_key(LeafIndex(1), RatchetKind::Handshake)
        .unwrap();
    assert_eq!(t.held_node_secrets(), 2);
    assert_eq!(
        t.next_sending_key(LeafIndex(8), RatchetKind::Handshake)
            .map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::IndexOutOfRange))
    );
}

#[test]
fn handshake_and_application_ratchets_differ() {
    let mut t = tree(2, RatchetConfig::default());
    let (_, h, _) = t
        .next_sending_key(LeafIndex(1), RatchetKind::Handshake)
        .unwrap();
    let (_, a, _) = t
        .next_sending_key(LeafIndex(1), RatchetKind::Application)
        .unwrap();
    assert_ne!(h, a);
}
