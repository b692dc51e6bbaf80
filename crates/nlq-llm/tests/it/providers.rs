//! Each provider against recorded exchanges: the request we send, the reply we parse, and the
//! failures (rate limits, server errors, timeouts, malformed bodies, refusals, bad keys).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use nlq_core::{ChatMessage, ChatRequest, ErrorClass, LlmProvider};
use nlq_llm::providers::{Anthropic, Gemini, OpenAi, ProviderConfig, RetryPolicy, Secret};

use nlq_testkit::replay::{Reply, Server};

/// A recorded exchange from tests/fixtures/exchanges.
fn recorded(name: &str) -> Reply {
    Reply::recorded_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/exchanges/{name}.json")),
    )
}

fn request(json: bool) -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::system("You write BigQuery SQL for GA4."),
            ChatMessage::user("daily users last week"),
        ],
        json,
    }
}

fn config(base: &str, model: &str, key: Option<&str>) -> ProviderConfig {
    ProviderConfig {
        api_key: key.map(Secret::new),
        max_tokens: 512,
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        },
        ..ProviderConfig::new(base, model)
    }
}

fn openai(server: &Server, model: &str) -> OpenAi {
    OpenAi::new(config(
        &format!("{}/v1", server.base),
        model,
        Some("sk-test-openai"),
    ))
    .unwrap()
}

#[tokio::test]
async fn openai_sends_the_documented_request_and_reads_usage() {
    let server = Server::start(vec![recorded("openai_chat")]);
    let reply = openai(&server, "gpt-4o-mini")
        .chat(&request(true))
        .await
        .unwrap();
    server.verify();
    assert_eq!(
        reply.text,
        r#"{"sql": "SELECT 1", "explanation": "x", "assumptions": []}"#
    );
    assert_eq!(
        (
            reply.usage.unwrap().input_tokens,
            reply.usage.unwrap().output_tokens
        ),
        (812, 41)
    );
    assert_eq!(
        (reply.provider.as_str(), reply.model.as_str()),
        ("openai", "gpt-4o-mini-2024-07-18")
    );
    assert_eq!(reply.attempts, 1);
}

#[tokio::test]
async fn newer_openai_models_take_max_completion_tokens() {
    let server = Server::start(vec![recorded("openai_reasoning")]);
    let reply = openai(&server, "o4-mini")
        .chat(&request(false))
        .await
        .unwrap();
    server.verify();
    assert_eq!(reply.usage.unwrap().output_tokens, 300);
}

/// The network splits a stream anywhere, also inside a character: sent one byte at a time,
/// every Korean character still arrives whole (none becomes U+FFFD).
#[tokio::test]
async fn a_stream_split_inside_characters_keeps_its_korean_whole() {
    let server = Server::start(vec![recorded("openai_stream_korean").in_chunks_of(1)]);
    let pieces = Mutex::new(Vec::new());
    let reply = openai(&server, "gpt-4o-mini")
        .chat_stream(&request(false), &|p| {
            pieces.lock().unwrap().push(p.to_owned())
        })
        .await
        .unwrap();
    server.verify();
    assert_eq!(reply.text, "지난 7일 방문자 수는 1,234명입니다");
    assert_eq!(
        *pieces.lock().unwrap(),
        ["지난 7일 ", "방문자 수는 1,234명입니다"]
    );
}

#[tokio::test]
async fn openai_streams_deltas_and_the_final_usage() {
    let server = Server::start(vec![recorded("openai_stream")]);
    let pieces = Mutex::new(Vec::new());
    let reply = openai(&server, "gpt-4o-mini")
        .chat_stream(&request(false), &|p| {
            pieces.lock().unwrap().push(p.to_owned())
        })
        .await
        .unwrap();
    server.verify();
    assert_eq!(reply.text, "SELECT 1");
    assert_eq!(*pieces.lock().unwrap(), ["SELECT ", "1"]);
    assert_eq!(
        (
            reply.usage.unwrap().input_tokens,
            reply.usage.unwrap().output_tokens
        ),
        (12, 2)
    );
}

#[tokio::test]
async fn rate_limits_wait_for_retry_after_then_succeed() {
    let server = Server::start(vec![recorded("openai_429"), recorded("openai_chat")]);
    let started = Instant::now();
    let reply = openai(&server, "gpt-4o-mini")
        .chat(&request(true))
        .await
        .unwrap();
    server.verify();
    assert_eq!(reply.attempts, 2);
    // Retry-After: 1 beats the 10 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_errors_are_retried_until_the_limit() {
    let server = Server::start(vec![
        recorded("openai_500"),
        recorded("openai_500"),
        recorded("openai_500"),
    ]);
    let err = openai(&server, "gpt-4o-mini")
        .chat(&request(true))
        .await
        .unwrap_err();
    server.verify();
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(
        err.message.contains("HTTP 500") && err.message.contains("after 3 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_key_is_not_retried_and_never_shown() {
    let server = Server::start(vec![recorded("openai_401")]);
    let err = openai(&server, "gpt-4o-mini")
        .chat(&request(true))
        .await
        .unwrap_err();
    server.verify();
    assert_eq!(err.class, ErrorClass::User);
    assert!(
        err.message.contains("HTTP 401: the key was refused"),
        "{err}"
    );
    assert!(!err.to_string().contains("sk-test-openai"));
}

#[tokio::test]
async fn timeouts_malformed_bodies_and_refusals_are_errors_not_answers() {
    let slow = recorded("openai_chat").after(Duration::from_millis(800));
    let server = Server::start(vec![slow]);
    let mut cfg = config(
        &format!("{}/v1", server.base),
        "gpt-4o-mini",
        Some("sk-test-openai"),
    );
    cfg.timeout = Duration::from_millis(200);
    cfg.retry.max_retries = 0;
    let err = OpenAi::new(cfg)
        .unwrap()
        .chat(&request(true))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(err.message.contains("timed out"), "{err}");

    let server = Server::start(vec![recorded("openai_malformed")]);
    let mut cfg = config(
        &format!("{}/v1", server.base),
        "gpt-4o-mini",
        Some("sk-test-openai"),
    );
    cfg.retry.max_retries = 0;
    let err = OpenAi::new(cfg)
        .unwrap()
        .chat(&request(true))
        .await
        .unwrap_err();
    assert!(err.message.contains("malformed reply"), "{err}");

    let server = Server::start(vec![recorded("openai_refusal")]);
    let err = openai(&server, "gpt-4o-mini")
        .chat(&request(true))
        .await
        .unwrap_err();
    server.verify();
    assert_eq!(err.class, ErrorClass::User);
    assert!(
        err.message.contains("the model refused: I'm sorry"),
        "{err}"
    );
}

#[tokio::test]
async fn vllm_is_openai_compatible_without_a_key() {
    let server = Server::start(vec![recorded("vllm_chat")]);
    let provider = OpenAi::compatible(config(
        &format!("{}/v1", server.base),
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        None,
    ))
    .unwrap();
    let reply = provider.chat(&request(true)).await.unwrap();
    server.verify();
    assert_eq!(
        (reply.provider.as_str(), reply.text.as_str()),
        ("vllm", r#"{"sql": "SELECT 3"}"#)
    );
}

/// Usage drives the cost on record: a reply that does not report it is "unknown", and one
/// that reports it in a shape we do not know is an error, never 0 tokens and $0.
#[tokio::test]
async fn a_reply_without_usage_is_unknown_and_a_changed_format_is_an_error() {
    let server = Server::start(vec![
        recorded("vllm_no_usage"),
        recorded("vllm_usage_renamed"),
    ]);
    let provider = OpenAi::compatible(config(
        &format!("{}/v1", server.base),
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        None,
    ))
    .unwrap();
    let reply = provider.chat(&request(true)).await.unwrap();
    assert_eq!(reply.text, r#"{"sql": "SELECT 3"}"#);
    assert_eq!(reply.usage, None);
    let err = provider.chat(&request(true)).await.unwrap_err();
    server.verify();
    assert!(
        err.message.contains("malformed reply") && err.message.contains("prompt_tokens"),
        "{err}"
    );
}

#[tokio::test]
async fn anthropic_messages_plain_and_streamed() {
    let server = Server::start(vec![
        recorded("anthropic_chat"),
        recorded("anthropic_stream"),
    ]);
    let provider = Anthropic::new(config(
        &server.base,
        "claude-sonnet-4-5",
        Some("sk-ant-test"),
    ))
    .unwrap();
    let reply = provider.chat(&request(true)).await.unwrap();
    assert_eq!(reply.text, r#"{"sql": "SELECT 4"}"#);
    assert_eq!(
        (
            reply.usage.unwrap().input_tokens,
            reply.usage.unwrap().output_tokens
        ),
        (900, 33)
    );
    let reply = provider
        .chat_stream(&request(false), &|_| {})
        .await
        .unwrap();
    server.verify();
    assert_eq!(reply.text, "SELECT 5");
    assert_eq!(
        (
            reply.usage.unwrap().input_tokens,
            reply.usage.unwrap().output_tokens
        ),
        (25, 7)
    );
}

#[tokio::test]
async fn anthropic_overload_is_retried() {
    let server = Server::start(vec![recorded("anthropic_529"), recorded("anthropic_chat")]);
    let provider = Anthropic::new(config(
        &server.base,
        "claude-sonnet-4-5",
        Some("sk-ant-test"),
    ))
    .unwrap();
    let reply = provider.chat(&request(true)).await.unwrap();
    server.verify();
    assert_eq!(reply.attempts, 2);
}

#[tokio::test]
async fn gemini_generate_content_plain_streamed_and_blocked() {
    let server = Server::start(vec![
        recorded("gemini_chat"),
        recorded("gemini_stream"),
        recorded("gemini_safety"),
    ]);
    let provider = Gemini::new(config(
        &format!("{}/v1beta", server.base),
        "gemini-2.5-flash",
        Some("gm-test-key"),
    ))
    .unwrap();
    let reply = provider.chat(&request(true)).await.unwrap();
    assert_eq!(reply.text, r#"{"sql": "SELECT 6"}"#);
    assert_eq!(
        (
            reply.usage.unwrap().input_tokens,
            reply.usage.unwrap().output_tokens
        ),
        (700, 15)
    );
    let reply = provider
        .chat_stream(&request(false), &|_| {})
        .await
        .unwrap();
    assert_eq!(reply.text, "SELECT 7");
    assert_eq!(reply.usage.unwrap().output_tokens, 3);
    let err = provider.chat(&request(true)).await.unwrap_err();
    server.verify();
    assert_eq!(err.class, ErrorClass::User);
    assert!(err.message.contains("safety"), "{err}");
}
