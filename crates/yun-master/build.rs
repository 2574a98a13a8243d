// The console's files (web/) are embedded, each with its gzip and brotli forms made here
// once, and an ETag from its content, so serving one is a lookup.
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=web");
    embed_console();
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        other => panic!("web/: no content type for {other:?}; add it to build.rs"),
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("web/ is readable")
        .map(|e| e.expect("a web/ entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn embed_console() {
    use sha2::Digest;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let compressed = out_dir.join("web");
    std::fs::create_dir_all(&compressed).expect("OUT_DIR/web");
    let mut found = Vec::new();
    files(&root, &mut found);
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (i, path) in found.iter().enumerate() {
        let data = std::fs::read(path).expect("a console file");
        let url = format!(
            "/{}",
            path.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        );
        let etag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&data))[..20]);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
            w.write_all(&data).unwrap();
        }
        // A compressed form is kept only when it is smaller.
        let keep = |bytes: &[u8], ext: &str| -> String {
            if bytes.len() >= data.len() {
                return "None".into();
            }
            let file = compressed.join(format!("{i}.{ext}"));
            std::fs::write(&file, bytes).unwrap();
            format!("Some(include_bytes!({:?}))", file.display().to_string())
        };
        let (gzip, brotli) = (keep(&gz, "gz"), keep(&br, "br"));
        writeln!(
            table,
            "    Asset {{ path: {url:?}, content_type: {:?}, etag: {etag:?}, identity: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }},",
            content_type(path),
            path.display().to_string(),
        )
        .unwrap();
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("web_assets.rs"), table).expect("web_assets.rs");
}
