//! The stages of one question, in order, each timed and reported.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;

use nlq_core::{QueryResult, label};
use nlq_semantic::{DateRange, Lang, Plan, Reader, SemanticModel, Understanding};
use nlq_validate::{Cost, DatasetFacts, Job, Outcome, Step, Validator, Verdict};

use crate::answer::{Answer, Context, Event, Stage, Status, Timing};
use crate::error::PipelineError;
use crate::knowledge::Verified;
use crate::llm_path::{Grounding, LlmEnd, LlmPath, LlmReport, Run};

/// The first query's billed bytes up to which an answer of totals also reads the period
/// before, for its change: one more query of the same size, so at most this again.
pub const PREVIOUS_PERIOD_MAX_BYTES: u64 = 1 << 30;

/// Answers questions from one dataset through one validator (and its warehouse).
pub struct Pipeline {
    model: Arc<SemanticModel>,
    validator: Validator,
    /// Where questions the semantic engine hands on go; None: they are answered `needs_llm`.
    llm: Option<LlmPath>,
    as_of: NaiveDate,
    /// The first and last day with data.
    data: DateRange,
    /// Days with a daily table, and days with only an intraday one (still being exported).
    daily: std::collections::BTreeSet<NaiveDate>,
    intraday: std::collections::BTreeSet<NaiveDate>,
    /// Queries billing more than this wait for the user's approval; None: nothing waits.
    approval_bytes: Option<u64>,
    /// Taught examples: a question equal to one is answered by its SQL.
    examples: Vec<Verified>,
    /// Users and sessions counted as GA4's reports estimate them, for every question.
    approx: bool,
}

/// One question and what the caller knows around it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub question: &'a str,
    /// The conversation so far: its last plan is what a follow-up ("그럼 모바일만?") changes,
    /// its recent turns are context for the LLM path.
    pub context: Option<&'a Context>,
    /// The user has approved running this, whatever it costs (up to the policy's cap).
    pub approved: bool,
    /// Validate and stop before running, whatever it costs (status `NeedsApproval`).
    pub dry_run: bool,
    /// The conversation this answers, set as a label on every warehouse job it runs.
    pub conversation: Option<&'a str>,
    /// Lint rules the caller accepts for this request (`lint.items_fanout`): their errors
    /// become warnings on the answer. Guard rules cannot be allowed.
    pub allow: &'a [String],
}

impl<'a> Request<'a> {
    pub fn new(question: &'a str) -> Self {
        Request {
            question,
            context: None,
            approved: false,
            dry_run: false,
            conversation: None,
            allow: &[],
        }
    }

    /// What every job run for this request is labelled with.
    pub fn labels(&self) -> Vec<(String, String)> {
        self.conversation
            .map(|id| (label::CONVERSATION.to_owned(), id.to_owned()))
            .into_iter()
            .collect()
    }
}

impl Pipeline {
    /// `facts` are the dataset's tables and today's date, as the validator knows them.
    pub fn new(
        model: Arc<SemanticModel>,
        validator: Validator,
        facts: &DatasetFacts,
    ) -> Result<Self, PipelineError> {
        let as_of = NaiveDate::parse_from_str(&facts.today, "%Y-%m-%d")
            .map_err(|_| PipelineError::BadAsOf(facts.today.clone()))?;
        let day_of = |prefix: &str| -> std::collections::BTreeSet<NaiveDate> {
            facts
                .tables
                .iter()
                .filter_map(|t| t.strip_prefix(prefix))
                .filter_map(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
                .collect()
        };
        let daily = day_of("events_");
        let intraday = day_of("events_intraday_");
        let mut days: Vec<NaiveDate> = daily.iter().copied().collect();
        days.sort_unstable();
        let (Some(&start), Some(&end)) = (days.first(), days.last()) else {
            return Err(PipelineError::NoData);
        };
        Ok(Pipeline {
            model,
            validator,
            llm: None,
            as_of,
            data: DateRange { start, end },
            daily,
            intraday,
            approval_bytes: None,
            examples: Vec::new(),
            approx: false,
        })
    }

    pub fn model(&self) -> &SemanticModel {
        &self.model
    }

    /// The reader of this pipeline's questions (its model, today, the days with data).
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.model, self.as_of, self.data)
    }

    /// The first and last day with data.
    pub fn data(&self) -> DateRange {
        self.data
    }

    /// The pipeline with what analysts taught: taught metrics and synonyms in its model (a
    /// lesson the model cannot take is left out and named in the returned list), verified
    /// examples answering their questions. Call before the LLM path is built over the model.
    pub fn with_knowledge(
        mut self,
        knowledge: &nlq_core::knowledge::Knowledge,
    ) -> (Self, Vec<String>) {
        let lessons = knowledge.entries.iter().map(|t| (t.id.as_str(), &t.lesson));
        let (model, skipped) = (*self.model).clone().with_lessons(lessons);
        self.model = Arc::new(model);
        self.examples = Verified::of(knowledge);
        (self, skipped)
    }

    /// The validator every query of this pipeline passes, for SQL the user writes.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Whether questions the semantic engine cannot answer go to an LLM.
    pub fn has_llm(&self) -> bool {
        self.llm.is_some()
    }

    /// Sends the questions the semantic engine cannot answer to an LLM.
    pub fn with_llm(mut self, llm: LlmPath) -> Self {
        self.llm = Some(llm);
        self
    }

    /// Queries that would bill more than `bytes` stop after validation with
    /// `Status::NeedsApproval` unless the request says the user approved.
    pub fn with_approval_bytes(mut self, bytes: u64) -> Self {
        self.approval_bytes = Some(bytes);
        self
    }

    /// Counts users and sessions as GA4's reports do (HyperLogLog++), so totals match its
    /// interface; a question saying "GA4 화면 기준" asks for this on its own.
    pub fn with_approx(mut self, approx: bool) -> Self {
        self.approx = approx;
        self
    }

    fn run_for<'a>(
        &'a self,
        request: &Request<'a>,
        hint: Option<String>,
        events: &'a (dyn Fn(&Event) + Send + Sync),
    ) -> Run<'a> {
        Run {
            question: request.question,
            grounding: Grounding {
                model: &self.model,
                as_of: self.as_of.to_string(),
                first_suffix: self.data.start.format("%Y%m%d").to_string(),
                last_suffix: self.data.end.format("%Y%m%d").to_string(),
                context: request.context,
                hint,
            },
            validator: &self.validator,
            labels: request.labels(),
            allow: request.allow,
            events,
            approval_bytes: self.approval_limit(request),
        }
    }

    async fn ask_llm(
        &self,
        request: &Request<'_>,
        reason: String,
        mut answer: Answer,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let Some(llm) = &self.llm else {
            return finish(answer, Status::NeedsLlm, Some(reason), events);
        };
        let run = self.run_for(request, Some(reason), events);
        let started = Instant::now();
        let mut report = LlmReport::default();
        let end = llm.answer(&run, &mut report).await;
        answer.timings.push(Timing {
            stage: Stage::Llm,
            ms: elapsed(started),
        });
        let (status, message) = match end {
            LlmEnd::Ran(outcome, sql) => {
                let outcome = *outcome;
                answer.sql = Some(sql);
                answer.cost = outcome.report.cost.clone();
                answer.validation = Some(outcome.report);
                if let Some(result) = outcome.result {
                    let started = Instant::now();
                    let summary = match llm
                        .summarize(&run, &period(&result), &result, &mut report)
                        .await
                    {
                        Some(text) => text,
                        // Without the model's summary, its own account of the query.
                        None => {
                            let rows = result.rows.len();
                            match report.explanation.as_deref() {
                                Some(e) if !e.is_empty() => format!("{e} ({rows} rows)"),
                                _ => format!("{rows} rows"),
                            }
                        }
                    };
                    let ms = elapsed(started);
                    answer.timings.push(Timing {
                        stage: Stage::Summarize,
                        ms,
                    });
                    events(&Event::Summarized {
                        summary: summary.clone(),
                        ms,
                    });
                    answer.summary = Some(summary);
                    answer.columns = result.columns;
                    answer.rows = result.rows;
                    answer.tables_read = result.tables_read;
                }
                (Status::Answered, None)
            }
            LlmEnd::NeedsApproval(checked, sql) => {
                answer.sql = Some(sql);
                answer.cost = checked.cost.clone();
                let reason = checked.cost.as_ref().map(|c| self.approval_reason(c));
                answer.validation = Some(*checked);
                (Status::NeedsApproval, reason)
            }
            LlmEnd::Declined(why) => (Status::Clarify, Some(why)),
            LlmEnd::Help(why) => (
                Status::Clarify,
                Some(format!("{why}\n{}", help(&self.model))),
            ),
            LlmEnd::OutOfScope(why) => (Status::OutOfScope, Some(why)),
            LlmEnd::ChangeData(why) => (Status::Refused, Some(why)),
            LlmEnd::GaveUp(last, why) => {
                let status = match last.as_ref().map(|r| r.verdict) {
                    Some(Verdict::Refused) => Status::Refused,
                    _ => Status::Error,
                };
                let detail = last
                    .as_ref()
                    .and_then(|r| r.first_error().map(|f| f.message.clone()));
                if let Some(r) = last {
                    answer.sql = Some(r.sql.clone());
                    answer.validation = Some(*r);
                }
                let message = match detail {
                    Some(d) => format!("{why}; the last was stopped: {d}"),
                    None => why,
                };
                (status, Some(message))
            }
            LlmEnd::Failed(why) => (Status::Error, Some(format!("the LLM path failed: {why}"))),
        };
        events(&Event::LlmAnswered {
            provider: llm.provider().name().to_owned(),
            model: llm.provider().model().to_owned(),
            calls: report.calls.len(),
            input_tokens: report.input_tokens,
            output_tokens: report.output_tokens,
            cost_usd: report.cost_usd,
            ms: elapsed(started),
        });
        answer.llm = Some(report);
        finish(answer, status, message, events)
    }

    /// Answers one question; every stage is sent to `events` as it finishes.
    pub async fn ask(&self, question: &str, events: &(dyn Fn(&Event) + Send + Sync)) -> Answer {
        self.answer(&Request::new(question), events).await
    }

    /// Answers a question that follows the conversation `context`.
    pub async fn ask_with(
        &self,
        question: &str,
        context: &Context,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let request = Request {
            context: Some(context),
            ..Request::new(question)
        };
        self.answer(&request, events).await
    }

    /// Answers one request; every stage is sent to `events` as it finishes.
    pub async fn answer(
        &self,
        request: &Request<'_>,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let question = request.question;
        let mut answer = Answer::new(question);

        let started = Instant::now();
        let reader = Reader::new(&self.model, self.as_of, self.data);
        // The time words are read only for a question that was taught.
        if let Some(example) = Verified::find(&self.examples, question) {
            let range = reader.time_range(question);
            if let Some(sql) = example.sql_for(range) {
                let ms = elapsed(started);
                answer.timings.push(Timing {
                    stage: Stage::Understand,
                    ms,
                });
                events(&Event::Understood {
                    intent: "verified".into(),
                    plan: None,
                    ms,
                });
                answer.verified = Some(example.id.clone());
                answer.range = range;
                answer.sql = Some(sql.clone());
                return self
                    .approve_and_execute(answer, sql, None, request, events)
                    .await;
            }
        }
        let understanding = request
            .context
            .and_then(|context| context.last_plan())
            .and_then(|previous| reader.follow_up(previous, question))
            .unwrap_or_else(|| reader.understand(question));
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Understand,
            ms,
        });
        let plan = match understanding {
            Understanding::Data { mut plan } => {
                if self.approx {
                    plan.set_approx(&self.model);
                }
                events(&Event::Understood {
                    intent: "data".into(),
                    plan: Some(plan.clone()),
                    ms,
                });
                plan
            }
            Understanding::NeedsLlm { reason } if self.llm.is_some() => {
                events(&Event::Understood {
                    intent: "needs_llm".into(),
                    plan: None,
                    ms,
                });
                return self.ask_llm(request, reason, answer, events).await;
            }
            // Every word read but no number named: an LLM may still know which one the
            // question means; the user is asked only when there is none (or it asks back).
            Understanding::Clarify { question, choices }
                if self.llm.is_some() && !choices.is_empty() =>
            {
                events(&Event::Understood {
                    intent: "needs_llm".into(),
                    plan: None,
                    ms,
                });
                let hint = format!(
                    "every word was read but no number was named ({question}); the likeliest \
                     readings are: {}",
                    choices.join(" | ")
                );
                return self.ask_llm(request, hint, answer, events).await;
            }
            other => {
                let (intent, status, message) = match other {
                    Understanding::ChangeData { reason } => {
                        ("change_data", Status::Refused, reason)
                    }
                    Understanding::OutOfScope { reason } => {
                        ("out_of_scope", Status::OutOfScope, reason)
                    }
                    Understanding::Help => ("help", Status::Clarify, help(&self.model)),
                    Understanding::Clarify { question, choices } => {
                        answer.choices = choices;
                        ("clarify", Status::Clarify, question)
                    }
                    Understanding::NeedsLlm { reason } => (
                        "needs_llm",
                        Status::NeedsLlm,
                        format!(
                            "{reason}; without an LLM configured nlq cannot answer this with confidence"
                        ),
                    ),
                    Understanding::Data { .. } => ("data", Status::Answered, String::new()),
                };
                events(&Event::Understood {
                    intent: intent.into(),
                    plan: None,
                    ms,
                });
                return finish(answer, status, Some(message), events);
            }
        };
        self.annotate(&mut answer, &plan);

        let started = Instant::now();
        let sql = match nlq_semantic::compile(&self.model, &plan) {
            Ok(sql) => sql,
            Err(bug) => return finish(answer, Status::Error, Some(bug), events),
        };
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Compile,
            ms,
        });
        events(&Event::Compiled {
            sql: sql.clone(),
            ms,
        });
        answer.sql = Some(sql.clone());
        self.approve_and_execute(answer, sql, Some(&plan), request, events)
            .await
    }

    /// Stops for approval when the query would bill more than the limit (or fails its checks),
    /// else runs it.
    async fn approve_and_execute(
        &self,
        mut answer: Answer,
        sql: String,
        plan: Option<&Plan>,
        request: &Request<'_>,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        if let Some(limit) = self.approval_limit(request) {
            let started = Instant::now();
            let labels = request.labels();
            let job = Job {
                labels: &labels,
                allow: request.allow,
            };
            let report = self.validator.check_job(&sql, &job).await;
            let billed = report.cost.as_ref().map_or(0, |c| c.bytes_billed);
            if !report.passed() || billed > limit {
                let ms = elapsed(started);
                answer.timings.push(Timing {
                    stage: Stage::Validate,
                    ms,
                });
                events(&Event::Validated {
                    report: report.clone(),
                    ms,
                });
                answer.cost = report.cost.clone();
                let (status, message) = if report.passed() {
                    let reason = report.cost.as_ref().map(|c| self.approval_reason(c));
                    (Status::NeedsApproval, reason)
                } else {
                    let status = match report.verdict {
                        Verdict::Refused => Status::Refused,
                        _ => Status::Error,
                    };
                    (status, report.first_error().map(|f| f.message.clone()))
                };
                answer.validation = Some(report);
                return finish(answer, status, message, events);
            }
        }
        self.execute(answer, &sql, plan, request, events).await
    }

    /// Runs SQL the user approved after an answer stopped with `Status::NeedsApproval`: it is
    /// validated again (the data or the policy may have changed since), run and summarized;
    /// `plan` is the semantic plan when the semantic engine wrote the SQL.
    pub async fn run_approved(
        &self,
        request: &Request<'_>,
        sql: &str,
        plan: Option<&Plan>,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let mut answer = Answer {
            sql: Some(sql.to_owned()),
            ..Answer::new(request.question)
        };
        // An approved query keeps what its plan says about the data (caveats, cut buckets).
        if let Some(plan) = plan {
            self.annotate(&mut answer, plan);
        }
        let request = Request {
            approved: true,
            ..*request
        };
        self.execute(answer, sql, plan, &request, events).await
    }

    /// Validation with execution, then the summary: the semantic one from `plan`, else the
    /// LLM's, else a row count.
    async fn execute(
        &self,
        mut answer: Answer,
        sql: &str,
        plan: Option<&Plan>,
        request: &Request<'_>,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> Answer {
        let started = Instant::now();
        let labels = request.labels();
        let job = Job {
            labels: &labels,
            allow: request.allow,
        };
        let outcome: Outcome = self.validator.run_job(sql, &job).await;
        let total = elapsed(started);
        let execute_ms = outcome
            .report
            .steps
            .iter()
            .filter(|s| matches!(s.name, Step::Execute | Step::Assertions))
            .map(|s| s.elapsed.as_secs_f64() * 1000.0)
            .sum::<f64>();
        answer.timings.push(Timing {
            stage: Stage::Validate,
            ms: total - execute_ms,
        });
        events(&Event::Validated {
            report: outcome.report.clone(),
            ms: total - execute_ms,
        });
        answer.cost = outcome.report.cost.clone();
        let verdict = outcome.report.verdict;
        let first_error = outcome.report.first_error().map(|f| f.message.clone());
        answer.validation = Some(outcome.report);
        let Some(result) = outcome.result else {
            let status = match verdict {
                Verdict::Refused => Status::Refused,
                _ => Status::Error,
            };
            return finish(answer, status, first_error, events);
        };
        answer.timings.push(Timing {
            stage: Stage::Execute,
            ms: execute_ms,
        });
        events(&Event::Executed {
            rows: result.rows.len(),
            bytes_processed: result.bytes_processed,
            ms: execute_ms,
        });

        let started = Instant::now();
        let summary = self
            .summary(plan, &result, request, &mut answer, events)
            .await;
        let ms = elapsed(started);
        answer.timings.push(Timing {
            stage: Stage::Summarize,
            ms,
        });
        events(&Event::Summarized {
            summary: summary.clone(),
            ms,
        });
        // A total over a period is worth more beside the period before it, when that is cheap.
        let summary = match plan {
            Some(plan) => match self
                .previous_period(plan, &result, request, &mut answer)
                .await
            {
                Some(change) => format!("{summary}; {change}"),
                None => summary,
            },
            None => summary,
        };
        answer.summary = Some(summary);
        answer.columns = result.columns;
        answer.rows = result.rows;
        answer.tables_read = result.tables_read;
        finish(answer, Status::Answered, None, events)
    }

    async fn summary(
        &self,
        plan: Option<&Plan>,
        result: &QueryResult,
        request: &Request<'_>,
        answer: &mut Answer,
        events: &(dyn Fn(&Event) + Send + Sync),
    ) -> String {
        let question = request.question;
        if let Some(plan) = plan {
            // A range the data does not reach is an answer (no rows yet), not an error.
            let outside = plan.range.is_empty()
                || plan.range.end < self.data.start
                || plan.range.start > self.data.end;
            return if outside {
                no_data(plan, question, self.data)
            } else {
                nlq_semantic::summarize(&self.model, plan, result, Lang::of(question))
            };
        }
        if let Some(llm) = &self.llm {
            let run = self.run_for(request, None, events);
            let mut report = LlmReport::default();
            let summary = llm
                .summarize(&run, &period(result), result, &mut report)
                .await;
            answer.llm = Some(report);
            if let Some(summary) = summary {
                return summary;
            }
        }
        match Lang::of(question) {
            Lang::Ko => format!("{}개 행", result.rows.len()),
            Lang::En => format!("{} rows", result.rows.len()),
        }
    }

    /// What a plan tells the answer before anything runs: its plan and range, the caveats on
    /// the data behind it (missing or intraday days, buckets the range cuts) and those buckets.
    fn annotate(&self, answer: &mut Answer, plan: &Plan) {
        let lang = Lang::of(&answer.question);
        answer.range = Some(plan.range);
        answer.plan = Some(plan.clone());
        answer.caveats = caveats(plan.range, self.data, &self.daily, &self.intraday, lang);
        answer.partial = nlq_semantic::insights::partial_buckets(&self.model, plan);
        answer
            .caveats
            .extend(nlq_semantic::insights::partial_caveat(
                &answer.partial,
                lang,
            ));
    }

    /// The same question over the period just before (the previous calendar month of a month,
    /// else as many days), when the answer is one row of totals for named days, the first
    /// query billed at most [`PREVIOUS_PERIOD_MAX_BYTES`] and the data reaches that far back:
    /// a second query, validated like the first, its bytes added to the answer's cost.
    async fn previous_period(
        &self,
        plan: &Plan,
        result: &QueryResult,
        request: &Request<'_>,
        answer: &mut Answer,
    ) -> Option<String> {
        let one_total = plan.shape.is_none()
            && plan.compare.is_none()
            && plan.dimensions.is_empty()
            && !plan.change
            && plan.range_words.is_some()
            && result.rows.len() == 1;
        // Never billed without asking: not after a query the user had to approve, and not
        // past the approval limit.
        let limit = self.approval_bytes.map_or(PREVIOUS_PERIOD_MAX_BYTES, |b| {
            b.min(PREVIOUS_PERIOD_MAX_BYTES)
        });
        let cheap = !request.approved
            && answer
                .cost
                .as_ref()
                .is_some_and(|c| c.bytes_billed <= limit);
        // A range the data does not cover is answered "no data yet", not compared.
        let covered = !plan.range.is_empty()
            && plan.range.start >= self.data.start
            && plan.range.end <= self.data.end;
        let before = plan.range.previous(nlq_semantic::time::PeriodUnit::Month);
        if !one_total || !cheap || !covered || before.start < self.data.start {
            return None;
        }
        let mut earlier = plan.clone();
        earlier.range = before;
        let sql = nlq_semantic::compile(&self.model, &earlier).ok()?;
        let labels = request.labels();
        let job = Job {
            labels: &labels,
            allow: request.allow,
        };
        let outcome = self.validator.run_job(&sql, &job).await;
        if let (Some(total), Some(extra)) = (answer.cost.as_mut(), outcome.report.cost.as_ref()) {
            total.bytes_processed += extra.bytes_processed;
            total.bytes_billed += extra.bytes_billed;
            total.usd += extra.usd;
            if let (Some((_, amount)), Some((_, more))) =
                (total.local.as_mut(), extra.local.as_ref())
            {
                *amount += more;
            }
        }
        let rows = outcome.result?;
        nlq_semantic::insights::previous_period_change(
            &self.model,
            plan,
            result,
            &rows,
            before,
            Lang::of(request.question),
        )
    }

    fn approval_limit(&self, request: &Request<'_>) -> Option<u64> {
        if request.dry_run {
            Some(0)
        } else if request.approved {
            None
        } else {
            self.approval_bytes
        }
    }

    fn approval_reason(&self, cost: &Cost) -> String {
        format!(
            "this query would bill {} (${:.4}), over the {} approval threshold: approve it to run",
            nlq_core::result::human_bytes(cost.bytes_billed),
            cost.usd,
            nlq_core::result::human_bytes(self.approval_bytes.unwrap_or(0))
        )
    }
}

/// The shards a result read, for the summary prompt.
fn period(result: &QueryResult) -> String {
    match (result.tables_read.first(), result.tables_read.last()) {
        (Some(first), Some(last)) => format!("{first} .. {last}"),
        _ => "(no daily table was read)".to_owned(),
    }
}

fn finish(
    mut answer: Answer,
    status: Status,
    message: Option<String>,
    events: &(dyn Fn(&Event) + Send + Sync),
) -> Answer {
    answer.status = status;
    if message.is_some() {
        answer.message = message;
    }
    events(&Event::Done { status });
    answer
}

fn elapsed(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// What an answer over `range` should say about the data: days inside the data's span with no
/// table (an export that failed; their events are not counted), and days that only have an
/// intraday table (still being exported; `_TABLE_SUFFIX` bounds leave them out).
pub fn caveats(
    range: DateRange,
    data: DateRange,
    daily: &std::collections::BTreeSet<NaiveDate>,
    intraday: &std::collections::BTreeSet<NaiveDate>,
    lang: Lang,
) -> Vec<String> {
    let list = |days: &[NaiveDate]| {
        let shown: Vec<String> = days.iter().take(3).map(ToString::to_string).collect();
        let more = days.len().saturating_sub(3);
        match (more, lang) {
            (0, _) => shown.join(", "),
            (n, Lang::Ko) => format!("{} 외 {n}일", shown.join(", ")),
            (n, Lang::En) => format!("{} and {n} more", shown.join(", ")),
        }
    };
    let mut out = Vec::new();
    let (from, to) = (range.start.max(data.start), range.end.min(data.end));
    let missing: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !daily.contains(d) && !intraday.contains(d))
        .collect();
    if !missing.is_empty() {
        out.push(match lang {
            Lang::Ko => format!(
                "기간 중 {}일은 내보낸 테이블이 없어 집계에 빠져 있습니다 ({}).",
                missing.len(),
                list(&missing)
            ),
            Lang::En => format!(
                "{} day(s) in the range have no exported table, so their events are not counted ({}).",
                missing.len(),
                list(&missing)
            ),
        });
    }
    let partial: Vec<NaiveDate> = intraday
        .iter()
        .copied()
        .filter(|d| *d >= range.start && *d <= range.end && !daily.contains(d))
        .collect();
    if !partial.is_empty() {
        out.push(match lang {
            Lang::Ko => format!(
                "{}은(는) 아직 내보내는 중이라(intraday 테이블만 있음) 집계에 포함되지 않았습니다.",
                list(&partial)
            ),
            Lang::En => format!(
                "{} is still being exported (only an intraday table exists) and is not counted.",
                list(&partial)
            ),
        });
    }
    out
}

fn no_data(plan: &Plan, question: &str, data: DateRange) -> String {
    let words = plan.range_words.clone().unwrap_or_default();
    match Lang::of(question) {
        Lang::Ko => format!(
            "{words} ({} .. {})에는 아직 데이터가 없습니다. 데이터는 {} .. {} 기간에 있습니다.",
            plan.range.start, plan.range.end, data.start, data.end
        ),
        Lang::En => format!(
            "{words} ({} .. {}) has no data yet; the data covers {} .. {}.",
            plan.range.start, plan.range.end, data.start, data.end
        ),
    }
}

fn help(model: &SemanticModel) -> String {
    let metrics: Vec<&str> = model.metrics.iter().map(|m| m.name.as_str()).collect();
    let dimensions: Vec<&str> = model.dimensions.iter().map(|d| d.name.as_str()).collect();
    let examples: Vec<&str> = model.golden.iter().map(|g| g.question.as_str()).collect();
    format!(
        "Ask for a metric ({}) by a dimension ({}) over a period (어제, 지난 7일, 지난주, 지난달, \
         2020년 12월, last 14 days ...), with filters such as a country or device. Examples: {}",
        metrics.join(", "),
        dimensions.join(", "),
        examples.join(" | ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 21: a range over days without a table, or over a day still being exported, says
    /// so in the question's language.
    #[test]
    fn caveats_name_missing_days_and_the_day_still_being_exported() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2020, m, d).unwrap();
        let daily: std::collections::BTreeSet<NaiveDate> = day(12, 1)
            .iter_days()
            .take(30)
            .filter(|d| *d != day(12, 15) && *d != day(12, 16))
            .collect();
        let intraday = std::collections::BTreeSet::from([day(12, 31)]);
        let data = DateRange {
            start: day(12, 1),
            end: day(12, 30),
        };
        let december = DateRange {
            start: day(12, 1),
            end: day(12, 31),
        };
        let notes = caveats(december, data, &daily, &intraday, Lang::En);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("2 day(s)") && notes[0].contains("2020-12-15, 2020-12-16"),
            "{notes:?}"
        );
        assert!(
            notes[1].starts_with("2020-12-31 is still being exported"),
            "{notes:?}"
        );
        let ko = caveats(december, data, &daily, &intraday, Lang::Ko);
        assert!(ko[0].starts_with("기간 중 2일은"), "{ko:?}");
        // A range of whole days: nothing to say.
        let first_week = DateRange {
            start: day(12, 1),
            end: day(12, 7),
        };
        assert!(caveats(first_week, data, &daily, &intraday, Lang::En).is_empty());
    }
}
