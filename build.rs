use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let protos = [
        "proto/kairos/v1/types.proto",
        "proto/kairos/v1/brand_profile_service.proto",
        "proto/kairos/v1/scoring_service.proto",
        "proto/kairos/v1/guardrail_service.proto",
    ]
    .map(PathBuf::from);
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    // SAFETY: build scripts are single-threaded; nothing else reads the
    // environment concurrently. tonic-prost-build finds protoc through PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("kairos_descriptor.bin"))
        .compile_protos(&protos, &[PathBuf::from("proto"), include])?;
    Ok(())
}
