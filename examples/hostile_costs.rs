//! What a hostile message costs a member before it is refused (issue 13, "bounded cost
//! before authentication"): each input is built to be as expensive as the limits allow,
//! then handed to a member; the program prints the time (median of 5) and the peak heap
//! above the baseline while it was processed.
//!
//! ```sh
//! cargo run --release --example hostile_costs
//! ```
//!
//! Inputs (each at most 16 MiB, `MAX_VEC_LEN`):
//! - a GroupInfo whose ratchet tree is 16 MiB of blank nodes (refused while decoding);
//! - a GroupInfo, validly signed by its forger and with the right tree hash, with the
//!   widest tree the limits allow (2^17 − 1 nodes), refused by tree validation;
//! - an external commit with 65 536 PSK proposals (the proposal limit), refused for the
//!   unknown PSKs after every linear check ran; and one with 65 537, refused at once;
//! - a join request whose KeyPackage carries a 16 MiB extension, refused for its size
//!   (`Limits::max_proposal_size`) before any signature is checked over it;
//! - an external commit whose new leaf carries a 16 MiB extension, in a meeting open to
//!   external joins: every check runs over it (and it is accepted).
//!
//! Each time includes decoding the message (and, where the member is restored per run,
//! `Meeting::from_bytes` of a one-member state, well under a millisecond).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Peak;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// atomics, which never allocate.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// A stopwatch for the report; nothing measured depends on it.
#[allow(clippy::disallowed_methods, reason = "measurement only")]
fn stopwatch() -> Instant {
    Instant::now()
}

/// Runs `f` five times; prints the median time and the peak heap above the level before.
fn measure(what: &str, bytes: usize, f: &mut dyn FnMut() -> String) {
    let mut times = Vec::new();
    let mut peak = 0;
    let mut outcome = String::new();
    for _ in 0..5 {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = stopwatch();
        let out = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
        outcome = format!("{out:?}");
        drop(out);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| {what} | {:.2} MiB | {:.1} ms | {:.1} MiB | {outcome} |",
        bytes as f64 / 1_048_576.0,
        times[2],
        peak as f64 / 1_048_576.0
    );
}

fn main() {
    meetkey::internal_benches::hostile::run(&mut measure);
}
