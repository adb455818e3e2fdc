//! One shutdown for a process: SIGTERM (ECS stopping a task) or SIGINT (Ctrl-C) cancel one token
//! that every loop watches.

use tokio_util::sync::CancellationToken;

/// Resolves SIGINT or SIGTERM into one cancellation. Call from inside a Tokio runtime.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "shutting down"),
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
        }
        t.cancel();
    });
    token
}
