//! Logs as NDJSON: one `{"stream":"stdout"|"stderr","ts":…,"line":…}` object per line, each stream's
//! partial line kept apart until its end arrives. Memory stays bounded: a line longer than
//! `MAX_LINE` is sent in pieces.

use yun_api::containers::{LogLine, LogStream};

pub const MAX_LINE: usize = 64 * 1024;

#[derive(Default)]
pub struct LineSplitter {
    /// The unfinished line of stdout (0) and stderr (1), and when it began.
    partial: [Vec<u8>; 2],
    partial_ts: [String; 2],
}

fn emit(stream: usize, ts: &str, line: &[u8], out: &mut Vec<u8>) {
    let line = String::from_utf8_lossy(line);
    let obj = LogLine {
        stream: if stream == 0 {
            LogStream::Stdout
        } else {
            LogStream::Stderr
        },
        ts: ts.to_string(),
        line: line.strip_suffix('\r').unwrap_or(&line).to_string(),
    };
    serde_json::to_writer(&mut *out, &obj).expect("writing JSON to memory");
    out.push(b'\n');
}

impl LineSplitter {
    /// Appends the NDJSON of every line `data` (received at `ts`) completes to `out`.
    pub fn push(&mut self, stderr: bool, ts: &str, data: &[u8], out: &mut Vec<u8>) {
        let s = usize::from(stderr);
        let mut rest = data;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            let partial = std::mem::take(&mut self.partial[s]);
            if partial.is_empty() {
                emit(s, ts, &rest[..i], out);
            } else {
                let mut line = partial;
                line.extend_from_slice(&rest[..i]);
                emit(s, &self.partial_ts[s], &line, out);
            }
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() && self.partial[s].is_empty() {
            self.partial_ts[s] = ts.to_string();
        }
        self.partial[s].extend_from_slice(rest);
        if self.partial[s].len() >= MAX_LINE {
            let long = std::mem::take(&mut self.partial[s]);
            emit(s, &self.partial_ts[s], &long, out);
        }
    }

    /// Emits whatever unfinished lines are left when the stream ends.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        for s in 0..2 {
            let rest = std::mem::take(&mut self.partial[s]);
            if !rest.is_empty() {
                emit(s, &self.partial_ts[s], &rest, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(out: &[u8]) -> Vec<serde_json::Value> {
        out.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect()
    }

    #[test]
    fn streams_are_told_apart_and_partial_lines_joined() {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        s.push(false, "t1", b"hel", &mut out);
        s.push(true, "t2", b"oops\n", &mut out);
        s.push(false, "t3", b"lo\nwor", &mut out);
        s.finish(&mut out);
        let l = lines(&out);
        assert_eq!(
            l[0],
            json!({"stream": "stderr", "ts": "t2", "line": "oops"})
        );
        assert_eq!(
            l[1],
            json!({"stream": "stdout", "ts": "t1", "line": "hello"})
        );
        assert_eq!(l[2], json!({"stream": "stdout", "ts": "t3", "line": "wor"}));
    }

    #[test]
    fn an_endless_line_is_cut() {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        s.push(false, "t", &vec![b'x'; MAX_LINE + 10], &mut out);
        assert_eq!(lines(&out).len(), 1);
        assert!(s.partial[0].is_empty());
    }
}
