//! meetkey against OpenMLS 0.9.2 and mls-rs 0.57 on the same MLS operations, suite 0x0001,
//! groups of 10, 100, 1 000 and 10 000 members, in one run (issue 7, part 2). A plain
//! harness (no criterion): each library measures the same scenarios, setup outside the timed
//! part, and the harness prints a table and writes `BENCHMARKS.md`, `docs/benchmarks.json`
//! and `docs/benchmarks.svg`.
//!
//! ```sh
//! cargo bench -p meetkey-compare --bench compare
//! COMPARE_MAX=100 cargo bench -p meetkey-compare --bench compare  # quick run
//! ```
//!
//! Environment: `COMPARE_MAX` caps the group sizes (default 10 000), `COMPARE_OUT` is the
//! directory the reports go to (default: the repository root), `COMPARE_BUDGET_S` is the time
//! budget of one (library, scenario, size) cell in seconds (default 20; every cell takes at
//! least 3 and at most 15 samples).
//!
//! Every timed operation goes from bytes to bytes: a commit is created and encoded; a commit
//! is decoded, processed and merged (the member is in the new epoch); a Welcome is decoded and
//! joined. After every measured commit the harness checks that the committer and the
//! processing member agree on the epoch and the `epoch_authenticator`.
// A benchmark harness reads the clock (`Instant::now` is disallowed in the library: time is an
// input there) and converts between counts and floats for its reports.
#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

#[path = "compare/alloc.rs"]
mod alloc;
#[path = "compare/meetkey.rs"]
mod meetkey_lib;
#[path = "compare/mlsrs.rs"]
mod mlsrs_lib;
#[path = "compare/openmls.rs"]
mod openmls_lib;
#[path = "compare/plot.rs"]
mod plot;
#[path = "compare/report.rs"]
mod report;

use std::time::{Duration, Instant};

use report::{Cell, MemoryCell, Results};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// The group sizes of a full run.
const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
/// Fewest and most samples of one cell.
const MIN_SAMPLES: usize = 3;
const MAX_SAMPLES: usize = 51;
/// Members held out of a built group to join from its Welcome (one per join sample).
const JOINERS: usize = 15;
/// Up to this group size, join samples go on in freshly built groups once a group's held-out
/// joiners are used up (a group of 10 has only 8 of them).
const REBUILD_FOR_JOINS: usize = 1_000;
/// A sample (setup included) longer than this ends the scenario for larger groups.
const TOO_SLOW: Duration = Duration::from_secs(180);
/// The application message size.
const PAYLOAD: usize = 1024;

/// A committer A and a member B of one group of one library. A commits, B processes.
pub(crate) trait Pair {
    /// A creates a commit with an empty proposal list (a self-update with a path) and
    /// encodes it; the commit stays pending at A.
    fn self_update(&mut self) -> Vec<u8>;
    /// A creates a commit removing `leaf` and encodes it; the commit stays pending at A.
    fn remove(&mut self, leaf: u32) -> Vec<u8>;
    /// A merges its pending commit (not timed: the delivery service confirmed it).
    fn merge(&mut self);
    /// B decodes, processes and merges the commit.
    fn process(&mut self, commit: &[u8]);
    /// Panics unless A and B are in the same epoch with the same `epoch_authenticator`.
    fn check(&self);
    /// A protects `payload` and encodes it; B decodes and unprotects it (asserted equal).
    fn app(&mut self, payload: &[u8]);
}

/// The group a build commit made: a held-out set of joiners, and the pair.
pub(crate) trait Built {
    /// One more member joins from the Welcome (decode + join, timed); `None` when no joiner
    /// is left.
    fn join(&mut self) -> Option<Duration>;
    /// A joiner held out for the memory measurement joins from the Welcome.
    fn join_memory(&mut self) -> Option<MemoryCell>;
    /// A (the creator) and B (the last member added, joined from the Welcome).
    fn into_pair(self: Box<Self>) -> Box<dyn Pair>;
}

/// One library under test.
pub(crate) trait Library {
    /// Its name in the tables.
    fn name(&self) -> &'static str;
    /// Builds a group of `n` by one commit adding n-1 KeyPackages; returns the time of the
    /// commit creation (KeyPackages received as bytes, commit and Welcome encoded) and the
    /// group, B already joined, with `joiners` more members able to join from the Welcome
    /// (and one more for the memory measurement when `memory`).
    fn build(&self, n: usize, joiners: usize, memory: bool) -> (Duration, Box<dyn Built>);
    /// A populated tree of `n` (every member has committed once), A and B at the latest
    /// epoch; `None` above [`Library::populated_max`].
    fn populated(&self, n: usize) -> Option<Box<dyn Pair>>;
    /// The largest populated tree this library builds in this harness.
    fn populated_max(&self) -> usize;
    /// How the populated tree is built (for BENCHMARKS.md).
    fn populated_method(&self) -> &'static str;
}

/// Measured medians of one or two timed parts of a sample.
struct Sampled {
    medians: Vec<Duration>,
    samples: usize,
    too_slow: Option<Duration>,
}

/// Takes samples until `MIN_SAMPLES` are in and the budget is spent (or `MAX_SAMPLES`, or
/// `limit`). `sample(i)` runs the setup and returns the timed parts, or `None` when no more
/// samples can be taken.
fn sample(
    budget: Duration,
    limit: usize,
    mut one: impl FnMut(usize) -> Option<Vec<Duration>>,
) -> Sampled {
    let start = Instant::now();
    let mut all: Vec<Vec<Duration>> = Vec::new();
    let mut too_slow = None;
    while all.len() < MAX_SAMPLES.min(limit)
        && (all.len() < MIN_SAMPLES || start.elapsed() < budget)
    {
        let t = Instant::now();
        let Some(parts) = one(all.len()) else { break };
        all.push(parts);
        if t.elapsed() > TOO_SLOW {
            too_slow = Some(t.elapsed());
            break;
        }
    }
    let parts = all.first().map_or(0, Vec::len);
    let medians = (0..parts)
        .map(|p| {
            let mut v: Vec<Duration> = all.iter().map(|s| s[p]).collect();
            v.sort();
            let mid = v.len() / 2;
            if v.len().is_multiple_of(2) {
                (v[mid - 1] + v[mid]) / 2
            } else {
                v[mid]
            }
        })
        .collect();
    Sampled {
        medians,
        samples: all.len(),
        too_slow,
    }
}

/// Collects the cells of a run.
struct Run {
    results: Results,
    budget: Duration,
    start: Instant,
}

impl Run {
    fn progress(&self, msg: &str) {
        let t = self.start.elapsed().as_secs();
        eprintln!("[{:>3}:{:02}] {msg}", t / 60, t % 60);
    }

    /// Records the medians of `names` (one per timed part) for `library` at `n`.
    fn record(&mut self, library: &str, n: usize, names: &[&str], s: &Sampled) {
        for (i, name) in names.iter().enumerate() {
            let median = s.medians.get(i).copied();
            let note = s.too_slow.map(|d| {
                format!(
                    "one sample took {:.1} min (> 3 min); larger groups skipped",
                    d.as_secs_f64() / 60.0
                )
            });
            self.progress(&format!(
                "{library:>8} n={n:<6} {name:<30} {} ({} samples)",
                median.map_or_else(|| "—".to_owned(), report::fmt_duration),
                s.samples
            ));
            self.results.cells.push(Cell {
                scenario: (*name).to_owned(),
                library: library.to_owned(),
                n,
                median_ns: if s.too_slow.is_some() || s.samples == 0 {
                    None
                } else {
                    median.map(|d| d.as_nanos() as u64)
                },
                samples: s.samples,
                note,
            });
        }
    }

    fn skip(&mut self, library: &str, n: usize, names: &[&str], why: &str) {
        for name in names {
            self.progress(&format!("{library:>8} n={n:<6} {name:<30} — ({why})"));
            self.results.cells.push(Cell {
                scenario: (*name).to_owned(),
                library: library.to_owned(),
                n,
                median_ns: None,
                samples: 0,
                note: Some(why.to_owned()),
            });
        }
    }

    /// Whether an earlier (smaller) size of this scenario was too slow.
    fn was_too_slow(&self, library: &str, name: &str) -> bool {
        self.results.cells.iter().any(|c| {
            c.library == library
                && c.scenario == name
                && c.note.as_deref().is_some_and(|n| n.contains("> 3 min"))
        })
    }
}

/// Self-update commits by A processed by B: (create, process) per sample.
fn self_updates(run: &mut Run, pair: &mut dyn Pair) -> Sampled {
    sample(run.budget, usize::MAX, |_| {
        let t = Instant::now();
        let commit = pair.self_update();
        let create = t.elapsed();
        pair.merge();
        let t = Instant::now();
        pair.process(&commit);
        let process = t.elapsed();
        pair.check();
        Some(vec![create, process])
    })
}

/// Remove commits by A (of leaves n-2, n-3, ..., 1) processed by B.
fn removes(run: &mut Run, pair: &mut dyn Pair, n: usize) -> Sampled {
    sample(run.budget, n.saturating_sub(2), |i| {
        let leaf = u32::try_from(n - 2 - i).ok()?;
        let t = Instant::now();
        let commit = pair.remove(leaf);
        let create = t.elapsed();
        pair.merge();
        let t = Instant::now();
        pair.process(&commit);
        let process = t.elapsed();
        pair.check();
        Some(vec![create, process])
    })
}

fn measure_library(run: &mut Run, lib: &dyn Library, sizes: &[usize]) {
    let name = lib.name();
    let max = sizes.iter().copied().max().unwrap_or(0);
    let payload = vec![0x42u8; PAYLOAD];
    let mut populated_setup_1000: Option<Duration> = None;
    for &n in sizes {
        // 1. Build by one commit (each sample a fresh group; the last one is kept).
        run.progress(&format!("{name:>8} n={n:<6} building the sparse tree"));
        let mut kept: Option<Box<dyn Built>> = None;
        let s = sample(run.budget, usize::MAX, |_| {
            let (d, built) = lib.build(n, JOINERS, n == max);
            kept = Some(built);
            Some(vec![d])
        });
        run.record(name, n, &["build_commit_create"], &s);
        let mut built = kept.expect("at least one build");

        // join from the Welcome.
        let mut spare: Option<Box<dyn Built>> = None;
        let s = sample(run.budget, usize::MAX, |_| {
            if let Some(d) = built.join() {
                return Some(vec![d]);
            }
            if n > REBUILD_FOR_JOINS {
                return None;
            }
            if let Some(d) = spare.as_mut().and_then(|g| g.join()) {
                return Some(vec![d]);
            }
            // A fresh group of the same size (setup, not timed); None if it has no joiner.
            let group = spare.insert(lib.build(n, JOINERS, false).1);
            group.join().map(|d| vec![d])
        });
        drop(spare);
        run.record(name, n, &["join_from_welcome"], &s);
        if n == max {
            if let Some(m) = built.join_memory() {
                run.progress(&format!(
                    "{name:>8} n={n:<6} memory: retained {} B, peak {} B",
                    m.retained_bytes, m.peak_bytes
                ));
                run.results.memory.push(MemoryCell {
                    library: name.to_owned(),
                    ..m
                });
            }
        }
        let mut pair = built.into_pair();

        // 5. application messages (sparse group).
        let s = sample(run.budget, usize::MAX, |_| {
            let t = Instant::now();
            pair.app(&payload);
            Some(vec![t.elapsed()])
        });
        run.record(name, n, &["app_1KiB"], &s);

        // 2. self-update, sparse.
        let names = ["self_update_create_sparse", "self_update_process_sparse"];
        if run.was_too_slow(name, names[0]) {
            run.skip(
                name,
                n,
                &names,
                "skipped: > 3 min per sample at a smaller size",
            );
        } else {
            let s = self_updates(run, pair.as_mut());
            run.record(name, n, &names, &s);
        }
        // 4. remove, sparse.
        let names = ["remove_create_sparse", "remove_process_sparse"];
        if run.was_too_slow(name, names[0]) {
            run.skip(
                name,
                n,
                &names,
                "skipped: > 3 min per sample at a smaller size",
            );
        } else {
            let s = removes(run, pair.as_mut(), n);
            run.record(name, n, &names, &s);
        }
        drop(pair);

        // 3. and 4. in a populated tree.
        let names_su = [
            "self_update_create_populated",
            "self_update_process_populated",
        ];
        let names_rm = ["remove_create_populated", "remove_process_populated"];
        if n > lib.populated_max() {
            let why = populated_setup_1000.map_or_else(
                || "not measured: setup O(n²)".to_owned(),
                |d| {
                    let ratio = (n as f64 / 1_000.0).powi(2);
                    format!(
                        "not measured: setup O(n²), ~{:.1} h estimated from n = 1 000",
                        d.as_secs_f64() * ratio / 3_600.0
                    )
                },
            );
            run.skip(name, n, &names_su, &why);
            run.skip(name, n, &names_rm, &why);
            continue;
        }
        run.progress(&format!("{name:>8} n={n:<6} building the populated tree"));
        let t = Instant::now();
        let Some(mut pair) = lib.populated(n) else {
            continue;
        };
        let setup = t.elapsed();
        run.progress(&format!(
            "{name:>8} n={n:<6} populated tree built in {:.1} s",
            setup.as_secs_f64()
        ));
        run.results.populated_setup_s.push(report::Setup {
            library: name.to_owned(),
            n,
            seconds: setup.as_secs_f64(),
        });
        if n == 1_000 {
            populated_setup_1000 = Some(setup);
        }
        let s = self_updates(run, pair.as_mut());
        run.record(name, n, &names_su, &s);
        let s = removes(run, pair.as_mut(), n);
        run.record(name, n, &names_rm, &s);
    }
}

fn main() {
    let max: usize = std::env::var("COMPARE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let budget = Duration::from_secs_f64(
        std::env::var("COMPARE_BUDGET_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20.0),
    );
    let out = std::env::var_os("COMPARE_OUT").map_or_else(
        || {
            let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            crate_dir.parent().unwrap_or(crate_dir).to_path_buf()
        },
        std::path::PathBuf::from,
    );
    if let Some(json) = std::env::var_os("COMPARE_FROM_JSON") {
        let r: Results =
            serde_json::from_str(&std::fs::read_to_string(json).expect("reading the results"))
                .expect("parsing the results");
        print!("{}", report::text_table(&r));
        report::write_all(&r, &out).expect("writing the reports");
        return;
    }
    let sizes: Vec<usize> = SIZES.into_iter().filter(|&n| n <= max).collect();
    let libs: [&dyn Library; 3] = [
        &meetkey_lib::Meetkey,
        &openmls_lib::OpenMls,
        &mlsrs_lib::MlsRs,
    ];
    let mut run = Run {
        results: Results::new(&sizes, budget, &libs),
        budget,
        start: Instant::now(),
    };
    run.progress(&format!(
        "sizes {sizes:?}, budget {:.0} s per cell, reports to {}",
        budget.as_secs_f64(),
        out.display()
    ));
    for lib in libs {
        measure_library(&mut run, lib, &sizes);
    }
    run.results.duration_s = run.start.elapsed().as_secs_f64();
    print!("{}", report::text_table(&run.results));
    report::write_all(&run.results, &out).expect("writing the reports");
    run.progress(&format!(
        "wrote {}, docs/benchmarks.json and docs/benchmarks.svg under {}",
        "BENCHMARKS.md",
        out.display()
    ));
}
