// Compiles the wire contract with a vendored protoc, so a fresh machine needs no system protoc.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    println!("cargo:rerun-if-changed=../../proto");
    tonic_build::configure().compile_protos(
        &[
            "../../proto/yun/v1/worker.proto",
            "../../proto/yun/v1/registry.proto",
        ],
        &["../../proto"],
    )?;
    Ok(())
}
