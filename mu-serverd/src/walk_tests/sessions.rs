//! Session-level hostile walks (filled below).
