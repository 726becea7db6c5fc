//! Replays every harness over its committed corpus (`fuzz/corpus/<target>/`), every crash
//! input ever found (`fuzz/regressions/<target>/`), truncations and bit flips of the corpus,
//! and the seeds the fixture makes today — on stable Rust, in every CI run.

use std::path::{Path, PathBuf};

use crate::codec::Decode;
use crate::mls::wire::MlsMessage;
use crate::routing::{DirectoryIn, Policy, SignedDirectory};

use super::{framing, group, routing, seeds, tree};

/// A fuzz target: its harness, whether an input reached the end of what it checks, and how
/// many mutations of each corpus file to replay (state harnesses rebuild a group per call).
struct Target {
    name: &'static str,
    run: fn(&[u8]),
    deep: fn(&[u8]) -> bool,
    mutations: usize,
}

const TARGETS: [Target; 15] = [
    Target {
        name: "mls_message",
        run: super::mls_message,
        deep: |d| {
            super::mls_message(d);
            MlsMessage::decode_exact(d).is_ok()
        },
        mutations: 400,
    },
    Target {
        name: "key_package_validate",
        run: super::key_package_validate,
        deep: |d| group::key_package_valid_suites(d) > 0,
        mutations: 200,
    },
    Target {
        name: "welcome_join",
        run: super::welcome_join,
        deep: group::welcome_joins,
        mutations: 200,
    },
    Target {
        name: "external_join",
        run: super::external_join,
        deep: group::external_joins,
        mutations: 200,
    },
    Target {
        name: "commit_process",
        run: super::commit_process,
        deep: |d| group::commit_outcome(d) == 2,
        mutations: 60,
    },
    Target {
        name: "private_message_unprotect",
        run: super::private_message_unprotect,
        deep: |d| framing::opened_epochs(d) > 0,
        mutations: 400,
    },
    Target {
        name: "ratchet_tree_validate",
        run: super::ratchet_tree_validate,
        deep: |d| tree::tree_verdict(d) == Some(true),
        mutations: 200,
    },
    Target {
        name: "routing_directory",
        run: super::routing_directory,
        deep: |d| {
            super::routing_directory(d);
            DirectoryIn::parse(d).is_ok() || SignedDirectory::parse(d).is_ok()
        },
        mutations: 400,
    },
    Target {
        name: "routing_directory_verify",
        run: super::routing_directory_verify,
        deep: routing::directory_verdict,
        mutations: 200,
    },
    Target {
        name: "routing_policy",
        run: super::routing_policy,
        deep: |d| {
            super::routing_policy(d);
            Policy::decode_canonical(d).is_ok()
        },
        mutations: 400,
    },
    Target {
        name: "sframe_header",
        run: super::sframe_header,
        deep: |d| {
            super::sframe_header(d);
            crate::sframe::Header::decode(d).is_ok()
        },
        mutations: 64,
    },
    Target {
        name: "sframe_decrypt",
        run: super::sframe_decrypt,
        deep: super::sframe::decrypts,
        mutations: 200,
    },
    Target {
        name: "meeting_process",
        run: super::meeting_process,
        deep: super::meeting_process::process,
        mutations: 100,
    },
    Target {
        name: "meeting_frames",
        run: super::meeting_frames,
        deep: super::meeting_frames::frames,
        mutations: 100,
    },
    Target {
        name: "governance_decode",
        run: super::governance_decode,
        deep: |d| crate::meeting::Governance::decode_canonical(d).is_ok(),
        mutations: 200,
    },
];

/// The files of `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Up to `n` truncations and `n` single-bit flips of `input`, spread evenly over it.
fn mutate(input: &[u8], n: usize, run: fn(&[u8])) -> usize {
    let step = input.len().div_ceil(n.max(1)).max(1);
    let mut runs = 0;
    for cut in (0..input.len()).step_by(step) {
        run(&input[..cut]);
        let mut flipped = input.to_vec();
        flipped[cut] ^= 1 << (cut % 8);
        run(&flipped);
        runs += 2;
    }
    runs
}

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

fn replay(name: &str) {
    let t = TARGETS.iter().find(|t| t.name == name).unwrap();
    let corpus = files(&fuzz_dir("corpus", t.name));
    assert!(!corpus.is_empty(), "{}: no committed corpus", t.name);
    let mut deep = 0;
    let mut runs = 0;
    for (_, input) in &corpus {
        deep += usize::from((t.deep)(input));
        runs += 1 + mutate(input, t.mutations, t.run);
    }
    // A corpus none of whose inputs reaches the end no longer seeds the fuzzer well: the
    // library changed what the fixture makes. Regenerate it (fuzz/README.md).
    assert!(
        deep > 0,
        "{}: no corpus input reaches the end (stale corpus?)",
        t.name
    );
    let regressions = files(&fuzz_dir("regressions", t.name));
    for (path, input) in &regressions {
        println!("{}: regression {}", t.name, path.display());
        (t.run)(input);
        runs += 1;
    }
    let fresh: Vec<_> = seeds::all()
        .into_iter()
        .filter(|(target, ..)| *target == t.name)
        .collect();
    let fresh_deep = fresh.iter().filter(|(_, _, b)| (t.deep)(b)).count();
    assert!(fresh_deep > 0, "{}: no fresh seed reaches the end", t.name);
    println!(
        "fuzzing replay {}: {} corpus files ({deep} reach the end), {} regressions, \
         {} fresh seeds ({fresh_deep} reach the end), {runs} runs",
        t.name,
        corpus.len(),
        regressions.len(),
        fresh.len(),
    );
}

/// Rewrites the committed corpus files from `seeds::all()` when `MEETKEY_WRITE_SEEDS` is
/// set (after a change to what the fixture makes; fuzz/README.md). Otherwise does nothing.
#[test]
fn write_seeds_when_asked() {
    if std::env::var_os("MEETKEY_WRITE_SEEDS").is_none() {
        return;
    }
    for (target, name, bytes) in seeds::all() {
        let dir = fuzz_dir("corpus", target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    for t in &TARGETS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{}.rs", t.name));
        let src = std::fs::read_to_string(&path).unwrap();
        assert!(
            src.contains(&format!("meetkey::fuzzing::{}(data)", t.name)),
            "{} does not call its harness",
            path.display()
        );
    }
}

macro_rules! replay_tests {
    ($($name:ident)*) => {$(
        #[test]
        fn $name() {
            replay(stringify!($name));
        }
    )*};
}

replay_tests! {
    mls_message
    key_package_validate
    welcome_join
    external_join
    commit_process
    private_message_unprotect
    ratchet_tree_validate
    routing_directory
    routing_directory_verify
    routing_policy
    sframe_header
    sframe_decrypt
    meeting_process
    meeting_frames
    governance_decode
}
