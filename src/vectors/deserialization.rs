//! `vectors/mls/deserialization.json`: each case is a variable-length vector header
//! (`vlbytes_header`) and the length it encodes. Checks that the header decodes to that
//! length using all its bytes, and that encoding the length gives the header back (so every
//! header is minimal).

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::{Reader, Writer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    vlbytes_header: String,
    length: u32,
}

#[test]
fn deserialization_vectors() {
    let cases: Vec<Case> = common::load("mls/deserialization.json");
    let mut tally = common::Tally::new("mls/deserialization.json");
    for (i, c) in cases.iter().enumerate() {
        let header = common::hex(&c.vlbytes_header);
        let mut r = Reader::new(&header);
        assert_eq!(r.read_varint(), Ok(c.length), "case {i}");
        assert!(r.is_empty(), "case {i}: bytes left over");
        let mut w = Writer::new();
        w.write_varint(c.length as usize);
        assert_eq!(w.into_bytes().unwrap(), header, "case {i}: re-encoding");
        tally.ran(0);
    }
    tally.finish();
}
