//! RFC 9420 transcript (in progress).
