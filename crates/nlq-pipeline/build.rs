//! The tests and the benchmark run the pipeline on the embedded engine: record the prebuilt
//! libduckdb's directory (see .cargo/config.toml) as their run-time search path, as
//! crates/nlq-exec/build.rs does for its own.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") {
        let dir = std::path::Path::new(&dir).display().to_string();
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
        println!("cargo:rustc-link-arg-benches=-Wl,-rpath,{dir}");
    }
}
