//! The API tests run on the embedded engine (a dev-dependency): record the prebuilt libduckdb's
//! directory (see .cargo/config.toml) as the test binaries' run-time search path, as
//! crates/nlq-pipeline/build.rs does.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") {
        let dir = std::path::Path::new(&dir).display().to_string();
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
    }
}
