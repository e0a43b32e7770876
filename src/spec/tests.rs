//! One test per rule of the desired-state file, with the rendered message
//! snapshot-tested so error quality cannot silently regress.
