//! The server on a real socket: slow clients are cut off. Headers that do not arrive
//! within `TAVLE_HEADER_READ_TIMEOUT_SECONDS` close the connection; a body that stalls
//! for `TAVLE_BODY_READ_TIMEOUT_SECONDS` gets 408 and the connection is closed.

use std::time::{Duration, Instant};

use tavle::state::Mode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_app_with_env;

/// Read until the server closes the connection (or `limit` passes); what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

#[tokio::test]
async fn partial_headers_are_cut_off_after_the_timeout() {
    let app = spawn_app_with_env(Mode::Demo, &[("TAVLE_HEADER_READ_TIMEOUT_SECONDS", "1")]).await;
    let server = app.serve().await;
    // A complete request is served over the same server.
    let mut ok = TcpStream::connect(server.addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let answer = read_until_closed(&mut ok, Duration::from_secs(5)).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Many clients that never finish their headers, one that never sends a byte.
    let started = Instant::now();
    let mut slow = Vec::new();
    for i in 0..50 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        if i > 0 {
            s.write_all(b"GET /sign-in HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        }
        slow.push(s);
    }
    for s in &mut slow {
        let sent = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(sent.is_some(), "a connection was still open after {:?}", started.elapsed());
        assert!(!sent.unwrap_or_default().contains(" 200 "), "nothing is served");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(8), "{took:?}");
    // The server still serves.
    let mut after = TcpStream::connect(server.addr).await.unwrap();
    after.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    assert!(read_until_closed(&mut after, Duration::from_secs(5)).await.unwrap().starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_body_shorter_than_promised_is_cut_off() {
    let app = spawn_app_with_env(Mode::Demo, &[("TAVLE_BODY_READ_TIMEOUT_SECONDS", "1")]).await;
    let server = app.serve().await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /sign-in/demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 200000\r\n\r\ncsrf=";
    s.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut s, Duration::from_secs(10)).await.expect("the connection is closed");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("Forespørselen tok for lang tid"), "a calm page: {answer}");

    // A post refused before its body is read (not a form) does not keep the
    // connection waiting for the rest of the body either.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /sign-in/demo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
                Content-Length: 200000\r\n\r\nhello";
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut s, Duration::from_secs(10)).await.expect("the connection is closed");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}
