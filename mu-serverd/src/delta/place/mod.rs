//! Where deepdiff's `obj` points while a delta entry is applied, and the builtin item operations
//! on it (`obj[k]`, `obj[k] = v`, `del obj[k]`, `getattr`, `len`, `list.insert`) with Python's
//! exceptions.
//!
//! Python holds references; here a place is either the Delta object itself (whose only attribute
//! is `root`), a position inside the root reached by entry/index steps (written through
//! `Arc::make_mut`, so only shared containers on the touched path are copied), or a *detached*
//! value: a number from `getattr(5, 'real')`, a character of a string, or a list that deepdiff
//! built from a tuple but failed to re-attach. Writes into a detached value behave like Python's
//! and are then lost, exactly as they are in Python. Writes under the root are recorded in the
//! [`UndoLog`] when the delta is applied in place.

mod keys;

pub(super) use keys::key_equals_len;

use super::error::PyErr;
use super::literal::Lit;
use super::path::Elem;
use super::pyops::{dict_find, py_len};
use super::undo::UndoLog;
use crate::pickle::value::Value;
use keys::{as_index, attr_name, data_getattr, dict_key, norm_index, subscript, Sub};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(super) enum Node {
    /// The `Delta` object (`self`): only `self.root` is ever reached.
    Delta,
    /// `root` followed by these steps: a list/tuple index or a dict entry position.
    At(Vec<usize>),
    /// A value not attached to the root.
    Detached(Value),
}

/// The mutable root (`None` once `del self.__dict__['root']` ran).
pub(super) struct Root {
    pub value: Option<Value>,
    /// What undoes each write under the root (inert unless applying in place).
    pub(super) undo: UndoLog,
}

/// Copy-on-write access to a position of the root; every container written through that is
/// shared is recorded first (`last_too`: also the container at `steps` itself).
fn walk_logged<'a>(
    value: &'a mut Option<Value>,
    undo: &mut UndoLog,
    steps: &[usize],
    last_too: bool,
) -> Option<&'a mut Value> {
    let mut cur = value.as_mut()?;
    for (depth, &s) in steps.iter().enumerate() {
        undo.note_shared(cur, &steps[..depth]);
        cur = match cur {
            Value::List(x) | Value::Tuple(x) => Arc::make_mut(x).get_mut(s)?,
            Value::Dict(d) => &mut Arc::make_mut(d).get_mut(s)?.1,
            _ => return None,
        };
    }
    if last_too {
        undo.note_shared(cur, steps);
    }
    Some(cur)
}

impl Root {
    pub(super) fn new(value: Value, record: bool) -> Root {
        Root {
            value: Some(value),
            undo: UndoLog::new(record),
        }
    }

    pub(super) fn get<'a>(&'a self, node: &'a Node) -> Option<&'a Value> {
        match node {
            Node::Delta => None,
            Node::Detached(v) => Some(v),
            Node::At(steps) => {
                let mut cur = self.value.as_ref()?;
                for &s in steps {
                    cur = match cur {
                        Value::List(x) | Value::Tuple(x) => x.get(s)?,
                        Value::Dict(d) => &d.get(s)?.1,
                        _ => return None,
                    };
                }
                Some(cur)
            }
        }
    }

    /// Replaces the value at a position of the root (a slice assignment); false when the
    /// position does not exist.
    pub(super) fn replace(&mut self, steps: &[usize], value: Value) -> bool {
        match walk_logged(&mut self.value, &mut self.undo, steps, false) {
            Some(slot) => {
                let old = std::mem::replace(slot, value);
                self.undo.put_path(steps, old);
                true
            }
            None => false,
        }
    }
}

fn is_root_attr(e: &Elem) -> bool {
    e.attr && matches!(&e.key, Lit::Val(Value::Str(s)) if s.as_bytes() == b"root")
}

impl Root {
    /// `obj[elem]` or `getattr(obj, elem)`.
    pub(super) fn child(&self, node: &Node, e: &Elem) -> Result<Node, PyErr> {
        match node {
            Node::Delta => {
                if is_root_attr(e) && self.value.is_some() {
                    Ok(Node::At(Vec::new()))
                } else if e.attr {
                    Err(PyErr::attr("'Delta' object has no attribute"))
                } else {
                    Err(PyErr::type_err("'Delta' object is not subscriptable"))
                }
            }
            _ => {
                let v = self
                    .get(node)
                    .ok_or_else(|| PyErr::attr("'Delta' object has no attribute 'root'"))?;
                if e.attr {
                    return Ok(Node::Detached(data_getattr(v, &e.key)?));
                }
                match (subscript(v, &e.key)?, node) {
                    (Sub::Made(m), _) => Ok(Node::Detached(m)),
                    (Sub::Pos(i), Node::At(steps)) => {
                        let mut s = Vec::with_capacity(steps.len() + 1);
                        s.extend_from_slice(steps);
                        s.push(i);
                        Ok(Node::At(s))
                    }
                    (Sub::Pos(i), _) => Ok(Node::Detached(match v {
                        Value::List(x) | Value::Tuple(x) => x[i].clone(),
                        Value::Dict(d) => d[i].1.clone(),
                        _ => Value::None,
                    })),
                }
            }
        }
    }

    /// `_get_nested_obj(self, elements)`.
    pub(super) fn walk(&self, elements: &[Elem]) -> Result<Node, PyErr> {
        let mut node = Node::Delta;
        for e in elements {
            node = self.child(&node, e)?;
        }
        Ok(node)
    }

    pub(super) fn value_of(&self, node: &Node) -> Result<Value, PyErr> {
        match node {
            Node::Delta => Err(PyErr::type_err("the Delta object is not a value")),
            _ => self
                .get(node)
                .cloned()
                .ok_or_else(|| PyErr::attr("no root")),
        }
    }

    /// Mutable access to the value a node designates (`None` for the Delta object), with the
    /// path to record writes under (`None` for a detached value: nothing to undo).
    #[allow(clippy::type_complexity)]
    fn target_mut<'a>(
        &'a mut self,
        node: &'a mut Node,
    ) -> Option<(&'a mut Value, Option<&'a [usize]>, &'a mut UndoLog)> {
        let Root { value, undo } = self;
        match node {
            Node::Delta => None,
            Node::Detached(v) => Some((v, None, undo)),
            Node::At(steps) => {
                let target = walk_logged(value, undo, steps, true)?;
                Some((target, Some(&steps[..]), undo))
            }
        }
    }

    /// `obj[elem] = value` / `setattr(obj, elem, value)`.
    pub(super) fn set(&mut self, node: &mut Node, e: &Elem, value: Value) -> Result<(), PyErr> {
        if let Node::Delta = node {
            if is_root_attr(e) {
                let old = self.value.replace(value);
                self.undo.root(old);
                return Ok(());
            }
            return Err(if e.attr {
                PyErr::attr("'Delta' object attribute is read-only")
            } else {
                PyErr::type_err("'Delta' object does not support item assignment")
            });
        }
        let (target, at, undo) = self
            .target_mut(node)
            .ok_or_else(|| PyErr::attr("no root"))?;
        if e.attr {
            attr_name(&e.key)?;
            return Err(PyErr::attr(format!(
                "'{}' object has no attribute",
                target.type_name()
            )));
        }
        match target {
            Value::List(x) => {
                let i = norm_index(as_index(&e.key, "list")?, x.len(), "list assignment")?;
                let old = std::mem::replace(&mut Arc::make_mut(x)[i], value);
                undo.put(at, i, old);
                Ok(())
            }
            Value::Dict(d) => {
                let k = dict_key(&e.key)?;
                match dict_find(d, k)? {
                    Some(i) => {
                        let old = std::mem::replace(&mut Arc::make_mut(d)[i].1, value);
                        undo.put(at, i, old);
                    }
                    None => {
                        let n = d.len();
                        Arc::make_mut(d).push((k.clone(), value));
                        undo.remove(at, n);
                    }
                }
                Ok(())
            }
            other => Err(PyErr::type_err(format!(
                "'{}' object does not support item assignment",
                other.type_name()
            ))),
        }
    }

    /// `del obj[elem]` / `del obj.__dict__[elem]`.
    pub(super) fn delete(&mut self, node: &mut Node, e: &Elem) -> Result<(), PyErr> {
        if let Node::Delta = node {
            if is_root_attr(e) && self.value.is_some() {
                let old = self.value.take();
                self.undo.root(old);
                return Ok(());
            }
            return Err(PyErr::key("root"));
        }
        let (target, at, undo) = self
            .target_mut(node)
            .ok_or_else(|| PyErr::attr("no root"))?;
        if e.attr {
            return Err(PyErr::attr(format!(
                "'{}' object has no attribute '__dict__'",
                target.type_name()
            )));
        }
        match target {
            Value::List(x) => {
                let i = norm_index(as_index(&e.key, "list")?, x.len(), "list assignment")?;
                let old = Arc::make_mut(x).remove(i);
                undo.insert(at, i, old);
                Ok(())
            }
            Value::Dict(d) => match dict_find(d, dict_key(&e.key)?)? {
                Some(i) => {
                    super::pyops::add_work(d.len() - i);
                    let (k, old) = Arc::make_mut(d).remove(i);
                    undo.insert_entry(at, i, k, old);
                    Ok(())
                }
                None => Err(PyErr::key("key not found")),
            },
            other => Err(PyErr::type_err(format!(
                "'{}' object doesn't support item deletion",
                other.type_name()
            ))),
        }
    }

    /// `len(obj)`.
    pub(super) fn len(&self, node: &Node) -> Result<usize, PyErr> {
        match node {
            Node::Delta => Err(PyErr::type_err("object of type 'Delta' has no len()")),
            _ => py_len(self.get(node).ok_or_else(|| PyErr::attr("no root"))?),
        }
    }

    /// `obj.insert(index, value)`.
    pub(super) fn insert(
        &mut self,
        node: &mut Node,
        index: &Lit,
        value: Value,
    ) -> Result<(), PyErr> {
        let type_name = match node {
            Node::Delta => "Delta",
            _ => self.get(node).map(|v| v.type_name()).unwrap_or("NoneType"),
        };
        if type_name != "list" {
            return Err(PyErr::attr(format!(
                "'{type_name}' object has no attribute 'insert'"
            )));
        }
        let idx = match index {
            Lit::Val(Value::BigInt(b)) => {
                if b.0.last().is_some_and(|x| x & 0x80 != 0) {
                    i64::MIN
                } else {
                    i64::MAX
                }
            }
            other => as_index(other, "list")?.unwrap_or(0),
        };
        if let Some((Value::List(x), at, undo)) = self.target_mut(node) {
            let len = x.len() as i64;
            let pos = if idx < 0 {
                (idx.saturating_add(len)).max(0)
            } else {
                idx.min(len)
            };
            Arc::make_mut(x).insert(pos as usize, value);
            undo.remove(at, pos as usize);
        }
        Ok(())
    }

    /// `obj.append(value)` after an IndexError on a list.
    pub(super) fn append(&mut self, node: &mut Node, value: Value) {
        if let Some((Value::List(x), at, undo)) = self.target_mut(node) {
            let n = x.len();
            Arc::make_mut(x).push(value);
            undo.remove(at, n);
        }
    }

    pub(super) fn is_type(&self, node: &Node, name: &str) -> bool {
        match node {
            Node::Delta => false,
            _ => self.get(node).is_some_and(|v| v.type_name() == name),
        }
    }
}
