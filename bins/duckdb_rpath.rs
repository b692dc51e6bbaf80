//! The build script of every binary package (their Cargo.toml `build` points here): lets the
//! binaries find a prebuilt libduckdb (see .cargo/config.toml) without
//! LD_LIBRARY_PATH, by recording its directory as the binary's run-time search path (and the
//! integration tests', which may link the embedded engine themselves).
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") {
        for targets in ["bins", "tests"] {
            println!(
                "cargo:rustc-link-arg-{targets}=-Wl,-rpath,{}",
                std::path::Path::new(&dir).display()
            );
        }
    }
}
