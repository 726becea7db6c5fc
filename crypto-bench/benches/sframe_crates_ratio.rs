//! Interleaved comparison with the `sframe` crate 2.1 (ring) for a loaded machine: for each
//! size, alternates short blocks of the `sframe` crate and of meetkey doing the same
//! AES_128_GCM_SHA256_128 encrypt (then decrypt) into reused buffers, and prints the medians
//! and the median over blocks of (sframe crate time / meetkey time), i.e. meetkey's speed-up.
//!
//! `cargo bench -p meetkey-crypto-bench --bench sframe_crates_ratio`

// Bench support: setup failures should fail loudly; timing is what this binary is for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(clippy::disallowed_methods, clippy::cast_precision_loss)]

use std::hint::black_box;
use std::time::Instant;

use meetkey::sframe::{BaseKey, Decryptor, Encryptor, SframeSuite};
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const BLOCKS: usize = 201;
const KID: u64 = 42;
const SECRET: [u8; 16] = [0x42; 16];

fn time(iters: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..iters {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let suite = SframeSuite::AES_128_GCM_SHA256_128;
    let base = BaseKey::from_bytes(&SECRET).unwrap();
    let cs = sframe::CipherSuite::AesGcm128Sha256;
    let ekey = EncryptionKey::derive_from(cs, KID, SECRET).unwrap();
    let dkey = DecryptionKey::derive_from(cs, KID, SECRET).unwrap();
    println!("size  op       sframe2_ns  meetkey_ns  speed-up (median of {BLOCKS} blocks)");
    for size in SIZES {
        let iters = (200_000 / size).clamp(20, 2_000);
        let pt = vec![0xabu8; size];
        let mut out = vec![0u8; size + 128];
        let mut buf: Vec<u8> = Vec::with_capacity(size + 128);
        let mut enc = Encryptor::new(suite, KID, &base).unwrap();
        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(KID, &base).unwrap();
        let mut counter = MonotonicCounter::default();

        let (mut theirs, mut ours, mut ratio) = (vec![], vec![], vec![]);
        for _ in 0..BLOCKS {
            let t = time(iters, |_| {
                let f = MediaFrameView::try_new(&mut counter, black_box(&pt)).unwrap();
                black_box(f.encrypt_into(&ekey, &mut buf).unwrap().cipher_text().len());
            });
            let o = time(iters, |_| {
                black_box(enc.encrypt(&[], black_box(&pt), &mut out).unwrap());
            });
            theirs.push(t);
            ours.push(o);
            ratio.push(t / o);
        }
        println!(
            "{size:>5} encrypt {:>11.1} {:>11.1}  {:.2}x",
            median(theirs),
            median(ours),
            median(ratio)
        );

        let (mut theirs, mut ours, mut ratio) = (vec![], vec![], vec![]);
        for _ in 0..BLOCKS {
            let their_frames: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    let f = MediaFrameView::try_new(&mut counter, &pt).unwrap();
                    let mut v: Vec<u8> = Vec::with_capacity(size + 64);
                    f.encrypt_into(&ekey, &mut v).unwrap();
                    v
                })
                .collect();
            let our_frames: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    let mut f = vec![0u8; size + 64];
                    let n = enc.encrypt(&[], &pt, &mut f).unwrap();
                    f.truncate(n);
                    f
                })
                .collect();
            let t = time(iters, |i| {
                let view = EncryptedFrameView::try_from(&their_frames[i]).unwrap();
                black_box(view.decrypt_into(&dkey, &mut buf).unwrap().payload().len());
            });
            let o = time(iters, |i| {
                black_box(dec.decrypt(&[], &our_frames[i], &mut out).unwrap());
            });
            theirs.push(t);
            ours.push(o);
            ratio.push(t / o);
        }
        println!(
            "{size:>5} decrypt {:>11.1} {:>11.1}  {:.2}x",
            median(theirs),
            median(ours),
            median(ratio)
        );
    }
}
