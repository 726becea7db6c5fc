//! Shared helpers for the vector tests: a JSON loader and a hex decoder.
#![allow(dead_code, unreachable_pub)]
// Test support: failing loudly on a broken vector file is the point.
#![allow(clippy::panic, clippy::expect_used)]

use serde::de::DeserializeOwned;

/// Loads a JSON vector file, relative to the crate root.
pub fn load<T: DeserializeOwned>(path: &str) -> T {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Decodes a hex string (even length, no prefix).
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}
