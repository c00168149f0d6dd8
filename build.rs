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
    // The vendored protoc, named to prost-build directly (rather than
    // through the PROTOC variable, which would need `unsafe` set_var).
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("kairos_descriptor.bin"))
        .compile_with_config(config, &protos, &[PathBuf::from("proto"), include])?;
    Ok(())
}
