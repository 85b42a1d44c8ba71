//! Applies deepdiff Deltas to node values exactly as deepdiff 8.1.1 (and 5.7.0) do.
//!
//! A replication client sends `Delta(DeepDiff(last, current)).dumps()` in a Commit; every peer
//! computes `node.data + Delta(bytes)`. The server must store the *same* result deepdiff gives,
//! quirks included, or a client that joins later would see a different scene. This module reads
//! the decoded pickle ([`read`]), parses paths in either dialect ([`path`], [`literal`]), models
//! the Python operations deepdiff relies on ([`pyops`], [`num`], [`convert`], [`repr`]) and runs
//! deepdiff's steps in deepdiff's order ([`apply`]). Applied in place, it edits the stored value
//! directly and keeps an undo log ([`undo`]) so that a delta deepdiff raises on leaves the value
//! exactly as it was.
//! See docs/delta.md for the behaviour, the reproduced defects and the known differences.

mod apply;
mod bound;
#[cfg(test)]
mod bound_tests;
pub(crate) mod convert;
pub(crate) mod error;
mod groups;
mod ignore_order;
mod listops;
pub(crate) mod literal;
pub(crate) mod num;
pub(crate) mod path;
mod place;
pub(crate) mod pyops;
mod read;
pub(crate) mod repr;
mod sort;
mod sorting;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_build;
#[cfg(test)]
mod tests_quirks;
#[cfg(test)]
mod tests_tuples;
#[cfg(test)]
mod tests_undo;
mod undo;

pub use error::{DeltaError, DeltaErrorKind};
pub use path::Dialect;

use crate::pickle::value::Value;
use apply::Engine;
use read::{contains_opcode, detect_dialect, dict_items, read_group, read_opcode, Group};

/// A parsed deepdiff Delta.
#[derive(Clone, Debug)]
pub struct Delta {
    dialect: Dialect,
    values_changed: Group,
    type_changes: Group,
    dictionary_item_added: Group,
    dictionary_item_removed: Group,
    iterable_item_added: Group,
    iterable_item_removed: Group,
    iterable_item_moved: Group,
    set_item_added: Group,
    set_item_removed: Group,
    attribute_added: Group,
    attribute_removed: Group,
    iterable_opcodes: Group,
    items_added_at_indexes: Group,
    items_removed_at_indexes: Group,
    numpy_paths: bool,
    compare_func_used: bool,
    /// The decoded delta, re-encoded by `bound` to bound what it can add to a node.
    source: Value,
}

fn top_flag(top: &[(Value, Value)], name: &str) -> bool {
    top.iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .is_some_and(|(_, v)| pyops::truthy(v))
}

/// How the server applies a Commit (the session's repository, on the wire and when the journal
/// is replayed; the fuzz target `delta_apply` and the walk tests call it too): the delta's bytes
/// through [`Delta::from_bytes`] (decode, policy, parse), then applied to `data` in place,
/// returning the problems deepdiff would log and skip. On error `data` is exactly as it was.
///
/// Every walk, the decode included, is charged to a work meter granted for the delta's bytes
/// plus `node_bytes`, the encoded size of the node it edits (`pickle::budget`); a delta that
/// spends it is refused (difference 14).
pub fn apply_bytes(
    data: &mut Value,
    delta: &[u8],
    node_bytes: usize,
    limits: &crate::pickle::Limits,
) -> Result<Vec<String>, DeltaError> {
    apply_bytes_bounded(data, delta, node_bytes, limits, &mut None)
}

/// [`apply_bytes`] keeping `bound`, an upper bound of the node's encoded size (`bound`'s module
/// doc) so that the node is walked only when the bound passes `max_message_bytes`: the
/// repository keeps one per decoded node (`None`: unknown, walk).
pub fn apply_bytes_bounded(
    data: &mut Value,
    delta: &[u8],
    node_bytes: usize,
    limits: &crate::pickle::Limits,
    bound: &mut Option<usize>,
) -> Result<Vec<String>, DeltaError> {
    let _meter = crate::pickle::budget::scope(delta.len() + node_bytes, limits.max_input);
    Delta::from_bytes(delta, limits)?
        .apply_in_place_bounded(data, bound)
        .map_err(|(e, _)| e)
}

impl Delta {
    /// Parses the decoded delta pickle (a dict of groups; 8.1.1 dialect, or 5.7.0 when
    /// `OrderedDictPlus` wrappers are present).
    pub fn from_value(v: &Value) -> Result<Delta, DeltaError> {
        let top = dict_items(v).ok_or_else(|| {
            DeltaError::format(format!(
                "a Delta is a dict of groups, got {}",
                v.type_name()
            ))
        })?;
        let dialect = detect_dialect(&top);
        let g = |name: &str| read_group(&top, name, dialect);
        let iterable_opcodes = g("_iterable_opcodes");
        if let Group::Entries(entries) = &iterable_opcodes {
            for e in entries {
                if dialect == Dialect::V5_7_0 && contains_opcode(&e.value) {
                    return Err(DeltaError::format(
                        "deepdiff 5.7.0 cannot load deepdiff.helper.Opcode",
                    ));
                }
                if let Value::List(ops) = &e.value {
                    for op in ops.iter() {
                        read_opcode(op)?;
                    }
                }
            }
        }
        Ok(Delta {
            dialect,
            values_changed: g("values_changed"),
            type_changes: g("type_changes"),
            dictionary_item_added: g("dictionary_item_added"),
            dictionary_item_removed: g("dictionary_item_removed"),
            iterable_item_added: g("iterable_item_added"),
            iterable_item_removed: g("iterable_item_removed"),
            iterable_item_moved: g("iterable_item_moved"),
            set_item_added: g("set_item_added"),
            set_item_removed: g("set_item_removed"),
            attribute_added: g("attribute_added"),
            attribute_removed: g("attribute_removed"),
            iterable_opcodes: if dialect == Dialect::V8_1_1 {
                iterable_opcodes
            } else {
                Group::Absent
            },
            items_added_at_indexes: g("iterable_items_added_at_indexes"),
            items_removed_at_indexes: g("iterable_items_removed_at_indexes"),
            numpy_paths: top_flag(&top, "_numpy_paths"),
            compare_func_used: dialect == Dialect::V8_1_1
                && top_flag(&top, "_iterable_compare_func_was_used"),
            source: v.clone(),
        })
    }

    /// The one way from a peer's bytes to a Delta: decodes, checks against the Delta policy
    /// (`pickle::check_delta`; a refusal is [`DeltaErrorKind::Refused`]) and parses. The server
    /// reaches it through [`apply_bytes`]; `objects::Message::check` and the tests call it too.
    pub fn from_bytes(bytes: &[u8], limits: &crate::pickle::Limits) -> Result<Delta, DeltaError> {
        let v = crate::pickle::decode(bytes, limits)
            .map_err(|e| DeltaError::new(DeltaErrorKind::Decode, e.to_string()))?;
        crate::pickle::check_delta(&v)
            .map_err(|e| DeltaError::new(DeltaErrorKind::Refused, e.to_string()))?;
        Delta::from_value(&v)
    }

    /// The dialect (and so the deepdiff version whose rules apply).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies like `old + Delta(bytes)` in deepdiff: never mutates `old`; returns the new value
    /// and the messages deepdiff would have logged for skipped entries, or the error where
    /// deepdiff raises.
    pub fn apply(&self, old: &Value) -> Result<(Value, Vec<String>), DeltaError> {
        self.apply_owned(old.clone())
    }

    /// Like [`Delta::apply`], but takes the old value by value: containers it holds the only
    /// reference to are edited in place instead of copied. Containers still shared with another
    /// value are copied on write, so other holders never see a change. On error the partly
    /// changed value is dropped; [`Delta::apply_in_place`] gives it back unchanged instead.
    pub fn apply_owned(&self, old: Value) -> Result<(Value, Vec<String>), DeltaError> {
        self.check_supported()?;
        let mut e = Engine::new(old, self.dialect, self.compare_func_used, false);
        self.run(&mut e)?;
        let logs = std::mem::take(&mut e.logs);
        Ok((Self::result(e)?, logs))
    }

    /// Applies to `value` in place (an 8,000-float list with 4 changes is not copied at all when
    /// `value` is its only holder) and returns deepdiff's log messages. Where deepdiff raises,
    /// every write already made is undone and `value` is exactly as before (same items, order,
    /// float bits and shared containers, so it encodes to the same bytes).
    pub fn apply_in_place(&self, value: &mut Value) -> Result<Vec<String>, DeltaError> {
        self.apply_in_place_counted(value).map_err(|(e, _)| e)
    }

    /// [`Delta::apply_in_place`], also telling on error how many writes were undone (for the
    /// tests that check a delta failing halfway).
    #[doc(hidden)]
    pub fn apply_in_place_counted(
        &self,
        value: &mut Value,
    ) -> Result<Vec<String>, (DeltaError, usize)> {
        self.apply_in_place_bounded(value, &mut None)
    }

    /// [`Delta::apply_in_place`] keeping `bound`, an upper bound of the node's encoded size
    /// (see `bound`; `None`: unknown): the edited value is walked only when the bound would pass
    /// the open work meter's output cap, or the delta is not bounded by its own size. On error
    /// `bound` is `None` and the count of undone writes is given.
    #[doc(hidden)]
    pub fn apply_in_place_bounded(
        &self,
        value: &mut Value,
        bound: &mut Option<usize>,
    ) -> Result<Vec<String>, (DeltaError, usize)> {
        self.check_supported().map_err(|e| (e, 0))?;
        let cap = crate::pickle::budget::output_cap();
        let growth = if cap == usize::MAX {
            None
        } else {
            self.w_growth(cap)
        };
        let before = *bound;
        let old = std::mem::replace(value, Value::None);
        let mut e = Engine::new(old, self.dialect, self.compare_func_used, true);
        let outcome = self.run(&mut e).and_then(|()| match &e.root.value {
            // Without a scope nothing is capped (and nothing walked).
            Some(_) if cap == usize::MAX => Ok(()),
            Some(v) => {
                let fast = growth.filter(|_| !e.root.undo.copied_shared() && !e.coerced_tuples());
                bound::check(v, cap, bound, fast)
            }
            None => Err(root_deleted()),
        });
        if outcome.is_err() {
            // The writes are undone: the value encodes as before, so its bound holds again.
            *bound = before;
        }
        match outcome {
            Ok(()) => {
                *value = e.root.value.take().unwrap_or(Value::None);
                Ok(e.logs)
            }
            Err(err) => {
                let undone = e.root.undo.len();
                e.root.undo.rollback(&mut e.root.value);
                *value = e.root.value.take().unwrap_or(Value::None);
                Err((err, undone))
            }
        }
    }

    fn check_supported(&self) -> Result<(), DeltaError> {
        if self.numpy_paths {
            return Err(DeltaError::unsupported(
                "numpy deltas (_numpy_paths) are not supported",
            ));
        }
        Ok(())
    }

    fn result(e: Engine) -> Result<Value, DeltaError> {
        e.root.value.ok_or_else(root_deleted)
    }

    /// `Delta.__add__`, refused when its walks spent the work meter (`pickle::budget`): their
    /// answers are then unreliable, and the writes are undone by the caller.
    fn run(&self, e: &mut Engine) -> Result<(), DeltaError> {
        let outcome = self.run_groups(e);
        if crate::pickle::budget::exhausted() {
            return Err(too_costly());
        }
        outcome
    }

    /// The groups in deepdiff's order.
    fn run_groups(&self, e: &mut Engine) -> Result<(), DeltaError> {
        pyops::reset_work();
        e.values_or_types(&self.values_changed, "values_changed", false)?;
        e.set_items(&self.set_item_added, "set_item_added", true)?;
        e.set_items(&self.set_item_removed, "set_item_removed", false)?;
        e.values_or_types(&self.type_changes, "type_changes", true)?;
        if self.dialect == Dialect::V8_1_1 {
            e.opcodes(&self.iterable_opcodes)?;
        }
        if let Some(removed) = e.merged(
            &self.iterable_item_removed,
            &self.iterable_item_moved,
            "iterable_item_removed",
            None,
        )? {
            e.item_removed(&removed, "iterable_item_removed")?;
        }
        self.items_added(e)?;
        e.ignore_order(&self.items_added_at_indexes, &self.items_removed_at_indexes)?;
        if let Group::Entries(x) = &self.dictionary_item_added {
            if !x.is_empty() {
                e.item_added(x, false, false, "dictionary_item_added")?;
            }
        } else {
            other_group(&self.dictionary_item_added, "dictionary_item_added")?;
        }
        for (group, name, added) in [
            (
                &self.dictionary_item_removed,
                "dictionary_item_removed",
                false,
            ),
            (&self.attribute_added, "attribute_added", true),
            (&self.attribute_removed, "attribute_removed", false),
        ] {
            match group {
                Group::Entries(x) if !x.is_empty() => {
                    if added {
                        e.item_added(x, true, false, name)?;
                    } else {
                        e.item_removed(x, name)?;
                    }
                }
                other => other_group(other, name)?,
            }
        }
        e.post_process()
    }

    fn items_added(&self, e: &mut Engine) -> Result<(), DeltaError> {
        let moved = &self.iterable_item_moved;
        match self.dialect {
            Dialect::V8_1_1 => {
                if let Some(added) = e.merged(
                    &self.iterable_item_added,
                    moved,
                    "iterable_item_added",
                    Some(true),
                )? {
                    e.item_added(&added, true, true, "iterable_item_added")?;
                }
                if let Some(m) =
                    e.merged(&Group::Absent, moved, "iterable_item_moved", Some(false))?
                {
                    e.item_added(&m, true, false, "iterable_item_moved")?;
                }
            }
            Dialect::V5_7_0 => {
                if let Some(added) = e.merged(
                    &self.iterable_item_added,
                    moved,
                    "iterable_item_added",
                    Some(false),
                )? {
                    e.item_added(&added, true, true, "iterable_item_added")?;
                }
            }
        }
        Ok(())
    }
}

/// The refusal of a delta whose walks spent the work meter.
pub(crate) fn too_costly() -> DeltaError {
    DeltaError::unsupported(
        "refused as too costly: walking its values (and the node's) passed the message's work \
         budget (memo references can make a small pickle a huge tree)",
    )
}

/// `self.root` was deleted (`dictionary_item_removed` of `root`): `+` then raises.
fn root_deleted() -> DeltaError {
    DeltaError::raised("AttributeError: 'Delta' object has no attribute 'root'")
}

/// A present, non-dict group: `.items()` raises when it is truthy.
fn other_group(g: &Group, name: &str) -> Result<(), DeltaError> {
    match g {
        Group::Other(v) if pyops::truthy(v) => Err(DeltaError::raised(format!(
            "{name}: AttributeError: '{}' object has no attribute 'items'",
            v.type_name()
        ))),
        _ => Ok(()),
    }
}
