//! yun's demo: the program of the image `yun dev` publishes, so a newcomer has something to
//! run before any registry is set up. A small web page on port 8080 that says which container
//! answered and how many requests it served; every request is a line in the container's log.
//! Built by crates/yun/build.rs as a static binary (no dependencies) that runs as PID 1 in an
//! image with nothing else in it, and exits at once on SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};

static SERVED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_term(_: i32) {
    // As PID 1 the kernel ignores SIGTERM unless a handler is installed.
    unsafe { exit_now(0) }
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    #[link_name = "_exit"]
    fn exit_now(code: i32) -> !;
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;
const PORT: u16 = 8080;

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this container".into())
}

/// Keeps what a visitor sent out of the page's markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn page(host: &str, n: u64) -> String {
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>Hello from yun</title>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5\">\
         <h1>Hello from yun</h1>\
         <p>This page is served by the container whose host name is <code>{host}</code>, on your \
         yun platform. It has answered <strong>{n}</strong> request{s} since it started.</p>\
         <p>Every request is a line in its log: open the container's page in the yun console to \
         follow the log, watch its CPU and memory, or stop it. Stopped time is free.</p>\
         </body></html>",
        host = escape(host),
        s = if n == 1 { "" } else { "s" },
    )
}

fn answer(mut stream: TcpStream, host: &str) {
    let mut buf = [0u8; 2048];
    let n = stream.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    let line = head.lines().next().unwrap_or("").to_string();
    let count = SERVED.fetch_add(1, Ordering::Relaxed) + 1;
    let from = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line} from {from} (request {count})");
        let _ = out.flush();
    }
    let body = page(host, count);
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn main() {
    unsafe {
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
    }
    let host = hostname();
    let listener = match TcpListener::bind(("0.0.0.0", PORT)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on port {PORT}: {e}");
            std::process::exit(1);
        }
    };
    println!("hello: serving on port {PORT} as {host}");
    for stream in listener.incoming().flatten() {
        let host = host.clone();
        std::thread::spawn(move || answer(stream, &host));
    }
}
