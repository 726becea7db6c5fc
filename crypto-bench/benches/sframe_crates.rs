//! meetkey's SFrame against the `sframe` crate 2.1 (ring backend), AES_128_GCM_SHA256_128, in
//! one run with each size's benchmarks back to back: encrypt and decrypt of 100 B, 1 200 B and
//! 50 000 B frames into caller buffers, meetkey with its replay window on; the `sframe` crate with plain `decrypt_into` (no replay
//! check).
//!
//! `cargo bench -p meetkey-crypto-bench --bench sframe_crates -- --warm-up-time 1 --measurement-time 3`

// Bench support: setup failures should fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const KID: u64 = 42;
const SECRET: [u8; 16] = [0x42; 16];

fn compare(c: &mut Criterion) {
    use meetkey::sframe::{BaseKey, Decryptor, Encryptor, SframeSuite};
    use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
    use sframe::key::{DecryptionKey, EncryptionKey};

    let mut g = c.benchmark_group("sframe_AES_128_GCM_SHA256_128");
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let pt = vec![0xabu8; size];
        let mut out = vec![0u8; size + 128];

        // meetkey
        let base = BaseKey::from_bytes(&SECRET).unwrap();
        let suite = SframeSuite::AES_128_GCM_SHA256_128;
        let mut enc = Encryptor::new(suite, KID, &base).unwrap();
        g.bench_with_input(BenchmarkId::new("meetkey_encrypt", size), &size, |b, _| {
            b.iter(|| enc.encrypt(&[], black_box(&pt), &mut out).unwrap());
        });
        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(KID, &base).unwrap();
        g.bench_with_input(BenchmarkId::new("meetkey_decrypt", size), &size, |b, _| {
            b.iter_batched_ref(
                || {
                    let mut f = vec![0u8; size + 64];
                    let n = enc.encrypt(&[], &pt, &mut f).unwrap();
                    f.truncate(n);
                    f
                },
                |f| dec.decrypt(&[], f, &mut out).unwrap(),
                BatchSize::SmallInput,
            );
        });

        // sframe 2.1
        let cs = sframe::CipherSuite::AesGcm128Sha256;
        let ekey = EncryptionKey::derive_from(cs, KID, SECRET).unwrap();
        let dkey = DecryptionKey::derive_from(cs, KID, SECRET).unwrap();
        let mut counter = MonotonicCounter::default();
        let mut buf: Vec<u8> = Vec::with_capacity(size + 128);
        g.bench_with_input(BenchmarkId::new("sframe2_encrypt", size), &size, |b, _| {
            b.iter(|| {
                let frame = MediaFrameView::try_new(&mut counter, black_box(&pt)).unwrap();
                frame
                    .encrypt_into(&ekey, &mut buf)
                    .unwrap()
                    .cipher_text()
                    .len()
            });
        });
        let mut plain: Vec<u8> = Vec::with_capacity(size + 128);
        g.bench_with_input(BenchmarkId::new("sframe2_decrypt", size), &size, |b, _| {
            b.iter_batched_ref(
                || {
                    let frame = MediaFrameView::try_new(&mut counter, &pt).unwrap();
                    let mut v: Vec<u8> = Vec::with_capacity(size + 64);
                    frame.encrypt_into(&ekey, &mut v).unwrap();
                    v
                },
                |f| {
                    let view = EncryptedFrameView::try_from(&*f).unwrap();
                    view.decrypt_into(&dkey, &mut plain)
                        .unwrap()
                        .payload()
                        .len()
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
