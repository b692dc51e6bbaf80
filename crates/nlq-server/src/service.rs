//! What the routes do, apart from HTTP: a question through the pipeline with its
//! conversation, the approval rule, the caller's budget, and the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::Rng;

use nlq_core::knowledge::Knowledge;
use nlq_core::{Status, Warehouse};
use nlq_metasync::{MetadataLoader, VersionId};
use nlq_pipeline::knowledge::KnowledgeBase;
use nlq_pipeline::{Context, Event, Pipeline, Request, Turn};
use nlq_semantic::Plan;

use crate::answer::QueryResponse;
use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::metrics::{AnswerPath, Metrics};
use crate::security::{Caller, Limiter};
use crate::store::{AnswerStore, Store};

/// Answers the cache keeps at most; the oldest go first.
const CACHED_ANSWERS: usize = 1_000;
/// How long a readiness check stands: probes every second must not each call the warehouse.
const READINESS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the server can answer: the warehouse's metadata call and the metadata document.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// The warehouse's error, when its metadata call failed.
    pub warehouse: Result<(), String>,
    /// None: no metadata store configured.
    pub metadata: Option<Result<(), String>>,
    pub checked: Instant,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.warehouse.is_ok() && !matches!(self.metadata, Some(Err(_)))
    }

    /// What an open route may say: which part is not ready, not why.
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "status": if self.ready() { "ready" } else { "not_ready" },
            "warehouse": if self.warehouse.is_ok() { "ok" } else { "unreachable" },
            "metadata": match &self.metadata {
                None => "none",
                Some(Ok(())) => "loaded",
                Some(Err(_)) => "not_loaded",
            },
        })
    }

    /// With the errors, for the admin status.
    pub fn details(&self) -> serde_json::Value {
        let mut body = self.public();
        if let Err(err) = &self.warehouse {
            body["warehouse_error"] = err.clone().into();
        }
        if let Some(Err(err)) = &self.metadata {
            body["metadata_error"] = err.clone().into();
        }
        body["checked_secs_ago"] = self.checked.elapsed().as_secs().into();
        body
    }
}

/// Builds the pipeline again over a newer MetaSync document or newer taught knowledge: its
/// vocabulary, registry, examples and lessons reach the next question without a restart. The
/// binary knows how (the model file, the policy, the LLM); the service only calls it.
pub type Rebuild = Arc<dyn Fn(Inputs) -> Result<Pipeline, String> + Send + Sync>;

/// Joins a request's span to its caller's trace, given the `traceparent` header: the binary's
/// tracing exporter knows how (this crate does not depend on it).
pub type TraceLink = Arc<dyn Fn(&tracing::Span, &str) + Send + Sync>;

/// What a pipeline is built from, beside the binary's own configuration.
pub struct Inputs {
    /// The metadata document; None when no metadata store is configured.
    pub document: Option<Arc<nlq_metasync::MetadataDocument>>,
    /// What analysts taught (empty when no knowledge store is configured).
    pub knowledge: Arc<Knowledge>,
}

/// The versions a pipeline was built from: the metadata document's and the knowledge's.
type BuiltFrom = (Option<VersionId>, Option<VersionId>);

/// The pipeline in use and what it was built from.
struct Current {
    pipeline: Arc<Pipeline>,
    built_from: BuiltFrom,
}

pub struct Service {
    current: std::sync::RwLock<Current>,
    rebuild: Option<Rebuild>,
    /// One rebuild at a time; the others keep answering with the pipeline they have.
    rebuilding: tokio::sync::Mutex<()>,
    pub warehouse: Arc<dyn Warehouse>,
    pub store: Arc<dyn AnswerStore>,
    pub metadata: Option<Arc<MetadataLoader>>,
    /// Where taught lessons are kept; None: nothing can be taught.
    pub knowledge: Option<Arc<KnowledgeBase>>,
    /// None: a `traceparent` is only logged, not followed.
    pub trace_link: Option<TraceLink>,
    pub config: ServerConfig,
    pub limiter: Limiter,
    pub metrics: Metrics,
    pub started: Instant,
    /// First questions (no conversation) answered recently, by their text.
    cache: Mutex<HashMap<String, (Instant, QueryResponse)>>,
    /// The last readiness check (see `READINESS_TTL`).
    readiness: Mutex<Option<Readiness>>,
}

/// A question as the API takes it.
#[derive(Debug, Clone)]
pub struct Ask {
    pub question: String,
    pub conversation_id: Option<String>,
    pub user_ack: bool,
    /// Validate only (oneshot): nothing runs, whatever it costs.
    pub dry_run: bool,
}

pub type Sink<'a> = &'a (dyn Fn(&Event) + Send + Sync);

pub fn new_id(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}_{n:016x}")
}

impl Service {
    pub fn new(
        pipeline: Arc<Pipeline>,
        warehouse: Arc<dyn Warehouse>,
        store: Arc<dyn Store>,
        metadata: Option<Arc<MetadataLoader>>,
        config: ServerConfig,
    ) -> Self {
        let limiter = Limiter::new(config.limits.clone(), store.clone());
        Service {
            current: std::sync::RwLock::new(Current {
                pipeline,
                built_from: (None, None),
            }),
            rebuild: None,
            rebuilding: tokio::sync::Mutex::new(()),
            warehouse,
            store,
            metadata,
            knowledge: None,
            trace_link: None,
            config,
            limiter,
            metrics: Metrics::new(),
            started: Instant::now(),
            cache: Mutex::new(HashMap::new()),
            readiness: Mutex::new(None),
        }
    }

    /// Rebuilds the pipeline whenever the metadata loader has a newer document (or the
    /// knowledge a newer version).
    pub fn with_rebuild(mut self, rebuild: Rebuild) -> Self {
        self.rebuild = Some(rebuild);
        self
    }

    /// Lessons are taught through this store (the Knowledge API), and the pipeline follows
    /// its versions. The first pipeline is taken to be built without lessons.
    pub fn with_knowledge(mut self, knowledge: Arc<KnowledgeBase>) -> Self {
        self.knowledge = Some(knowledge);
        self
    }

    /// Request spans continue the trace their `traceparent` header names.
    pub fn with_trace_link(mut self, link: TraceLink) -> Self {
        self.trace_link = Some(link);
        self
    }

    /// After a lesson changed: cached answers may be wrong now, and the next question must
    /// see the lesson, so the pipeline is rebuilt at once.
    pub async fn knowledge_changed(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        self.fresh_pipeline().await;
    }

    /// The pipeline questions are answered with now.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.current().0
    }

    /// The pipeline in use and what it was built from.
    fn current(&self) -> (Arc<Pipeline>, BuiltFrom) {
        // The lock only guards a swap of two values: a poisoned one still holds a whole pair.
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (current.pipeline.clone(), current.built_from.clone())
    }

    /// What the pipeline should be built from now: the loader's document and the knowledge
    /// store's lessons. A source that cannot be read now keeps the version in use.
    async fn wanted(&self, built_from: &BuiltFrom) -> (BuiltFrom, Inputs) {
        let mut wanted = built_from.clone();
        let mut inputs = Inputs {
            document: None,
            knowledge: Arc::new(Knowledge::default()),
        };
        if let Some(loader) = &self.metadata
            && let Ok(snapshot) = loader.current().await
        {
            wanted.0 = Some(snapshot.version.clone());
            inputs.document = Some(snapshot.document.clone());
        }
        if let Some(base) = &self.knowledge {
            match base.current().await {
                Ok((version, knowledge)) => {
                    wanted.1 = version;
                    inputs.knowledge = knowledge;
                }
                Err(err) => tracing::warn!("the taught knowledge is not readable now: {err}"),
            }
        }
        (wanted, inputs)
    }

    /// The pipeline, rebuilt first when the metadata loader or the knowledge store holds a
    /// version it was not built from. A failed rebuild is logged and the pipeline in use stays.
    pub async fn fresh_pipeline(&self) -> Arc<Pipeline> {
        let Some(rebuild) = &self.rebuild else {
            return self.pipeline();
        };
        if self.metadata.is_none() && self.knowledge.is_none() {
            return self.pipeline();
        }
        let (pipeline, built_from) = self.current();
        let (wanted, inputs) = self.wanted(&built_from).await;
        if wanted == built_from {
            return pipeline;
        }
        let _one = self.rebuilding.lock().await;
        // Another task may have rebuilt it while this one waited.
        let (pipeline, built_from) = self.current();
        if wanted == built_from {
            return pipeline;
        }
        let versions = format!(
            "metadata {}, knowledge {}",
            wanted
                .0
                .as_ref()
                .map_or("none".to_owned(), ToString::to_string),
            wanted
                .1
                .as_ref()
                .map_or("none".to_owned(), ToString::to_string)
        );
        match rebuild(inputs) {
            Ok(pipeline) => {
                tracing::info!(versions, "the pipeline now reads the new versions");
                let pipeline = Arc::new(pipeline);
                if let Ok(mut current) = self.current.write() {
                    *current = Current {
                        pipeline: pipeline.clone(),
                        built_from: wanted,
                    };
                }
                pipeline
            }
            Err(err) => {
                tracing::warn!(versions, "the new versions are not used: {err}");
                if let Ok(mut current) = self.current.write() {
                    // Not tried again until the next version.
                    current.built_from = wanted;
                }
                pipeline
            }
        }
    }

    /// The readiness, checked again when the last check is older than `READINESS_TTL`.
    pub async fn readiness(&self) -> Readiness {
        if let Ok(last) = self.readiness.lock()
            && let Some(last) = last
                .as_ref()
                .filter(|r| r.checked.elapsed() < READINESS_TTL)
        {
            return last.clone();
        }
        let warehouse = self
            .warehouse
            .list_tables()
            .await
            .map(|_| ())
            .map_err(|err| err.to_string());
        let metadata = match &self.metadata {
            None => None,
            Some(loader) => Some(
                loader
                    .current()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            ),
        };
        let fresh = Readiness {
            warehouse,
            metadata,
            checked: Instant::now(),
        };
        if let Ok(mut last) = self.readiness.lock() {
            *last = Some(fresh.clone());
        }
        fresh
    }

    /// A recent answer to the same first question, copied under new ids. Only answers that
    /// ran are reused, and only for questions that start a conversation: a follow-up depends
    /// on what came before it.
    fn cached(&self, ask: &Ask) -> Option<QueryResponse> {
        let ttl = self.config.limits.answer_cache_ttl;
        if ttl.is_zero() || ask.conversation_id.is_some() || ask.dry_run {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        let (at, answer) = cache.get(ask.question.trim())?;
        if at.elapsed() > ttl {
            return None;
        }
        Some(QueryResponse {
            qid: new_id("q"),
            conversation_id: new_id("c"),
            cached_from: Some(answer.qid.clone()),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ..answer.clone()
        })
    }

    fn remember(&self, ask: &Ask, response: &QueryResponse) {
        let ttl = self.config.limits.answer_cache_ttl;
        if ttl.is_zero()
            || ask.conversation_id.is_some()
            || ask.dry_run
            || response.status != Status::Answered
        {
            return;
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, (at, _)| at.elapsed() <= ttl);
            if cache.len() >= CACHED_ANSWERS
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
            cache.insert(
                ask.question.trim().to_owned(),
                (Instant::now(), response.clone()),
            );
        }
    }

    fn check_question(&self, question: &str) -> Result<(), ServerError> {
        if question.trim().is_empty() {
            return Err(ServerError::bad(
                "empty_question",
                "the question is empty: ask something about the data, e.g. \"지난 7일 디바이스별 방문자 수\"",
            ));
        }
        // A NUL or another control character cannot be stored (PostgreSQL refuses \u0000 in
        // JSON) and is never part of a question.
        if let Some(c) = question
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(ServerError::bad(
                "bad_question",
                format!(
                    "the question holds the control character U+{:04X}: remove it and ask again",
                    u32::from(c)
                ),
            ));
        }
        let chars = question.chars().count();
        let max = self.config.limits.max_question_chars;
        if chars > max {
            return Err(ServerError::bad(
                "question_too_long",
                format!("the question has {chars} characters; at most {max} are taken: shorten it"),
            ));
        }
        Ok(())
    }

    /// The conversation's earlier answers (oldest first), or a new conversation.
    fn conversation(&self, id: Option<&str>) -> Result<(String, Vec<QueryResponse>), ServerError> {
        match id {
            None => Ok((new_id("c"), Vec::new())),
            Some(id) => match self.store.conversation(id)? {
                Some(answers) => Ok((id.to_owned(), answers)),
                None => Err(ServerError::NotFound {
                    what: "conversation",
                    id: id.to_owned(),
                }),
            },
        }
    }

    /// What can be refused before any work starts: the question, the budget, the
    /// conversation. The stream route calls it before it answers 200.
    pub fn precheck(&self, caller: &Caller, ask: &Ask) -> Result<(), ServerError> {
        self.check_question(&ask.question)?;
        if !ask.dry_run {
            self.limiter.check_budget(caller)?;
        }
        if let Some(id) = &ask.conversation_id
            && !self.store.has_conversation(id)?
        {
            return Err(ServerError::NotFound {
                what: "conversation",
                id: id.clone(),
            });
        }
        Ok(())
    }

    pub async fn ask(
        &self,
        caller: &Caller,
        ask: &Ask,
        events: Sink<'_>,
    ) -> Result<QueryResponse, ServerError> {
        self.check_question(&ask.question)?;
        if !ask.dry_run {
            self.limiter.check_budget(caller)?;
        }
        if let Some(response) = self.cached(ask) {
            self.store.save(&response)?;
            self.observe(&response, AnswerPath::Cache);
            return Ok(response);
        }
        let (conversation_id, earlier) = self.conversation(ask.conversation_id.as_deref())?;
        // Every earlier answer: a follow-up builds on the last one with a plan, however old;
        // the window limits what the prompts see.
        let context = Context::new(
            Some(conversation_id.clone()),
            self.config.limits.context_turns,
        )
        .with_turns(earlier.iter().map(|a| Turn {
            question: a.question.clone(),
            plan: a.plan.clone(),
            sql: a.sql.clone(),
            digest: a.summary.clone().or_else(|| a.message.clone()),
        }));
        let request = Request {
            context: Some(&context),
            approved: ask.user_ack,
            dry_run: ask.dry_run,
            conversation: Some(&conversation_id),
            ..Request::new(&ask.question)
        };
        let answer = self.fresh_pipeline().await.answer(&request, events).await;
        let mut response = QueryResponse::new(&answer, new_id("q"), conversation_id);
        if ask.dry_run {
            self.planned(&mut response);
        }
        self.limiter.spend(caller, response.bytes_billed());
        self.store.save(&response)?;
        self.remember(ask, &response);
        let path = if response.llm.as_ref().is_some_and(|l| !l.calls.is_empty()) {
            AnswerPath::Llm
        } else {
            AnswerPath::Semantic
        };
        self.observe(&response, path);
        Ok(response)
    }

    /// An answer made: counted in the metrics, written to the log, and its facts put on the
    /// request's span so the access log line carries them.
    fn observe(&self, response: &QueryResponse, path: AnswerPath) {
        self.metrics.answer(response, path, self.warehouse.name());
        let llm_usd = response.llm.as_ref().map_or(0.0, |l| l.cost_usd);
        let span = tracing::Span::current();
        span.record("qid", response.qid.as_str());
        span.record("answer_status", response.status.as_str());
        span.record("answer_path", path.as_str());
        span.record("bytes_billed", response.bytes_billed());
        span.record("llm_usd", llm_usd);
        tracing::info!(
            qid = response.qid,
            conversation_id = response.conversation_id,
            answer_status = response.status.as_str(),
            answer_path = path.as_str(),
            bytes_billed = response.bytes_billed(),
            llm_usd,
            "answer"
        );
    }

    /// A dry run stops every query; whether it needs approval is the threshold's call.
    fn planned(&self, response: &mut QueryResponse) {
        if response.status != Status::NeedsApproval {
            return;
        }
        let billed = response.cost.as_ref().map_or(0, |c| c.bytes_billed);
        response.status = Status::Planned;
        response.needs_approval = billed > self.config.approval_bytes;
        response.approval_reason = response.needs_approval.then(|| {
            format!(
                "this query would bill {}, over the {} approval threshold",
                nlq_core::result::human_bytes(billed),
                nlq_core::result::human_bytes(self.config.approval_bytes)
            )
        });
        response.message = response.approval_reason.clone();
    }

    /// Runs a stored answer's SQL (`qid`) or the caller's own SQL.
    pub async fn run(
        &self,
        caller: &Caller,
        qid: Option<&str>,
        sql: Option<&str>,
        user_ack: bool,
        allow: &[String],
        events: Sink<'_>,
    ) -> Result<QueryResponse, ServerError> {
        self.limiter.check_budget(caller)?;
        if let Some(message) = nlq_validate::not_allowable(allow) {
            return Err(ServerError::bad("rule_not_allowable", message));
        }
        let (stored, sql) = match (qid, sql) {
            (Some(qid), None) => {
                let stored = self.get(qid)?;
                let Some(sql) = stored.sql.clone() else {
                    return Err(ServerError::bad(
                        "nothing_to_run",
                        format!(
                            "answer {qid} has no SQL to run ({}): ask the question again",
                            stored.status
                        ),
                    ));
                };
                (Some(stored), sql)
            }
            (None, Some(sql)) if sql.trim().is_empty() => {
                return Err(ServerError::bad(
                    "empty_sql",
                    "`sql` is empty: send one SELECT query over the GA4 export",
                ));
            }
            (None, Some(sql)) => (None, sql.to_owned()),
            _ => {
                return Err(ServerError::bad(
                    "qid_or_sql",
                    "send either `qid` (an earlier answer) or `sql` (a query to run), not both or neither",
                ));
            }
        };
        let (qid, conversation_id) = match &stored {
            Some(s) => (s.qid.clone(), s.conversation_id.clone()),
            None => (new_id("q"), new_id("c")),
        };
        let request = Request {
            conversation: Some(&conversation_id),
            allow,
            ..Request::new("(SQL)")
        };
        let pipeline = self.fresh_pipeline().await;
        let needs_approval = match &stored {
            Some(stored) => stored.needs_approval,
            None => {
                let labels = request.labels();
                let job = nlq_validate::Job {
                    labels: &labels,
                    allow,
                };
                let report = pipeline.validator().check_job(&sql, &job).await;
                let billed = report.cost.as_ref().map_or(0, |c| c.bytes_billed);
                report.passed() && billed > self.config.approval_bytes
            }
        };
        if needs_approval && !user_ack {
            return Err(ServerError::bad(
                "approval_required",
                format!(
                    "this query bills more than the {} approval threshold: send `user_ack: true` to run it",
                    nlq_core::result::human_bytes(self.config.approval_bytes)
                ),
            ));
        }
        let plan: Option<Plan> = stored.as_ref().and_then(|s| s.plan.clone());
        let question = stored
            .as_ref()
            .map_or_else(|| "(SQL)".to_owned(), |s| s.question.clone());
        let request = Request {
            question: &question,
            ..request
        };
        let answer = pipeline
            .run_approved(&request, &sql, plan.as_ref(), events)
            .await;
        let mut response = QueryResponse::new(&answer, qid, conversation_id);
        // Before the question's own LLM report is copied in: that was counted when it was asked.
        self.observe(&response, AnswerPath::Run);
        if let Some(stored) = &stored {
            // The question's own LLM work stays on record next to the run's.
            if response.llm.is_none() {
                response.llm = stored.llm.clone();
            }
        }
        self.limiter.spend(caller, response.bytes_billed());
        self.store.save(&response)?;
        Ok(response)
    }

    pub fn get(&self, qid: &str) -> Result<QueryResponse, ServerError> {
        self.store.get(qid)?.ok_or_else(|| ServerError::NotFound {
            what: "qid",
            id: qid.to_owned(),
        })
    }

    pub fn conversation_answers(&self, id: &str) -> Result<Vec<QueryResponse>, ServerError> {
        self.store
            .conversation(id)?
            .ok_or_else(|| ServerError::NotFound {
                what: "conversation",
                id: id.to_owned(),
            })
    }
}
