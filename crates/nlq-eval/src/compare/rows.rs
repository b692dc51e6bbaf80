//! Row pairing: multiset (or sequence) equality of projected rows, with numeric tolerance.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::*;
// ---------------------------------------------------------------------------------------------
// Row pairing (multiset equality with tolerance)

pub(super) enum Pairing {
    Paired,
    Unpaired(String),
    GaveUp,
}

/// One side of a row pairing: a table seen through a projection of its columns.
#[derive(Clone, Copy)]
pub(super) struct Side<'t> {
    pub(super) table: &'t Table,
    pub(super) columns: &'t [usize],
}

impl<'t> Side<'t> {
    /// The cell at position `p` of the projection, in `row`.
    pub(super) fn cell(self, row: usize, p: usize) -> &'t Cell {
        &self.table.columns[self.columns[p]][row]
    }

    pub(super) fn exact_key(self, row: usize) -> Vec<ExactPart<'t>> {
        (0..self.columns.len())
            .map(|p| self.cell(row, p).exact_part())
            .collect()
    }

    pub(super) fn show(self, row: usize) -> String {
        self.table.show_row(row, self.columns)
    }

    /// Orders two rows by their cells at the numeric positions.
    pub(super) fn order_by(self, numeric: &[usize], x: usize, y: usize) -> Ordering {
        numeric
            .iter()
            .map(|&p| self.cell(x, p).order(self.cell(y, p)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// Whether the gold rows projected on `gold_cols` and the answer rows projected on
/// `answer_cols` are equal as multisets, numbers within tolerance.
pub(super) fn pair_rows(
    gold: &Table,
    gold_cols: &[usize],
    answer: &Table,
    answer_cols: &[usize],
    steps_left: &mut usize,
) -> Pairing {
    let gold = Side {
        table: gold,
        columns: gold_cols,
    };
    let answer = Side {
        table: answer,
        columns: answer_cols,
    };
    // Groups of rows with equal exact parts, in order of first appearance in gold.
    let mut group_of: HashMap<Vec<ExactPart<'_>>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for row in 0..gold.table.rows {
        let next = groups.len();
        let index = *group_of.entry(gold.exact_key(row)).or_insert(next);
        if index == next {
            groups.push((Vec::new(), Vec::new()));
        }
        groups[index].0.push(row);
    }
    // An answer row whose exact parts no gold row has: since the row counts are equal, some
    // gold group is then short of answer rows, which makes the better message below.
    let mut orphan = None;
    for row in 0..answer.table.rows {
        match group_of.get(&answer.exact_key(row)) {
            Some(&index) => groups[index].1.push(row),
            None => orphan = orphan.or(Some(row)),
        }
    }
    if let Some(row) = orphan
        && groups.iter().all(|(g, a)| g.len() == a.len())
    {
        return Pairing::Unpaired(format!(
            "answer row {} has no match in gold",
            answer.show(row)
        ));
    }

    for (gold_rows, answer_rows) in &mut groups {
        if gold_rows.len() != answer_rows.len() {
            let (more, example, fewer) = if gold_rows.len() > answer_rows.len() {
                ("gold", gold.show(gold_rows[0]), "answer")
            } else {
                ("answer", answer.show(answer_rows[0]), "gold")
            };
            let most = gold_rows.len().max(answer_rows.len());
            let least = gold_rows.len().min(answer_rows.len());
            return Pairing::Unpaired(format!(
                "{more} has {most} row(s) like {example}, {fewer} has {least}"
            ));
        }
        // Positions (within the projection) holding numbers: the same for every row of a group.
        let numeric: Vec<usize> = (0..gold_cols.len())
            .filter(|&p| matches!(gold.cell(gold_rows[0], p), Cell::Num { .. }))
            .collect();
        if numeric.is_empty() {
            continue;
        }
        gold_rows.sort_by(|&x, &y| gold.order_by(&numeric, x, y));
        answer_rows.sort_by(|&x, &y| answer.order_by(&numeric, x, y));
        let rows_match = |g: usize, a: usize| {
            numeric
                .iter()
                .all(|&p| gold.cell(g, p).matches(answer.cell(a, p)))
        };
        let sorted_miss = gold_rows
            .iter()
            .zip(answer_rows.iter())
            .position(|(&g, &a)| !rows_match(g, a));
        let Some(miss) = sorted_miss else {
            continue;
        };
        // One number per row: sorting is exact, the miss is real. Otherwise near-equal values
        // may have sorted differently on the two sides: match properly.
        let unmatched = if numeric.len() == 1 {
            Some(gold_rows[miss])
        } else {
            let pivot = numeric[0];
            let pairs = Pairs {
                gold_rows,
                answer_rows,
                pivot_gold: &|row| gold.cell(row, pivot),
                pivot_answer: &|row| answer.cell(row, pivot),
                rows_match: &rows_match,
            };
            match pairs.unmatched(steps_left) {
                Ok(unmatched) => unmatched,
                Err(GaveUp) => return Pairing::GaveUp,
            }
        };
        if let Some(row) = unmatched {
            return Pairing::Unpaired(format!(
                "gold row {} has no match in the answer",
                gold.show(row)
            ));
        }
    }
    Pairing::Paired
}

pub(super) struct GaveUp;

/// The bipartite graph of one group: gold rows and answer rows (both sorted by their numbers,
/// so ascending in the pivot, their first numeric position), joined where the rows match.
pub(super) struct Pairs<'a, 't> {
    pub(super) gold_rows: &'a [usize],
    pub(super) answer_rows: &'a [usize],
    pub(super) pivot_gold: &'a dyn Fn(usize) -> &'t Cell,
    pub(super) pivot_answer: &'a dyn Fn(usize) -> &'t Cell,
    pub(super) rows_match: &'a dyn Fn(usize, usize) -> bool,
}

impl Pairs<'_, '_> {
    /// Maximum bipartite matching; returns a gold row it leaves unmatched.
    pub(super) fn unmatched(&self, steps_left: &mut usize) -> Result<Option<usize>, GaveUp> {
        let mut spend = || -> Result<(), GaveUp> {
            *steps_left = steps_left.checked_sub(1).ok_or(GaveUp)?;
            Ok(())
        };
        // Edges: the answer rows whose pivot is within tolerance of a gold row's form a
        // contiguous run of the sorted answer rows; scan it and keep the rows that match on
        // every number.
        let mut adjacency: Vec<Vec<usize>> = Vec::with_capacity(self.gold_rows.len());
        for &g in self.gold_rows {
            let pivot = (self.pivot_gold)(g);
            let start = self.answer_rows.partition_point(|&a| {
                let cell = (self.pivot_answer)(a);
                cell.order(pivot).is_lt() && !cell.matches(pivot)
            });
            let mut edges = Vec::new();
            for (j, &a) in self.answer_rows.iter().enumerate().skip(start) {
                let cell = (self.pivot_answer)(a);
                if cell.order(pivot).is_gt() && !cell.matches(pivot) {
                    break;
                }
                spend()?;
                if (self.rows_match)(g, a) {
                    edges.push(j);
                }
            }
            adjacency.push(edges);
        }

        const FREE: usize = usize::MAX;
        let mut owner = vec![FREE; self.answer_rows.len()];
        let mut matched = vec![false; self.gold_rows.len()];
        // Greedy first: most rows pair with their first free candidate.
        for (u, edges) in adjacency.iter().enumerate() {
            if let Some(&v) = edges.iter().find(|&&v| owner[v] == FREE) {
                owner[v] = u;
                matched[u] = true;
            }
        }
        // Then augmenting paths (Kuhn), iteratively so that long paths cannot overflow the
        // stack. `via[k]` is the answer row frame `k` reached frame `k + 1` through.
        let mut seen = vec![FREE; self.answer_rows.len()];
        for (root, &done) in matched.iter().enumerate() {
            if done {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            let mut via: Vec<usize> = Vec::new();
            let mut augmented = false;
            while let Some(frame) = stack.last_mut() {
                let (u, next) = *frame;
                if next == adjacency[u].len() {
                    stack.pop();
                    via.pop();
                    continue;
                }
                frame.1 += 1;
                spend()?;
                let v = adjacency[u][next];
                if seen[v] == root {
                    continue;
                }
                seen[v] = root;
                via.push(v);
                if owner[v] == FREE {
                    // Flip the path: every gold row on the stack takes the answer row after it.
                    for (k, &(uk, _)) in stack.iter().enumerate() {
                        owner[via[k]] = uk;
                    }
                    augmented = true;
                    break;
                }
                stack.push((owner[v], 0));
            }
            if !augmented {
                return Ok(Some(self.gold_rows[root]));
            }
        }
        Ok(None)
    }
}
