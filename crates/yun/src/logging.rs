//! The process's log on stderr: readable text, or one JSON object a line, at RUST_LOG's
//! levels, except for crates that log what passes through them. bollard writes the body of
//! every Docker request at debug (a container's environment, a console's command line) and
//! tungstenite every WebSocket frame at trace (what a renter types into a console and what it
//! prints). Those stay at info whatever RUST_LOG asks, so no secret a renter or an operator
//! hands yun reaches a log line (tests/log_secrets.rs searches a whole trace for them).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The crates held at info, and why: each logs payloads below it.
const PAYLOAD_LOGGERS: [&str; 3] = ["bollard", "tungstenite", "tokio_tungstenite"];

pub fn init(json: bool) {
    let asked = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,h2=warn,tower=warn,hyper=warn".into());
    let capped = PAYLOAD_LOGGERS
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, c| {
            t.with_target(*c, LevelFilter::INFO)
        });
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = tracing_subscriber::registry().with(asked).with(capped);
    if json {
        // The request's span (its id) on each line.
        logs.with(fmt.json().with_current_span(true).with_span_list(false))
            .init();
    } else {
        logs.with(fmt).init();
    }
}
