//! The results of a run and what the harness writes from them: the stdout table,
//! `BENCHMARKS.md`, `docs/benchmarks.json` (the raw results; `COMPARE_FROM_JSON=<file>`
//! regenerates the reports from it without measuring) and `docs/benchmarks.svg`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{plot, Library, MAX_SAMPLES, MIN_SAMPLES, SIZES};

/// The libraries, in table order.
pub(crate) const LIBRARIES: [&str; 3] = ["meetkey", "OpenMLS", "mls-rs"];

/// A scenario: its id, its title, and whether the plot shows it.
pub(crate) struct Scenario {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) plotted: bool,
}

/// The scenario groups of BENCHMARKS.md, each with its scenarios.
pub(crate) const GROUPS: [(&str, &[Scenario]); 6] = [
    (
        "Sparse tree: built by one commit adding n−1 members",
        &[
            Scenario {
                id: "build_commit_create",
                title: "build: commit adding n−1 KeyPackages, create",
                plotted: true,
            },
            Scenario {
                id: "join_from_welcome",
                title: "join from the Welcome (with the ratchet tree)",
                plotted: true,
            },
        ],
    ),
    (
        "Self-update commit, sparse tree",
        &[
            Scenario {
                id: "self_update_create_sparse",
                title: "self-update create, sparse",
                plotted: true,
            },
            Scenario {
                id: "self_update_process_sparse",
                title: "self-update process, sparse",
                plotted: true,
            },
        ],
    ),
    (
        "Self-update commit, populated tree",
        &[
            Scenario {
                id: "self_update_create_populated",
                title: "self-update create, populated",
                plotted: true,
            },
            Scenario {
                id: "self_update_process_populated",
                title: "self-update process, populated",
                plotted: true,
            },
        ],
    ),
    (
        "Remove commit, sparse tree",
        &[
            Scenario {
                id: "remove_create_sparse",
                title: "remove create, sparse",
                plotted: false,
            },
            Scenario {
                id: "remove_process_sparse",
                title: "remove process, sparse",
                plotted: false,
            },
        ],
    ),
    (
        "Remove commit, populated tree",
        &[
            Scenario {
                id: "remove_create_populated",
                title: "remove create, populated",
                plotted: true,
            },
            Scenario {
                id: "remove_process_populated",
                title: "remove process, populated",
                plotted: true,
            },
        ],
    ),
    (
        "Application message",
        &[Scenario {
            id: "app_1KiB",
            title: "1 KiB application message, protect + unprotect",
            plotted: false,
        }],
    ),
];

/// One measured (or skipped) cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Cell {
    pub(crate) scenario: String,
    pub(crate) library: String,
    pub(crate) n: usize,
    /// The median, `None` when not measured.
    pub(crate) median_ns: Option<u64>,
    pub(crate) samples: usize,
    /// Why not measured, or a remark.
    pub(crate) note: Option<String>,
}

/// Heap bytes of one member joining from the Welcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MemoryCell {
    pub(crate) library: String,
    pub(crate) n: usize,
    /// The client before the join: signature key, KeyPackage private keys, provider/storage.
    pub(crate) client_bytes: isize,
    /// Client plus group state after the join.
    pub(crate) retained_bytes: isize,
    /// The highest figure from the client's creation to the end of the join.
    pub(crate) peak_bytes: isize,
}

impl MemoryCell {
    /// From the client's (retained, peak) and the join's (retained, peak) deltas.
    pub(crate) fn new(
        n: usize,
        client: isize,
        client_peak: isize,
        join: isize,
        peak: isize,
    ) -> Self {
        Self {
            library: String::new(),
            n,
            client_bytes: client,
            retained_bytes: client + join,
            peak_bytes: client_peak.max(client + peak),
        }
    }
}

/// The time to build one populated tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Setup {
    pub(crate) library: String,
    pub(crate) n: usize,
    pub(crate) seconds: f64,
}

/// Everything a run measured, and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Results {
    pub(crate) date: String,
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) rustc: String,
    pub(crate) crates: Vec<(String, String)>,
    pub(crate) sizes: Vec<usize>,
    pub(crate) budget_s: f64,
    pub(crate) duration_s: f64,
    pub(crate) populated_methods: Vec<(String, String)>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) memory: Vec<MemoryCell>,
    pub(crate) populated_setup_s: Vec<Setup>,
}

impl Results {
    pub(crate) fn new(sizes: &[usize], budget: Duration, libs: &[&dyn Library]) -> Self {
        Self {
            date: today(),
            cpu: cpu_model(),
            cores: std::thread::available_parallelism().map_or(0, usize::from),
            rustc: rustc_version(),
            crates: crate_versions(),
            sizes: sizes.to_vec(),
            budget_s: budget.as_secs_f64(),
            duration_s: 0.0,
            populated_methods: libs
                .iter()
                .map(|l| (l.name().to_owned(), l.populated_method().to_owned()))
                .collect(),
            cells: Vec::new(),
            memory: Vec::new(),
            populated_setup_s: Vec::new(),
        }
    }

    pub(crate) fn cell(&self, scenario: &str, library: &str, n: usize) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.scenario == scenario && c.library == library && c.n == n)
    }

    /// The median in milliseconds, if measured.
    pub(crate) fn ms(&self, scenario: &str, library: &str, n: usize) -> Option<f64> {
        self.cell(scenario, library, n)
            .and_then(|c| c.median_ns)
            .map(|ns| ns as f64 / 1e6)
    }

    /// meetkey / the best (fastest) peer.
    fn ratio(&self, scenario: &str, n: usize) -> Option<f64> {
        let mk = self.ms(scenario, "meetkey", n)?;
        let best = LIBRARIES
            .iter()
            .skip(1)
            .filter_map(|l| self.ms(scenario, l, n))
            .reduce(f64::min)?;
        Some(mk / best)
    }
}

/// `1.23 ms`, `456 µs`, `2.50 s`: three significant digits.
pub(crate) fn fmt_duration(d: Duration) -> String {
    fmt_ms(d.as_secs_f64() * 1e3)
}

fn fmt_ms(ms: f64) -> String {
    let sig = |v: f64| {
        if v >= 100.0 {
            format!("{v:.0}")
        } else if v >= 10.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        }
    };
    if ms >= 1_000.0 {
        format!("{} s", sig(ms / 1e3))
    } else if ms >= 1.0 {
        format!("{} ms", sig(ms))
    } else {
        format!("{} µs", sig(ms * 1e3))
    }
}

fn fmt_bytes(b: isize) -> String {
    let b = b as f64;
    if b >= 1_048_576.0 {
        format!("{:.1} MiB", b / 1_048_576.0)
    } else if b >= 10_240.0 {
        format!("{:.0} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// A cell's text: the median, or `—` and why.
fn cell_text(r: &Results, scenario: &str, library: &str, n: usize) -> String {
    match r.cell(scenario, library, n) {
        Some(Cell {
            median_ns: Some(ns),
            ..
        }) => fmt_duration(Duration::from_nanos(*ns)),
        Some(Cell {
            note: Some(why), ..
        }) => format!("— ({why})"),
        _ => "—".to_owned(),
    }
}

fn ratio_text(r: &Results, scenario: &str, n: usize) -> String {
    r.ratio(scenario, n)
        .map_or_else(|| "—".to_owned(), |x| format!("{x:.2}×"))
}

/// The table printed at the end of a run.
pub(crate) fn text_table(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{:<31} {:>6} {:>12} {:>12} {:>12} {:>8}",
        "scenario", "n", "meetkey", "OpenMLS", "mls-rs", "mk/best"
    );
    for (_, scenarios) in GROUPS {
        for sc in scenarios {
            for &n in &r.sizes {
                let short = |l: &str| {
                    let t = cell_text(r, sc.id, l, n);
                    if t.starts_with('—') {
                        "—".to_owned()
                    } else {
                        t
                    }
                };
                let _ = writeln!(
                    s,
                    "{:<31} {:>6} {:>12} {:>12} {:>12} {:>8}",
                    sc.id,
                    n,
                    short("meetkey"),
                    short("OpenMLS"),
                    short("mls-rs"),
                    ratio_text(r, sc.id, n)
                );
            }
        }
    }
    for m in &r.memory {
        let _ = writeln!(
            s,
            "memory n={} {:<8} client {:>10} retained {:>10} peak {:>10}",
            m.n,
            m.library,
            fmt_bytes(m.client_bytes),
            fmt_bytes(m.retained_bytes),
            fmt_bytes(m.peak_bytes)
        );
    }
    s
}

/// BENCHMARKS.md.
pub(crate) fn markdown(r: &Results) -> String {
    let mut s = String::new();
    let full = r.sizes == SIZES;
    let _ = writeln!(s, "# meetkey against OpenMLS and mls-rs\n");
    if !full {
        let _ = writeln!(
            s,
            "> **Partial run** (group sizes {:?} only, `COMPARE_MAX` set): an example of the \
             format, not the reference figures.\n",
            r.sizes
        );
    }
    let _ = writeln!(
        s,
        "Generated by the comparison harness (`compare/benches/compare.rs`) on {}; \
         the run took {:.1} min. Do not edit by hand: run it again.\n",
        r.date,
        r.duration_s / 60.0
    );
    let _ = writeln!(
        s,
        "```sh\ncargo bench -p meetkey-compare --bench compare\n```\n"
    );
    let _ = writeln!(
        s,
        "(`COMPARE_MAX=<n>` caps the group sizes for a quick run, `COMPARE_OUT=<dir>` writes \
         the reports elsewhere, `COMPARE_FROM_JSON=docs/benchmarks.json` redraws them from the \
         raw results.)\n"
    );
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(
        s,
        "- CPU: {} ({} cores as seen by the process)",
        r.cpu, r.cores
    );
    let _ = writeln!(s, "- {}", r.rustc);
    let crates: Vec<String> = r.crates.iter().map(|(n, v)| format!("{n} {v}")).collect();
    let _ = writeln!(s, "- crates: {}", crates.join(", "));
    let _ = writeln!(
        s,
        "- suite 0x0001 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519)\n"
    );

    let _ = writeln!(s, "## Method\n");
    let _ = writeln!(
        s,
        "- Each cell is the **median of k samples** (k between {MIN_SAMPLES} and \
         {MAX_SAMPLES}: samples are taken until {MIN_SAMPLES} are in and {:.0} s are spent), \
         timed with `std::time::Instant`; setup (key generation, building the group, the \
         other members) is never inside the timed part. Everything runs on one thread except \
         what a library parallelises itself (mls-rs uses rayon, meetkey scoped threads for \
         independent public-key operations: path and Welcome encryption, signature checks). \
         Join samples of groups up to 1 000 members continue in freshly built groups of the \
         same size when a group's held-out joiners are used up.",
        r.budget_s
    );
    let _ = writeln!(
        s,
        "- Timed operations go from bytes to bytes: **create** = the committer builds the \
         commit and encodes it (its merge, after the delivery service's confirmation, is not \
         timed); **process** = another member decodes, verifies and processes the commit and \
         merges it (it is then in the new epoch; mls-rs processes and merges in one call); \
         **build** = decoding n−1 KeyPackage messages, the commit adding them, encoding the \
         commit and the Welcome; **join** = decoding the Welcome and joining (tree included \
         in the Welcome, validated); **app** = member A protects 1 KiB and encodes it, \
         member B decodes and unprotects it."
    );
    let _ = writeln!(
        s,
        "- After every measured commit the committer and the processing member are checked \
         to agree on the epoch and the `epoch_authenticator`; joiners are checked against the \
         creator's `epoch_authenticator`."
    );
    let _ = writeln!(
        s,
        "- Handshakes are **PublicMessage** in all three: meetkey's default `GroupConfig`; \
         OpenMLS with `PURE_PLAINTEXT_WIRE_FORMAT_POLICY` (its own default is PrivateMessage); \
         mls-rs's default `MlsRules` (`encrypt_control_messages: false`). Application \
         messages are PrivateMessage (meetkey pads to 32 bytes, OpenMLS and mls-rs use their \
         default padding). `ratchet_tree` extension on in all three."
    );
    let _ = writeln!(
        s,
        "- Ed25519 verification: strict in meetkey (the answers of `ed25519-dalek`'s \
         `verify_strict` — small-order keys and R refused — computed without decompressing \
         R) and OpenMLS (`verify_strict`); mls-rs's RustCrypto provider uses the non-strict \
         `verify`. A join verifies one signature per member."
    );
    let _ = writeln!(
        s,
        "- Paths: every commit carries a path in all three, the build commit too, so the \
         trees have the same shape: meetkey's default `CommitOptions`; OpenMLS's \
         `add_members` (`force_self_update`); mls-rs with `CommitOptions::with_path_required` \
         (its default rules would omit the path from the add-only build commit)."
    );
    let _ = writeln!(
        s,
        "- Members: A is the creator (leaf 0). In the sparse tree B is the last member added \
         (leaf n−1); samples of self-update and remove are consecutive epochs (each commit \
         merged at A and B), removes take out leaves n−2, n−3, … in turn. Storage: OpenMLS \
         writes its state to its in-memory storage provider on every operation (part of its \
         cost); mls-rs's state is not written to its storage (`write_to_storage` not called)."
    );
    let _ = writeln!(s, "- Populated trees (every member has committed once):");
    for (lib, how) in &r.populated_methods {
        let _ = writeln!(s, "  - {lib}: {how}.");
    }
    for lib in LIBRARIES {
        let setups: Vec<String> = r
            .populated_setup_s
            .iter()
            .filter(|su| su.library == lib)
            .map(|su| format!("{:.1} s at n = {}", su.seconds, su.n))
            .collect();
        if !setups.is_empty() {
            let _ = writeln!(
                s,
                "  - setup time of the populated tree, {lib}: {}",
                setups.join(", ")
            );
        }
    }
    let _ = writeln!(
        s,
        "- Memory: a counting global allocator (heap bytes requested from the system \
         allocator). Retained = the member's client (signature key, KeyPackage private keys, \
         OpenMLS's provider and storage, mls-rs's client and its storages) plus its group \
         state after joining from the Welcome; peak = the highest heap figure from the \
         client's creation to the end of the join. The Welcome bytes themselves are not \
         counted."
    );
    let _ = writeln!(
        s,
        "- A cell is `—` with the reason when not measured: populated trees of the peers \
         above 1 000 members (their setup is O(n²); the estimate scales the measured 1 000 \
         setup by (n / 1 000)²), or a library that needed more than 3 minutes for one \
         sample (setup included). Sample counts per cell are in `docs/benchmarks.json`.\n"
    );
    let _ = writeln!(
        s,
        "Ratio column: meetkey / the fastest peer (< 1: meetkey faster).\n"
    );
    let _ = writeln!(
        s,
        "![Rotation time against group size, log–log](docs/benchmarks.svg)\n"
    );

    let _ = writeln!(s, "## Results\n");
    for (group, scenarios) in GROUPS {
        let _ = writeln!(s, "### {group}\n");
        for sc in scenarios {
            let _ = writeln!(s, "**{}** (`{}`)\n", sc.title, sc.id);
            let _ = writeln!(
                s,
                "| n | meetkey | OpenMLS | mls-rs | meetkey / best peer |"
            );
            let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: |");
            for &n in &r.sizes {
                let _ = writeln!(
                    s,
                    "| {n} | {} | {} | {} | {} |",
                    cell_text(r, sc.id, "meetkey", n),
                    cell_text(r, sc.id, "OpenMLS", n),
                    cell_text(r, sc.id, "mls-rs", n),
                    ratio_text(r, sc.id, n)
                );
            }
            let _ = writeln!(s);
        }
    }
    if let Some(n) = r.memory.first().map(|m| m.n) {
        let _ = writeln!(s, "### Memory per member at n = {n}\n");
        let _ = writeln!(
            s,
            "| library | client before the join | retained after the join | peak during the join |"
        );
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        for m in &r.memory {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                m.library,
                fmt_bytes(m.client_bytes),
                fmt_bytes(m.retained_bytes),
                fmt_bytes(m.peak_bytes)
            );
        }
        let _ = writeln!(s);
    }
    s
}

/// Writes BENCHMARKS.md, docs/benchmarks.json and docs/benchmarks.svg under `out`.
pub(crate) fn write_all(r: &Results, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let docs = out.join("docs");
    std::fs::create_dir_all(&docs)?;
    std::fs::write(
        docs.join("benchmarks.json"),
        serde_json::to_string_pretty(r)? + "\n",
    )?;
    plot::draw(r, &docs.join("benchmarks.svg"))?;
    // Sections measured by other programs follow KEPT_MARKER and survive a new run.
    let path = out.join("BENCHMARKS.md");
    let kept = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.find(KEPT_MARKER).map(|i| old[i..].to_owned()))
        .unwrap_or_default();
    let mut text = markdown(r);
    if !kept.is_empty() {
        text.push('\n');
        text.push_str(&kept);
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// The line after which BENCHMARKS.md holds sections this harness does not generate.
const KEPT_MARKER: &str =
    "<!-- measured by other programs: kept when the comparison runs again -->";

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn rustc_version() -> String {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "rustc (unknown)".to_owned(), |v| v.trim().to_owned())
}

/// The versions of the compared crates, from the workspace's Cargo.lock.
fn crate_versions() -> Vec<(String, String)> {
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"))
        .unwrap_or_default();
    let wanted = [
        "meetkey",
        "openmls",
        "openmls_rust_crypto",
        "mls-rs",
        "mls-rs-crypto-rustcrypto",
    ];
    let mut found = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if let Some(v) = line.strip_prefix("name = ") {
            name = Some(v.trim_matches('"'));
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name) {
            if wanted.contains(&n) {
                found.push((n.to_owned(), v.trim_matches('"').to_owned()));
            }
            name = None;
        }
    }
    found.sort_by_key(|(n, _)| wanted.iter().position(|w| w == n));
    found
}

/// Today's date (UTC), `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
