//! RFC 9420 secret_tree (in progress).
