//! Interleaved ratio check for a shared, noisy machine: for each size, alternates short blocks
//! of the raw ring AES-128-GCM seal (or open) and of meetkey's SFrame encrypt (or decrypt) of
//! the same payload, and prints the median over blocks of (SFrame time / raw time). Adjacent
//! blocks see the same contention, so the ratio survives load that skews criterion's absolute
//! medians. The criterion bench `benches/sframe.rs` remains the reference for absolute figures.
//!
//! `cargo bench --bench sframe_ratio`

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
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM};

const SIZES: [usize; 3] = [100, 1_200, 50_000];
const BLOCKS: usize = 301;

fn nonce(i: u64) -> Nonce {
    let mut n = [0x11u8; 12];
    for (b, c) in n.iter_mut().skip(4).zip(i.to_be_bytes()) {
        *b ^= c;
    }
    Nonce::assume_unique_for_key(n)
}

/// Times `iters` calls of `f`, in nanoseconds per call.
fn time(iters: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing.
    }
    let header = [0x99u8, 0x01, 0x23, 0x45, 0x67];
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &[0x42; 16]).unwrap());
    let suite = SframeSuite::AES_128_GCM_SHA256_128;
    let base = BaseKey::from_bytes(&[0x42; 16]).unwrap();
    println!("size  op       raw_ns    sframe_ns  median_ratio (sframe / raw, {BLOCKS} blocks)");
    for size in SIZES {
        let iters = u32::try_from((200_000 / size).clamp(20, 2_000)).unwrap();
        let pt = vec![0xabu8; size];
        let mut buf = vec![0xabu8; size];
        let mut out = vec![0u8; size + 64];
        let mut enc = Encryptor::new(suite, 0x123, &base).unwrap();
        let mut ctr = 0u64;

        let (mut raw, mut ours, mut ratios, mut in_place) = (vec![], vec![], vec![], vec![]);
        for _ in 0..BLOCKS {
            let r = time(iters, || {
                ctr += 1;
                let t = key
                    .seal_in_place_separate_tag(nonce(ctr), Aad::from(&header), black_box(&mut buf))
                    .unwrap();
                let _tag = black_box(t);
            });
            let s = time(iters, || {
                black_box(enc.encrypt(&[], black_box(&pt), &mut out).unwrap());
            });
            let p = time(iters, || {
                black_box(
                    enc.encrypt_in_place(&[], black_box(&mut out), size)
                        .unwrap(),
                );
            });
            raw.push(r);
            ours.push(s);
            ratios.push(s / r);
            in_place.push(p / r);
        }
        println!(
            "{size:>5} encrypt {:>9.1} {:>10.1}  {:.3}   (in place: {:.3})",
            median(raw),
            median(ours),
            median(ratios),
            median(in_place)
        );

        // Decrypt: pre-encrypt the frames of every block (the replay window needs fresh CTRs);
        // raw open runs on copies of one sealed buffer, both restored outside the timing.
        let mut sealed = vec![0xabu8; size];
        let tag: Tag = key
            .seal_in_place_separate_tag(nonce(0), Aad::from(&header), &mut sealed)
            .unwrap();
        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(0x123, &base).unwrap();
        let (mut seal_t, mut open_t, mut ours) = (vec![], vec![], vec![]);
        let (mut vs_seal, mut vs_open, mut dec_in_place) = (vec![], vec![], vec![]);
        let mut copies: Vec<Vec<u8>> = (0..iters).map(|_| sealed.clone()).collect();
        for _ in 0..BLOCKS {
            for c in &mut copies {
                c.copy_from_slice(&sealed);
            }
            let frames: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    let mut f = vec![0u8; size + 64];
                    let n = enc.encrypt(&[], &pt, &mut f).unwrap();
                    f.truncate(n);
                    f
                })
                .collect();
            let mut frames2: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    let mut f = vec![0u8; size + 64];
                    let n = enc.encrypt(&[], &pt, &mut f).unwrap();
                    f.truncate(n);
                    f
                })
                .collect();
            let rs = time(iters, || {
                ctr += 1;
                let t = key
                    .seal_in_place_separate_tag(nonce(ctr), Aad::from(&header), black_box(&mut buf))
                    .unwrap();
                let _tag = black_box(t);
            });
            let mut i = 0;
            let ro = time(iters, || {
                let c = &mut copies[i];
                i += 1;
                key.open_in_place_separate_tag(nonce(0), Aad::from(&header), tag, c, 0..)
                    .unwrap();
            });
            let mut j = 0;
            let s = time(iters, || {
                black_box(dec.decrypt(&[], &frames[j], &mut out).unwrap());
                j += 1;
            });
            let mut k = 0;
            let p = time(iters, || {
                black_box(dec.decrypt_in_place(&[], &mut frames2[k]).unwrap());
                k += 1;
            });
            dec_in_place.push(p / rs);
            seal_t.push(rs);
            open_t.push(ro);
            ours.push(s);
            vs_seal.push(s / rs);
            vs_open.push(s / ro);
        }
        println!(
            "{size:>5} decrypt {:>9.1} {:>10.1}  {:.3}   (in place: {:.3}; vs raw open {:.1} ns: {:.3})",
            median(seal_t),
            median(ours),
            median(vs_seal),
            median(dec_in_place),
            median(open_t),
            median(vs_open)
        );
    }
}
