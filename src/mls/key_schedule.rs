//! RFC 9420 key_schedule (in progress).
