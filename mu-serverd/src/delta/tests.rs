//! Unit tests of the Delta engine, one per group and per reproduced deepdiff quirk.
