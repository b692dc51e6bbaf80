//! A local HTTP server on 127.0.0.1 that replays recorded exchanges in order and checks what
//! the client sends: method, path, query, headers (present with a value, or absent), and the
//! JSON body (every recorded field equal; listed fields absent).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct Exchange {
    pub recorded: Value,
    /// Wait this long before answering (timeout tests).
    pub delay: Duration,
}

/// A recorded exchange from tests/fixtures/exchanges.
pub fn recorded(name: &str) -> Exchange {
    let path = format!(
        "{}/tests/fixtures/exchanges/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Exchange {
        recorded: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")),
        delay: Duration::ZERO,
    }
}

pub struct MockServer {
    pub base: String,
    problems: Arc<Mutex<Vec<String>>>,
    served: Arc<Mutex<usize>>,
    expected: usize,
}

impl MockServer {
    pub async fn start(exchanges: Vec<Exchange>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let problems = Arc::new(Mutex::new(Vec::new()));
        let served = Arc::new(Mutex::new(0));
        let expected = exchanges.len();
        let (p, s) = (problems.clone(), served.clone());
        tokio::spawn(async move {
            for (i, exchange) in exchanges.into_iter().enumerate() {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let request = read_request(&mut socket).await;
                for problem in check(&exchange.recorded["request"], &request) {
                    p.lock().unwrap().push(format!("exchange {i}: {problem}"));
                }
                *s.lock().unwrap() += 1;
                tokio::time::sleep(exchange.delay).await;
                let _ = socket
                    .write_all(&response_bytes(&exchange.recorded["response"]))
                    .await;
                let _ = socket.shutdown().await;
            }
        });
        MockServer {
            base,
            problems,
            served,
            expected,
        }
    }

    /// Every exchange was asked for, and every request was what the recording expects.
    pub fn verify(&self) {
        let problems = self.problems.lock().unwrap();
        assert!(
            problems.is_empty(),
            "requests differ from the recording:\n{}",
            problems.join("\n")
        );
        assert_eq!(
            *self.served.lock().unwrap(),
            self.expected,
            "exchanges served"
        );
    }
}

pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Request {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed before sending a request");
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let target = first.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.unwrap();
        body.extend_from_slice(&buf[..n]);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| {
            let (k, v) = q.split_once('=').unwrap_or((q, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Request {
        method,
        path: path.to_owned(),
        query,
        headers,
        body,
    }
}

fn check(expect: &Value, request: &Request) -> Vec<String> {
    let mut problems = Vec::new();
    if expect["method"].as_str() != Some(request.method.as_str()) {
        problems.push(format!("method {} != {}", request.method, expect["method"]));
    }
    if expect["path"].as_str() != Some(request.path.as_str()) {
        problems.push(format!("path {} != {}", request.path, expect["path"]));
    }
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for (name, value) in expect["headers"].as_object().into_iter().flatten() {
        let got = header(name);
        let value = value.as_str().unwrap();
        // content-type may carry parameters.
        if !got.is_some_and(|g| g == value || g.starts_with(&format!("{value};"))) {
            problems.push(format!("header {name}: {got:?} != {value:?}"));
        }
    }
    for name in expect["headers_absent"].as_array().into_iter().flatten() {
        if let Some(got) = header(name.as_str().unwrap()) {
            problems.push(format!("header {name} must be absent, got {got:?}"));
        }
    }
    for (name, value) in expect["query"].as_object().into_iter().flatten() {
        if !request
            .query
            .iter()
            .any(|(k, v)| k == name && Some(v.as_str()) == value.as_str())
        {
            problems.push(format!("query {name}={value} missing"));
        }
    }
    for name in expect["query_absent"].as_array().into_iter().flatten() {
        if request
            .query
            .iter()
            .any(|(k, _)| Some(k.as_str()) == name.as_str())
        {
            problems.push(format!("query parameter {name} must be absent"));
        }
    }
    if expect["body"].is_object() || expect["body_absent"].is_array() {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(body) => {
                subset("body", &expect["body"], &body, &mut problems);
                for name in expect["body_absent"].as_array().into_iter().flatten() {
                    if body.get(name.as_str().unwrap()).is_some() {
                        problems.push(format!("body field {name} must be absent"));
                    }
                }
            }
            Err(e) => problems.push(format!("body is not JSON: {e}")),
        }
    }
    problems
}

/// Every field of `expected` is in `got` with the same value (objects recursively).
fn subset(at: &str, expected: &Value, got: &Value, problems: &mut Vec<String>) {
    match (expected, got) {
        (Value::Null, _) if at == "body" => {}
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in e {
                match g.get(k) {
                    Some(gv) => subset(&format!("{at}.{k}"), v, gv, problems),
                    None => problems.push(format!("{at}.{k} missing")),
                }
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (e, g) if e == g => {}
        (e, g) => problems.push(format!("{at}: {g} != {e}")),
    }
}

fn response_bytes(reply: &Value) -> Vec<u8> {
    let status = reply["status"].as_u64().unwrap();
    let body = match reply.get("text") {
        Some(Value::String(text)) => text.clone(),
        _ => reply["body"].to_string(),
    };
    let mut out = format!("HTTP/1.1 {status} Recorded\r\n");
    for (name, value) in reply["headers"].as_object().into_iter().flatten() {
        out.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap()));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}
