//! Record mode: re-records one provider exchange of `tests/fixtures/exchanges/` against the
//! real API, when its key is set.
//!
//! ```text
//! OPENAI_API_KEY=...    cargo run -p nlq-llm --example record -- openai_chat
//! ANTHROPIC_API_KEY=... cargo run -p nlq-llm --example record -- anthropic_stream --stream
//! GEMINI_API_KEY=...    cargo run -p nlq-llm --example record -- gemini_chat
//! NLQ_LLM_BASE_URL=http://127.0.0.1:8000 cargo run -p nlq-llm --example record -- vllm_chat
//! ```
//!
//! Our own client makes the call, exactly as in the tests, through a proxy on 127.0.0.1 that
//! forwards it to the real endpoint and keeps the reply. Only the fixture's `response` is
//! replaced: its `request` expectations (and the test key they name) stay as they are, so the
//! real key never reaches a file. The fixture is written to a temporary file and renamed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use nlq_core::{ChatMessage, ChatRequest, LlmProvider};
use nlq_llm::providers::{Anthropic, Gemini, OpenAi, ProviderConfig, RetryPolicy, Secret};

/// What the proxy saw come back.
#[derive(Default)]
struct Captured {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(fixture) = args.iter().find(|a| !a.starts_with("--")) else {
        bail!("usage: record <fixture name, e.g. openai_chat> [--stream]");
    };
    let stream = args.iter().any(|a| a == "--stream");
    let provider = fixture.split('_').next().unwrap_or_default();
    let (upstream, prefix, key_var) = match provider {
        "openai" => ("https://api.openai.com".to_owned(), "/v1", "OPENAI_API_KEY"),
        "anthropic" => (
            "https://api.anthropic.com".to_owned(),
            "",
            "ANTHROPIC_API_KEY",
        ),
        "gemini" => (
            "https://generativelanguage.googleapis.com".to_owned(),
            "/v1beta",
            "GEMINI_API_KEY",
        ),
        "vllm" => (
            std::env::var("NLQ_LLM_BASE_URL")
                .context("vllm: set NLQ_LLM_BASE_URL to the server, without /v1")?,
            "/v1",
            "NLQ_LLM_API_KEY",
        ),
        other => bail!("no provider `{other}`: the fixture name starts with the provider"),
    };
    let key = std::env::var(key_var).ok().filter(|k| !k.is_empty());
    if key.is_none() && provider != "vllm" {
        bail!("{key_var} is not set: record mode calls the real API");
    }
    let path = format!(
        "{}/tests/fixtures/exchanges/{fixture}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut recorded: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?,
    )?;
    let model = recorded["request"]["body"]["model"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            // Gemini names the model in the path.
            recorded["request"]["path"]
                .as_str()
                .and_then(|p| p.split("/models/").nth(1))
                .and_then(|m| m.split(':').next())
                .map(str::to_owned)
        })
        .context("the fixture's request names no model")?;

    let captured = Arc::new(Mutex::new(Captured::default()));
    let base = proxy(upstream, captured.clone()).await?;
    let config = ProviderConfig {
        api_key: key.map(Secret::new),
        max_tokens: 512,
        timeout: Duration::from_secs(120),
        // One attempt: the recording is of what the API answered, not of our retries.
        retry: RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        },
        ..ProviderConfig::new(format!("{base}{prefix}"), model)
    };
    let client: Box<dyn LlmProvider> = match provider {
        "openai" => Box::new(OpenAi::new(config)?),
        "anthropic" => Box::new(Anthropic::new(config)?),
        "gemini" => Box::new(Gemini::new(config)?),
        _ => Box::new(OpenAi::compatible(config)?),
    };
    // The request every provider test sends.
    let request = ChatRequest {
        messages: vec![
            ChatMessage::system("You write BigQuery SQL for GA4."),
            ChatMessage::user("daily users last week"),
        ],
        json: !stream,
    };
    let outcome = if stream {
        client.chat_stream(&request, &|_| {}).await
    } else {
        client.chat(&request).await
    };
    match &outcome {
        Ok(reply) => eprintln!("the API answered: {:?}", reply.text),
        Err(err) => eprintln!("the API answered with an error, recorded as such: {err}"),
    }
    let captured = captured.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    if captured.status == 0 {
        bail!("nothing came back from {provider}: nothing recorded");
    }
    let mut headers = json!({"content-type": captured.content_type});
    if let Some(wait) = &captured.retry_after {
        headers["retry-after"] = json!(wait);
    }
    let mut response = json!({"status": captured.status, "headers": headers});
    match serde_json::from_str::<Value>(&captured.body) {
        Ok(body) if !captured.content_type.contains("event-stream") => response["body"] = body,
        _ => response["text"] = json!(captured.body),
    }
    recorded["response"] = response;
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&recorded)? + "\n")?;
    std::fs::rename(&tmp, &path)?;
    eprintln!("recorded {path}");
    Ok(())
}

/// A one-request forwarding proxy: what the client sends goes to `upstream`, and the reply
/// comes back to the client and into `captured`.
async fn proxy(upstream: String, captured: Arc<Mutex<Captured>>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut data = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let (head, body) = loop {
            let Ok(n) = socket.read(&mut buf).await else {
                return;
            };
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .and_then(|v| v.trim().parse().ok())
                    })
                    .unwrap_or(0);
                if data.len() >= end + 4 + length || n == 0 {
                    break (text[..end].to_owned(), data[end + 4..].to_vec());
                }
            } else if n == 0 {
                return;
            }
        };
        let mut lines = head.lines();
        let target = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_owned();
        let client = reqwest::Client::new();
        let mut forward = client.post(format!("{upstream}{target}")).body(body);
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                    forward = forward.header(name, value.trim());
                }
            }
        }
        let reply = match forward.send().await {
            Ok(reply) => reply,
            Err(err) => {
                eprintln!("cannot reach the API: {}", err.without_url());
                return;
            }
        };
        let status = reply.status().as_u16();
        let header = |name| {
            reply
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let text = reply.text().await.unwrap_or_default();
        let answer = format!(
            "HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = socket.write_all(answer.as_bytes()).await;
        if let Ok(mut c) = captured.lock() {
            *c = Captured {
                status,
                content_type,
                retry_after,
                body: text,
            };
        }
    });
    Ok(base)
}
