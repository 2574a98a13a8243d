//! The exec console: a WebSocket relayed to the node's exec session. With a TTY, binary frames
//! carry the terminal's bytes both ways. Without one (`tty=false`), the server's binary frames
//! start with a byte that tells the stream (1 stdout, 2 stderr) and the client's binary frames
//! are stdin as they are. Text frames are control messages (`{"type":"resize","cols","rows"}`
//! and `{"type":"stdin_close"}` from the client, `{"type":"exit","exit_code"}` at the end).

use crate::nodes::WorkerClient;
use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use yun_api::live::{ExecClientMessage, ExecServerMessage};
use yun_core::node::{ExecInput, ExecOutput};

/// What to run, and the terminal's size.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub cols: u16,
    pub rows: u16,
    pub tty: bool,
}

/// The first byte of a server frame without a TTY.
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;

fn text(m: &ExecServerMessage) -> Message {
    Message::Text(
        serde_json::to_string(m)
            .expect("a console message is plain JSON")
            .into(),
    )
}

/// The node's input and output of a new exec session: the start message is sent first.
pub type Session = (
    mpsc::Sender<ExecInput>,
    futures::stream::BoxStream<'static, Result<ExecOutput, crate::nodes::NodeError>>,
);

/// Starts `command` in the container on its node (with a terminal of `terminal`'s size).
pub async fn start_session(
    client: &WorkerClient,
    container_id: String,
    command: Vec<String>,
    terminal: Option<(u16, u16)>,
) -> Result<Session, crate::nodes::NodeError> {
    let (input_tx, input_rx) = mpsc::channel::<ExecInput>(64);
    let first = ExecInput::Start {
        container_id,
        command,
        terminal,
    };
    // The channel is new and empty: the start message always fits.
    let _ = input_tx.try_send(first);
    let output = client.exec(ReceiverStream::new(input_rx)).await?;
    Ok((input_tx, output))
}

/// Runs the session until the command exits or either side goes away.
pub async fn relay(
    socket: WebSocket,
    client: Arc<WorkerClient>,
    container_id: String,
    req: ExecRequest,
    session: super::sessions::StreamGuard,
) {
    let (mut to_browser, mut from_browser) = socket.split();
    let tty = req.tty;
    let terminal = tty.then_some((req.cols, req.rows));
    let (input_tx, mut output) =
        match start_session(&client, container_id, req.command, terminal).await {
            Ok(o) => o,
            Err(e) => {
                let msg = ExecServerMessage::Error {
                    message: format!("the console could not start: {e}"),
                };
                let _ = to_browser.send(text(&msg)).await;
                let _ = to_browser.close().await;
                return;
            }
        };
    // Browser → node: stdin and resizes. Dropping the sender ends the node's stdin.
    let upstream = tokio::spawn(async move {
        while let Some(Ok(msg)) = from_browser.next().await {
            let input = match msg {
                Message::Binary(b) => ExecInput::Stdin(b.to_vec()),
                Message::Text(t) => match serde_json::from_str::<ExecClientMessage>(&t) {
                    Ok(ExecClientMessage::Resize { cols, rows }) => {
                        ExecInput::Resize { cols, rows }
                    }
                    Ok(ExecClientMessage::StdinClose) => ExecInput::StdinClose,
                    // Plain text typed by a simple client is input too.
                    Err(_) => ExecInput::Stdin(t.as_bytes().to_vec()),
                },
                Message::Close(_) => break,
                _ => continue,
            };
            if input_tx.send(input).await.is_err() {
                break;
            }
        }
    });
    // Node → browser: output, then the exit code.
    loop {
        let out = tokio::select! {
            out = output.next() => out,
            _ = session.ended() => {
                let msg = ExecServerMessage::Error {
                    message: "the session ended (logged out, expired or banned); log in again".into(),
                };
                let _ = to_browser.send(text(&msg)).await;
                break;
            }
        };
        match out {
            Some(Ok(ExecOutput::Exited { exit_code })) => {
                let msg = ExecServerMessage::Exit { exit_code };
                let _ = to_browser.send(text(&msg)).await;
                break;
            }
            Some(Ok(ExecOutput::Data { stderr, data })) => {
                let frame = if tty {
                    data
                } else {
                    let mut tagged = Vec::with_capacity(data.len() + 1);
                    tagged.push(if stderr { STDERR } else { STDOUT });
                    tagged.extend_from_slice(&data);
                    tagged
                };
                if to_browser
                    .send(Message::Binary(frame.into()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            None => break,
            Some(Err(e)) => {
                let msg = ExecServerMessage::Error {
                    message: e.to_string(),
                };
                let _ = to_browser.send(text(&msg)).await;
                break;
            }
        }
    }
    let _ = to_browser.close().await;
    upstream.abort();
}
