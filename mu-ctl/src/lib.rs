//! The control protocol shared by `mu-ctl` and `mu-serverd` (postcard, length-prefixed).
//! This crate never links libzmq.
