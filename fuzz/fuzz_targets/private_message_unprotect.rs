#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| meetkey::fuzzing::private_message_unprotect(data));
