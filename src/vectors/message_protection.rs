//! `vectors/mls/message-protection.json`: per suite, a GroupContext, a signing key pair, an
//! `encryption_secret` (a secret tree of 2 leaves, sender leaf 1), a `sender_data_secret`
//! and a `membership_key`; and a proposal, a commit and application data with their
//! PublicMessage (not for application data) and PrivateMessage forms.
//!
//! For each of the three: the vector messages unprotect (membership tag, AEADs), their
//! signatures verify with `signature_pub` and they carry the raw value; freshly protected
//! messages (signed with `signature_priv`) survive the wire encoding and unprotect the same
//! way; and application data cannot be protected as a PublicMessage.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::Decode;
use crate::crypto::{CipherSuite, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::error::{ApiMisuse, Error, Stale};
use crate::mls::framing::{
    protect_private, protect_public, sign_content, unprotect_private, unprotect_public,
    verify_content_signature,
};
use crate::mls::key_schedule::{EncryptionSecret, MembershipKey, SenderDataSecret};
use crate::mls::secret_tree::{RatchetConfig, SecretTree};
use crate::mls::tree::math::{LeafIndex, TreeSize};
use crate::mls::wire::{
    AuthenticatedContent, Commit, FramedContent, FramedContentBody, GroupContext, MlsMessage,
    MlsMessageBody, PrivateMessage, Proposal, ProtocolVersion, PublicMessage, Sender, WireFormat,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    group_id: String,
    epoch: u64,
    tree_hash: String,
    confirmed_transcript_hash: String,
    signature_priv: String,
    signature_pub: String,
    encryption_secret: String,
    sender_data_secret: String,
    membership_key: String,
    proposal: String,
    proposal_pub: String,
    proposal_priv: String,
    commit: String,
    commit_pub: String,
    commit_priv: String,
    application: String,
    application_priv: String,
}

/// One case's keys and context.
struct Epoch {
    suite: Suite,
    context: GroupContext,
    signer: SignaturePrivateKey,
    verifier: SignaturePublicKey,
    case: Case,
}

impl Epoch {
    fn new(suite: Suite, case: Case) -> Self {
        let h = common::hex;
        Self {
            suite,
            context: GroupContext {
                version: ProtocolVersion::MLS10,
                cipher_suite: CipherSuite(case.cipher_suite),
                group_id: h(&case.group_id),
                epoch: case.epoch,
                tree_hash: h(&case.tree_hash),
                confirmed_transcript_hash: h(&case.confirmed_transcript_hash),
                extensions: vec![],
            },
            signer: SignaturePrivateKey::from_seed(&h(&case.signature_priv)).unwrap(),
            verifier: SignaturePublicKey::from_bytes(&h(&case.signature_pub)).unwrap(),
            case,
        }
    }

    /// A fresh secret tree of 2 leaves (each use of the vectors starts from one).
    fn tree(&self) -> SecretTree {
        let root = EncryptionSecret::from_slice(&common::hex(&self.case.encryption_secret));
        SecretTree::new(
            self.suite,
            root.unwrap(),
            TreeSize::new(2).unwrap(),
            RatchetConfig::default(),
        )
    }

    fn membership_key(&self) -> MembershipKey {
        MembershipKey::from_slice(&common::hex(&self.case.membership_key)).unwrap()
    }

    fn sender_data_secret(&self) -> SenderDataSecret {
        SenderDataSecret::from_slice(&common::hex(&self.case.sender_data_secret)).unwrap()
    }

    /// Checks `auth` came from leaf 1, is signed by `signature_pub` and carries `body`.
    fn check(
        &self,
        auth: &AuthenticatedContent,
        wire_format: WireFormat,
        body: &FramedContentBody,
    ) {
        assert_eq!(auth.wire_format, wire_format);
        assert_eq!(auth.content.sender, Sender::Member(1));
        assert_eq!(&auth.content.body, body);
        verify_content_signature(&self.suite, &self.verifier, auth, &self.context).unwrap();
    }

    fn sign(&self, wire_format: WireFormat, body: &FramedContentBody) -> AuthenticatedContent {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(1),
            authenticated_data: b"meetkey".to_vec(),
            body: body.clone(),
        };
        sign_content(
            &self.suite,
            &self.signer,
            wire_format,
            content,
            &self.context,
        )
        .unwrap()
    }

    /// Unprotects the vector PublicMessage, then a fresh one; returns the vector's
    /// confirmation tag.
    fn public(&self, hex: &str, body: &FramedContentBody) -> Option<Vec<u8>> {
        let key = self.membership_key();
        let msg = public_message(&common::hex(hex));
        let auth = unprotect_public(&self.suite, &msg, Some(&key), &self.context).unwrap();
        self.check(&auth, WireFormat::MLS_PUBLIC_MESSAGE, body);

        let mut fresh = self.sign(WireFormat::MLS_PUBLIC_MESSAGE, body);
        fresh
            .auth
            .confirmation_tag
            .clone_from(&auth.auth.confirmation_tag);
        let sent = protect_public(&self.suite, fresh.clone(), Some(&key), &self.context).unwrap();
        let bytes = wrap(MlsMessageBody::PublicMessage(Box::new(sent)));
        let got = unprotect_public(
            &self.suite,
            &public_message(&bytes),
            Some(&key),
            &self.context,
        );
        assert_eq!(got.as_ref(), Ok(&fresh));
        self.check(&got.unwrap(), WireFormat::MLS_PUBLIC_MESSAGE, body);
        auth.auth.confirmation_tag
    }

    /// Unprotects the vector PrivateMessage (once: a replay is stale), then a fresh one.
    fn private(&self, hex: &str, body: &FramedContentBody, tag: Option<Vec<u8>>) {
        let sds = self.sender_data_secret();
        let msg = private_message(&common::hex(hex));
        let mut tree = self.tree();
        let (auth, sender_data) =
            unprotect_private(&self.suite, &msg, &mut tree, &sds, &self.context).unwrap();
        assert_eq!(sender_data.leaf_index, 1);
        self.check(&auth, WireFormat::MLS_PRIVATE_MESSAGE, body);
        let replay = unprotect_private(&self.suite, &msg, &mut tree, &sds, &self.context);
        assert_eq!(replay.unwrap_err(), Stale::GenerationConsumed.into());

        let mut fresh = self.sign(WireFormat::MLS_PRIVATE_MESSAGE, body);
        fresh.auth.confirmation_tag = tag.or(auth.auth.confirmation_tag);
        let mut rng = common::seeded_rng(u64::from(self.case.cipher_suite));
        let sent = protect_private(
            &self.suite,
            &fresh,
            &mut self.tree(),
            &sds,
            LeafIndex(1),
            16,
            &mut rng,
        )
        .unwrap();
        let bytes = wrap(MlsMessageBody::PrivateMessage(sent));
        let (got, _) = unprotect_private(
            &self.suite,
            &private_message(&bytes),
            &mut self.tree(),
            &sds,
            &self.context,
        )
        .unwrap();
        assert_eq!(got, fresh);
        self.check(&got, WireFormat::MLS_PRIVATE_MESSAGE, body);
    }

    /// Application data cannot be sent as a PublicMessage.
    fn application_is_not_public(&self, body: &FramedContentBody) {
        let auth = self.sign(WireFormat::MLS_PUBLIC_MESSAGE, body);
        let key = self.membership_key();
        assert_eq!(
            protect_public(&self.suite, auth, Some(&key), &self.context).unwrap_err(),
            Error::ApiMisuse(ApiMisuse::UnexpectedContentType)
        );
    }
}

fn wrap(body: MlsMessageBody) -> Vec<u8> {
    MlsMessage::new(body).to_bytes().unwrap()
}

fn public_message(bytes: &[u8]) -> PublicMessage {
    match MlsMessage::decode_exact(bytes).unwrap().body {
        MlsMessageBody::PublicMessage(m) => *m,
        other => panic!("expected a PublicMessage, got {other:?}"),
    }
}

fn private_message(bytes: &[u8]) -> PrivateMessage {
    match MlsMessage::decode_exact(bytes).unwrap().body {
        MlsMessageBody::PrivateMessage(m) => m,
        other => panic!("expected a PrivateMessage, got {other:?}"),
    }
}

#[test]
fn message_protection_vectors() {
    let cases: Vec<Case> = common::load("mls/message-protection.json");
    let mut tally = common::Tally::new("mls/message-protection.json");
    let mut messages = 0;
    for case in cases {
        let Ok(suite) = CipherSuite(case.cipher_suite).suite() else {
            tally.skipped(case.cipher_suite);
            continue;
        };
        let h = common::hex;
        let e = Epoch::new(suite, case);
        let c = &e.case;

        let proposal =
            FramedContentBody::Proposal(Proposal::decode_exact(&h(&c.proposal)).unwrap());
        e.public(&c.proposal_pub, &proposal);
        e.private(&c.proposal_priv, &proposal, None);

        let commit =
            FramedContentBody::Commit(Box::new(Commit::decode_exact(&h(&c.commit)).unwrap()));
        let tag = e.public(&c.commit_pub, &commit);
        assert!(tag.is_some());
        e.private(&c.commit_priv, &commit, tag);

        let application = FramedContentBody::Application(h(&c.application));
        e.application_is_not_public(&application);
        e.private(&c.application_priv, &application, None);

        messages += 5;
        tally.ran(e.case.cipher_suite);
    }
    println!("message-protection: {messages} vector messages unprotected, as many fresh ones round-tripped");
    tally.finish();
}
