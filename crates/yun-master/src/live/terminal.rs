//! The browser's terminal. The exec session's output runs through a terminal emulator kept
//! here (the `vt100` crate), and the page gets screen updates (the changed rows as styled
//! spans, the cursor, the input modes) that a small painter draws; the page sends keys already
//! encoded for the emulator's current modes. Updates are coalesced to one per 16 ms, so a
//! program that floods the screen costs the page a frame, not a message per write.

use super::exec::ExecRequest;
use super::sessions::StreamGuard;
use crate::nodes::WorkerClient;
use axum::extract::ws::{Message, WebSocket};
use futures::{SinkExt, StreamExt};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;
use yun_api::live::{
    ScreenLine, ScreenSpan, ScreenUpdate, TerminalClientMessage, TerminalCursor, TerminalModes,
    TerminalServerMessage,
};
use yun_core::node::{ExecInput, ExecOutput};

/// Rows kept above the screen for scrolling back.
pub const SCROLLBACK: usize = 5000;
/// The longest an update waits for more output to join it.
const COALESCE: Duration = Duration::from_millis(16);

#[derive(Default)]
struct Title(Option<String>);

impl vt100::Callbacks for Title {
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.0 = Some(String::from_utf8_lossy(title).chars().take(200).collect());
    }
}

fn size(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n.max(1)).expect("at least 1")
}

/// One emulated terminal and what the page was last sent of it.
pub struct Terminal {
    parser: vt100::Parser<Title>,
    sent: Vec<Vec<ScreenSpan>>,
    sent_cursor: Option<TerminalCursor>,
    sent_modes: Option<TerminalModes>,
    sent_title: Option<String>,
}

fn colour(c: vt100::Color) -> Option<String> {
    match c {
        vt100::Color::Default => None,
        vt100::Color::Idx(i) => Some(format!("i{i}")),
        vt100::Color::Rgb(r, g, b) => Some(format!("#{r:02x}{g:02x}{b:02x}")),
    }
}

impl Terminal {
    pub fn new(cols: u16, rows: u16) -> Self {
        Self {
            parser: vt100::Parser::new_with_callbacks(
                size(rows),
                size(cols),
                SCROLLBACK,
                Title::default(),
            ),
            sent: Vec::new(),
            sent_cursor: None,
            sent_modes: None,
            sent_title: None,
        }
    }

    pub fn process(&mut self, bytes: &[u8]) {
        self.parser.process(bytes);
    }

    /// A new size: the next update has every row.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.parser.set_size(size(rows), size(cols));
        self.sent.clear();
    }

    /// Shows the screen `offset` rows back (0: live); the next update has every row.
    pub fn scroll(&mut self, offset: u32) {
        self.parser.screen_mut().set_scrollback(offset as usize);
        self.sent.clear();
    }

    fn row(&self, row: u16, cols: u16) -> Vec<ScreenSpan> {
        let screen = self.parser.screen();
        let mut spans: Vec<ScreenSpan> = Vec::new();
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let look = ScreenSpan {
                text: String::new(),
                fg: colour(cell.fgcolor()),
                bg: colour(cell.bgcolor()),
                bold: cell.bold(),
                italic: cell.italic(),
                underline: cell.underline(),
                inverse: cell.inverse(),
            };
            let text = if cell.has_contents() {
                cell.contents()
            } else {
                " "
            };
            match spans.last_mut() {
                Some(last)
                    if ScreenSpan {
                        text: String::new(),
                        ..last.clone()
                    } == look =>
                {
                    last.text.push_str(text)
                }
                _ => spans.push(ScreenSpan {
                    text: text.to_string(),
                    ..look
                }),
            }
        }
        // Trailing default blanks carry nothing.
        if let Some(last) = spans.last_mut() {
            if last.fg.is_none() && last.bg.is_none() && !last.inverse && !last.underline {
                let kept = last.text.trim_end_matches(' ').len();
                last.text.truncate(kept);
            }
        }
        spans.retain(|s| !s.text.is_empty());
        spans
    }

    /// What changed since the last update, or None when nothing did.
    pub fn update(&mut self) -> Option<ScreenUpdate> {
        let screen = self.parser.screen();
        let (rows, cols) = screen.size();
        let (rows, cols) = (rows.get(), cols.get());
        let (cr, cc) = screen.cursor_position();
        let cursor = TerminalCursor {
            row: cr,
            col: cc,
            visible: !screen.hide_cursor() && screen.scrollback() == 0,
        };
        let modes = TerminalModes {
            application_cursor: screen.application_cursor(),
            application_keypad: screen.application_keypad(),
            bracketed_paste: screen.bracketed_paste(),
            alternate_screen: screen.alternate_screen(),
        };
        let scrollback = screen.scrollback() as u32;
        let title = self.parser.callbacks().0.clone();
        let full = self.sent.len() != rows as usize;
        if full {
            self.sent = vec![Vec::new(); rows as usize];
        }
        let mut lines = Vec::new();
        for r in 0..rows {
            let spans = self.row(r, cols);
            if full || self.sent[r as usize] != spans {
                self.sent[r as usize] = spans.clone();
                lines.push(ScreenLine { row: r, spans });
            }
        }
        if !full
            && lines.is_empty()
            && self.sent_cursor == Some(cursor)
            && self.sent_modes == Some(modes)
            && self.sent_title == title
        {
            return None;
        }
        self.sent_cursor = Some(cursor);
        self.sent_modes = Some(modes);
        self.sent_title.clone_from(&title);
        Some(ScreenUpdate {
            cols,
            rows,
            lines,
            cursor,
            modes,
            scrollback,
            scrollback_available: self.scrollback_available(),
            title,
        })
    }

    /// Rows kept above the live screen (none on the alternate screen).
    fn scrollback_available(&self) -> u32 {
        let screen = self.parser.screen();
        if screen.alternate_screen() {
            0
        } else {
            screen.scrollback_len() as u32
        }
    }
}

fn text(m: &TerminalServerMessage) -> Message {
    Message::Text(
        serde_json::to_string(m)
            .expect("a terminal message is plain JSON")
            .into(),
    )
}

/// Runs the terminal until the command exits or either side goes away.
pub async fn relay(
    socket: WebSocket,
    client: Arc<WorkerClient>,
    container_id: String,
    req: ExecRequest,
    session: StreamGuard,
) {
    let ExecRequest {
        command,
        cols,
        rows,
        ..
    } = req;
    let (mut to_browser, mut from_browser) = socket.split();
    let started = super::exec::start_session(&client, container_id, command, Some((cols, rows)));
    let (input_tx, mut output) = match started.await {
        Ok(o) => o,
        Err(e) => {
            let msg = TerminalServerMessage::Error {
                message: format!("the terminal could not start: {e}"),
            };
            let _ = to_browser.send(text(&msg)).await;
            let _ = to_browser.close().await;
            return;
        }
    };
    let mut term = Terminal::new(cols, rows);
    let mut due: Option<tokio::time::Instant> = Some(tokio::time::Instant::now());
    loop {
        let flush = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            out = output.next() => match out {
                Some(Ok(ExecOutput::Data { data, .. })) => {
                    term.process(&data);
                    due.get_or_insert_with(|| tokio::time::Instant::now() + COALESCE);
                }
                Some(Ok(ExecOutput::Exited { exit_code })) => {
                    if let Some(u) = term.update() {
                        let _ = to_browser.send(text(&TerminalServerMessage::Screen(u))).await;
                    }
                    let _ = to_browser.send(text(&TerminalServerMessage::Exit { exit_code })).await;
                    break;
                }
                Some(Err(e)) => {
                    let _ = to_browser.send(text(&TerminalServerMessage::Error { message: e.to_string() })).await;
                    break;
                }
                None => break,
            },
            _ = flush => {
                due = None;
                if let Some(u) = term.update() {
                    if to_browser.send(text(&TerminalServerMessage::Screen(u))).await.is_err() {
                        break;
                    }
                }
            },
            _ = session.ended() => {
                let msg = TerminalServerMessage::Error { message: "the session ended (logged out, expired or banned); log in again".into() };
                let _ = to_browser.send(text(&msg)).await;
                break;
            }
            msg = from_browser.next() => {
                let input = match msg {
                    Some(Ok(Message::Binary(b))) => {
                        // A key pressed while scrolled back returns to the live screen.
                        if term.parser.screen().scrollback() > 0 {
                            term.scroll(0);
                            due.get_or_insert_with(tokio::time::Instant::now);
                        }
                        ExecInput::Stdin(b.to_vec())
                    }
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<TerminalClientMessage>(&t) {
                        Ok(TerminalClientMessage::Resize { cols, rows }) => {
                            let (cols, rows) = (cols.clamp(1, 1000), rows.clamp(1, 1000));
                            term.resize(cols, rows);
                            due.get_or_insert_with(tokio::time::Instant::now);
                            ExecInput::Resize { cols, rows }
                        }
                        Ok(TerminalClientMessage::Scroll { offset }) => {
                            term.scroll(offset);
                            due.get_or_insert_with(tokio::time::Instant::now);
                            continue;
                        }
                        Err(_) => continue,
                    },
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(_)) => continue,
                };
                if input_tx.send(input).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to_browser.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_rows_are_sent_with_their_colours_and_modes() {
        let mut t = Terminal::new(20, 3);
        t.process(b"hello\r\n\x1b[31mred\x1b[m");
        let first = t.update().unwrap();
        assert_eq!(first.lines.len(), 3, "the first update has every row");
        assert_eq!(first.lines[0].spans[0].text, "hello");
        assert_eq!(first.lines[1].spans[0].fg.as_deref(), Some("i1"));
        assert_eq!((first.cursor.row, first.cursor.col), (1, 3));
        assert!(t.update().is_none(), "nothing changed");
        t.process(b"\x1b[?1h\x1b[?2004h");
        let modes = t.update().unwrap();
        assert!(modes.lines.is_empty());
        assert!(modes.modes.application_cursor && modes.modes.bracketed_paste);
        t.process(b"\x1b[3;1Hbottom");
        let one = t.update().unwrap();
        assert_eq!(one.lines.iter().map(|l| l.row).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn scrolled_off_rows_can_be_viewed_again() {
        let mut t = Terminal::new(10, 2);
        for i in 0..10 {
            t.process(format!("line{i}\r\n").as_bytes());
        }
        let live = t.update().unwrap();
        assert!(
            live.scrollback_available >= 8,
            "{}",
            live.scrollback_available
        );
        t.scroll(3);
        let back = t.update().unwrap();
        assert_eq!(back.scrollback, 3);
        assert!(back.lines[0].spans[0].text.starts_with("line"));
        assert!(!back.cursor.visible);
    }
}
