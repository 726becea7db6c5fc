//! The meeting API's costs a client pays: a media frame through `Meeting` (SFrame under the
//! meeting's current epoch key, into caller buffers), and a rotation (self-update commit,
//! confirmed, processed by every other participant) by meeting size.
//!
//! - `frame_encrypt/<size>`, `frame_decrypt/<size>`: 100 B (audio) and 1 200 B (video packet).
//! - `rotation/<participants>`: Alice's `rotate` + her confirmation + `process` at everyone
//!   else, for 4, 12 and 32 participants (the work the example's rotation timings show).
//!
//! `cargo bench --bench meeting -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::meeting::{MediaStream, Meeting, MeetingConfig};
use meetkey::mls::Lifetime;
use meetkey::routing::Policy;
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

fn meeting(n: usize, rng: &mut ChaCha20Rng) -> Vec<Meeting> {
    let suite = CipherSuite(1);
    let lifetime = Lifetime::starting_at(NOW, KP_LIFETIME);
    let kp = |i: usize, rng: &mut ChaCha20Rng| {
        let signer = SignaturePrivateKey::generate(rng);
        Meeting::key_package(suite, format!("p{i}").as_bytes(), signer, lifetime, rng).unwrap()
    };
    let policy = Policy::new("eu-west").unwrap();
    let first = kp(0, rng);
    let mut alice =
        Meeting::create(MeetingConfig::default(), first, b"bench", &policy, rng).unwrap();
    let bundles: Vec<_> = (1..n).map(|i| kp(i, rng)).collect();
    let kps: Vec<_> = bundles.iter().map(|b| b.key_package.clone()).collect();
    alice.add(&kps, NOW, rng).unwrap();
    alice.confirm_pending().unwrap();
    let welcome = alice.take_welcome().unwrap();
    let mut all = vec![alice];
    for b in bundles {
        all.push(Meeting::join_welcome(MeetingConfig::default(), &welcome, b).unwrap());
    }
    all
}

fn frames(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut ms = meeting(2, &mut rng);
    let (first, rest) = ms.split_at_mut(1);
    let (alice, bob) = (&mut first[0], &mut rest[0]);
    let mut g = c.benchmark_group("meeting_frames");
    for size in [100usize, 1_200] {
        let payload = vec![0xabu8; size];
        let mut out = vec![0u8; size + 64];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("frame_encrypt", size), &size, |b, _| {
            b.iter(|| {
                black_box(alice.encrypt_frame(
                    MediaStream::AUDIO,
                    b"rtp",
                    black_box(&payload),
                    &mut out,
                ))
                .unwrap()
            });
        });
        let mut plain = vec![0u8; size + 64];
        g.bench_with_input(BenchmarkId::new("frame_decrypt", size), &size, |b, _| {
            b.iter_batched(
                || {
                    let mut f = vec![0u8; size + 64];
                    let n = alice
                        .encrypt_frame(MediaStream::AUDIO, b"rtp", &payload, &mut f)
                        .unwrap();
                    f.truncate(n);
                    f
                },
                |f| black_box(bob.decrypt_frame(b"rtp", &f, &mut plain, NOW)).unwrap(),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn rotation(c: &mut Criterion) {
    let mut g = c.benchmark_group("meeting_rotation");
    g.sample_size(10);
    for n in [4usize, 12, 32] {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut ms = meeting(n, &mut rng);
        g.bench_with_input(BenchmarkId::new("rotation", n), &n, |b, _| {
            b.iter(|| {
                let out = ms[0].rotate(NOW, &mut rng).unwrap();
                ms[0].confirm_pending().unwrap();
                for m in ms.iter_mut().skip(1) {
                    m.process(&out.commit).unwrap();
                }
                for m in &mut ms {
                    m.drain_events();
                }
            });
        });
    }
    g.finish();
}

criterion_group!(benches, frames, rotation);
criterion_main!(benches);
