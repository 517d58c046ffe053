//! Serving the router on a TCP listener, with the timeouts `axum::serve` lacks.
//!
//! `axum::serve` sets no header-read timeout: a client that sends a request line and
//! then a header every minute (or nothing) holds its connection, and a task, for ever
//! (the security review kept 500 such connections open). Here each connection is
//! served by hyper's HTTP/1 connection with a timer, so a request's headers must
//! arrive within `TAVLE_HEADER_READ_TIMEOUT_SECONDS` (also for the next request on a
//! kept-alive connection) or the connection is closed. The body and the whole request
//! are bounded by layers in `app::build_router` and `web::context`.
//!
//! Each request carries `ConnectInfo<SocketAddr>` (the peer), as with
//! `into_make_service_with_connect_info`. On shutdown the listener closes, connections
//! finish the request they are on (idle ones close at once), and after a grace period
//! the rest are dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::config::Config;

/// How long connections may take to finish their requests once shutdown has begun.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The connection-level timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
}

impl Timeouts {
    pub fn from_config(config: &Config) -> Self {
        Self { header_read: config.header_read_timeout }
    }
}

/// Serve `app` on `listener` until `shutdown` completes, then shut down gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(timeouts.header_read).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or is too slow ends its own connection; that
            // is not our error.
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after the shutdown grace period; closing them");
        }
    }
    Ok(())
}
