//! The apply engine: `old + Delta(bytes)` as deepdiff 8.1.1 (or 5.7.0) runs it, step by step.
//!
//! Each function mirrors one method of deepdiff's `Delta` (named in its doc) with the same
//! order of operations, the same exceptions caught (then logged and skipped) and the same ones
//! let through (then `apply` fails). The quirks this reproduces on purpose are listed in
//! docs/delta.md; the unit tests in `tests.rs` pin each of them.

use super::convert::{convert, PyType};
use super::error::{DeltaError, PyErr, PyExc};
use super::literal::Lit;
use super::path::{Dialect, Elem};
use super::place::{key_equals_len, Node, Root};
use super::pyops::py_eq;
use crate::pickle::value::Value;

pub(super) const UNABLE_TO_GET: &str = "Unable to get the item at";

/// Bytes that `bytes(n)` conversions may create in one apply before the delta is refused.
pub(super) const CONVERSION_BUDGET: usize = 64 << 20;

/// List items `_iterable_opcodes` may rebuild in one apply before the delta is refused.
pub(super) const REBUILD_BUDGET: usize = 16_000_000;

/// `_get_elements_and_details`: the parent, the container `obj` and the final element.
pub(super) struct Details {
    pub elements: Vec<Elem>,
    pub parent: Option<Node>,
    pub pelem: Option<Elem>,
    pub obj: Node,
    pub elem: Elem,
}

/// A `post_process_paths_to_convert` entry: the path of a list that was a tuple.
struct PostEntry {
    elements: Vec<Elem>,
}

pub(super) struct Engine {
    pub root: Root,
    pub logs: Vec<String>,
    post: Vec<PostEntry>,
    /// `post` positions by [`elements_hash`]: the map is a Python dict keyed by element tuples.
    post_index: std::collections::HashMap<u64, Vec<usize>>,
    pub dialect: Dialect,
    pub compare_func_used: bool,
    pub(super) conversion_budget: usize,
    pub(super) rebuild_budget: usize,
}

fn elem_eq(a: &Elem, b: &Elem) -> bool {
    a.attr == b.attr
        && match (&a.key, &b.key) {
            (Lit::Val(x), Lit::Val(y)) => py_eq(x, y),
            _ => false,
        }
}

/// A hash of an element tuple consistent with [`elem_eq`].
fn elements_hash(elements: &[Elem]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in elements {
        e.attr.hash(&mut h);
        match &e.key {
            Lit::Val(v) => super::pyops::py_hash(v).hash(&mut h),
            Lit::Opaque { .. } => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

pub(super) fn path_text(path: &Value) -> String {
    match path {
        Value::Str(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        other => super::repr::repr_lossy(other),
    }
}

fn elements_text(elements: &[Elem]) -> String {
    let parts: Vec<String> = elements.iter().map(|e| format!("{:?}", e.key)).collect();
    format!("({})", parts.join(", "))
}

/// What `'.'.join([i[0] for i in path])` does to a pre-parsed path: fails on non-str elements.
fn join_fails(elements: &[Elem]) -> bool {
    elements
        .iter()
        .any(|e| !matches!(&e.key, Lit::Val(Value::Str(_))))
}

impl Engine {
    /// `record`: keep an undo log so that a failed apply can give `old` back unchanged.
    pub(super) fn new(
        old: Value,
        dialect: Dialect,
        compare_func_used: bool,
        record: bool,
    ) -> Engine {
        Engine {
            root: Root::new(old, record),
            logs: Vec::new(),
            post: Vec::new(),
            post_index: std::collections::HashMap::new(),
            dialect,
            compare_func_used,
            conversion_budget: CONVERSION_BUDGET,
            rebuild_budget: REBUILD_BUDGET,
        }
    }

    pub(super) fn log(&mut self, msg: String) {
        self.logs.push(msg);
    }

    /// `_get_elements_and_details(path)`; `Ok(None)` when deepdiff logs and skips.
    pub(super) fn details(
        &mut self,
        text: &str,
        elements: &Result<Vec<Elem>, PyErr>,
    ) -> Result<Option<Details>, DeltaError> {
        if crate::pickle::budget::exhausted() {
            return Err(super::too_costly());
        }
        if super::pyops::work_exceeded() {
            return Err(DeltaError::unsupported(format!(
                "at {text}: more than {} dict entries scanned; refused as too costly",
                super::pyops::WORK_BUDGET
            )));
        }
        let elements = match elements {
            Ok(e) => e.clone(),
            Err(e) if e.exc == PyExc::Unsupported => return Err(e.clone().raise(text)),
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        let n = elements.len();
        let Some(elem) = elements.last().cloned() else {
            self.log(format!("{UNABLE_TO_GET} {text}: empty path"));
            return Ok(None);
        };
        if n == 1 {
            return Ok(Some(Details {
                elements,
                parent: None,
                pelem: None,
                obj: Node::Delta,
                elem,
            }));
        }
        let parent = match self.root.walk(&elements[..n - 2]) {
            Ok(p) => p,
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        let pelem = elements[n - 2].clone();
        let obj = match self.root.child(&parent, &pelem) {
            Ok(o) => o,
            Err(e) => {
                self.log(format!("{UNABLE_TO_GET} {text}: {e}"));
                return Ok(None);
            }
        };
        Ok(Some(Details {
            elements,
            parent: Some(parent),
            pelem: Some(pelem),
            obj,
            elem,
        }))
    }

    /// `_simple_set_elem_value`; returns whether the value was stored.
    pub(super) fn simple_set(
        &mut self,
        node: &mut Node,
        e: &Elem,
        value: Value,
        text: &str,
    ) -> Result<bool, DeltaError> {
        match self.root.set(node, e, value.clone()) {
            Ok(()) => Ok(true),
            Err(err) if err.exc == PyExc::IndexError && !e.attr => {
                let len = self.root.len(node).unwrap_or(usize::MAX);
                if key_equals_len(&e.key, len) {
                    self.root.append(node, value);
                    Ok(true)
                } else {
                    self.log(format!(
                        "Key or index of {:?} is not found for {text} for setting operation.",
                        e.key
                    ));
                    Ok(false)
                }
            }
            Err(err) if err.is_lookup_like() => {
                self.log(format!("Failed to set {text} due to {err}"));
                Ok(false)
            }
            Err(err) => Err(err.raise(text)),
        }
    }

    /// `_simple_delete_elem`: KeyError/IndexError/AttributeError are logged, TypeError raises.
    pub(super) fn simple_delete(
        &mut self,
        node: &mut Node,
        e: &Elem,
        text: &str,
    ) -> Result<(), DeltaError> {
        match self.root.delete(node, e) {
            Ok(()) => Ok(()),
            Err(err)
                if matches!(
                    err.exc,
                    PyExc::KeyError | PyExc::IndexError | PyExc::AttributeError
                ) =>
            {
                self.log(format!("Failed to set {text} due to {err}"));
                Ok(())
            }
            Err(err) => Err(err.raise(text)),
        }
    }

    pub(super) fn post_insert(&mut self, elements: &[Elem]) {
        let key = &elements[..elements.len().saturating_sub(1)];
        let h = elements_hash(key);
        let bucket = self.post_index.entry(h).or_default();
        let exists = bucket.iter().any(|&i| {
            let p = &self.post[i];
            p.elements.len() == key.len() && p.elements.iter().zip(key).all(|(a, b)| elem_eq(a, b))
        });
        if !exists {
            bucket.push(self.post.len());
            self.post.push(PostEntry {
                elements: key.to_vec(),
            });
        }
    }

    pub(super) fn tuple_items(&self, node: &Node) -> Option<Vec<Value>> {
        match self.root.get(node) {
            Some(Value::Tuple(t)) => Some(t.to_vec()),
            _ => None,
        }
    }

    /// Whether a tuple was coerced to a list (and is put back as a new tuple by post-processing).
    pub(super) fn coerced_tuples(&self) -> bool {
        !self.post.is_empty()
    }

    /// `_set_new_value`: coerces a tuple container to a list first (`_coerce_obj`).
    pub(super) fn set_new_value(
        &mut self,
        d: &Details,
        value: Value,
        text: &str,
    ) -> Result<(), DeltaError> {
        let mut obj = d.obj.clone();
        if let Some(items) = self.tuple_items(&obj) {
            self.post_insert(&d.elements);
            let list = Value::list(items);
            let stored = match (&d.parent, &d.pelem) {
                (Some(parent), Some(pelem)) => {
                    let mut p = parent.clone();
                    let attached = matches!(p, Node::At(_) | Node::Delta);
                    self.simple_set(&mut p, pelem, list.clone(), text)? && attached
                }
                _ => false,
            };
            if !(stored && matches!(obj, Node::At(_))) {
                obj = Node::Detached(list);
            }
        }
        self.simple_set(&mut obj, &d.elem, value, text)?;
        Ok(())
    }

    /// `_del_elem`: a tuple container becomes a list, loses the item, and is put back.
    pub(super) fn del_elem(
        &mut self,
        d: &Details,
        elem: &Elem,
        text: &str,
    ) -> Result<(), DeltaError> {
        if let Some(items) = self.tuple_items(&d.obj) {
            self.post_insert(&d.elements);
            let mut local = Node::Detached(Value::list(items));
            self.simple_delete(&mut local, elem, text)?;
            if let (Some(parent), Some(pelem), Node::Detached(v)) = (&d.parent, &d.pelem, local) {
                let mut p = parent.clone();
                self.simple_set(&mut p, pelem, v, text)?;
            }
            return Ok(());
        }
        let mut obj = d.obj.clone();
        self.simple_delete(&mut obj, elem, text)
    }

    /// A group that is present but not a dict: `x.items()` raises when `x` is truthy.
    pub(super) fn post_process(&mut self) -> Result<(), DeltaError> {
        if self.post.is_empty() {
            return Ok(());
        }
        let size0 = self.post.len();
        let mut pos = 0;
        loop {
            match self.dialect {
                Dialect::V8_1_1 => {
                    if self.post.len() != size0 {
                        return Err(DeltaError::raised(
                            "post-process: RuntimeError: dictionary changed size during iteration",
                        ));
                    }
                    if pos >= self.post.len() {
                        break;
                    }
                }
                Dialect::V5_7_0 => {
                    if pos >= size0 {
                        break;
                    }
                    if self.post.len() != size0 {
                        return Err(DeltaError::raised(
                            "post-process: RuntimeError: OrderedDict mutated during iteration",
                        ));
                    }
                }
            }
            let elements = self.post[pos].elements.clone();
            pos += 1;
            self.post_one(&elements)?;
        }
        Ok(())
    }

    fn post_one(&mut self, elements: &[Elem]) -> Result<(), DeltaError> {
        let text = elements_text(elements);
        let Some(d) = self.details(&text, &Ok(elements.to_vec()))? else {
            return Ok(());
        };
        let current = match self.root.child(&d.obj, &d.elem) {
            Ok(c) => self.root.value_of(&c).map_err(|e| e.raise(&text))?,
            Err(_) => {
                if join_fails(elements) {
                    return Err(DeltaError::raised(format!(
                        "post-process {text}: TypeError: sequence item: expected str instance"
                    )));
                }
                self.log(format!("{UNABLE_TO_GET} {text}"));
                return Ok(());
            }
        };
        match convert(&PyType::Tuple, &current) {
            Ok(v) => self.set_new_value(&d, v, &text),
            Err(e) => self.type_change_failed(&d, &text, e),
        }
    }
}
