//! What saving and restoring a meeting costs: `Meeting::to_bytes` / `from_bytes` and
//! `seal` / `open` of the creator's state after one commit added everyone, at 10, 1 000 and
//! 10 000 participants (median of 5 runs each; sizes in bytes).
//!
//! `cargo run --release --example state_costs`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use meetkey::meeting::{Meeting, MeetingConfig};
use meetkey::mls::Lifetime;
use meetkey::routing::Policy;
use meetkey::{CipherSuite, Secret, SignaturePrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The clock of this example (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;

fn config() -> MeetingConfig {
    // S = 14: up to 16 384 leaves can send media.
    MeetingConfig {
        index_bits: 14,
        ..MeetingConfig::default()
    }
}

/// The creator of an `n`-participant meeting, its add confirmed.
fn meeting(n: usize, rng: &mut ChaCha20Rng) -> Meeting {
    let lifetime = Lifetime::starting_at(NOW, 86_400);
    let kp = |i: usize, rng: &mut ChaCha20Rng| {
        let signer = SignaturePrivateKey::generate(rng);
        Meeting::key_package(
            CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
            format!("participant {i}").as_bytes(),
            signer,
            lifetime,
            rng,
        )
        .unwrap()
    };
    let first = kp(0, rng);
    let kps: Vec<_> = (1..n).map(|i| kp(i, rng).key_package).collect();
    let policy = Policy::new("eu-west").unwrap();
    let mut m = Meeting::create(config(), first, b"state costs", &policy, rng).unwrap();
    m.add(&kps, NOW, rng).unwrap();
    m.confirm_pending().unwrap();
    m
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

#[allow(clippy::disallowed_methods, reason = "measurement only")]
fn stopwatch() -> Instant {
    Instant::now()
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..5)
            .map(|_| {
                let t = stopwatch();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let key = Secret::from_slice(&[0x5e; 32]).unwrap();
    println!("| participants | state bytes | to_bytes | from_bytes | sealed bytes | seal | open |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for n in [10, 1_000, 10_000] {
        let m = meeting(n, &mut rng);
        let bytes = m.to_bytes().unwrap();
        let sealed = m.seal(&key, &mut rng).unwrap();
        let save = time(|| m.to_bytes().unwrap());
        let restore = time(|| Meeting::from_bytes(config(), &bytes, &mut rng).unwrap());
        let seal = time(|| m.seal(&key, &mut rng).unwrap());
        let open = time(|| Meeting::open(config(), &sealed, &key, &mut rng).unwrap());
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} |",
            bytes.len(),
            ms(save),
            ms(restore),
            sealed.len(),
            ms(seal),
            ms(open)
        );
    }
}
