//! The main job: a whole meeting over loopback relays.
//!
//! `cargo run --release --example meeting [-- --participants N] [--frames N] [--seed N] [--quiet]
//! [--ds nats://127.0.0.1:4222]`
//!
//! Starts relays on 127.0.0.1 in three regions (one relay in a jurisdiction the default
//! policy excludes is also the least loaded), verifies a signed relay directory, and runs a
//! meeting with its handshakes through a delivery service (embedded, or NATS JetStream with
//! `--ds`): Welcome joins, join requests admitted from the waiting room, a rejoin by
//! external commit, media frames through the relays, a participant leaving, an outage of the home region's primaries, a scheduled rotation, and security-code
//! checks. Prints a timeline and a summary table, then audits every relay's capture: no
//! plaintext frame and no key material. Exits non-zero if any check fails.

mod scenario;

use std::process::ExitCode;

fn parse_args() -> Result<scenario::Options, String> {
    let mut opts = scenario::Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--participants" | "-n" => {
                opts.participants =
                    usize::try_from(num("--participants")?).map_err(|e| e.to_string())?;
            }
            "--frames" => {
                opts.frames_per_round =
                    usize::try_from(num("--frames")?).map_err(|e| e.to_string())?;
            }
            "--seed" => opts.seed = num("--seed")?,
            "--quiet" => opts.verbose = false,
            "--ds" => {
                let url = args.next().ok_or_else(|| "--ds needs a NATS URL".to_owned())?;
                opts.ds = Some(url);
            }
            "--help" | "-h" => {
                return Err(
                    "usage: meeting [--participants N (4..=200)] [--frames N] [--seed N] [--quiet] [--ds nats://HOST:PORT]"
                        .to_owned(),
                )
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if !(4..=200).contains(&opts.participants) {
        return Err("--participants must be between 4 and 200".to_owned());
    }
    if !(1..=100).contains(&opts.frames_per_round) {
        return Err("--frames must be between 1 and 100".to_owned());
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "meetkey meeting demo: {} participants, {} frames per participant per round, seed {}",
        opts.participants, opts.frames_per_round, opts.seed
    );
    let report = match scenario::run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scenario failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    scenario::print_summary(&report);
    let excluded = scenario::excluded_used(&report);
    let ok = !report.plaintext_leaked
        && !report.key_material_leaked
        && !report.ds.plaintext_leaked
        && !report.ds.key_material_leaked
        && excluded.is_empty()
        && report.codes_match
        && report.frames_decrypted > 0;
    if ok {
        println!("OK: relays and the delivery service saw only ciphertext and public handshakes; the excluded jurisdiction was never used.");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: an audit of the relays' or the delivery service's captures failed");
        ExitCode::FAILURE
    }
}
