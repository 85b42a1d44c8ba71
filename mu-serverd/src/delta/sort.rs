//! `sorted(items, key/cmp, reverse=...)` with CPython's comparison sequence.
//!
//! deepdiff sorts group entries by their parsed path; with mixed element types the comparison
//! itself raises, and *whether* it raises depends on which pairs CPython's sort compares. For
//! fewer than 64 items CPython's timsort is one `count_run` plus a binary insertion sort, which
//! is ported here exactly (same comparisons, same order, same stability). Larger inputs use a
//! stable merge sort: identical results for consistent comparators, and an error if any pair it
//! compares raises (CPython might not have compared that pair; see docs/delta.md).

use super::error::PyErr;

/// Sorts `items` in place with `lt` (Python `<`), like `list.sort(reverse=reverse)`.
pub(super) fn py_sort<T, F>(items: &mut [T], reverse: bool, mut lt: F) -> Result<(), PyErr>
where
    F: FnMut(&T, &T) -> Result<bool, PyErr>,
{
    let n = items.len();
    if n < 2 {
        return Ok(());
    }
    if reverse {
        items.reverse();
    }
    let r = if n < 64 {
        small_sort(items, &mut lt)
    } else {
        merge_sort(items, &mut lt)
    };
    if reverse {
        items.reverse();
    }
    r
}

fn small_sort<T, F>(items: &mut [T], lt: &mut F) -> Result<(), PyErr>
where
    F: FnMut(&T, &T) -> Result<bool, PyErr>,
{
    let n = items.len();
    // count_run
    let mut run = 2;
    if lt(&items[1], &items[0])? {
        while run < n && lt(&items[run], &items[run - 1])? {
            run += 1;
        }
        items[..run].reverse();
    } else {
        while run < n && !lt(&items[run], &items[run - 1])? {
            run += 1;
        }
    }
    // binarysort(lo, hi, start=run)
    for start in run..n {
        let (mut l, mut r) = (0usize, start);
        loop {
            let p = l + ((r - l) >> 1);
            if lt(&items[start], &items[p])? {
                r = p;
            } else {
                l = p + 1;
            }
            if l >= r {
                break;
            }
        }
        items[l..=start].rotate_right(1);
    }
    Ok(())
}

/// A plain stable top-down merge sort: unlike `slice::sort_by` it never panics when the
/// comparator is not a total order (deepdiff's fallback comparator is not).
fn merge_sort<T, F>(items: &mut [T], lt: &mut F) -> Result<(), PyErr>
where
    F: FnMut(&T, &T) -> Result<bool, PyErr>,
{
    let n = items.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut buf: Vec<usize> = vec![0; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j, mut k) = (lo, mid, lo);
            while i < mid && j < hi {
                // take from the right run only when strictly smaller: stability
                if lt(&items[order[j]], &items[order[i]])? {
                    buf[k] = order[j];
                    j += 1;
                } else {
                    buf[k] = order[i];
                    i += 1;
                }
                k += 1;
            }
            buf[k..k + (mid - i)].copy_from_slice(&order[i..mid]);
            k += mid - i;
            buf[k..k + (hi - j)].copy_from_slice(&order[j..hi]);
            lo = hi;
        }
        std::mem::swap(&mut order, &mut buf);
        width *= 2;
    }
    apply_permutation(items, order);
    Ok(())
}

/// Rearranges `items` so that position `p` holds the item that was at `order[p]`.
fn apply_permutation<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut cur = start;
        while order[cur] != start {
            let next = order[cur];
            items.swap(cur, next);
            order[cur] = cur;
            cur = next;
        }
        order[cur] = cur;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sort_is_stable_and_sorted() {
        let mut v: Vec<(i32, usize)> = [5, 3, 5, 1, 3, 9, 0].iter().copied().zip(0..).collect();
        py_sort(&mut v, false, |a, b| Ok(a.0 < b.0)).unwrap();
        assert_eq!(v, [(0, 6), (1, 3), (3, 1), (3, 4), (5, 0), (5, 2), (9, 5)]);
        let mut v: Vec<(i32, usize)> = [5, 3, 5, 1].iter().copied().zip(0..).collect();
        py_sort(&mut v, true, |a, b| Ok(a.0 < b.0)).unwrap();
        assert_eq!(v, [(5, 0), (5, 2), (3, 1), (1, 3)]);
        let mut big: Vec<(i32, usize)> = (0..200).map(|i| ((i * 37) % 50, i as usize)).collect();
        py_sort(&mut big, false, |a, b| Ok(a.0 < b.0)).unwrap();
        assert!(big
            .windows(2)
            .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)));
        // an inconsistent comparator must not panic
        let mut odd: Vec<i32> = (0..300).collect();
        let mut flip = false;
        py_sort(&mut odd, false, |_, _| {
            flip = !flip;
            Ok(flip)
        })
        .unwrap();
        assert_eq!(odd.len(), 300);
    }

    #[test]
    fn comparison_errors_propagate() {
        let mut v = [1, 2];
        assert!(py_sort(&mut v, false, |_, _| Err(PyErr::type_err("x"))).is_err());
        let mut one = [1];
        assert!(py_sort(&mut one, false, |_, _| Err(PyErr::type_err("x"))).is_ok());
    }
}
