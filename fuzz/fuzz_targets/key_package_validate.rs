#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meetkey::fuzzing::key_package_validate(data));
