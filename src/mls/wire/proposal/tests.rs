use super::*;
use crate::mls::wire::key_package::tests::sample as sample_key_package;
use crate::mls::wire::leaf_node::tests::sample as sample_leaf;
use crate::mls::wire::testing::check_round_trip;
use crate::mls::wire::{ExtensionType, LeafNodeSource, Psk};

pub(crate) fn every_proposal() -> Vec<Proposal> {
    vec![
        Proposal::Add(Box::new(Add {
            key_package: sample_key_package(),
        })),
        Proposal::Update(Box::new(Update {
            leaf_node: sample_leaf(LeafNodeSource::Update),
        })),
        Proposal::Remove(Remove { removed: 0xdead }),
        Proposal::PreSharedKey(Box::new(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::External { psk_id: vec![1] },
                psk_nonce: vec![2; 32],
            },
        })),
        Proposal::ReInit(Box::new(ReInit {
            group_id: b"next".to_vec(),
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite(3),
            extensions: vec![],
        })),
        Proposal::ExternalInit(ExternalInit {
            kem_output: vec![3; 32],
        }),
        Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: vec![Extension {
                extension_type: ExtensionType(0xf00d),
                extension_data: vec![4, 5],
            }],
        }),
    ]
}

#[test]
fn every_proposal_type_round_trips_and_every_truncation_fails() {
    for p in every_proposal() {
        let bytes = check_round_trip(&p);
        assert_eq!(bytes[..2], p.proposal_type().0.to_be_bytes());
        check_round_trip(&ProposalOrRef::Proposal(p));
    }
    check_round_trip(&ProposalOrRef::Reference(vec![9; 32]));
}

#[test]
fn bodies_decode_on_their_own() {
    check_round_trip(&Remove { removed: 7 });
    check_round_trip(&GroupContextExtensions { extensions: vec![] });
    assert_eq!(
        Remove::decode_exact(&[0, 0, 0, 7]),
        Ok(Remove { removed: 7 })
    );
}

#[test]
fn reserved_and_unknown_proposal_types_are_rejected() {
    assert_eq!(
        Proposal::decode_exact(&[0, 0, 0, 0, 0, 1]),
        Err(InvalidMessage::InvalidValue.into())
    );
    assert_eq!(
        Proposal::decode_exact(&[0x0a, 0x0a, 0]),
        Err(Unsupported::ProposalType(0x0a0a).into())
    );
    assert_eq!(
        Proposal::decode_exact(&[0, 8]),
        Err(Unsupported::ProposalType(8).into())
    );
}

#[test]
fn reserved_and_unknown_proposal_or_ref_types_are_rejected() {
    for t in [0, 3, 255] {
        assert_eq!(
            ProposalOrRef::decode_exact(&[t, 0]),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
}

#[test]
fn reinit_rejects_reserved_version_and_suite() {
    // group_id "", version, cipher_suite, extensions.
    assert!(ReInit::decode_exact(&[0, 0, 1, 0, 1, 0]).is_ok());
    assert_eq!(
        ReInit::decode_exact(&[0, 0, 0, 0, 1, 0]),
        Err(InvalidMessage::InvalidValue.into())
    );
    assert_eq!(
        ReInit::decode_exact(&[0, 0, 1, 0, 0, 0]),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn a_proposal_list_costs_bounded_memory() {
    // The smallest ProposalOrRef is 2 bytes; keep its in-memory size within 20x of that.
    assert!(size_of::<ProposalOrRef>() <= 40);
}
