//! The search that assigns a distinct answer column to every gold column.

use super::*;
// ---------------------------------------------------------------------------------------------
// Column assignment search

pub(super) enum Found {
    Yes(Vec<usize>),
    No,
    GaveUp,
}

pub(super) struct Search<'a> {
    pub(super) gold: &'a Table,
    pub(super) answer: &'a Table,
    pub(super) candidates: &'a [Vec<usize>],
    pub(super) order_matters: bool,
    /// Gold columns in the order they are assigned: fewest candidates first.
    pub(super) order: Vec<usize>,
    /// For each answer column, the lowest index of a column identical to it.
    pub(super) twin_of: Vec<usize>,
    pub(super) used: Vec<bool>,
    pub(super) assignment: Vec<usize>,
    pub(super) checks_left: usize,
    pub(super) steps_left: usize,
    pub(super) first_row_mismatch: Option<String>,
}

impl<'a> Search<'a> {
    pub(super) fn new(
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

    pub(super) fn run(&mut self) -> Found {
        match self.extend(0) {
            Step::Found => Found::Yes(self.assignment.clone()),
            Step::Dead => Found::No,
            Step::GaveUp => Found::GaveUp,
        }
    }

    pub(super) fn extend(&mut self, depth: usize) -> Step {
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
    pub(super) fn check_prefix(&mut self, len: usize) -> Step {
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

pub(super) enum Step {
    Found,
    Dead,
    GaveUp,
}
