//! Questions and answers: ask, plan without running, run (with approval), read back.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;

use nlq_semantic::Lang;

use crate::error::ServerError;
use crate::security::Caller;
use crate::service::{Ask, Service};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryBody {
    pub question: String,
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub user_ack: bool,
}

#[post("/api/query")]
pub async fn query(
    service: web::Data<Service>,
    caller: Caller,
    body: web::Json<QueryBody>,
) -> Result<HttpResponse, ServerError> {
    let body = body.into_inner();
    let ask = Ask {
        question: body.question,
        conversation_id: body.conversation_id,
        user_ack: body.user_ack,
        dry_run: false,
    };
    let response = service.ask(&caller, &ask, &|_| {}).await?;
    Ok(HttpResponse::Ok().json(response))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneshotBody {
    pub question: String,
    pub conversation_id: Option<String>,
}

/// Validates and prices the question's SQL without running it.
#[post("/api/query/oneshot")]
pub async fn oneshot(
    service: web::Data<Service>,
    caller: Caller,
    body: web::Json<OneshotBody>,
) -> Result<HttpResponse, ServerError> {
    let body = body.into_inner();
    let ask = Ask {
        question: body.question,
        conversation_id: body.conversation_id,
        user_ack: false,
        dry_run: true,
    };
    let r = service.ask(&caller, &ask, &|_| {}).await?;
    Ok(HttpResponse::Ok().json(json!({
        "qid": r.qid,
        "conversation_id": r.conversation_id,
        "status": r.status,
        "message": r.message,
        "sql": r.sql,
        "plan": r.plan,
        "cost": r.cost,
        "risk": r.risk,
        "needs_approval": r.needs_approval,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    #[serde(default, deserialize_with = "present")]
    pub qid: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub sql: Option<String>,
    #[serde(default)]
    pub user_ack: bool,
    /// Lint rules to run despite (`lint.items_fanout`): reported as warnings on the answer.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A field that may be left out but, when sent, is a string: `null` is refused rather than
/// read as "left out", so the body means what it says.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

#[post("/api/query/run")]
pub async fn run(
    service: web::Data<Service>,
    caller: Caller,
    body: web::Json<RunBody>,
) -> Result<HttpResponse, ServerError> {
    let body = body.into_inner();
    let response = service
        .run(
            &caller,
            body.qid.as_deref(),
            body.sql.as_deref(),
            body.user_ack,
            &body.allow,
            &|_| {},
        )
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

#[get("/api/query/{qid}")]
pub async fn get_answer(
    service: web::Data<Service>,
    qid: web::Path<String>,
) -> Result<HttpResponse, ServerError> {
    Ok(HttpResponse::Ok().json(service.get(&qid)?))
}

#[get("/api/conversations/{id}")]
pub async fn conversation(
    service: web::Data<Service>,
    id: web::Path<String>,
) -> Result<HttpResponse, ServerError> {
    let turns: Vec<_> = service
        .conversation_answers(&id)?
        .iter()
        .map(|a| a.headline())
        .collect();
    Ok(HttpResponse::Ok().json(json!({"conversation_id": id.as_str(), "turns": turns})))
}

/// The semantic model's verified questions: each is answered without an LLM.
#[get("/api/demo/questions")]
pub async fn demo_questions(service: web::Data<Service>) -> HttpResponse {
    let questions: Vec<_> = service
        .pipeline()
        .model()
        .golden
        .iter()
        .take(12)
        .map(|g| {
            let lang = match Lang::of(&g.question) {
                Lang::Ko => "ko",
                Lang::En => "en",
            };
            json!({"question": g.question, "lang": lang})
        })
        .collect();
    HttpResponse::Ok().json(json!({ "questions": questions }))
}
