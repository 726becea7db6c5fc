#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meetkey::fuzzing::governance_decode(data));
