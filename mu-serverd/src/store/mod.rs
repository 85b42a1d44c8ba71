//! Durable session state: snapshots, an append-only journal, export and import.
