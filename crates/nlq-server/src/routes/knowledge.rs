//! What the model knows and what analysts taught it. Reading is for any caller; teaching,
//! editing and removing need the admin token (the middleware checks it), and every lesson is
//! checked against the data before it is kept. A change reaches the next question: the
//! pipeline is rebuilt over it at once.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;

use nlq_core::knowledge::{KnowledgeError, Lesson};
use nlq_pipeline::knowledge::{TeachError, check, model_entries, now};

use crate::error::ServerError;
use crate::service::Service;

/// A lesson as the API takes it: the lesson's fields, its `kind`, and who teaches it.
#[derive(Debug, Deserialize)]
pub struct TeachBody {
    #[serde(flatten)]
    lesson: Lesson,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VerifyBody {
    /// The answer whose question and SQL become a verified example.
    qid: String,
    #[serde(default)]
    by: Option<String>,
}

#[get("/api/knowledge")]
pub async fn list(service: web::Data<Service>) -> Result<HttpResponse, ServerError> {
    let pipeline = service.fresh_pipeline().await;
    let (version, lessons) = match &service.knowledge {
        Some(base) => {
            let (version, knowledge) = base.current().await.map_err(teach_error)?;
            (version.map(|v| v.to_string()), knowledge.entries.clone())
        }
        None => (None, Vec::new()),
    };
    Ok(HttpResponse::Ok().json(json!({
        "teachable": service.knowledge.is_some(),
        "version": version,
        "lessons": lessons,
        "model": model_entries(pipeline.model()),
    })))
}

#[post("/api/knowledge")]
pub async fn teach(
    service: web::Data<Service>,
    body: web::Json<TeachBody>,
) -> Result<HttpResponse, ServerError> {
    let body = body.into_inner();
    add(&service, body.lesson, body.by).await
}

/// "Save as verified": an answer that ran becomes an example of its question.
#[post("/api/knowledge/verified")]
pub async fn verify(
    service: web::Data<Service>,
    body: web::Json<VerifyBody>,
) -> Result<HttpResponse, ServerError> {
    let body = body.into_inner();
    let answer = service.get(&body.qid)?;
    let sql = match (&answer.status, &answer.sql) {
        (nlq_core::Status::Answered, Some(sql)) => sql.clone(),
        _ => {
            return Err(ServerError::BadRequest {
                code: "not_answered",
                message: format!(
                    "answer {} did not run ({}): only an answer with rows can be verified",
                    body.qid,
                    answer.status.as_str()
                ),
            });
        }
    };
    let lesson = Lesson::Example {
        question: answer.question.clone(),
        sql,
        range: None,
    };
    add(&service, lesson, body.by).await
}

#[put("/api/knowledge/{id}")]
pub async fn edit(
    service: web::Data<Service>,
    id: web::Path<String>,
    body: web::Json<TeachBody>,
) -> Result<HttpResponse, ServerError> {
    let base = teachable(&service)?;
    let body = body.into_inner();
    let pipeline = service.fresh_pipeline().await;
    // Checked against the model as it is, the replaced lesson included: a synonym's or a
    // metric's own words would collide with themselves, so changing those is remove + teach.
    let lesson = check(&pipeline, body.lesson).await.map_err(refused)?;
    let by = author(body.by)?;
    let now = now();
    let id = id.into_inner();
    base.change(|k| k.replace(&id, lesson.clone(), &by, &now))
        .await
        .map_err(teach_error)?;
    service.knowledge_changed().await;
    Ok(HttpResponse::Ok().json(json!({"id": id, "lesson": lesson, "by": by, "at": now})))
}

#[delete("/api/knowledge/{id}")]
pub async fn remove(
    service: web::Data<Service>,
    id: web::Path<String>,
) -> Result<HttpResponse, ServerError> {
    let base = teachable(&service)?;
    let id = id.into_inner();
    let removed = base.change(|k| k.remove(&id)).await.map_err(teach_error)?;
    service.knowledge_changed().await;
    Ok(HttpResponse::Ok().json(json!({"removed": removed})))
}

async fn add(
    service: &Service,
    lesson: Lesson,
    by: Option<String>,
) -> Result<HttpResponse, ServerError> {
    let base = teachable(service)?;
    let pipeline = service.fresh_pipeline().await;
    let lesson = check(&pipeline, lesson).await.map_err(refused)?;
    let by = author(by)?;
    let now = now();
    let id = base
        .change(|k| Ok(k.add(lesson.clone(), &by, &now)))
        .await
        .map_err(teach_error)?;
    service.knowledge_changed().await;
    Ok(HttpResponse::Created().json(json!({"id": id, "lesson": lesson, "by": by, "at": now})))
}

fn teachable(service: &Service) -> Result<&nlq_pipeline::knowledge::KnowledgeBase, ServerError> {
    service.knowledge.as_deref().ok_or_else(|| {
        ServerError::Conflict(
            "no knowledge store is configured: start the server with --knowledge".into(),
        )
    })
}

/// Who teaches: the name the body gives (at most 100 characters), else the admin.
fn author(by: Option<String>) -> Result<String, ServerError> {
    match by.as_deref().map(str::trim) {
        Some(name) if name.chars().count() > 100 => Err(ServerError::BadRequest {
            code: "bad_author",
            message: "`by` is longer than 100 characters: give a name or an email".into(),
        }),
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Ok("admin".to_owned()),
    }
}

fn refused(err: KnowledgeError) -> ServerError {
    match err {
        KnowledgeError::NotFound(id) => ServerError::NotFound { what: "lesson", id },
        other => ServerError::BadRequest {
            code: "lesson_refused",
            message: other.to_string(),
        },
    }
}

fn teach_error(err: TeachError) -> ServerError {
    match err {
        TeachError::Lesson(e) => refused(e),
        TeachError::Busy => ServerError::Conflict(err.to_string()),
        TeachError::Store(e) => ServerError::Unavailable(format!("the knowledge store: {e}")),
    }
}
