//! Per-message costs of RFC 9420 §6 framing, without the group around it: protecting and
//! unprotecting application data as PrivateMessages of 100 B, 1.2 kB and 64 kB (each
//! including one ratchet step), a proposal as a PublicMessage (membership tag), and the
//! content signature that every message carries (Ed25519 sign and verify).
//!
//! Run: `cargo bench --bench framing`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::crypto::{CipherSuite, SignaturePrivateKey, Suite};
use crate::mls::framing::{
    protect_private, protect_public, sign_content, unprotect_private, unprotect_public,
    verify_content_signature,
};
use crate::mls::key_schedule::{EncryptionSecret, MembershipKey, SenderDataSecret};
use crate::mls::secret_tree::{RatchetConfig, SecretTree};
use crate::mls::tree::math::{LeafIndex, TreeSize};
use crate::mls::wire::{
    AuthenticatedContent, FramedContent, FramedContentBody, GroupContext, Proposal,
    ProtocolVersion, Remove, Sender, WireFormat,
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use rand_core::SeedableRng;

fn context(suite: &Suite) -> GroupContext {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        group_id: b"bench meeting".to_vec(),
        epoch: 7,
        tree_hash: vec![1; 32],
        confirmed_transcript_hash: vec![2; 32],
        extensions: vec![],
    }
}

fn tree(suite: Suite) -> SecretTree {
    let root = EncryptionSecret::from_slice(&[5; 32]).unwrap();
    SecretTree::new(
        suite,
        root,
        TreeSize::new(64).unwrap(),
        RatchetConfig::default(),
    )
}

fn signed(suite: &Suite, wire_format: WireFormat, body: FramedContentBody) -> AuthenticatedContent {
    let ctx = context(suite);
    let content = FramedContent {
        group_id: ctx.group_id.clone(),
        epoch: ctx.epoch,
        sender: Sender::Member(3),
        authenticated_data: vec![],
        body,
    };
    let signer = SignaturePrivateKey::from_seed(&[7; 32]).unwrap();
    sign_content(suite, &signer, wire_format, content, &ctx).unwrap()
}

/// PrivateMessage protect / unprotect.
pub fn private(c: &mut Criterion) {
    let mut group = c.benchmark_group("framing/private_application");
    for cs in [1u16, 3] {
        let suite = CipherSuite(cs).suite().unwrap();
        let ctx = context(&suite);
        let sds = SenderDataSecret::from_slice(&[4; 32]).unwrap();
        for size in [100usize, 1200, 64 * 1024] {
            let body = FramedContentBody::Application(vec![0xa5; size]);
            let auth = signed(&suite, WireFormat::MLS_PRIVATE_MESSAGE, body);
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
            group.throughput(Throughput::Bytes(size as u64));
            let id = |op: &str| BenchmarkId::new(format!("{op}/suite{cs}"), size);

            let mut sender = tree(suite);
            group.bench_function(id("protect"), |b| {
                b.iter(|| {
                    protect_private(&suite, &auth, &mut sender, &sds, LeafIndex(3), 0, &mut rng)
                        .unwrap()
                });
            });

            // Messages in generation order, made outside the timing; each opens once.
            let (mut sender, mut receiver) = (tree(suite), tree(suite));
            group.bench_function(id("unprotect"), |b| {
                b.iter_batched(
                    || {
                        protect_private(&suite, &auth, &mut sender, &sds, LeafIndex(3), 0, &mut rng)
                            .unwrap()
                    },
                    |msg| unprotect_private(&suite, &msg, &mut receiver, &sds, &ctx).unwrap(),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

/// PublicMessage protect / unprotect and the content signature.
pub fn public_and_signature(c: &mut Criterion) {
    let suite = CipherSuite(1).suite().unwrap();
    let ctx = context(&suite);
    let key = MembershipKey::from_slice(&[3; 32]).unwrap();
    let body = FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 5 }));
    let auth = signed(&suite, WireFormat::MLS_PUBLIC_MESSAGE, body);
    let msg = protect_public(&suite, auth.clone(), Some(&key), &ctx).unwrap();

    let mut group = c.benchmark_group("framing/public_proposal");
    group.bench_function("protect/suite1", |b| {
        b.iter_batched(
            || auth.clone(),
            |auth| protect_public(&suite, auth, Some(&key), &ctx).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("unprotect/suite1", |b| {
        b.iter(|| unprotect_public(&suite, &msg, Some(&key), &ctx).unwrap());
    });
    group.finish();

    let signer = SignaturePrivateKey::from_seed(&[7; 32]).unwrap();
    let verifier = signer.public_key();
    let content = auth.content.clone();
    let mut group = c.benchmark_group("framing/content_signature");
    group.bench_function("sign/suite1", |b| {
        b.iter_batched(
            || content.clone(),
            |content| {
                sign_content(
                    &suite,
                    &signer,
                    WireFormat::MLS_PUBLIC_MESSAGE,
                    content,
                    &ctx,
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("verify/suite1", |b| {
        b.iter(|| verify_content_signature(&suite, &verifier, &auth, &ctx).unwrap());
    });
    group.finish();
}
