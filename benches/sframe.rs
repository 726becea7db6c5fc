//! SFrame per-frame cost (RFC 9605) beside the raw AEAD of the chosen backend, in one run.
//!
//! - `sframe_encrypt/<suite>/<size>`: `Encryptor::encrypt` (header, copy, seal, tag) into a
//!   caller buffer.
//! - `sframe_decrypt/<suite>/<size>`: `Decryptor::decrypt` with the replay window on; the
//!   frames are produced in the (untimed) batch setup.
//! - `raw_seal/ring-aes128gcm/<size>`: ring's `LessSafeKey::seal_in_place_separate_tag` on the
//!   same payload with a key expanded once: the floor the AES-GCM suite is measured against.
//!
//! Sizes: 100 B (audio), 1 200 B (video packet), 50 000 B (video key frame).
//! `cargo bench --bench sframe -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::sframe::{BaseKey, CipherSuite, Decryptor, Encryptor};
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const KID: u64 = 0x123;
const SUITES: [(&str, CipherSuite); 2] = [
    (
        "AES_128_GCM_SHA256_128",
        CipherSuite::AES_128_GCM_SHA256_128,
    ),
    (
        "AES_128_CTR_HMAC_SHA256_80",
        CipherSuite::AES_128_CTR_HMAC_SHA256_80,
    ),
];

fn base_key(suite: CipherSuite) -> BaseKey {
    let len = suite.algorithm().unwrap().key_len();
    BaseKey::from_slice(&vec![0x42; len]).unwrap()
}

fn encrypt(c: &mut Criterion) {
    let mut g = c.benchmark_group("sframe_encrypt");
    for (name, suite) in SUITES {
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let mut enc = Encryptor::new(suite, KID, &base_key(suite)).unwrap();
            let pt = vec![0xabu8; size];
            let mut out = vec![0u8; size + 64];
            g.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter(|| black_box(enc.encrypt(&[], black_box(&pt), &mut out).unwrap()));
            });
        }
    }
    g.finish();
}

fn decrypt(c: &mut Criterion) {
    let mut g = c.benchmark_group("sframe_decrypt");
    for (name, suite) in SUITES {
        for size in SIZES {
            g.throughput(Throughput::Bytes(size as u64));
            let key = base_key(suite);
            let mut enc = Encryptor::new(suite, KID, &key).unwrap();
            let mut dec = Decryptor::new(suite).unwrap();
            dec.add_key(KID, &key).unwrap();
            let pt = vec![0xabu8; size];
            let mut out = vec![0u8; size + 64];
            g.bench_with_input(BenchmarkId::new(name, size), &size, |b, _| {
                b.iter_batched_ref(
                    || {
                        let mut frame = vec![0u8; size + 64];
                        let n = enc.encrypt(&[], &pt, &mut frame).unwrap();
                        frame.truncate(n);
                        frame
                    },
                    |frame| black_box(dec.decrypt(&[], frame, &mut out).unwrap()),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    g.finish();
}

fn raw_seal(c: &mut Criterion) {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    let mut g = c.benchmark_group("raw_seal");
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &[0x42; 16]).unwrap());
    let header = [0x99u8, 0x01, 0x23, 0x45, 0x67];
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let mut buf = vec![0xabu8; size];
        let mut ctr = 0u64;
        g.bench_with_input(BenchmarkId::new("ring-aes128gcm", size), &size, |b, _| {
            b.iter(|| {
                ctr += 1;
                let mut nonce = [0x11u8; 12];
                for (n, c) in nonce.iter_mut().skip(4).zip(ctr.to_be_bytes()) {
                    *n ^= c;
                }
                let tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&header),
                        black_box(&mut buf),
                    )
                    .unwrap();
                black_box(tag);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, raw_seal, encrypt, decrypt);
criterion_main!(benches);
