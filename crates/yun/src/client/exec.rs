//! `yun exec`: a command in a running container. With `-t` the local terminal is in raw mode
//! while it runs (restored when it ends, on an error and on a panic) and the window's size
//! follows; without, stdout and stderr stay apart and stdin is piped (`-i`). The client ends
//! with the command's exit code.

use super::fail::Failure;
use super::{resolve, Session};
use clap::Args;
use futures::{SinkExt, StreamExt};
use std::io::{IsTerminal, Read, Write};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use yun_api::live::{ExecClientMessage, ExecServerMessage};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  yun exec -it web /bin/sh\n  yun exec web cat /etc/hostname\n  tar c . | yun exec -i web tar x -C /tmp"
)]
pub struct ExecArgs {
    /// Send this terminal's input to the command.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give the command a terminal (this one, in raw mode, its size following the window).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// The container: an id, a name or the beginning of an id.
    pub container: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// The local terminal in raw mode until dropped; a panic restores it too.
struct RawMode;

impl RawMode {
    fn enter() -> Result<Self, Failure> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = crossterm::terminal::disable_raw_mode();
            previous(info);
        }));
        crossterm::terminal::enable_raw_mode()
            .map_err(|e| Failure::error(format!("cannot put the terminal in raw mode: {e}")))?;
        Ok(Self)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// Reads stdin on a thread of its own (a blocked read must not hold the process at exit);
/// None at its end.
fn stdin_chunks() -> mpsc::Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 8192];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.blocking_send(None);
                    return;
                }
                Ok(n) => {
                    if tx.blocking_send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

fn control(m: &ExecClientMessage) -> Message {
    Message::Text(
        serde_json::to_string(m)
            .expect("a control message is plain JSON")
            .into(),
    )
}

pub async fn exec(s: &Session, args: ExecArgs) -> Result<u8, Failure> {
    if args.tty && !std::io::stdin().is_terminal() {
        return Err(Failure::error(
            "-t needs this terminal, but the input is not one; drop -t to pipe input with -i",
        ));
    }
    let all = s.client().containers(false).await.map_err(|e| s.fail(e))?;
    let c = resolve::container(&all, &args.container)?;
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let command: Vec<&str> = args.command.iter().map(String::as_str).collect();
    let ws = s
        .client()
        .exec(&c.id, &command, args.tty.then_some(size))
        .await
        .map_err(|e| s.fail(e))?;
    let (mut to_master, mut from_master) = ws.split();
    let _raw = if args.tty {
        Some(RawMode::enter()?)
    } else {
        None
    };
    let mut input = if args.interactive {
        Some(stdin_chunks())
    } else {
        None
    };
    let mut resized = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        .map_err(|e| Failure::error(format!("cannot watch the window's size: {e}")))?;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    if !args.interactive {
        // No input: the command sees its end at once.
        let _ = to_master
            .send(control(&ExecClientMessage::StdinClose))
            .await;
    }
    loop {
        tokio::select! {
            chunk = async { input.as_mut()?.recv().await }, if input.is_some() => {
                let sent = match chunk.flatten() {
                    Some(bytes) => to_master.send(Message::Binary(bytes.into())).await,
                    None => {
                        input = None;
                        to_master.send(control(&ExecClientMessage::StdinClose)).await
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
            _ = resized.recv(), if args.tty => {
                if let Ok((cols, rows)) = crossterm::terminal::size() {
                    let _ = to_master.send(control(&ExecClientMessage::Resize { cols, rows })).await;
                }
            }
            frame = from_master.next() => match frame {
                Some(Ok(Message::Binary(bytes))) => {
                    let written = if args.tty {
                        stdout.write_all(&bytes).and_then(|()| stdout.flush())
                    } else {
                        match bytes.split_first() {
                            Some((2, rest)) => stderr.write_all(rest).and_then(|()| stderr.flush()),
                            Some((_, rest)) => stdout.write_all(rest).and_then(|()| stdout.flush()),
                            None => Ok(()),
                        }
                    };
                    if written.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                    Ok(ExecServerMessage::Exit { exit_code }) => {
                        return Ok(u8::try_from(exit_code).unwrap_or(1));
                    }
                    Ok(ExecServerMessage::Error { message }) => {
                        drop(_raw);
                        return Err(Failure::error(message));
                    }
                    Err(_) => {}
                },
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    drop(_raw);
    Err(Failure::unusable(
        "the console broke off before the command ended; is the master still running?",
    ))
}
