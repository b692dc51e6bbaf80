//! Canonical cells: a value reduced to what comparison looks at, and a result as columns of them.

use std::cmp::Ordering;
use std::fmt;

use nlq_core::Value;

use super::*;

// ---------------------------------------------------------------------------------------------
// Canonical cells

/// A value reduced to what comparison looks at.
#[derive(Debug, Clone)]
pub(super) enum Cell {
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
    pub(super) fn new(value: &Value) -> Cell {
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

    pub(super) fn rank(&self) -> u8 {
        match self {
            Cell::Null => 0,
            Cell::Num { .. } => 1,
            Cell::Text(_) => 2,
        }
    }

    /// A total order consistent with [`Cell::matches`] in the sense that matching values sort
    /// next to each other: NULL, then numbers ascending, then text.
    pub(super) fn order(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Num { value: a, int: ia }, Cell::Num { value: b, int: ib }) => {
                a.total_cmp(b).then_with(|| ia.cmp(ib))
            }
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// Equality with the numeric tolerance.
    pub(super) fn matches(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Num { int: Some(a), .. }, Cell::Num { int: Some(b), .. }) => a == b,
            (Cell::Num { value: a, .. }, Cell::Num { value: b, .. }) => numbers_equal(*a, *b),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            _ => false,
        }
    }

    /// The part of the cell that must be equal exactly (everything but a number's value).
    pub(super) fn exact_part(&self) -> ExactPart<'_> {
        match self {
            Cell::Null => ExactPart::Null,
            Cell::Num { .. } => ExactPart::Num,
            Cell::Text(s) => ExactPart::Text(s),
        }
    }

    /// Identical, not merely equal within tolerance (used to find interchangeable columns).
    pub(super) fn identical(&self, other: &Cell) -> bool {
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
pub(super) enum ExactPart<'a> {
    Null,
    Num,
    Text(&'a str),
}

pub(super) fn cells_equal(a: &[Cell], b: &[Cell]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.matches(y))
}

/// A result as canonical columns.
pub(super) struct Table {
    pub(super) names: Vec<String>,
    pub(super) columns: Vec<Vec<Cell>>,
    pub(super) rows: usize,
}

impl Table {
    /// Missing cells of a short row read as NULL; extra cells are ignored.
    pub(super) fn new(result: &QueryResult) -> Table {
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

    pub(super) fn width(&self) -> usize {
        self.columns.len()
    }

    pub(super) fn sorted_columns(&self) -> Vec<Vec<Cell>> {
        self.columns
            .iter()
            .map(|column| {
                let mut sorted = column.clone();
                sorted.sort_by(Cell::order);
                sorted
            })
            .collect()
    }

    pub(super) fn column_named(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    pub(super) fn show_row(&self, row: usize, columns: &[usize]) -> String {
        let cells: Vec<String> = columns
            .iter()
            .map(|&c| self.columns[c][row].to_string())
            .collect();
        format!("({})", cells.join(", "))
    }
}
