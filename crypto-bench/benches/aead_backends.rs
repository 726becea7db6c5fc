//! AES-128-GCM seal of the SFrame payload sizes with each candidate backend, in one run:
//! ring, RustCrypto `aes-gcm` and (with `--features aws-lc`) aws-lc-rs. Keys are expanded
//! once outside the timing, as `meetkey::crypto::SframeCipher` does per KID; each iteration
//! seals in place with a fresh nonce and a 5-byte AAD (an SFrame header).
//!
//! `cargo bench -p meetkey-crypto-bench --features aws-lc -- --warm-up-time 1 --measurement-time 3`

// Bench/test support: setup failures should fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const KEY: [u8; 16] = [7; 16];
const AAD: [u8; 5] = [0x99, 0x01, 0x23, 0x45, 0x67];

fn nonce(i: u64) -> [u8; 12] {
    let mut n = [0x11; 12];
    for (b, c) in n.iter_mut().skip(4).zip(i.to_be_bytes()) {
        *b ^= c;
    }
    n
}

fn seal(c: &mut Criterion) {
    let mut g = c.benchmark_group("aes128gcm_seal");
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0xabu8; size];

        let ring_key = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &KEY).unwrap(),
        );
        let mut i = 0u64;
        g.bench_with_input(BenchmarkId::new("ring", size), &size, |b, _| {
            b.iter(|| {
                i += 1;
                ring_key
                    .seal_in_place_separate_tag(
                        ring::aead::Nonce::assume_unique_for_key(nonce(i)),
                        ring::aead::Aad::from(&AAD),
                        black_box(&mut buf),
                    )
                    .unwrap()
            });
        });

        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead as lc;
            let lc_key = lc::LessSafeKey::new(lc::UnboundKey::new(&lc::AES_128_GCM, &KEY).unwrap());
            let mut i = 0u64;
            g.bench_with_input(BenchmarkId::new("aws-lc-rs", size), &size, |b, _| {
                b.iter(|| {
                    i += 1;
                    lc_key
                        .seal_in_place_separate_tag(
                            lc::Nonce::assume_unique_for_key(nonce(i)),
                            lc::Aad::from(&AAD),
                            black_box(&mut buf),
                        )
                        .unwrap()
                });
            });
        }

        {
            use aes_gcm::aead::{AeadInPlace, KeyInit};
            let rc_key = aes_gcm::Aes128Gcm::new_from_slice(&KEY).unwrap();
            let mut i = 0u64;
            g.bench_with_input(BenchmarkId::new("aes-gcm", size), &size, |b, _| {
                b.iter(|| {
                    i += 1;
                    rc_key
                        .encrypt_in_place_detached(&nonce(i).into(), &AAD, black_box(&mut buf))
                        .unwrap()
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
