//! The build script of every binary package (their Cargo.toml `build` points here): lets the
//! binaries find a prebuilt libduckdb (see .cargo/config.toml) without
//! LD_LIBRARY_PATH, by recording its directory as the binary's run-time search path (and the
//! integration tests', which may link the embedded engine themselves), after `$ORIGIN/../lib`
//! for the relocatable release.
fn main() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if let Some(dir) = std::env::var_os("DUCKDB_LIB_DIR") {
        for targets in ["bins", "tests"] {
            // `$ORIGIN/../lib` first: a release directory (scripts/release.sh) keeps libduckdb
            // beside `bin/`, wherever it is unpacked; the clone's copy serves the rest.
            println!("cargo:rustc-link-arg-{targets}=-Wl,-rpath,$ORIGIN/../lib");
            println!(
                "cargo:rustc-link-arg-{targets}=-Wl,-rpath,{}",
                std::path::Path::new(&dir).display()
            );
        }
    }
}
