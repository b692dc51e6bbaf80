//! An HTTP server on 127.0.0.1 that answers each connection with the next scripted reply, in
//! order, and keeps what the client sent. A reply can be a recorded exchange, which also
//! checks the request (method, path, query, headers present or absent, the JSON body's fields
//! equal or absent); it can wait before answering (timeouts) and send its body in small
//! writes (streams split anywhere, even inside a character).
//!
//! A plain thread, not a runtime: it serves blocking and async clients alike.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Write the body this many bytes at a time (None: at once).
    pub chunk: Option<usize>,
    /// The recorded request this one must match (see the module documentation).
    pub expect: Option<Value>,
}

impl Reply {
    /// A JSON body with this status.
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
            chunk: None,
            expect: None,
        }
    }

    /// A recorded exchange: `{"request": {...}, "response": {"status", "headers", "body" |
    /// "text"}}`. The response is replayed and the request checked against `request`.
    pub fn recorded(exchange: &Value) -> Reply {
        let response = &exchange["response"];
        let body = match response.get("text") {
            Some(Value::String(text)) => text.clone(),
            _ => response["body"].to_string(),
        };
        Reply {
            status: u16::try_from(response["status"].as_u64().unwrap()).unwrap(),
            headers: response["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect(),
            body: body.into_bytes(),
            delay: Duration::ZERO,
            chunk: None,
            expect: Some(exchange["request"].clone()),
        }
    }

    /// A recorded exchange from a JSON file.
    pub fn recorded_file(path: &Path) -> Reply {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let exchange: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Reply::recorded(&exchange)
    }

    /// The same reply after a pause.
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// The same reply, its body written `bytes` at a time.
    pub fn in_chunks_of(mut self, bytes: usize) -> Reply {
        self.chunk = Some(bytes.max(1));
        self
    }
}

/// What the client sent.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics when it is not: a test wants to know).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body_text()))
    }
}

pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
    problems: Arc<Mutex<Vec<String>>>,
    expected: usize,
}

impl Server {
    pub fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let problems = Arc::new(Mutex::new(Vec::new()));
        let expected = replies.len();
        let (seen, found) = (requests.clone(), problems.clone());
        std::thread::spawn(move || {
            for (i, reply) in replies.into_iter().enumerate() {
                let Ok((mut socket, _)) = listener.accept() else {
                    return;
                };
                let Some(request) = read_request(&mut socket) else {
                    found
                        .lock()
                        .unwrap()
                        .push(format!("reply {i}: the client closed before a request"));
                    continue;
                };
                if let Some(expect) = &reply.expect {
                    for problem in check(expect, &request) {
                        found.lock().unwrap().push(format!("reply {i}: {problem}"));
                    }
                }
                seen.lock().unwrap().push(request);
                std::thread::sleep(reply.delay);
                // The client may have given up (a timeout test): nothing to report.
                let _ = write_reply(&mut socket, &reply);
            }
        });
        Server {
            base,
            requests,
            problems,
            expected,
        }
    }

    /// Answers every connection with `reply` for as long as the test runs (a client that
    /// retries sees the same answer each time); `verify` only checks the recorded requests.
    pub fn always(reply: Reply) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else {
                    return;
                };
                if let Some(request) = read_request(&mut socket) {
                    seen.lock().unwrap().push(request);
                    let _ = write_reply(&mut socket, &reply);
                }
            }
        });
        Server {
            base,
            requests,
            problems: Arc::new(Mutex::new(Vec::new())),
            expected: 0,
        }
    }

    /// The requests served so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Every reply was asked for, and every request matched its recording.
    pub fn verify(&self) {
        let problems = self.problems.lock().unwrap();
        assert!(
            problems.is_empty(),
            "requests differ from the recording:\n{}",
            problems.join("\n")
        );
        if self.expected > 0 {
            assert_eq!(
                self.requests.lock().unwrap().len(),
                self.expected,
                "replies served"
            );
        }
    }
}

fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
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
    Some(Request {
        method,
        path: path.to_owned(),
        query,
        headers,
        body,
    })
}

fn write_reply(socket: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Replayed\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        reply.body.len()
    ));
    socket.write_all(head.as_bytes())?;
    match reply.chunk {
        None => socket.write_all(&reply.body)?,
        Some(size) => {
            socket.set_nodelay(true)?;
            for piece in reply.body.chunks(size) {
                socket.write_all(piece)?;
                socket.flush()?;
                // Separate writes reach the client as separate reads only with a pause.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    socket.flush()
}

/// What differs between the recorded request `expect` and the one received.
fn check(expect: &Value, request: &Request) -> Vec<String> {
    let mut problems = Vec::new();
    if expect["method"].as_str() != Some(request.method.as_str()) {
        problems.push(format!("method {} != {}", request.method, expect["method"]));
    }
    if expect["path"].as_str() != Some(request.path.as_str()) {
        problems.push(format!("path {} != {}", request.path, expect["path"]));
    }
    for (name, value) in expect["headers"].as_object().into_iter().flatten() {
        let got = request.header(name);
        let value = value.as_str().unwrap();
        // content-type may carry parameters.
        if !got.is_some_and(|g| g == value || g.starts_with(&format!("{value};"))) {
            problems.push(format!("header {name}: {got:?} != {value:?}"));
        }
    }
    for name in expect["headers_absent"].as_array().into_iter().flatten() {
        if let Some(got) = request.header(name.as_str().unwrap()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn get(base: &str, body: &str) -> String {
        let mut socket = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        write!(
            socket,
            "POST /v1/x?alt=sse HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        socket.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn replays_in_order_and_checks_the_recorded_request() {
        let exchange = serde_json::json!({
            "request": {"method": "POST", "path": "/v1/x", "query": {"alt": "sse"},
                        "headers": {"content-type": "application/json"},
                        "body": {"model": "m"}, "body_absent": ["temperature"]},
            "response": {"status": 200, "headers": {"content-type": "text/plain"}, "text": "한글"}
        });
        let server = Server::start(vec![
            Reply::recorded(&exchange).in_chunks_of(1),
            Reply::json(503, &serde_json::json!({"error": "busy"})),
        ]);
        let first = get(&server.base, r#"{"model": "m"}"#);
        assert!(
            first.starts_with("HTTP/1.1 200") && first.ends_with("한글"),
            "{first}"
        );
        let second = get(&server.base, r#"{"model": "m"}"#);
        assert!(second.starts_with("HTTP/1.1 503"), "{second}");
        server.verify();
        assert_eq!(server.requests()[1].json()["model"], "m");
    }

    #[test]
    fn a_request_unlike_its_recording_is_reported() {
        let exchange = serde_json::json!({
            "request": {"method": "POST", "path": "/v1/x", "body": {"model": "m"},
                        "body_absent": ["temperature"]},
            "response": {"status": 200, "body": {}}
        });
        let server = Server::start(vec![Reply::recorded(&exchange)]);
        get(&server.base, r#"{"model": "other", "temperature": 1}"#);
        let problems = check(&exchange["request"], &server.requests()[0]);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
