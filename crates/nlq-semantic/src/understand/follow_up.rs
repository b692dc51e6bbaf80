//! Follow-up questions in a conversation ("그럼 모바일만?", "국가별로는?", "what about last
//! month?"), read as changes to the previous plan.
//!
//! A follow-up is read with the same words and the same honesty rule as a new question; only a
//! few follow-up words ("그럼", "이번엔", "what about", "instead", "only") are added, because a
//! new question never needs them. What it names replaces that part of the previous plan: a
//! number, a breakdown, a filter of the same dimension, the period, top N. The particle "도",
//! "also" and "too" add instead of replacing. The result is built by the same code as a new
//! plan, so it obeys the same rules (one query, no mixed item and event numbers).

use super::*;

impl Reader<'_> {
    /// Reads `question` as a follow-up to `previous` (the plan of the last answered question).
    ///
    /// `None`: the question is not a follow-up, read it with [`Reader::understand`]. That is
    /// the answer when it changes nothing the engine can read and has no follow-up word, when
    /// it is complete by itself (a number with a period or a breakdown) and has no follow-up
    /// word, when it asks to change data, is out of scope or asks for help, when its dates are
    /// invalid (`understand` asks back), and when `previous` names things the model does not.
    ///
    /// `Some(Understanding::Data)`: the previous plan with the changes. Anything else in `Some`
    /// is a follow-up the engine cannot answer: `NeedsLlm` for unknown words (never guessed)
    /// or a plan one query cannot answer, `Clarify` when it names nothing to change.
    ///
    /// ```
    /// # use chrono::NaiveDate;
    /// # use nlq_semantic::{DateRange, Reader, SemanticModel, Understanding};
    /// # let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    /// # let model = SemanticModel::builtin().unwrap();
    /// # let data = DateRange { start: day("2020-11-01"), end: day("2021-01-31") };
    /// let reader = Reader::new(&model, day("2021-02-01"), data);
    /// let Understanding::Data { plan } = reader.understand("지난 7일 디바이스별 방문자 수") else {
    ///     unreachable!()
    /// };
    /// let next = "그럼 모바일만?";
    /// let next = reader
    ///     .follow_up(&plan, next)
    ///     .unwrap_or_else(|| reader.understand(next));
    /// let Understanding::Data { plan } = next else { unreachable!() };
    /// assert_eq!(plan.filters[0].values, ["mobile"]);
    /// assert_eq!(plan.dimensions, ["device_category"]);
    /// ```
    pub fn follow_up(&self, previous: &Plan, question: &str) -> Option<Understanding> {
        let model = self.model;
        let text = normalize(question);
        if text.is_empty() {
            return None;
        }
        let times = time::find(&text, self.as_of, &self.lexicon().time).ok()?;
        let mut used: Vec<Range<usize>> =
            times.iter().flat_map(|t| t.spans.iter().cloned()).collect();
        let mut hits = self.terms(&text, &mut used);
        let lex = self.lexicon();
        let words = &lex.follow_up;
        let has = |list: &[String], w: &str| list.iter().any(|x| x == w);
        let intents = &model.intents;
        if find_any(&text, intents.change_data.all(), &used).is_some()
            || find_any(&text, intents.out_of_scope.all(), &used).is_some()
            || (hits.is_empty() && find_any(&text, intents.help.all(), &used).is_some())
        {
            return None;
        }
        let ops = self.operators(&text, &mut used, &mut hits);
        let (top, percent, compare_words) = (ops.top, ops.percent, ops.compare);

        let mut marked = false;
        let mut also = false;
        // Where a word followed by "도" ends: that word adds.
        let mut also_after: Vec<usize> = Vec::new();
        let mut notes = Vec::new();
        let mut confidence = 1.0;
        let mut unknown = Vec::new();
        let mut doubts = ops.doubts.clone();
        if !ops.thresholds.is_empty() || ops.cumulative || ops.count_cue {
            // Conditions, running totals and counted events change the previous plan in ways
            // it does not write down: read them as a new question or hand them on.
            doubts.push("a condition on the previous answer is not read in a follow-up".to_owned());
        }
        let free = free_words(lex, &text, &used);
        for (n, (span, token, word)) in free.iter().enumerate() {
            let rest = &token[word.len()..];
            if word.is_empty() {
                if has(&words.also_particles, token) {
                    also_after.push(span.start);
                }
            } else if n == 0 && span.start == 0 && has(&words.leads, word) {
                marked = true;
            } else if words
                .instead_of
                .iter()
                .any(|phrase| phrase_at(&free[n..], phrase))
            {
                // "by country instead of device" names what to drop, which is not read.
                unknown.push(token.clone());
            } else if has(&words.markers, word) {
                marked = true;
            } else if has(&words.also, word) {
                also = true;
                marked = true;
            } else if has(&words.undo, word) {
                unknown.push(token.clone());
            } else if lex.ignorable(word) || word.chars().all(|c| !c.is_alphanumeric()) {
                // A word of the general language: read, and nothing to change.
            } else if let Some((readings, meant)) = self.correct(word) {
                notes.push(format!("read \"{token}\" as \"{meant}\""));
                confidence *= TYPO_CONFIDENCE;
                if has(&words.also_particles, rest) {
                    also_after.push(span.end);
                }
                hits.push(Hit::new(span.clone(), readings));
            } else {
                unknown.push(token.clone());
            }
        }
        hits.sort_by_key(|h| h.span.start);
        let adds = |end: usize| also || also_after.contains(&end);
        let names_metric = hits.iter().any(|h| matches!(h.term, Term::Metric(_)));
        let names_dimension = hits.iter().any(|h| matches!(h.term, Term::Dimension(_)));
        let names_anything = !hits.is_empty()
            || !times.is_empty()
            || top.is_some()
            || percent
            || ops.approx
            || ops.rest;
        marked |= hits
            .iter()
            .map(|h| h.span.end)
            .chain(times.iter().filter_map(|t| t.spans.last().map(|s| s.end)))
            .any(|end| also_after.contains(&end));
        // A number with a period or a breakdown is a question of its own, unless a follow-up
        // word says it continues the conversation.
        let complete = names_metric && (names_dimension || !times.is_empty());
        if !marked && (!names_anything || complete) {
            return None;
        }
        if !unknown.is_empty() {
            return Some(Understanding::NeedsLlm {
                reason: format!(
                    "the semantic engine does not know the words {} in this follow-up",
                    unknown
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if !doubts.is_empty() {
            return Some(Understanding::NeedsLlm {
                reason: doubts.join("; "),
            });
        }
        if confidence < MIN_CONFIDENCE {
            return Some(Understanding::NeedsLlm {
                reason: format!(
                    "too many words had to be guessed ({}) to answer with confidence",
                    notes.join(", ")
                ),
            });
        }
        if !names_anything {
            return Some(Understanding::Clarify {
                question: "What should change from the previous question: the period, the \
                           breakdown, a filter, or the number?"
                    .to_owned(),
                choices: Vec::new(),
            });
        }

        // The previous plan, in the model's indices; a plan of another model is not continued.
        let mut metrics = previous
            .metrics
            .iter()
            .map(|name| model.metrics.iter().position(|m| &m.name == name))
            .collect::<Option<Vec<usize>>>()?;
        let mut dimensions = previous
            .dimensions
            .iter()
            .map(|name| model.dimensions.iter().position(|d| &d.name == name))
            .collect::<Option<Vec<usize>>>()?;
        let mut filters = previous.filters.clone();
        let mut changed = Vec::new();
        if let Err(question) = self.settle_values(&mut hits, &metrics) {
            return Some(Understanding::Clarify {
                question,
                choices: Vec::new(),
            });
        }

        let named = |pick: fn(Term) -> Option<usize>| -> (Vec<usize>, bool) {
            let mut out: Vec<usize> = Vec::new();
            let mut add = false;
            for hit in hits.iter().filter(|h| !h.qualifier) {
                if let Some(i) = pick(hit.term) {
                    add |= adds(hit.span.end);
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
            }
            (out, add)
        };
        let (new_metrics, add) = named(|t| match t {
            Term::Metric(i) => Some(i),
            _ => None,
        });
        let new_metrics_named = new_metrics.clone();
        if !new_metrics.is_empty() {
            replace_or_add(&mut metrics, new_metrics, add);
            changed.push(format!(
                "numbers {}",
                names(metrics.iter().map(|&i| &model.metrics[i].name))
            ));
        }
        let (new_dimensions, add) = named(|t| match t {
            Term::Dimension(i) => Some(i),
            _ => None,
        });
        if !new_dimensions.is_empty() {
            replace_or_add(&mut dimensions, new_dimensions, add);
            changed.push(format!(
                "breakdown by {}",
                names(dimensions.iter().map(|&i| &model.dimensions[i].name))
            ));
        }
        // Values of one dimension replace that dimension's filter, or join it with "도".
        let mut touched: Vec<usize> = Vec::new();
        for hit in &hits {
            let Term::Value(s, v) = hit.term else {
                continue;
            };
            let (set, value, op) = hit.filter_value(model, s, v);
            let at = match filters.iter().position(|f| f.dimension == set.dimension) {
                Some(at) => at,
                None => {
                    filters.push(Filter {
                        dimension: set.dimension.clone(),
                        values: Vec::new(),
                        op,
                    });
                    filters.len() - 1
                }
            };
            let filter = &mut filters[at];
            if !touched.contains(&at) {
                touched.push(at);
                if !adds(hit.span.end) || filter.op != op {
                    filter.values.clear();
                    filter.op = op;
                }
            } else if filter.op != op {
                return Some(Understanding::NeedsLlm {
                    reason: format!(
                        "the follow-up both asks for and excludes values of {}",
                        set.dimension
                    ),
                });
            }
            if !filter.values.contains(&value) {
                filter.values.push(value);
            }
        }
        for &at in &touched {
            let f = &filters[at];
            let op = if f.op == FilterOp::NotIn { "!=" } else { "=" };
            changed.push(format!("{} {op} {}", f.dimension, f.values.join(" | ")));
        }

        let period = if times.is_empty() && !compare_words {
            Period {
                range: previous.range,
                words: previous.range_words.clone(),
                compare: previous.compare.clone(),
            }
        } else {
            if times.iter().any(|t| t.spans.iter().any(|s| adds(s.end))) {
                return Some(Understanding::NeedsLlm {
                    reason: "a period added to the previous one is a comparison: ask to compare \
                             the two periods"
                        .to_owned(),
                });
            }
            match self.period(&times, compare_words) {
                Ok(period) => {
                    changed.push(format!(
                        "period {}",
                        period.words.as_deref().unwrap_or("all data")
                    ));
                    period
                }
                Err(reason) => return Some(Understanding::NeedsLlm { reason }),
            }
        };
        if let Some(t) = top {
            changed.push(format!(
                "{} {}",
                if t.descending { "top" } else { "bottom" },
                t.n
            ));
        }
        if percent {
            changed.push("in percent".to_owned());
        }
        if ops.approx {
            changed.push("counted as GA4's reports count".to_owned());
        }
        if ops.rest {
            changed.push("the rest as one row".to_owned());
        }

        // A cohort table or a bought-together list keeps its shape: a follow-up may change its
        // period, filters, top N or (bought together) the item; anything else is handed on.
        if let Some(shape @ (Shape::Cohort(_) | Shape::BoughtTogether(_))) = &previous.shape {
            let mut shape = shape.clone();
            let together = matches!(shape, Shape::BoughtTogether(_));
            let mut moved = false;
            // "그럼 Google Mug는?": the item the others were bought with.
            if let Shape::BoughtTogether(t) = &mut shape
                && let Some(at) = filters.iter().position(|f| {
                    f.dimension == "item_name" && f.op == FilterOp::In && f.values.len() == 1
                })
            {
                t.item = filters.remove(at).values.pop();
                moved = true;
            }
            let same_metrics = metrics
                .iter()
                .map(|&i| &model.metrics[i].name)
                .eq(previous.metrics.iter());
            let plain = dimensions
                .iter()
                .all(|&d| together && model.dimensions[d].name == "item_name")
                && period.compare.is_none()
                && top.is_none_or(|t| together && t.descending)
                && !percent
                && (same_metrics || (moved && new_metrics_named.is_empty()));
            if !plain {
                return Some(Understanding::NeedsLlm {
                    reason: "a follow-up that changes what a cohort table or a list of items \
                             bought together counts is not written by the semantic engine yet"
                        .to_owned(),
                });
            }
            let metric = previous.metrics.first().cloned().unwrap_or_default();
            return Some(
                match self.shaped_in(
                    &metric,
                    filters,
                    period,
                    top.or(previous.top),
                    shape,
                    "this follow-up",
                ) {
                    Understanding::Data { plan } => Understanding::Data {
                        plan: followed(plan, notes, &changed, confidence),
                    },
                    other => other,
                },
            );
        }

        let understanding = self.build(
            metrics,
            dimensions,
            filters,
            period,
            top.or(previous.top),
            percent || previous.percent,
            previous.having.clone(),
        );
        Some(match understanding {
            Understanding::Data { mut plan } => {
                // A series of changes stays one while it keeps a time breakdown.
                plan.change = previous.change
                    && plan
                        .dimensions
                        .iter()
                        .any(|d| self.model.dimension(d).is_some_and(|d| d.time.is_some()));
                plan.other = previous.other && self.rest_row(&plan).is_ok();
                if ops.rest {
                    if let Err(reason) = self.rest_row(&plan) {
                        return Some(Understanding::NeedsLlm { reason });
                    }
                    plan.other = true;
                }
                if previous.approx || ops.approx {
                    plan.set_approx(self.model);
                }
                // Still the same two values side by side: still their difference.
                if plan.dimensions.len() == 1
                    && plan.top.is_none()
                    && !plan.change
                    && plan.filters.iter().any(|f| {
                        f.op == FilterOp::In
                            && f.values == previous.versus
                            && plan.dimensions[0] == f.dimension
                    })
                {
                    plan.versus = previous.versus.clone();
                }
                // A funnel keeps its steps; a follow-up may change its period, filters and unit.
                if let Some(Shape::Funnel(funnel)) = &previous.shape {
                    let unit = match plan.metrics.as_slice() {
                        [m] if m == "users" => Some(Unit::Users),
                        [m] if m == "sessions" => Some(Unit::Sessions),
                        _ => None,
                    };
                    // An event named after a funnel would filter its steps away.
                    let steps_kept = !plan.filters.iter().any(|f| f.dimension == "event_name");
                    let (Some(unit), true, None, true, None, true) = (
                        unit,
                        plan.dimensions.is_empty(),
                        plan.top,
                        plan.having.is_empty(),
                        &plan.compare,
                        steps_kept,
                    ) else {
                        return Some(Understanding::NeedsLlm {
                            reason: "a follow-up that breaks a funnel down, compares it or \
                                     changes its steps is not written by the semantic engine yet"
                                .to_owned(),
                        });
                    };
                    plan.shape = Some(Shape::Funnel(Funnel {
                        unit,
                        ..funnel.clone()
                    }));
                }
                Understanding::Data {
                    plan: followed(plan, notes, &changed, confidence),
                }
            }
            other => other,
        })
    }
}

/// A follow-up's plan with what the reading noted and changed said first.
fn followed(mut plan: Plan, mut notes: Vec<String>, changed: &[String], confidence: f64) -> Plan {
    notes.push(format!(
        "read as a follow-up to the previous question: {}",
        changed.join(", ")
    ));
    plan.confidence = confidence;
    plan.notes.splice(0..0, notes);
    plan
}

fn replace_or_add(slot: &mut Vec<usize>, named: Vec<usize>, add: bool) {
    if add {
        for i in named {
            if !slot.contains(&i) {
                slot.push(i);
            }
        }
    } else {
        *slot = named;
    }
}

/// Whether the free words begin with the words of `phrase`, whatever lies between them.
fn phrase_at(free: &[(Range<usize>, String, &str)], phrase: &str) -> bool {
    let words: Vec<&str> = phrase.split(' ').collect();
    free.get(..words.len())
        .is_some_and(|next| next.iter().zip(&words).all(|((_, _, word), w)| word == w))
}

fn names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understand::tests::reader;

    /// The follow-up's reading of `question` after `first`.
    fn after(first: &str, question: &str) -> Option<Understanding> {
        let model = SemanticModel::builtin().unwrap();
        let reader = reader(&model);
        let Understanding::Data { plan } = reader.understand(first) else {
            panic!("{first}: not a data question");
        };
        reader.follow_up(&plan, question)
    }

    fn plan_after(first: &str, question: &str) -> Plan {
        match after(first, question) {
            Some(Understanding::Data { plan }) => plan,
            other => panic!("{first} → {question}: {other:?}"),
        }
    }

    /// One row of a table: the plan's slots written short, `metrics | dimensions | filters |
    /// range | top`, so a test reads as what each follow-up makes of the same first question.
    fn check(first: &str, table: &[(&str, &str)]) {
        for (question, expect) in table {
            let p = plan_after(first, question);
            let filters = p
                .filters
                .iter()
                .map(|f| format!("{}={}", f.dimension, f.values.join("+")))
                .collect::<Vec<_>>()
                .join(" ");
            let (low, high) = p.range.suffixes();
            let top = p.top.map_or("-".to_owned(), |t| {
                format!("{}{}", if t.descending { "top" } else { "bottom" }, t.n)
            });
            let got = format!(
                "{} | {} | {} | {low}-{high} | {top}",
                p.metrics.join(","),
                p.dimensions.join(","),
                if filters.is_empty() { "-" } else { &filters },
            );
            assert_eq!(got, *expect, "{first} → {question}");
        }
    }

    const VISITORS_BY_DEVICE: &str = "지난 7일 디바이스별 방문자 수";

    #[test]
    fn a_filter_value_adds_or_replaces_a_filter() {
        check(
            VISITORS_BY_DEVICE,
            &[
                (
                    "그럼 모바일만?",
                    "users | device_category | device_category=mobile | 20210125-20210131 | -",
                ),
                (
                    "what about mobile only?",
                    "users | device_category | device_category=mobile | 20210125-20210131 | -",
                ),
                (
                    "한국은?",
                    "users | device_category | country=South Korea | 20210125-20210131 | -",
                ),
            ],
        );
        // A value of a filtered dimension replaces it; with "도" it joins it.
        check(
            "모바일 사용자 수 지난달 국가별",
            &[
                (
                    "데스크톱은?",
                    "users | country | device_category=desktop | 20210101-20210131 | -",
                ),
                (
                    "태블릿도?",
                    "users | country | device_category=mobile+tablet | 20210101-20210131 | -",
                ),
            ],
        );
    }

    #[test]
    fn a_dimension_changes_the_breakdown() {
        check(
            VISITORS_BY_DEVICE,
            &[
                ("국가별로는?", "users | country | - | 20210125-20210131 | -"),
                (
                    "이번엔 브라우저별로",
                    "users | browser | - | 20210125-20210131 | -",
                ),
                (
                    "by country instead?",
                    "users | country | - | 20210125-20210131 | -",
                ),
                (
                    "국가별로도",
                    "users | device_category,country | - | 20210125-20210131 | -",
                ),
            ],
        );
    }

    #[test]
    fn a_period_replaces_the_period() {
        check(
            VISITORS_BY_DEVICE,
            &[
                (
                    "지난달은?",
                    "users | device_category | - | 20210101-20210131 | -",
                ),
                (
                    "what about last month?",
                    "users | device_category | - | 20210101-20210131 | -",
                ),
                (
                    "12월은요?",
                    "users | device_category | - | 20201201-20201231 | -",
                ),
            ],
        );
        let p = plan_after(VISITORS_BY_DEVICE, "지난달은?");
        assert_eq!(p.range_words.as_deref(), Some("지난달"));
    }

    #[test]
    fn a_metric_replaces_the_metric() {
        check(
            VISITORS_BY_DEVICE,
            &[
                (
                    "매출은?",
                    "revenue | device_category | - | 20210125-20210131 | -",
                ),
                (
                    "and revenue?",
                    "revenue | device_category | - | 20210125-20210131 | -",
                ),
                (
                    "그럼 세션 수는?",
                    "sessions | device_category | - | 20210125-20210131 | -",
                ),
                (
                    "매출도 보여줘",
                    "users,revenue | device_category | - | 20210125-20210131 | -",
                ),
                (
                    "and revenue too",
                    "users,revenue | device_category | - | 20210125-20210131 | -",
                ),
            ],
        );
    }

    #[test]
    fn top_n_is_set() {
        check(
            "지난달 국가별 매출",
            &[
                (
                    "상위 5개만",
                    "revenue | country | - | 20210101-20210131 | top5",
                ),
                (
                    "top 5 only",
                    "revenue | country | - | 20210101-20210131 | top5",
                ),
                (
                    "하위 3개는?",
                    "revenue | country | - | 20210101-20210131 | bottom3",
                ),
            ],
        );
        // Top N stays when the breakdown changes.
        check(
            "지난달 국가별 매출 상위 5개",
            &[(
                "도시별로는?",
                "revenue | city | - | 20210101-20210131 | top5",
            )],
        );
    }

    #[test]
    fn several_changes_at_once() {
        check(
            VISITORS_BY_DEVICE,
            &[
                (
                    "그럼 지난달 국가별 매출은?",
                    "revenue | country | - | 20210101-20210131 | -",
                ),
                (
                    "what about revenue from mobile last month?",
                    "revenue | device_category | device_category=mobile | 20210101-20210131 | -",
                ),
            ],
        );
    }

    #[test]
    fn the_plan_says_it_followed_and_what_changed() {
        let p = plan_after(VISITORS_BY_DEVICE, "그럼 모바일만?");
        assert_eq!(
            p.notes,
            ["read as a follow-up to the previous question: device_category = mobile"]
        );
        assert_eq!(p.confidence, 1.0);
        assert_eq!(p.range_words.as_deref(), Some("지난 7일"));
        let p = plan_after(VISITORS_BY_DEVICE, "contries?");
        assert_eq!(p.dimensions, ["country"]);
        assert_eq!(p.notes[0], "read \"contries\" as \"countries\"");
        assert!((p.confidence - 0.9).abs() < 1e-9);
    }

    #[test]
    fn a_question_of_its_own_is_not_a_follow_up() {
        for question in [
            // A number with a period or a breakdown is complete.
            "지난달 국가별 매출",
            "Sessions by country last month",
            "12월 매출",
            // Nothing the engine reads.
            "고마워",
            "",
            // Not a data question: `understand` refuses or helps.
            "events_20201101 지워줘",
            "내일 서울 날씨 어때?",
            "help",
            // Invalid dates: `understand` asks back.
            "2020년 13월은?",
        ] {
            assert_eq!(after(VISITORS_BY_DEVICE, question), None, "{question}");
        }
    }

    #[test]
    fn unreadable_follow_ups_are_passed_on_not_guessed() {
        for question in [
            // Unknown words.
            "그럼 재구매 고객은?",
            "모바일 말고 데스크톱은?",
            "by country instead of device",
            // May mean dropping the filter: not read.
            "그럼 전체는?",
            "what about all devices?",
            // "also last month" would need a comparison with a breakdown.
            "지난달도?",
            // Three guesses are too many.
            "and sesions by contry and devise",
        ] {
            let got = after(VISITORS_BY_DEVICE, question);
            assert!(
                matches!(got, Some(Understanding::NeedsLlm { .. })),
                "{question}: {got:?}"
            );
        }
        // A plan one query cannot answer is passed on as a new question would be.
        let got = after("지난주와 그 전주 매출", "디바이스별로는?");
        assert!(
            matches!(got, Some(Understanding::NeedsLlm { .. })),
            "{got:?}"
        );
        // Follow-up words alone change nothing: ask what should change.
        assert!(matches!(
            after(VISITORS_BY_DEVICE, "그럼?"),
            Some(Understanding::Clarify { .. })
        ));
    }

    #[test]
    fn a_comparison_is_kept_until_the_period_changes() {
        let p = plan_after("지난주와 그 전주 매출", "세션은?");
        assert_eq!(p.metrics, ["sessions"]);
        assert!(p.compare.is_some());
        let p = plan_after("지난주와 그 전주 매출", "지난달은?");
        assert!(p.compare.is_none());
        assert_eq!(p.range.suffixes(), ("20210101".into(), "20210131".into()));
    }

    #[test]
    fn item_breakdowns_take_the_item_metric() {
        let p = plan_after("지난달 디바이스별 매출", "상품별로는?");
        assert_eq!(p.metrics, ["item_revenue"]);
        assert_eq!(p.dimensions, ["item_name"]);
    }
}
