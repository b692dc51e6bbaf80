//! Lets this crate's tests, benches and examples find a prebuilt libduckdb (see
//! .cargo/config.toml) by recording its directory as their run-time search path. Crates that
//! link nlq-exec into binaries of their own need the same line (see bins/nlq/build.rs).
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") {
        println!(
            "cargo:rustc-link-arg=-Wl,-rpath,{}",
            std::path::Path::new(&dir).display()
        );
    }
}
