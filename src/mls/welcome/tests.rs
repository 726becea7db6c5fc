//! Tests of the Welcome cryptography: a full round trip, then each check failing.

use super::*;
use crate::crypto::{sha256, CipherSuite, Secret};
use crate::error::{Error, InvalidMessage};
use crate::mls::key_schedule::PskSecret;
use crate::mls::tree::testing::{member, rng, suite};
use crate::mls::wire::{
    EncryptedGroupSecrets, Extension, ExtensionType, GroupContext, PathSecret, PreSharedKeyId,
    ProtocolVersion, Psk,
};

fn key_package(init_key: &HpkePublicKey) -> KeyPackage {
    let (m, _) = member(&suite(), 1, &mut rng(1));
    KeyPackage {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite().id(),
        init_key: init_key.as_bytes().to_vec(),
        leaf_node: m.leaf,
        extensions: vec![],
        signature: vec![1; 64],
    }
}

fn init_keys(seed: u8) -> (HpkePrivateKey, HpkePublicKey) {
    suite()
        .derive_key_pair(&Secret::from_slice(&[seed; 32]).unwrap())
        .unwrap()
}

fn group_secrets() -> GroupSecrets {
    GroupSecrets {
        joiner_secret: Secret::from_slice(&[11; 32]).unwrap(),
        path_secret: Some(PathSecret {
            path_secret: Secret::from_slice(&[12; 32]).unwrap(),
        }),
        psks: vec![PreSharedKeyId {
            psk: Psk::External {
                psk_id: b"meeting psk".to_vec(),
            },
            psk_nonce: vec![13; 32],
        }],
    }
}

fn group_info() -> GroupInfo {
    GroupInfo {
        group_context: GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite().id(),
            group_id: b"meeting".to_vec(),
            epoch: 3,
            tree_hash: vec![1; 32],
            confirmed_transcript_hash: vec![2; 32],
            extensions: vec![],
        },
        extensions: vec![Extension {
            extension_type: ExtensionType(0xf00d),
            extension_data: vec![],
        }],
        confirmation_tag: vec![3; 32],
        signer: 0,
        signature: vec![],
    }
}

fn welcome_secret(secrets: &GroupSecrets) -> WelcomeSecret {
    let zero = PskSecret::zero(&suite()).unwrap();
    joiner_secret(secrets)
        .intermediate(&suite(), &zero)
        .welcome_secret(&suite())
        .unwrap()
}

/// A Welcome for our KeyPackage (second entry) and another member's (first entry).
fn welcome(our_init: &HpkePublicKey, our_ref: &[u8]) -> Welcome {
    let committer = SignaturePrivateKey::from_seed(&[20; 32]).unwrap();
    let signed = sign_group_info(&suite(), &committer, group_info()).unwrap();
    let encrypted_group_info =
        encrypt_group_info(&suite(), &welcome_secret(&group_secrets()), &signed).unwrap();
    let mut r = rng(2);
    let (_, other_init) = init_keys(30);
    let secrets = [(other_init, vec![0xee; 32]), (*our_init, our_ref.to_vec())]
        .into_iter()
        .map(|(key, new_member)| EncryptedGroupSecrets {
            new_member,
            encrypted_group_secrets: encrypt_group_secrets(
                &group_secrets_sealer(&suite(), &encrypted_group_info).unwrap(),
                &key,
                &group_secrets(),
                &mut r,
            )
            .unwrap(),
        })
        .collect();
    Welcome {
        cipher_suite: suite().id(),
        secrets,
        encrypted_group_info,
    }
}

#[test]
fn a_welcome_round_trips_to_the_joiner() {
    let (init_priv, init_pub) = init_keys(1);
    let our_ref = key_package_ref(&suite(), &key_package(&init_pub)).unwrap();
    let welcome = welcome(&init_pub, &our_ref);
    let secrets = decrypt_group_secrets(&suite(), &init_priv, &welcome, &our_ref).unwrap();
    assert_eq!(secrets, group_secrets());
    assert_eq!(joiner_secret(&secrets), joiner_secret(&group_secrets()));
    let info = decrypt_group_info(
        &suite(),
        &welcome_secret(&secrets),
        &welcome.encrypted_group_info,
    )
    .unwrap();
    let committer = SignaturePrivateKey::from_seed(&[20; 32])
        .unwrap()
        .public_key();
    verify_group_info_signature(&suite(), &committer, &info).unwrap();
    let mut unsigned = info;
    unsigned.signature.clear();
    assert_eq!(unsigned, group_info());
}

#[test]
fn a_welcome_without_our_key_package_ref_is_not_for_us() {
    let (init_priv, init_pub) = init_keys(1);
    let our_ref = key_package_ref(&suite(), &key_package(&init_pub)).unwrap();
    let mut welcome = welcome(&init_pub, &our_ref);
    welcome.secrets.pop();
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &welcome, &our_ref),
        Err(PeerMisbehaved::NoGroupSecretsForUs.into())
    );
    welcome.secrets.clear();
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &welcome, &our_ref),
        Err(PeerMisbehaved::NoGroupSecretsForUs.into())
    );
}

#[test]
fn group_secrets_open_only_with_our_key_and_the_same_group_info() {
    let (init_priv, init_pub) = init_keys(1);
    let our_ref = key_package_ref(&suite(), &key_package(&init_pub)).unwrap();
    let welcome = welcome(&init_pub, &our_ref);
    let (other_priv, _) = init_keys(2);
    assert_eq!(
        decrypt_group_secrets(&suite(), &other_priv, &welcome, &our_ref),
        Err(Error::AuthenticationFailed)
    );
    // The encrypted GroupInfo is the HPKE context of the group secrets.
    let mut moved = welcome.clone();
    moved.encrypted_group_info[0] ^= 1;
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &moved, &our_ref),
        Err(Error::AuthenticationFailed)
    );
    let mut bad = welcome.clone();
    bad.secrets[1].encrypted_group_secrets.ciphertext[0] ^= 1;
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &bad, &our_ref),
        Err(Error::AuthenticationFailed)
    );
    let mut bad = welcome.clone();
    bad.secrets[1].encrypted_group_secrets.kem_output.pop();
    assert!(decrypt_group_secrets(&suite(), &init_priv, &bad, &our_ref)
        .is_err_and(|e| e == Error::InvalidMessage(InvalidMessage::InvalidKey)));
    let mut other_suite = welcome.clone();
    other_suite.cipher_suite = CipherSuite(3);
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &other_suite, &our_ref),
        Err(PeerMisbehaved::CipherSuiteMismatch.into())
    );
    // A plaintext that is not exactly a GroupSecrets is malformed.
    let mut r = rng(3);
    let junk = suite()
        .encrypt_with_label(
            &init_pub,
            b"Welcome",
            &welcome.encrypted_group_info,
            &[1, 2],
            &mut r,
        )
        .unwrap();
    let mut bad = welcome;
    bad.secrets[1].encrypted_group_secrets = HpkeCiphertext {
        kem_output: junk.kem_output,
        ciphertext: junk.ciphertext,
    };
    assert_eq!(
        decrypt_group_secrets(&suite(), &init_priv, &bad, &our_ref),
        Err(InvalidMessage::Truncated.into())
    );
}

#[test]
fn the_group_info_opens_only_with_the_welcome_key() {
    let (_, init_pub) = init_keys(1);
    let welcome = welcome(&init_pub, &[1; 32]);
    let right = welcome_secret(&group_secrets());
    assert!(decrypt_group_info(&suite(), &right, &welcome.encrypted_group_info).is_ok());
    // Another joiner secret, or the same one with a PSK mixed in, gives another key.
    let mut other = group_secrets();
    other.joiner_secret = Secret::from_slice(&[99; 32]).unwrap();
    assert_eq!(
        decrypt_group_info(
            &suite(),
            &welcome_secret(&other),
            &welcome.encrypted_group_info
        ),
        Err(Error::AuthenticationFailed)
    );
    let psk = PskSecret::from_slice(&[1; 32]).unwrap();
    let with_psk = joiner_secret(&group_secrets())
        .intermediate(&suite(), &psk)
        .welcome_secret(&suite())
        .unwrap();
    assert_eq!(
        decrypt_group_info(&suite(), &with_psk, &welcome.encrypted_group_info),
        Err(Error::AuthenticationFailed)
    );
    let mut tampered = welcome.encrypted_group_info;
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(
        decrypt_group_info(&suite(), &right, &tampered),
        Err(Error::AuthenticationFailed)
    );
    // A GroupInfo of another suite is refused even when it decrypts.
    let mut foreign = group_info();
    foreign.group_context.cipher_suite = CipherSuite(3);
    let sealed = encrypt_group_info(&suite(), &right, &foreign).unwrap();
    assert_eq!(
        decrypt_group_info(&suite(), &right, &sealed),
        Err(PeerMisbehaved::CipherSuiteMismatch.into())
    );
}

#[test]
fn a_tampered_group_info_signature_fails() {
    let signer = SignaturePrivateKey::from_seed(&[20; 32]).unwrap();
    let key = signer.public_key();
    let info = sign_group_info(&suite(), &signer, group_info()).unwrap();
    verify_group_info_signature(&suite(), &key, &info).unwrap();
    let mut bad = info.clone();
    bad.signature[10] ^= 1;
    assert_eq!(
        verify_group_info_signature(&suite(), &key, &bad),
        Err(Error::AuthenticationFailed)
    );
    let mut bad = info.clone();
    bad.signer = 1;
    assert_eq!(
        verify_group_info_signature(&suite(), &key, &bad),
        Err(Error::AuthenticationFailed)
    );
    let mut bad = info.clone();
    bad.confirmation_tag[0] ^= 1;
    assert_eq!(
        verify_group_info_signature(&suite(), &key, &bad),
        Err(Error::AuthenticationFailed)
    );
    let other = SignaturePrivateKey::from_seed(&[21; 32])
        .unwrap()
        .public_key();
    assert_eq!(
        verify_group_info_signature(&suite(), &other, &info),
        Err(Error::AuthenticationFailed)
    );
    // The label is "GroupInfoTBS": the same bytes signed under another label do not verify.
    let mut relabeled = info;
    relabeled.signature = signer
        .sign_with_label(b"FramedContentTBS", &relabeled.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    assert_eq!(
        verify_group_info_signature(&suite(), &key, &relabeled),
        Err(Error::AuthenticationFailed)
    );
}

#[test]
fn key_package_ref_is_the_ref_hash_of_the_key_package() {
    let (_, init_pub) = init_keys(1);
    let kp = key_package(&init_pub);
    let value = kp.to_bytes().unwrap();
    let label = b"MLS 1.0 KeyPackage Reference";
    // RefHashInput { opaque label<V>; opaque value<V>; }, built by hand.
    let mut input = vec![u8::try_from(label.len()).unwrap()];
    input.extend_from_slice(label);
    let len = u16::try_from(value.len()).unwrap();
    assert!((64..16384).contains(&len));
    input.extend_from_slice(&(len | 0x4000).to_be_bytes());
    input.extend_from_slice(&value);
    assert_eq!(
        key_package_ref(&suite(), &kp).unwrap(),
        sha256(&input).as_bytes()
    );
    let mut changed = kp.clone();
    changed.signature[0] ^= 1;
    assert_ne!(
        key_package_ref(&suite(), &changed).unwrap(),
        key_package_ref(&suite(), &kp).unwrap()
    );
    let mut foreign = kp;
    foreign.cipher_suite = CipherSuite(3);
    assert_eq!(
        key_package_ref(&suite(), &foreign),
        Err(PeerMisbehaved::CipherSuiteMismatch.into())
    );
}
