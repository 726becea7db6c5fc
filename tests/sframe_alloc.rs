//! Zero heap allocations on the SFrame per-frame paths, shown with a counting allocator.
//!
//! Setup (deriving keys, installing them, sizing buffers) may allocate; after it, encrypting
//! and decrypting frames of every suite and size (with metadata up to the stack AAD limit),
//! through a `Decryptor` and through a warmed-up MLS `KeyStore`, must allocate nothing.
//! The counter is per thread, so other tests in the process cannot disturb it.

// Bench/test support: setup failures should fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use meetkey::sframe::{
    BaseKey, Decryptor, Encryptor, KeyStore, KidLayout, ReplayProtection, SframeSuite,
};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

const SUITES: [SframeSuite; 5] = [
    SframeSuite::AES_128_CTR_HMAC_SHA256_80,
    SframeSuite::AES_128_CTR_HMAC_SHA256_64,
    SframeSuite::AES_128_CTR_HMAC_SHA256_32,
    SframeSuite::AES_128_GCM_SHA256_128,
    SframeSuite::AES_256_GCM_SHA512_128,
];

#[test]
fn encrypt_and_decrypt_do_not_allocate() {
    let metadata = [0x5au8; 200];
    let sizes = [0usize, 100, 1_200, 50_000];
    let mut frame = vec![0u8; 50_100];
    let mut plain = vec![0u8; 50_100];
    let payload = vec![0xabu8; 50_000];
    let mut frames = 0;
    // The counter sees allocations of this thread (so a zero below means something).
    let start = allocations();
    drop(std::hint::black_box(vec![0u8; 16]));
    assert_eq!(allocations(), start + 1);
    for suite in SUITES {
        let key_len = suite.base_key_len().unwrap();
        let base_key = BaseKey::from_bytes(&vec![3; key_len]).unwrap();
        let mut enc = Encryptor::new(suite, 0x1234, &base_key).unwrap();
        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(0x1234, &base_key).unwrap();

        let before = allocations();
        for size in sizes {
            for meta in [&metadata[..0], &metadata[..]] {
                let n = enc.encrypt(meta, &payload[..size], &mut frame).unwrap();
                let d = dec.decrypt(meta, &frame[..n], &mut plain).unwrap();
                assert_eq!(d.len, size);
                // The in-place forms, on the same buffer.
                let h = enc.header_len().unwrap();
                frame[h..h + size].copy_from_slice(&payload[..size]);
                let n = enc.encrypt_in_place(meta, &mut frame, size).unwrap();
                let d = dec.decrypt_in_place(meta, &mut frame[..n]).unwrap();
                assert_eq!(frame[h..h + d.len], payload[..size]);
                frames += 1;
            }
        }
        // Rejections allocate nothing either.
        let n = enc.encrypt(&[], b"x", &mut frame).unwrap();
        frame[n - 1] ^= 1;
        assert!(dec
            .decrypt(&[], &frame[..n], &mut plain)
            .is_err_and(|e| e == meetkey::Error::AuthenticationFailed));
        frame[n - 1] ^= 1;
        dec.decrypt(&[], &frame[..n], &mut plain).unwrap();
        assert!(dec
            .decrypt(&[], &frame[..n], &mut plain)
            .is_err_and(|e| e == meetkey::Error::Stale(meetkey::error::Stale::Replayed)));
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "{suite:?}: heap allocations on the frame path"
        );
    }
    println!("{frames} frames encrypted and decrypted (copying and in place) with 0 allocations");
    assert_eq!(frames, 5 * 4 * 2);
}

#[test]
fn mls_key_store_path_does_not_allocate_once_warm() {
    let suite = SframeSuite::AES_128_GCM_SHA256_128;
    let layout = KidLayout::new(4, 6).unwrap();
    let mut alice = KeyStore::new(suite, layout, 1, ReplayProtection::default()).unwrap();
    let mut bob = KeyStore::new(suite, layout, 2, ReplayProtection::default()).unwrap();
    for s in [&mut alice, &mut bob] {
        s.add_epoch(7, BaseKey::from_bytes(&[9; 16]).unwrap())
            .unwrap();
    }
    let mut enc = alice.encryptor(7, 0).unwrap();
    let mut frame = [0u8; 1_300];
    let mut plain = [0u8; 1_300];
    // The first frame of a KID derives and caches its key (setup).
    let n = enc.encrypt(b"m", &[1; 1_200], &mut frame).unwrap();
    bob.decrypt(b"m", &frame[..n], &mut plain).unwrap();

    let before = allocations();
    for _ in 0..100 {
        let n = enc.encrypt(b"m", &[1; 1_200], &mut frame).unwrap();
        assert_eq!(
            bob.decrypt(b"m", &frame[..n], &mut plain).unwrap().len,
            1_200
        );
    }
    assert_eq!(allocations() - before, 0);
}
