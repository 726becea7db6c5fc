#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meetkey::fuzzing::meeting_frames(data));
