//! What a command prints on stdout: a table sized to the terminal, one JSON document
//! (`-o json`), JSON lines for streams (`-o jsonl`), or ids alone (`-q`). Messages go to stderr.
//! Colour and cursor movement (a table redrawn in place, progress bars) only on a terminal, and
//! never with `NO_COLOR` set.

use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Columns for people.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One JSON document a line (streams).
    Jsonl,
}

/// How listings and inspections print.
#[derive(Args, Debug, Clone, Default)]
pub struct Output {
    /// table, json (one document) or jsonl (a line each).
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value_t
    )]
    pub format: Format,
}

/// Whether output to `stream` may move the cursor: it is a terminal and `NO_COLOR` is unset.
pub fn live(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The terminal's width, or none when stdout is not a terminal (then columns never shrink).
pub fn width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    crossterm::terminal::size().ok().map(|(w, _)| w as usize)
}

/// A wire enum's word (`running`, `top_up`), as the API writes it.
pub fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Bytes for people, in binary units: `512 B`, `1.3 MiB`, `2.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Credits with thousands separators: `12,345 credits`.
pub fn credits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if n < 0 { "-" } else { "" };
    let unit = if n.abs() == 1 { "credit" } else { "credits" };
    format!("{sign}{grouped} {unit}")
}

/// Prints `value` as one JSON document.
pub fn json<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).expect("wire types are plain JSON");
    println!("{text}");
}

/// Prints `value` as one line of JSON, flushed (for streams).
pub fn json_line<T: Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, value);
    let _ = writeln!(out);
    let _ = out.flush();
}

/// A table: a header and rows, with the last column allowed to run long.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// Per row, an ANSI colour for one of its cells (column, SGR code), shown only on a
    /// terminal without `NO_COLOR`.
    colours: Vec<Option<(usize, &'static str)>>,
}

/// The colour a container's state is shown in: green running, red ended badly or lost,
/// yellow stopped by someone or something.
pub fn state_colour(state: yun_api::containers::ContainerState) -> Option<&'static str> {
    use yun_api::containers::ContainerState as S;
    match state {
        S::Running => Some("32"),
        S::Exited | S::Failed | S::Lost => Some("31"),
        S::Stopped | S::Suspended => Some("33"),
        _ => None,
    }
}

impl Table {
    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
            colours: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
        self.colours.push(None);
    }

    /// A row whose cell `column` is shown in `colour` (an SGR code) on a terminal.
    pub fn row_coloured(
        &mut self,
        cells: Vec<String>,
        column: usize,
        colour: Option<&'static str>,
    ) {
        self.rows.push(cells);
        self.colours.push(colour.map(|c| (column, c)));
    }

    /// The table as text, each column as wide as its widest cell; on a narrow terminal the
    /// widest columns give way first, cut with an ellipsis.
    pub fn render(&self, max_width: Option<usize>) -> String {
        self.render_with(max_width, false)
    }

    fn render_with(&self, max_width: Option<usize>, colour: bool) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = (0..n)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .chain([self.header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        if let Some(max) = max_width {
            let gaps = 3 * n.saturating_sub(1);
            while widths.iter().sum::<usize>() + gaps > max {
                let (i, w) = widths
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, w)| **w)
                    .map(|(i, w)| (i, *w))
                    .expect("a table has columns");
                if w <= self.header[i].len().max(6) {
                    break;
                }
                widths[i] = w - 1;
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        let colours = std::iter::once(&None).chain(&self.colours);
        for (row, painted) in std::iter::once(&header).chain(&self.rows).zip(colours) {
            let cells: Vec<String> = (0..n)
                .map(|i| {
                    let cell = fit(row.get(i).map_or("", |c| c), widths[i]);
                    match painted {
                        // Painted after fitting, so the escape codes take no width.
                        Some((column, code)) if colour && *column == i => {
                            format!("\x1b[{code}m{cell}\x1b[0m")
                        }
                        _ => cell,
                    }
                })
                .collect();
            out.push_str(cells.join("   ").trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render_with(width(), live(&std::io::stdout())));
    }
}

fn fit(cell: &str, width: usize) -> String {
    let len = cell.chars().count();
    if len <= width {
        return format!("{cell:<width$}");
    }
    let kept: String = cell.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_363_148), "1.3 MiB");
        assert_eq!(bytes(64 << 20), "64.0 MiB");
    }

    #[test]
    fn credits_read_well() {
        assert_eq!(credits(1), "1 credit");
        assert_eq!(credits(1234567), "1,234,567 credits");
        assert_eq!(credits(-200), "-200 credits");
    }

    #[test]
    fn colour_takes_no_width_and_only_when_asked() {
        let mut t = Table::new(&["STATE", "NAME"]);
        t.row_coloured(vec!["running".into(), "web".into()], 0, Some("32"));
        assert_eq!(t.render(None), "STATE     NAME\nrunning   web\n");
        assert_eq!(
            t.render_with(None, true),
            "STATE     NAME\n\x1b[32mrunning\x1b[0m   web\n"
        );
    }

    #[test]
    fn tables_fit_the_terminal() {
        let mut t = Table::new(&["ID", "NAME"]);
        t.row(vec![
            "1m94d4v321qn37cy".into(),
            "a-rather-long-container-name".into(),
        ]);
        let wide = t.render(None);
        assert_eq!(wide.lines().next().unwrap(), "ID                 NAME");
        assert!(wide.contains("a-rather-long-container-name"));
        let narrow = t.render(Some(30));
        assert!(narrow.lines().all(|l| l.chars().count() <= 30), "{narrow}");
        assert!(narrow.contains('…'));
    }
}
