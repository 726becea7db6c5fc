//! SFrame per-frame cost (RFC 9605) beside the raw AEAD of the chosen backend, in one run.
//!
//! One group per suite; for each size the benchmarks run back to back, so a ratio compares
//! numbers taken moments apart on this shared machine:
//! - `raw_seal_ring/<size>` (AES-GCM suite only): ring's `seal_in_place_separate_tag` on the
//!   same payload with a key expanded once and a 5-byte AAD: the floor for the AES-GCM suite.
//! - `raw_open_ring/<size>` (AES-GCM suite only): ring's `open_in_place_separate_tag` of
//!   that payload (the floor for decryption; the sealed copy is made in the untimed setup).
//! - `encrypt/<size>`: `Encryptor::encrypt` (header, copy of the payload, seal, tag) into a
//!   caller buffer.
//! - `encrypt_in_place/<size>`: `Encryptor::encrypt_in_place`, payload already in the buffer.
//! - `decrypt/<size>`: `Decryptor::decrypt` (replay window on) from the frame into a second
//!   buffer; frames are produced in the untimed batch setup.
//! - `decrypt_in_place/<size>`: `Decryptor::decrypt_in_place`.
//!
//! Sizes: 100 B (audio), 1 200 B (video packet), 50 000 B (video key frame).
//! `cargo bench --bench sframe -- --warm-up-time 1 --measurement-time 3`

// Bench/test support: setup failures should fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::sframe::{BaseKey, Decryptor, Encryptor, SframeSuite};
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const KID: u64 = 0x123;
const SUITES: [(&str, SframeSuite); 2] = [
    (
        "AES_128_GCM_SHA256_128",
        SframeSuite::AES_128_GCM_SHA256_128,
    ),
    (
        "AES_128_CTR_HMAC_SHA256_80",
        SframeSuite::AES_128_CTR_HMAC_SHA256_80,
    ),
];

fn base_key(suite: SframeSuite) -> BaseKey {
    let len = suite.base_key_len().unwrap();
    BaseKey::from_bytes(&vec![0x42; len]).unwrap()
}

fn raw_seal(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, size: usize) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &[0x42; 16]).unwrap());
    let header = [0x99u8, 0x01, 0x23, 0x45, 0x67];
    let mut buf = vec![0xabu8; size];
    let mut ctr = 0u64;
    c.bench_with_input(BenchmarkId::new("raw_seal_ring", size), &size, |b, _| {
        b.iter(|| {
            ctr += 1;
            let mut nonce = [0x11u8; 12];
            for (n, c) in nonce.iter_mut().skip(4).zip(ctr.to_be_bytes()) {
                *n ^= c;
            }
            key.seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&header),
                black_box(&mut buf),
            )
            .unwrap()
        });
    });
}

fn raw_open(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, size: usize) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &[0x42; 16]).unwrap());
    let header = [0x99u8, 0x01, 0x23, 0x45, 0x67];
    let mut sealed = vec![0xabu8; size];
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([0x11; 12]),
            Aad::from(&header),
            &mut sealed,
        )
        .unwrap();
    c.bench_with_input(BenchmarkId::new("raw_open_ring", size), &size, |b, _| {
        b.iter_batched_ref(
            || sealed.clone(),
            |buf| {
                key.open_in_place_separate_tag(
                    Nonce::assume_unique_for_key([0x11; 12]),
                    Aad::from(&header),
                    tag,
                    buf,
                    0..,
                )
                .unwrap()
                .len()
            },
            BatchSize::SmallInput,
        );
    });
}

fn sframe(c: &mut Criterion) {
    for (name, suite) in SUITES {
        let mut g = c.benchmark_group(format!("sframe/{name}"));
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            if suite == SframeSuite::AES_128_GCM_SHA256_128 {
                raw_seal(&mut g, size);
                raw_open(&mut g, size);
            }
            let key = base_key(suite);
            let pt = vec![0xabu8; size];
            let mut out = vec![0u8; size + 64];

            let mut enc = Encryptor::new(suite, KID, &key).unwrap();
            g.bench_with_input(BenchmarkId::new("encrypt", size), &size, |b, _| {
                b.iter(|| enc.encrypt(&[], black_box(&pt), &mut out).unwrap());
            });
            let mut enc = Encryptor::new(suite, KID, &key).unwrap();
            g.bench_with_input(BenchmarkId::new("encrypt_in_place", size), &size, |b, _| {
                b.iter(|| {
                    enc.encrypt_in_place(&[], black_box(&mut out), size)
                        .unwrap()
                });
            });

            let mut enc = Encryptor::new(suite, KID, &key).unwrap();
            let mut dec = Decryptor::new(suite).unwrap();
            dec.add_key(KID, &key).unwrap();
            let mut next_frame = || {
                let mut frame = vec![0u8; size + 64];
                let n = enc.encrypt(&[], &pt, &mut frame).unwrap();
                frame.truncate(n);
                frame
            };
            g.bench_with_input(BenchmarkId::new("decrypt", size), &size, |b, _| {
                b.iter_batched_ref(
                    &mut next_frame,
                    |frame| dec.decrypt(&[], frame, &mut out).unwrap(),
                    BatchSize::SmallInput,
                );
            });
            g.bench_with_input(BenchmarkId::new("decrypt_in_place", size), &size, |b, _| {
                b.iter_batched_ref(
                    &mut next_frame,
                    |frame| dec.decrypt_in_place(&[], frame).unwrap(),
                    BatchSize::SmallInput,
                );
            });
        }
        g.finish();
    }
}

criterion_group!(benches, sframe);
criterion_main!(benches);
