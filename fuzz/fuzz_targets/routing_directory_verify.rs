#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meetkey::fuzzing::routing_directory_verify(data));
