//! `include/meetkey.h` is what cbindgen generates from `src/`: regenerate it into memory
//! and compare with the committed file. Update deliberately with `MEETKEY_UPDATE_HEADER=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn committed_header_matches_cbindgen() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .with_src(dir.join("src/result.rs"))
        .generate()
        .expect("cbindgen parses src/");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = dir.join("include/meetkey.h");
    if std::env::var_os("MEETKEY_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).expect("include/meetkey.h is committed");
    assert!(
        committed == generated,
        "include/meetkey.h differs from what cbindgen generates; rerun with MEETKEY_UPDATE_HEADER=1 and commit:\n{}",
        String::from_utf8_lossy(&generated)
    );
    // The ABI promises fixed result values.
    let text = String::from_utf8(generated).unwrap();
    for needle in [
        "MEETKEY_OK = 0",
        "MEETKEY_BUFFER_TOO_SHORT = 2",
        "MEETKEY_PANIC = 11",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}
