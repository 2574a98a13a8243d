//! yun-testbox: the tiny static program test images are built from (`FROM scratch`), so tests
//! need no registry. It runs as PID 1 and exits promptly on SIGTERM.
//!
//! Commands (combine freely, run in order; the last long-running one keeps the process up):
//!   serve PORT BODY      answer every HTTP request on PORT with BODY; a request for
//!                        /log/TEXT also prints TEXT to stdout (for log-latency tests), one
//!                        for /headers answers the request's own head (what a browser sent)
//!   page PORT HTML       the same, with BODY served as text/html (a renter's web page)
//!   print N TEXT         print N lines "TEXT i" to stdout (and "err TEXT i" to stderr)
//!   alloc MIB            allocate and touch MIB mebibytes, then hold them
//!   burn                 spin one core forever
//!   fork N               start N child processes that sleep (says when fork fails)
//!   cat                  copy stdin to stdout until end of input (for exec consoles)
//!   lines N WIDTH RATE   write N numbered lines of WIDTH bytes to stdout, RATE lines a
//!                        second at most (0 = as fast as it can)
//!   connect HOST:PORT    try a TCP connection (3 s at most) and print whether it opened;
//!                        HOST `gateway` is the default route's gateway (the host); a name
//!                        is looked up through the container's resolver
//!   write PATH           try to write a file at PATH and print whether it could
//!   fill PATH MIB        write MIB mebibytes to the file PATH and print how far it got
//!   hide PATH MIB        write MIB mebibytes to PATH, delete it and keep it open (the space
//!                        stays taken, and no file shows it)
//!   exit CODE            exit with CODE
//!   sleep SECONDS        sleep (0 = forever)

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: i32) {
    // As PID 1 the kernel ignores SIGTERM unless we handle it; exit at once.
    unsafe { exit_now(0) }
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    #[link_name = "_exit"]
    fn exit_now(code: i32) -> !;
    fn fork() -> i32;
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

fn serve(port: u16, body: String, content_type: &'static str) {
    let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind");
    println!("serving on {port}");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                if let Some(text) = request
                    .strip_prefix("GET /log/")
                    .and_then(|r| r.split(' ').next())
                {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{text}");
                    let _ = out.flush();
                }
                let (content_type, body) = if request.starts_with("GET /headers ") {
                    ("text/plain", request.to_string())
                } else {
                    (content_type, body)
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
                let _ = s.write_all(resp.as_bytes());
            });
        }
    });
}

/// The default route's gateway (the host, on a bridge network), from /proc/net/route.
fn default_gateway() -> String {
    let routes = std::fs::read_to_string("/proc/net/route").expect("/proc/net/route");
    for line in routes.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 2 && f[1] == "00000000" {
            let g = u32::from_str_radix(f[2], 16).expect("a hex address");
            return std::net::Ipv4Addr::from(g.to_le_bytes()).to_string();
        }
    }
    panic!("no default route");
}

fn hold_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn main() {
    unsafe {
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut keep_running = false;
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    while i < args.len() {
        match args[i].as_str() {
            "serve" | "page" => {
                let kind = if args[i] == "page" {
                    "text/html"
                } else {
                    "text/plain"
                };
                serve(arg(i + 1).parse().expect("port"), arg(i + 2), kind);
                keep_running = true;
                i += 3;
            }
            "print" => {
                let n: u64 = arg(i + 1).parse().expect("count");
                let text = arg(i + 2);
                let mut out = std::io::stdout().lock();
                let mut err = std::io::stderr().lock();
                for k in 0..n {
                    let _ = writeln!(out, "{text} {k}");
                    let _ = writeln!(err, "err {text} {k}");
                }
                i += 3;
            }
            "alloc" => {
                let mib: usize = arg(i + 1).parse().expect("MiB");
                let mut v = vec![0u8; mib << 20];
                for b in v.iter_mut().step_by(4096) {
                    *b = 1;
                }
                held.push(v);
                println!("allocated {mib} MiB");
                keep_running = true;
                i += 2;
            }
            "burn" => {
                std::thread::spawn(|| {
                    let mut x: u64 = 0;
                    while !STOP.load(Ordering::Relaxed) {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        std::hint::black_box(x);
                    }
                });
                keep_running = true;
                i += 1;
            }
            "fork" => {
                let n: u32 = arg(i + 1).parse().expect("count");
                let mut made = 0;
                for _ in 0..n {
                    match unsafe { fork() } {
                        0 => hold_forever(),
                        -1 => break,
                        _ => made += 1,
                    }
                }
                if made < n {
                    println!("fork failed after {made}");
                } else {
                    println!("forked {n}");
                }
                keep_running = true;
                i += 2;
            }
            "cat" => {
                let mut input = std::io::stdin().lock();
                let mut out = std::io::stdout().lock();
                let mut buf = [0u8; 4096];
                while let Ok(n) = input.read(&mut buf) {
                    if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                        break;
                    }
                }
                i += 1;
            }
            "lines" => {
                let n: u64 = arg(i + 1).parse().expect("count");
                let width: usize = arg(i + 2).parse().expect("width");
                let rate: u64 = arg(i + 3).parse().expect("lines per second");
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let begun = std::time::Instant::now();
                for k in 0..n {
                    // Paced in batches of a hundredth of a second's worth.
                    if rate > 0 && k % (rate / 100).max(1) == 0 {
                        let due = Duration::from_secs_f64(k as f64 / rate as f64);
                        if let Some(wait) = due.checked_sub(begun.elapsed()) {
                            let _ = out.flush();
                            std::thread::sleep(wait);
                        }
                    }
                    // "line <k> xxxx…" padded to `width` bytes before the newline.
                    let head = format!("line {k:010} ");
                    let pad = width.saturating_sub(head.len());
                    let _ = out.write_all(head.as_bytes());
                    let _ = out.write_all(&vec![b'x'; pad]);
                    let _ = out.write_all(b"\n");
                }
                let _ = out.flush();
                i += 4;
            }
            "connect" => {
                let target = arg(i + 1);
                let (host, port) = target.rsplit_once(':').expect("HOST:PORT");
                let host = if host == "gateway" {
                    default_gateway()
                } else {
                    host.to_string()
                };
                // A name is looked up as the container's resolver would (Docker's DNS).
                use std::net::ToSocketAddrs;
                let resolved = format!("{host}:{port}")
                    .to_socket_addrs()
                    .map(|mut a| a.next());
                let what = match resolved {
                    Ok(Some(addr)) => {
                        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
                            Ok(_) => "open".to_string(),
                            Err(e) => format!("closed ({e})"),
                        }
                    }
                    Ok(None) => "closed (no address)".to_string(),
                    Err(e) => format!("closed (cannot resolve: {e})"),
                };
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "connect {target}: {what}");
                let _ = out.flush();
                i += 2;
            }
            "write" => {
                let path = arg(i + 1);
                let what = match std::fs::write(&path, b"x") {
                    Ok(()) => "wrote".to_string(),
                    Err(e) => format!("cannot write ({e})"),
                };
                println!("write {path}: {what}");
                i += 2;
            }
            "fill" => {
                let path = arg(i + 1);
                let mib: usize = arg(i + 2).parse().expect("MiB");
                let chunk = vec![7u8; 1 << 20];
                let mut written = 0;
                let outcome = std::fs::File::create(&path).and_then(|mut f| {
                    for _ in 0..mib {
                        f.write_all(&chunk)?;
                        written += 1;
                    }
                    f.sync_all()
                });
                match outcome {
                    Ok(()) => println!("filled {path} {written} MiB"),
                    Err(e) => println!("cannot fill {path} ({e}) after {written} MiB"),
                }
                i += 3;
            }
            "hide" => {
                let path = arg(i + 1);
                let mib: usize = arg(i + 2).parse().expect("MiB");
                let chunk = vec![7u8; 1 << 20];
                let outcome = std::fs::File::create(&path).and_then(|mut f| {
                    for _ in 0..mib {
                        f.write_all(&chunk)?;
                    }
                    f.sync_all()?;
                    std::fs::remove_file(&path)?;
                    Ok(f)
                });
                match outcome {
                    Ok(f) => {
                        // Held open for the life of the process.
                        std::mem::forget(f);
                        println!("hid {mib} MiB in a deleted {path}");
                    }
                    Err(e) => println!("cannot hide {path} ({e})"),
                }
                i += 3;
            }
            "exit" => {
                let _ = std::io::stdout().flush();
                std::process::exit(arg(i + 1).parse().expect("code"));
            }
            "sleep" => {
                let s: u64 = arg(i + 1).parse().expect("seconds");
                if s == 0 {
                    hold_forever();
                }
                std::thread::sleep(Duration::from_secs(s));
                i += 2;
            }
            other => {
                eprintln!("unknown command {other}");
                std::process::exit(2);
            }
        }
    }
    let _ = std::io::stdout().flush();
    if keep_running {
        hold_forever();
    }
    drop(held);
}
