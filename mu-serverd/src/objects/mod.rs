//! The replication 0.9.10 wire objects: parse and build the multipart frames of types 1-14.
