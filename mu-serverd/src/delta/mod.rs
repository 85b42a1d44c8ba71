//! Applies deepdiff Deltas to node values exactly as deepdiff 8.1.1 (and 5.7.0) do.
