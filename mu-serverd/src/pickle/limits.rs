//! Resource limits for decoding untrusted pickles. Every limit is checked before the memory it
//! guards is allocated, so a hostile length prefix or nesting costs nothing.

/// Bounds on what one pickle may make the decoder do.
///
/// The defaults fit the replication protocol: a node of a large Blender scene is a few MiB of
/// pickle with at most some hundred thousand values and a nesting depth below 20.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted pickle, in bytes (default 64 MiB).
    pub max_input: usize,
    /// Deepest accepted nesting of containers (default 256; `[1]` has depth 1, `[[1]]` depth 2).
    pub max_depth: u32,
    /// Most values the pickle may create, scalars included (default 4 Mi). This also bounds the
    /// decoder's stack. At roughly 32 bytes per value the worst case is ~128 MiB of memory.
    pub max_items: usize,
    /// Most memo entries (default 4 Mi).
    pub max_memo: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 64 << 20,
            max_depth: 256,
            max_items: 4 << 20,
            max_memo: 4 << 20,
        }
    }
}
