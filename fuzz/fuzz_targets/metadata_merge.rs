//! Fuzzes the metadata merge (`UpdateUserMetadata`) as the session runs it: the input is split
//! in two pickles (`u16 LE length | stored | update`), each read by the session's own
//! `objects::command_data`; the stored one is merged first, then the update, each under the work
//! meter the session opens for a message of its size. Keys may be
//! memo DAGs: the merge must stop at the meter and leave the metadata unchanged when it does.
//! Run: `cd fuzz && cargo fuzz run --sanitizer none metadata_merge -- -timeout=2`
#![no_main]

use libfuzzer_sys::fuzz_target;
use mu_serverd::objects::{self, CommandKind};
use mu_serverd::pickle::{budget, Limits, Value};
use mu_serverd::session::clients::Client;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let n = u16::from_le_bytes([data[0], data[1]]) as usize;
    let rest = &data[2..];
    let (first, second) = rest.split_at(n.min(rest.len()));
    let limits = Limits {
        max_input: 1 << 20,
        ..Limits::default()
    };
    let mut c = Client::new("u".into(), false, 0);
    for raw in [first, second] {
        let Ok(Value::Dict(items)) =
            objects::command_data(CommandKind::UpdateUserMetadata, raw, &limits)
        else {
            continue;
        };
        let before = c.metadata.len();
        let _meter = budget::scope(raw.len(), 1 << 20);
        let sizes = vec![0; items.len()];
        let merged = c.merge_metadata(&items, &sizes);
        assert!(
            merged || c.metadata.len() == before,
            "a refused merge changed the metadata"
        );
    }
});
