//! Compiles `tests/c/meeting.c` against `include/meetkey.h` and the crate's static library
//! with the system C compiler (`$CC`, else `cc`), runs it, and requires exit status 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The static library cargo built for this test run: `libmeetkey_ffi.a` next to the test
/// binary's `deps/` folder, else the newest `deps/libmeetkey_ffi-*.a`.
fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let profile = deps.parent().unwrap();
    let uplifted = profile.join("libmeetkey_ffi.a");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(deps)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libmeetkey_ffi") && n.ends_with(".a"))
        })
        .collect();
    if uplifted.exists() {
        candidates.push(uplifted);
    }
    candidates
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .expect("cargo builds libmeetkey_ffi.a (crate-type staticlib)")
}

#[test]
fn c_program_runs_a_meeting_through_the_header() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("meetkey_c_meeting");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let lib = staticlib();
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1"])
        .arg("-I")
        .arg(dir.join("include"))
        .arg(dir.join("tests/c/meeting.c"))
        .arg(&lib)
        .args([
            "-lpthread",
            "-ldl",
            "-lm",
            "-lrt",
            "-lutil",
            "-lgcc_s",
            "-lc",
        ])
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(status.success(), "compiling tests/c/meeting.c failed");
    let run = Command::new(&out).output().unwrap();
    print!("{}", String::from_utf8_lossy(&run.stdout));
    eprint!("{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        run.status.success(),
        "the C meeting failed: {:?}",
        run.status
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("C meeting: OK"));
}
