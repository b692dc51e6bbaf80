//! Is the answer's result the gold result? Compared by values, never by names or SQL text.
//!
//! Rules:
//! - Row counts must be equal. A result cut short by the row cap never matches (what was cut
//!   off is unknown).
//! - Every gold column must match a distinct answer column by its values; column names and
//!   order are ignored and the answer may have extra columns.
//! - Rows are compared as multisets (duplicates count), or as sequences when `order_matters`.
//! - Numbers (`INT64`, `FLOAT64`, `NUMERIC` text) compare with each other as numbers, within
//!   [`RELATIVE_TOLERANCE`] (plus [`ABSOLUTE_TOLERANCE`] near zero) — except that two `INT64`s
//!   compare exactly: integers carry no rounding noise, so a count that is off by one is wrong
//!   however large it is. NaN equals NaN, infinities equal themselves.
//! - `NULL` equals only `NULL`.
//! - Everything else compares by its display text, so a `DATE` matches a `STRING` holding the
//!   same `YYYY-MM-DD`, and a `BOOL` matches the strings `true` / `false`. Arrays and structs
//!   compare by their JSON text (no tolerance inside them).
//!
//! Algorithm: canonicalize both results column by column; a gold column's candidates are the
//! answer columns holding the same multiset of values (or the same sequence, when order
//! matters); then a backtracking search assigns distinct candidates to gold columns, pruning a
//! partial assignment as soon as its projected rows stop pairing up. Rows pair up when, grouped
//! by their exact (non-numeric) parts, each group has the same size on both sides and its
//! numeric parts pair within tolerance: first by sorting both sides (exact for one numeric
//! column, and the common case for more), then, if sorting misses, by bipartite matching.
//!
//! Limits: the search is budgeted (a few hundred column assignments, tens of millions of
//! row-pairing steps). Results with many interchangeable columns *and* many near-equal numeric
//! rows can exhaust it, and then the comparison reports no match and says it gave up. Sorting
//! is exact for one numeric column because tolerance intervals grow with the value; with mixed
//! exact / tolerant numeric types in one column it is merely the common case.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use nlq_core::{QueryResult, Value};
use serde::{Deserialize, Serialize};

/// Two numbers are equal when they differ by at most this fraction of the larger one ...
pub const RELATIVE_TOLERANCE: f64 = 1e-6;
/// ... plus this much, so that values near zero (`1e-12` vs `0`) compare equal.
pub const ABSOLUTE_TOLERANCE: f64 = 1e-9;

/// Column assignments the search may check before it gives up.
const MAX_ASSIGNMENT_CHECKS: usize = 256;
/// Row-pairing steps (candidate scans and augmenting-path steps) before the search gives up.
const MAX_PAIRING_STEPS: usize = 20_000_000;
/// Longest value shown in a reason.
const MAX_SHOWN_CHARS: usize = 60;

/// The verdict of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub matched: bool,
    /// When matched: which answer column holds each gold column. Otherwise: why not, with an
    /// example value or row.
    pub reason: String,
    /// One entry per gold column. When matched: the answer column index holding it. Otherwise:
    /// the first answer column whose values alone match it, if any (a hint, not necessarily
    /// one-to-one); all `None` when the shapes already differ.
    pub mapping: Vec<Option<usize>>,
}

/// Whether two numbers are equal within the tolerance.
pub fn numbers_equal(a: f64, b: f64) -> bool {
    a == b
        || (a.is_nan() && b.is_nan())
        || (a.is_finite() && b.is_finite())
            && (a - b).abs() <= RELATIVE_TOLERANCE * a.abs().max(b.abs()) + ABSOLUTE_TOLERANCE
}

/// Compares an answer's result with the gold result (see the module documentation for the
/// rules).
pub fn compare(gold: &QueryResult, answer: &QueryResult, order_matters: bool) -> Comparison {
    let width = gold.columns.len();
    let no_match = |reason: String| Comparison {
        matched: false,
        reason,
        mapping: vec![None; width],
    };
    if gold.truncated {
        return no_match("the gold result was cut short by the row cap".into());
    }
    if answer.truncated {
        return no_match("the answer result was cut short by the row cap".into());
    }
    if gold.rows.len() != answer.rows.len() {
        return no_match(format!(
            "row count differs: gold has {}, answer has {}",
            rows(gold.rows.len()),
            answer.rows.len()
        ));
    }
    if answer.columns.len() < width {
        return no_match(format!(
            "answer has {} but gold has {}",
            columns(answer.columns.len()),
            columns(width)
        ));
    }

    let gold_t = Table::new(gold);
    let answer_t = Table::new(answer);
    let gold_sorted = gold_t.sorted_columns();
    let answer_sorted = answer_t.sorted_columns();
    let same_values = |g: usize, a: usize| cells_equal(&gold_sorted[g], &answer_sorted[a]);
    let candidates: Vec<Vec<usize>> = (0..width)
        .map(|g| {
            (0..answer_t.width())
                .filter(|&a| {
                    if order_matters {
                        cells_equal(&gold_t.columns[g], &answer_t.columns[a])
                    } else {
                        same_values(g, a)
                    }
                })
                .collect()
        })
        .collect();
    let hint: Vec<Option<usize>> = candidates.iter().map(|c| c.first().copied()).collect();
    let no_match_hint = |reason: String| Comparison {
        matched: false,
        reason,
        mapping: hint.clone(),
    };

    if let Some(g) = candidates.iter().position(Vec::is_empty) {
        let name = &gold_t.names[g];
        let same_set = (0..answer_t.width()).find(|&a| same_values(g, a));
        let reason = match same_set {
            // Only possible when order matters.
            Some(a) => format!(
                "answer column #{a} `{}` holds the values of gold column `{name}` but in a \
                 different row order, and the order matters",
                answer_t.names[a]
            ),
            None => {
                let mut reason =
                    format!("no answer column holds the values of gold column `{name}`");
                if let Some(a) = answer_t.column_named(name) {
                    reason.push_str(&first_difference(
                        &gold_sorted[g],
                        &answer_sorted[a],
                        &answer_t.names[a],
                    ));
                }
                reason
            }
        };
        return no_match_hint(reason);
    }

    let mut search = Search::new(&gold_t, &answer_t, &candidates, order_matters);
    match search.run() {
        Found::Yes(assignment) => {
            let mapping: Vec<Option<usize>> = assignment.iter().copied().map(Some).collect();
            let pairs: Vec<String> = assignment
                .iter()
                .enumerate()
                .map(|(g, &a)| format!("{} -> #{a} {}", gold_t.names[g], answer_t.names[a]))
                .collect();
            Comparison {
                matched: true,
                reason: format!("matched ({})", pairs.join(", ")),
                mapping,
            }
        }
        Found::No => {
            let reason = match search.first_row_mismatch {
                Some(rows) => format!(
                    "every gold column matches an answer column by its values, but the rows do \
                     not pair up: {rows}"
                ),
                None => {
                    let lists: Vec<String> = candidates
                        .iter()
                        .enumerate()
                        .map(|(g, c)| {
                            let names: Vec<String> = c
                                .iter()
                                .map(|&a| format!("#{a} {}", answer_t.names[a]))
                                .collect();
                            format!("{} -> {{{}}}", gold_t.names[g], names.join(", "))
                        })
                        .collect();
                    format!(
                        "gold columns cannot each get their own answer column (candidates: {})",
                        lists.join("; ")
                    )
                }
            };
            no_match_hint(reason)
        }
        Found::GaveUp => no_match_hint(
            "gave up: too many interchangeable columns or near-equal rows to pair up within \
             the search budget"
                .into(),
        ),
    }
}

fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

fn columns(n: usize) -> String {
    if n == 1 {
        "1 column".into()
    } else {
        format!("{n} columns")
    }
}

/// `; answer column `x` differs first at sorted value #i: gold 1.5 vs answer 1.6`.
fn first_difference(gold: &[Cell], answer: &[Cell], answer_name: &str) -> String {
    match gold.iter().zip(answer).position(|(g, a)| !g.matches(a)) {
        Some(i) => format!(
            "; answer column `{answer_name}` differs first at sorted value #{}: gold {} vs answer {}",
            i + 1,
            gold[i],
            answer[i]
        ),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Canonical cells

/// A value reduced to what comparison looks at.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    /// A finite number; `int` is set for `INT64`, which compares exactly with another `INT64`.
    Num {
        value: f64,
        int: Option<i64>,
    },
    /// Anything else, by its display text (non-finite floats included: `NaN`, `inf`).
    Text(String),
}

impl Cell {
    fn new(value: &Value) -> Cell {
        match value {
            Value::Null => Cell::Null,
            Value::Int64(i) => Cell::Num {
                value: *i as f64,
                int: Some(*i),
            },
            other => match other.as_f64() {
                Some(x) if x.is_finite() => Cell::Num {
                    // -0.0 and 0.0 are one value.
                    value: if x == 0.0 { 0.0 } else { x },
                    int: None,
                },
                _ => Cell::Text(other.to_string()),
            },
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Cell::Null => 0,
            Cell::Num { .. } => 1,
            Cell::Text(_) => 2,
        }
    }

    /// A total order consistent with [`Cell::matches`] in the sense that matching values sort
    /// next to each other: NULL, then numbers ascending, then text.
    fn order(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Num { value: a, int: ia }, Cell::Num { value: b, int: ib }) => {
                a.total_cmp(b).then_with(|| ia.cmp(ib))
            }
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// Equality with the numeric tolerance.
    fn matches(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Num { int: Some(a), .. }, Cell::Num { int: Some(b), .. }) => a == b,
            (Cell::Num { value: a, .. }, Cell::Num { value: b, .. }) => numbers_equal(*a, *b),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            _ => false,
        }
    }

    /// The part of the cell that must be equal exactly (everything but a number's value).
    fn exact_part(&self) -> ExactPart<'_> {
        match self {
            Cell::Null => ExactPart::Null,
            Cell::Num { .. } => ExactPart::Num,
            Cell::Text(s) => ExactPart::Text(s),
        }
    }

    /// Identical, not merely equal within tolerance (used to find interchangeable columns).
    fn identical(&self, other: &Cell) -> bool {
        self.order(other) == Ordering::Equal
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Num { int: Some(i), .. } => write!(f, "{i}"),
            Cell::Num { value, .. } => write!(f, "{value}"),
            Cell::Text(s) if s.chars().count() > MAX_SHOWN_CHARS => {
                let cut: String = s.chars().take(MAX_SHOWN_CHARS).collect();
                write!(f, "{cut:?}…")
            }
            Cell::Text(s) => write!(f, "{s:?}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ExactPart<'a> {
    Null,
    Num,
    Text(&'a str),
}

fn cells_equal(a: &[Cell], b: &[Cell]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.matches(y))
}

/// A result as canonical columns.
struct Table {
    names: Vec<String>,
    columns: Vec<Vec<Cell>>,
    rows: usize,
}

impl Table {
    /// Missing cells of a short row read as NULL; extra cells are ignored.
    fn new(result: &QueryResult) -> Table {
        let columns = (0..result.columns.len())
            .map(|c| {
                result
                    .rows
                    .iter()
                    .map(|row| row.get(c).map_or(Cell::Null, Cell::new))
                    .collect()
            })
            .collect();
        Table {
            names: result.columns.iter().map(|c| c.name.clone()).collect(),
            columns,
            rows: result.rows.len(),
        }
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn sorted_columns(&self) -> Vec<Vec<Cell>> {
        self.columns
            .iter()
            .map(|column| {
                let mut sorted = column.clone();
                sorted.sort_by(Cell::order);
                sorted
            })
            .collect()
    }

    fn column_named(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    fn show_row(&self, row: usize, columns: &[usize]) -> String {
        let cells: Vec<String> = columns
            .iter()
            .map(|&c| self.columns[c][row].to_string())
            .collect();
        format!("({})", cells.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------
// Column assignment search

enum Found {
    Yes(Vec<usize>),
    No,
    GaveUp,
}

struct Search<'a> {
    gold: &'a Table,
    answer: &'a Table,
    candidates: &'a [Vec<usize>],
    order_matters: bool,
    /// Gold columns in the order they are assigned: fewest candidates first.
    order: Vec<usize>,
    /// For each answer column, the lowest index of a column identical to it.
    twin_of: Vec<usize>,
    used: Vec<bool>,
    assignment: Vec<usize>,
    checks_left: usize,
    steps_left: usize,
    first_row_mismatch: Option<String>,
}

impl<'a> Search<'a> {
    fn new(
        gold: &'a Table,
        answer: &'a Table,
        candidates: &'a [Vec<usize>],
        order_matters: bool,
    ) -> Search<'a> {
        let mut order: Vec<usize> = (0..gold.width()).collect();
        order.sort_by_key(|&g| candidates[g].len());
        let twin_of = (0..answer.width())
            .map(|a| {
                (0..a)
                    .find(|&b| {
                        answer.columns[a]
                            .iter()
                            .zip(&answer.columns[b])
                            .all(|(x, y)| x.identical(y))
                    })
                    .unwrap_or(a)
            })
            .collect();
        Search {
            gold,
            answer,
            candidates,
            order_matters,
            order,
            twin_of,
            used: vec![false; answer.width()],
            assignment: vec![usize::MAX; gold.width()],
            checks_left: MAX_ASSIGNMENT_CHECKS,
            steps_left: MAX_PAIRING_STEPS,
            first_row_mismatch: None,
        }
    }

    fn run(&mut self) -> Found {
        match self.extend(0) {
            Step::Found => Found::Yes(self.assignment.clone()),
            Step::Dead => Found::No,
            Step::GaveUp => Found::GaveUp,
        }
    }

    fn extend(&mut self, depth: usize) -> Step {
        if depth == self.order.len() {
            // Every prefix of two or more columns was checked as it was built; a lone column
            // (or none) pairs up by construction of its candidates.
            return Step::Found;
        }
        let g = self.order[depth];
        for &a in &self.candidates[g] {
            if self.used[a] {
                continue;
            }
            // Identical answer columns are interchangeable: only try the first unused one.
            let twin = self.twin_of[a];
            if (twin..a).any(|b| self.twin_of[b] == twin && !self.used[b]) {
                continue;
            }
            self.used[a] = true;
            self.assignment[g] = a;
            let step = match self.check_prefix(depth + 1) {
                Step::Found => self.extend(depth + 1),
                other => other,
            };
            self.used[a] = false;
            match step {
                Step::Found => return Step::Found,
                Step::GaveUp => return Step::GaveUp,
                Step::Dead => {}
            }
        }
        self.assignment[g] = usize::MAX;
        Step::Dead
    }

    /// Whether the rows projected on the first `len` assigned gold columns still pair up.
    fn check_prefix(&mut self, len: usize) -> Step {
        // With order mattering, each candidate is equal row by row, so any prefix pairs up.
        if self.order_matters || len < 2 {
            return Step::Found;
        }
        if self.checks_left == 0 {
            return Step::GaveUp;
        }
        self.checks_left -= 1;
        let gold_cols: Vec<usize> = self.order[..len].to_vec();
        let answer_cols: Vec<usize> = gold_cols.iter().map(|&g| self.assignment[g]).collect();
        match pair_rows(
            self.gold,
            &gold_cols,
            self.answer,
            &answer_cols,
            &mut self.steps_left,
        ) {
            Pairing::Paired => Step::Found,
            Pairing::Unpaired(why) => {
                // Report the first mismatch: that of the most natural (first tried) assignment.
                if self.first_row_mismatch.is_none() {
                    self.first_row_mismatch = Some(why);
                }
                Step::Dead
            }
            Pairing::GaveUp => Step::GaveUp,
        }
    }
}

enum Step {
    Found,
    Dead,
    GaveUp,
}

// ---------------------------------------------------------------------------------------------
// Row pairing (multiset equality with tolerance)

enum Pairing {
    Paired,
    Unpaired(String),
    GaveUp,
}

/// One side of a row pairing: a table seen through a projection of its columns.
#[derive(Clone, Copy)]
struct Side<'t> {
    table: &'t Table,
    columns: &'t [usize],
}

impl<'t> Side<'t> {
    /// The cell at position `p` of the projection, in `row`.
    fn cell(self, row: usize, p: usize) -> &'t Cell {
        &self.table.columns[self.columns[p]][row]
    }

    fn exact_key(self, row: usize) -> Vec<ExactPart<'t>> {
        (0..self.columns.len())
            .map(|p| self.cell(row, p).exact_part())
            .collect()
    }

    fn show(self, row: usize) -> String {
        self.table.show_row(row, self.columns)
    }

    /// Orders two rows by their cells at the numeric positions.
    fn order_by(self, numeric: &[usize], x: usize, y: usize) -> Ordering {
        numeric
            .iter()
            .map(|&p| self.cell(x, p).order(self.cell(y, p)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// Whether the gold rows projected on `gold_cols` and the answer rows projected on
/// `answer_cols` are equal as multisets, numbers within tolerance.
fn pair_rows(
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

struct GaveUp;

/// The bipartite graph of one group: gold rows and answer rows (both sorted by their numbers,
/// so ascending in the pivot, their first numeric position), joined where the rows match.
struct Pairs<'a, 't> {
    gold_rows: &'a [usize],
    answer_rows: &'a [usize],
    pivot_gold: &'a dyn Fn(usize) -> &'t Cell,
    pivot_answer: &'a dyn Fn(usize) -> &'t Cell,
    rows_match: &'a dyn Fn(usize, usize) -> bool,
}

impl Pairs<'_, '_> {
    /// Maximum bipartite matching; returns a gold row it leaves unmatched.
    fn unmatched(&self, steps_left: &mut usize) -> Result<Option<usize>, GaveUp> {
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

#[cfg(test)]
mod tests {
    use nlq_core::{BqType, Column};

    use super::*;

    fn result(names: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: names
                .iter()
                .map(|n| Column {
                    name: (*n).to_string(),
                    ty: BqType::String,
                })
                .collect(),
            rows,
            bytes_processed: 0,
            elapsed_ms: 0,
            tables_read: Vec::new(),
            truncated: false,
        }
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }
    fn i(v: i64) -> Value {
        Value::Int64(v)
    }
    fn f(v: f64) -> Value {
        Value::Float64(v)
    }
    fn n(v: &str) -> Value {
        Value::Numeric(v.into())
    }
    fn d(v: &str) -> Value {
        Value::Date(v.into())
    }

    fn sources() -> QueryResult {
        result(
            &["source", "users"],
            vec![
                vec![s("google"), i(30)],
                vec![s("(direct)"), i(20)],
                vec![s("baidu"), i(10)],
            ],
        )
    }

    fn assert_match(gold: &QueryResult, answer: &QueryResult, order: bool) -> Comparison {
        let c = compare(gold, answer, order);
        assert!(c.matched, "expected a match: {}", c.reason);
        assert!(c.mapping.iter().all(Option::is_some));
        c
    }

    fn assert_no_match(gold: &QueryResult, answer: &QueryResult, order: bool) -> Comparison {
        let c = compare(gold, answer, order);
        assert!(!c.matched, "expected no match: {}", c.reason);
        c
    }

    #[test]
    fn identical_results_match_column_by_column() {
        let c = assert_match(&sources(), &sources(), true);
        assert_eq!(c.mapping, vec![Some(0), Some(1)]);
        assert_eq!(c.reason, "matched (source -> #0 source, users -> #1 users)");
    }

    #[test]
    fn column_order_and_names_are_ignored() {
        let answer = result(
            &["n", "src"],
            vec![
                vec![i(30), s("google")],
                vec![i(20), s("(direct)")],
                vec![i(10), s("baidu")],
            ],
        );
        let c = assert_match(&sources(), &answer, true);
        assert_eq!(c.mapping, vec![Some(1), Some(0)]);
        assert!(c.reason.contains("source -> #1 src"), "{}", c.reason);
    }

    #[test]
    fn extra_answer_columns_are_allowed() {
        let answer = result(
            &["rank", "source", "share", "users"],
            vec![
                vec![i(1), s("google"), f(0.5), i(30)],
                vec![i(2), s("(direct)"), f(0.333), i(20)],
                vec![i(3), s("baidu"), f(0.167), i(10)],
            ],
        );
        let c = assert_match(&sources(), &answer, false);
        assert_eq!(c.mapping, vec![Some(1), Some(3)]);
    }

    #[test]
    fn fewer_answer_columns_never_match() {
        let answer = result(
            &["source"],
            vec![vec![s("google")], vec![s("(direct)")], vec![s("baidu")]],
        );
        let c = assert_no_match(&sources(), &answer, false);
        assert_eq!(c.reason, "answer has 1 column but gold has 2 columns");
        assert_eq!(c.mapping, vec![None, None]);
    }

    #[test]
    fn each_answer_column_serves_one_gold_column() {
        // Gold has two equal columns; the answer has only one column with those values.
        let gold = result(&["a", "b"], vec![vec![i(1), i(1)], vec![i(2), i(2)]]);
        let answer = result(&["x", "y"], vec![vec![i(1), s("p")], vec![i(2), s("q")]]);
        let c = assert_no_match(&gold, &answer, false);
        assert_eq!(
            c.reason,
            "gold columns cannot each get their own answer column (candidates: a -> {#0 x}; \
             b -> {#0 x})"
        );
        assert_eq!(c.mapping, vec![Some(0), Some(0)]);
        let answer = result(&["x", "y"], vec![vec![i(1), i(1)], vec![i(2), i(2)]]);
        let c = assert_match(&gold, &answer, false);
        assert_eq!(c.mapping, vec![Some(0), Some(1)]);
    }

    #[test]
    fn float_tolerance_is_relative() {
        let gold = result(&["revenue"], vec![vec![f(1234.5678)], vec![f(0.001)]]);
        let close = result(
            &["r"],
            vec![
                vec![f(1234.5678 * (1.0 + 1e-7))],
                vec![f(0.001 * (1.0 - 1e-7))],
            ],
        );
        assert_match(&gold, &close, true);
        let far = result(
            &["r"],
            vec![vec![f(1234.5678 * (1.0 + 1e-5))], vec![f(0.001)]],
        );
        let c = assert_no_match(&gold, &far, true);
        assert!(c.reason.contains("gold column `revenue`"), "{}", c.reason);
        let far_unordered = assert_no_match(&gold, &far, false);
        assert!(far_unordered.reason.contains("no answer column holds"));
    }

    #[test]
    fn numbers_near_zero_use_the_absolute_epsilon() {
        assert!(numbers_equal(0.0, 1e-12));
        assert!(numbers_equal(-1e-10, 1e-10));
        assert!(!numbers_equal(0.0, 1e-6));
        assert!(numbers_equal(f64::NAN, f64::NAN));
        assert!(numbers_equal(f64::INFINITY, f64::INFINITY));
        assert!(!numbers_equal(f64::INFINITY, f64::NEG_INFINITY));
        let gold = result(&["x"], vec![vec![f(0.0)], vec![f(-0.0)]]);
        let answer = result(&["x"], vec![vec![f(1e-12)], vec![i(0)]]);
        assert_match(&gold, &answer, true);
    }

    #[test]
    fn int_float_and_numeric_compare_as_numbers() {
        let gold = result(&["a", "b", "c"], vec![vec![i(3), f(2.5), n("10.000000")]]);
        let answer = result(&["a", "b", "c"], vec![vec![f(3.0), n("2.5"), i(10)]]);
        assert_match(&gold, &answer, true);
        let answer = result(
            &["a", "b", "c"],
            vec![vec![f(3.0000001), n("2.50000001"), f(10.0)]],
        );
        assert_match(&gold, &answer, true);
    }

    #[test]
    fn two_integers_compare_exactly() {
        let gold = result(&["events"], vec![vec![i(4_000_000)]]);
        assert_no_match(&gold, &result(&["e"], vec![vec![i(4_000_001)]]), true);
        // Against a float the tolerance applies.
        assert_match(&gold, &result(&["e"], vec![vec![f(4_000_001.0)]]), true);
    }

    #[test]
    fn a_number_never_equals_its_text() {
        let gold = result(&["n"], vec![vec![i(3)]]);
        assert_no_match(&gold, &result(&["n"], vec![vec![s("3")]]), false);
        // An unparsable NUMERIC text compares as text.
        let gold = result(&["n"], vec![vec![n("abc")]]);
        assert_match(&gold, &result(&["n"], vec![vec![s("abc")]]), false);
    }

    #[test]
    fn null_equals_only_null() {
        let gold = result(
            &["a", "b"],
            vec![vec![Value::Null, i(1)], vec![s("x"), i(2)]],
        );
        assert_match(&gold, &gold.clone(), false);
        for other in [s("NULL"), s(""), i(0), f(0.0)] {
            let answer = result(
                &["a", "b"],
                vec![vec![other.clone(), i(1)], vec![s("x"), i(2)]],
            );
            let c = assert_no_match(&gold, &answer, false);
            assert_eq!(c.mapping, vec![None, Some(1)], "{other:?}");
        }
    }

    #[test]
    fn dates_match_strings_with_the_same_text() {
        let gold = result(
            &["day", "users"],
            vec![vec![d("2020-11-01"), i(5)], vec![d("2020-11-02"), i(7)]],
        );
        let answer = result(
            &["day", "users"],
            vec![vec![s("2020-11-01"), i(5)], vec![s("2020-11-02"), i(7)]],
        );
        assert_match(&gold, &answer, true);
        let other_format = result(
            &["day", "users"],
            vec![vec![s("20201101"), i(5)], vec![s("20201102"), i(7)]],
        );
        let c = assert_no_match(&gold, &other_format, true);
        assert!(c.reason.contains("gold column `day`"), "{}", c.reason);
        assert!(
            c.reason.contains(
                "differs first at sorted value #1: gold \"2020-11-01\" vs answer \"20201101\""
            ),
            "{}",
            c.reason
        );
    }

    #[test]
    fn bools_and_timestamps_compare_by_text() {
        let gold = result(
            &["b", "t"],
            vec![vec![Value::Bool(true), Value::Timestamp(0)]],
        );
        let answer = result(
            &["b", "t"],
            vec![vec![s("true"), s("1970-01-01 00:00:00 UTC")]],
        );
        assert_match(&gold, &answer, true);
    }

    #[test]
    fn rows_are_a_multiset_unless_order_matters() {
        let shuffled = result(
            &["source", "users"],
            vec![
                vec![s("baidu"), i(10)],
                vec![s("google"), i(30)],
                vec![s("(direct)"), i(20)],
            ],
        );
        assert_match(&sources(), &shuffled, false);
        let c = assert_no_match(&sources(), &shuffled, true);
        assert!(c.reason.contains("different row order"), "{}", c.reason);
        assert_eq!(c.mapping, vec![None, None]);
    }

    #[test]
    fn duplicate_rows_are_counted() {
        let gold = result(&["x"], vec![vec![s("a")], vec![s("a")], vec![s("b")]]);
        let answer = result(&["x"], vec![vec![s("a")], vec![s("b")], vec![s("b")]]);
        let c = assert_no_match(&gold, &answer, false);
        assert!(c.reason.contains("no answer column holds"), "{}", c.reason);
        // Same per-column multisets, but the rows pair differently.
        let gold = result(
            &["k", "v"],
            vec![
                vec![s("a"), i(1)],
                vec![s("a"), i(1)],
                vec![s("b"), i(2)],
                vec![s("b"), i(2)],
            ],
        );
        let answer = result(
            &["k", "v"],
            vec![
                vec![s("a"), i(1)],
                vec![s("a"), i(2)],
                vec![s("b"), i(1)],
                vec![s("b"), i(2)],
            ],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert!(c.reason.contains("rows do not pair up"), "{}", c.reason);
        assert!(
            c.reason.contains("gold row (\"a\", 1) has no match"),
            "{}",
            c.reason
        );
        assert_eq!(c.mapping, vec![Some(0), Some(1)]);
    }

    #[test]
    fn rows_pair_by_exact_parts_first() {
        let gold = result(
            &["k", "v"],
            vec![vec![s("a"), i(1)], vec![s("a"), i(1)], vec![s("b"), i(2)]],
        );
        let answer = result(
            &["k", "v"],
            vec![vec![s("a"), i(1)], vec![s("b"), i(1)], vec![s("a"), i(2)]],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert!(
            c.reason
                .ends_with("gold row (\"a\", 1) has no match in the answer"),
            "{}",
            c.reason
        );
        let gold = result(
            &["k", "v"],
            vec![
                vec![s("a"), s("x")],
                vec![s("a"), s("x")],
                vec![s("b"), s("y")],
                vec![s("b"), s("y")],
            ],
        );
        let answer = result(
            &["k", "v"],
            vec![
                vec![s("a"), s("x")],
                vec![s("a"), s("y")],
                vec![s("b"), s("x")],
                vec![s("b"), s("y")],
            ],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert!(
            c.reason
                .ends_with("gold has 2 row(s) like (\"a\", \"x\"), answer has 1"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn row_count_must_be_equal() {
        let fewer = result(
            &["source", "users"],
            vec![vec![s("google"), i(30)], vec![s("(direct)"), i(20)]],
        );
        let c = assert_no_match(&sources(), &fewer, false);
        assert_eq!(c.reason, "row count differs: gold has 3 rows, answer has 2");
        assert_eq!(c.mapping, vec![None, None]);
    }

    #[test]
    fn empty_results_match_by_position_when_wide_enough() {
        let gold = result(&["a", "b"], vec![]);
        let c = assert_match(&gold, &result(&["x", "y", "z"], vec![]), false);
        assert_eq!(c.mapping, vec![Some(0), Some(1)]);
        assert_match(&gold, &result(&["x", "y"], vec![]), true);
        assert_no_match(&gold, &result(&["x"], vec![]), false);
        assert_no_match(&gold, &sources(), false);
        assert_no_match(&sources(), &gold, false);
    }

    #[test]
    fn a_gold_result_without_columns_needs_only_the_row_count() {
        let gold = result(&[], vec![vec![], vec![]]);
        assert_match(&gold, &result(&["x"], vec![vec![i(1)], vec![i(2)]]), false);
        assert_no_match(&gold, &result(&["x"], vec![vec![i(1)]]), false);
    }

    #[test]
    fn truncated_results_never_match() {
        let mut gold = sources();
        gold.truncated = true;
        assert!(
            compare(&gold, &sources(), false)
                .reason
                .contains("gold result was cut short")
        );
        let mut answer = sources();
        answer.truncated = true;
        assert!(
            compare(&sources(), &answer, false)
                .reason
                .contains("answer result was cut short")
        );
    }

    #[test]
    fn ambiguous_columns_are_resolved_by_rows() {
        // Columns b and c hold the same multiset; only one assignment pairs the rows.
        let gold = result(
            &["k", "b", "c"],
            vec![vec![s("x"), i(1), i(2)], vec![s("y"), i(2), i(1)]],
        );
        let answer = result(
            &["c2", "k2", "b2"],
            vec![vec![i(2), s("x"), i(1)], vec![i(1), s("y"), i(2)]],
        );
        let c = assert_match(&gold, &answer, false);
        assert_eq!(c.mapping, vec![Some(1), Some(2), Some(0)]);
        // Same with order mattering: the sequences decide directly.
        let c = assert_match(&gold, &answer, true);
        assert_eq!(c.mapping, vec![Some(1), Some(2), Some(0)]);
    }

    #[test]
    fn near_equal_numbers_that_sort_differently_still_pair() {
        // Sorting by the first number puts the rows in opposite orders on the two sides; the
        // second number only pairs them one way.
        let gold = result(
            &["x", "y"],
            vec![vec![f(1.0), f(10.0)], vec![f(1.0 + 1e-9), f(20.0)]],
        );
        let answer = result(
            &["x", "y"],
            vec![vec![f(1.0 + 2e-9), f(10.0)], vec![f(1.0), f(20.0)]],
        );
        assert_match(&gold, &answer, false);
        // And a real miss is still a miss.
        let answer = result(
            &["x", "y"],
            vec![vec![f(1.0 + 2e-9), f(10.0)], vec![f(1.0), f(21.0)]],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert!(
            c.reason
                .contains("no answer column holds the values of gold column `y`"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn bipartite_fallback_needs_augmenting_paths() {
        // Sorted, gold (5, 1) pairs with answer (5, 1+0.9e-6) and then gold (5+e, 1+1.8e-6)
        // cannot pair with answer (5+e, 1-0.9e-6). Greedy matching repeats that choice; only
        // an augmenting path moves gold (5, 1) to the other answer row.
        let e = 1e-8;
        let gold = result(
            &["x", "y"],
            vec![vec![f(5.0), f(1.0)], vec![f(5.0 + e), f(1.0 + 1.8e-6)]],
        );
        let answer = result(
            &["x", "y"],
            vec![
                vec![f(5.0 + e), f(1.0 - 0.9e-6)],
                vec![f(5.0), f(1.0 + 0.9e-6)],
            ],
        );
        assert_match(&gold, &answer, false);
        // Columns that match one by one but rows that do not: the matching says which row.
        let gold = result(
            &["x", "y"],
            vec![vec![f(5.0), f(1.0)], vec![f(7.0), f(2.0)]],
        );
        let answer = result(
            &["x", "y"],
            vec![vec![f(5.0), f(2.0)], vec![f(7.0), f(1.0)]],
        );
        let c = assert_no_match(&gold, &answer, false);
        assert!(
            c.reason
                .ends_with("gold row (5, 1) has no match in the answer"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn many_identical_columns_do_not_explode() {
        // Ten gold columns of zeros, fifteen answer columns of zeros: symmetric branches are
        // skipped, so the first assignment is checked and accepted.
        let rows: Vec<Vec<Value>> = (0..50).map(|_| vec![i(0); 10]).collect();
        let names: Vec<String> = (0..10).map(|c| format!("g{c}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let gold = result(&names, rows);
        let answer_rows: Vec<Vec<Value>> = (0..50).map(|_| vec![i(0); 15]).collect();
        let answer_names: Vec<String> = (0..15).map(|c| format!("a{c}")).collect();
        let answer_names: Vec<&str> = answer_names.iter().map(String::as_str).collect();
        let answer = result(&answer_names, answer_rows);
        let c = assert_match(&gold, &answer, false);
        assert_eq!(c.mapping, (0..10).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn ten_thousand_rows_compare_quickly() {
        let gold_rows: Vec<Vec<Value>> = (0..10_000)
            .map(|r| {
                let mut row = vec![s(&format!("k{r}")), d("2020-12-01")];
                row.extend((0..8).map(|c| f((r * 7 + c) as f64 / 3.0)));
                row
            })
            .collect();
        let names: Vec<String> = (0..10).map(|c| format!("c{c}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let gold = result(&names, gold_rows.clone());
        let mut answer_rows: Vec<Vec<Value>> = gold_rows
            .iter()
            .map(|row| {
                let mut row: Vec<Value> = row
                    .iter()
                    .map(|v| match v {
                        Value::Float64(x) => f(x * (1.0 + 1e-9)),
                        other => other.clone(),
                    })
                    .collect();
                row.reverse();
                row
            })
            .collect();
        answer_rows.reverse();
        let answer = result(&names, answer_rows);
        let started = std::time::Instant::now();
        let c = assert_match(&gold, &answer, false);
        assert_eq!(c.mapping[0], Some(9));
        assert!(started.elapsed().as_secs() < 10);
    }

    #[test]
    fn short_rows_read_as_null() {
        let gold = result(&["a", "b"], vec![vec![i(1)]]);
        let answer = result(&["a", "b"], vec![vec![i(1), Value::Null]]);
        assert_match(&gold, &answer, true);
    }

    #[test]
    fn nan_and_infinity_equal_themselves() {
        let gold = result(&["x"], vec![vec![f(f64::NAN)], vec![f(f64::INFINITY)]]);
        let answer = result(&["x"], vec![vec![f(f64::INFINITY)], vec![f(f64::NAN)]]);
        assert_match(&gold, &answer, false);
        assert_no_match(&gold, &answer, true);
    }

    #[test]
    fn comparisons_serialize() {
        let c = compare(&sources(), &sources(), true);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["matched"], true);
        assert_eq!(json["mapping"], serde_json::json!([0, 1]));
    }
}
