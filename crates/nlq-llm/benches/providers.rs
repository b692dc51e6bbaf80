//! Provider overhead per call: building the request body, sending it through reqwest, and
//! parsing the reply, for OpenAI, Anthropic, Gemini and vLLM. Goal: p50 under 1 ms.
//!
//! The replies are the recorded exchanges of the tests, served by a keep-alive HTTP server on
//! 127.0.0.1 that answers at once, so the figure is our side of a call plus one loopback round
//! trip. A raw reqwest POST of the same body to the same server is timed too: the difference
//! between the two is what the provider code itself costs.
//!
//! Run: `cargo bench -p nlq-llm --bench providers`. Under `cargo test --all-targets` (no
//! `--bench` argument) each provider runs a few calls only, to prove the benchmark still works.

// A benchmark: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use nlq_core::{ChatMessage, ChatRequest, LlmProvider};
use nlq_llm::providers::{Anthropic, Gemini, OpenAi, ProviderConfig, Secret};

fn recorded_body(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/exchanges/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["response"]["body"].to_string()
}

/// Answers every request on every connection with `body`, keeping connections open.
async fn serve(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let reply = Arc::new(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    // One whole request (headers and content-length body), then the reply.
                    let Some(end) = find(&data, b"\r\n\r\n") else {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    while data.len() < end + 4 + length {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => data.extend_from_slice(&buf[..n]),
                        }
                    }
                    data.drain(..end + 4 + length);
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    let p50 = percentile(&times, 0.5);
    println!(
        "{name:<28} p50 {:>7.1} µs  p95 {:>7.1} µs  p99 {:>7.1} µs  ({} calls)",
        p50.as_secs_f64() * 1e6,
        percentile(&times, 0.95).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.len()
    );
    p50
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let calls = if bench { 5_000 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // A realistic prompt: about 6,000 tokens of grounding.
        let prompt = "Columns, definitions, rules and examples. ".repeat(600);
        let request = ChatRequest {
            messages: vec![ChatMessage::user(prompt.clone())],
            json: true,
        };
        let key = Some(Secret::new("bench-key"));
        let mut raw_p50 = Duration::ZERO;
        for (name, fixture) in [
            ("openai", "openai_chat"),
            ("anthropic", "anthropic_chat"),
            ("gemini", "gemini_chat"),
            ("vllm", "vllm_chat"),
        ] {
            let base = serve(recorded_body(fixture)).await;
            let provider: Box<dyn LlmProvider> = match name {
                "openai" => Box::new(
                    OpenAi::new(ProviderConfig {
                        api_key: key.clone(),
                        ..ProviderConfig::new(format!("{base}/v1"), "gpt-4o-mini")
                    })
                    .unwrap(),
                ),
                "anthropic" => Box::new(
                    Anthropic::new(ProviderConfig {
                        api_key: key.clone(),
                        ..ProviderConfig::new(base.clone(), "claude-sonnet-4-5")
                    })
                    .unwrap(),
                ),
                "gemini" => Box::new(
                    Gemini::new(ProviderConfig {
                        api_key: key.clone(),
                        ..ProviderConfig::new(format!("{base}/v1beta"), "gemini-2.5-flash")
                    })
                    .unwrap(),
                ),
                _ => Box::new(
                    OpenAi::compatible(ProviderConfig::new(format!("{base}/v1"), "qwen"))
                        .unwrap(),
                ),
            };
            if name == "openai" {
                // The floor: the same bytes through reqwest alone.
                let client = reqwest::Client::new();
                let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": prompt}]})
                    .to_string();
                let mut times = Vec::with_capacity(calls);
                for i in 0..calls + calls / 10 {
                    let started = Instant::now();
                    let reply = client
                        .post(format!("{base}/v1/chat/completions"))
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let _ = reply.bytes().await.unwrap();
                    if i >= calls / 10 {
                        times.push(started.elapsed());
                    }
                }
                raw_p50 = report("raw reqwest (loopback)", times);
            }
            let mut times = Vec::with_capacity(calls);
            for i in 0..calls + calls / 10 {
                let started = Instant::now();
                let reply = provider.chat(&request).await.unwrap();
                assert!(!reply.text.is_empty());
                if i >= calls / 10 {
                    times.push(started.elapsed());
                }
            }
            let p50 = report(&format!("{name} chat"), times);
            println!(
                "{:<28} p50 {:>7.1} µs over the raw call",
                format!("{name} overhead"),
                (p50.as_secs_f64() - raw_p50.as_secs_f64()) * 1e6
            );
        }
    });
}
