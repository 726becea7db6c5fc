use super::*;
use crate::mls::wire::framing::tests::group_context;
use crate::mls::wire::testing::{check_bytes, check_round_trip};
use crate::mls::wire::{ExtensionType, Psk, ResumptionPskUsage};

fn group_secrets(path: bool) -> GroupSecrets {
    GroupSecrets {
        joiner_secret: Secret::from_slice(&[1; 32]).unwrap(),
        path_secret: path.then(|| PathSecret {
            path_secret: Secret::from_slice(&[2; 32]).unwrap(),
        }),
        psks: vec![PreSharedKeyId {
            psk: Psk::Resumption {
                usage: ResumptionPskUsage::Application,
                psk_group_id: b"g".to_vec(),
                psk_epoch: 3,
            },
            psk_nonce: vec![4; 32],
        }],
    }
}

pub(crate) fn group_info() -> GroupInfo {
    GroupInfo {
        group_context: group_context(),
        extensions: vec![Extension {
            extension_type: ExtensionType::RATCHET_TREE,
            extension_data: vec![1, 2, 3],
        }],
        confirmation_tag: vec![5; 32],
        signer: 2,
        signature: vec![6; 60],
    }
}

pub(crate) fn welcome() -> Welcome {
    Welcome {
        cipher_suite: CipherSuite(3),
        secrets: vec![EncryptedGroupSecrets {
            new_member: vec![7; 32],
            encrypted_group_secrets: HpkeCiphertext {
                kem_output: vec![8; 32],
                ciphertext: vec![9; 90],
            },
        }],
        encrypted_group_info: vec![10; 200],
    }
}

#[test]
fn group_secrets_round_trip_and_every_truncation_fails() {
    for path in [false, true] {
        let gs = group_secrets(path);
        let bytes = gs.to_bytes().unwrap();
        check_bytes::<GroupSecrets>(&bytes);
        assert_eq!(GroupSecrets::decode_exact(&bytes).unwrap(), gs);
    }
}

#[test]
fn group_secrets_reject_bad_presence_and_oversized_secrets() {
    let mut bytes = group_secrets(false).to_bytes().unwrap();
    assert_eq!(bytes[33], 0);
    bytes[33] = 2;
    assert_eq!(
        GroupSecrets::decode_exact(&bytes),
        Err(InvalidMessage::InvalidOptionalPresence.into())
    );
    // A 65-byte joiner secret is longer than any KDF.Nh.
    let mut long = vec![0x40, 65];
    long.extend([0; 65]);
    long.extend([0, 0]);
    assert_eq!(
        GroupSecrets::decode_exact(&long),
        Err(InvalidMessage::LengthTooLarge.into())
    );
    // Debug never shows the secret bytes.
    assert!(!format!("{:?}", group_secrets(true)).contains("1, 1"));
}

#[test]
fn welcome_and_group_info_round_trip_and_every_truncation_fails() {
    check_round_trip(&welcome());
    check_round_trip(&group_info());
    check_round_trip(&Welcome {
        cipher_suite: CipherSuite(1),
        secrets: vec![],
        encrypted_group_info: vec![],
    });
}

#[test]
fn welcome_rejects_the_reserved_cipher_suite() {
    assert!(Welcome::decode_exact(&[0, 1, 0, 0]).is_ok());
    assert_eq!(
        Welcome::decode_exact(&[0, 0, 0, 0]),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn group_info_tbs_is_the_encoding_without_the_signature() {
    let gi = group_info();
    let full = gi.to_bytes().unwrap();
    assert_eq!(gi.to_be_signed().unwrap(), &full[..full.len() - 61]);
}
