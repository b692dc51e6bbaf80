//! Whether an emulator the test script starts is there. Without it a test skips and says so,
//! unless the script asked for it (`NLQ_REQUIRE_*`), when its absence is a failure: CI must
//! never pass by skipping.

/// The emulator's URL from `url_var`, or None (the test skips) when it is not set and
/// `require_var` is not set either.
pub fn url(url_var: &str, require_var: &str, what: &str) -> Option<String> {
    match std::env::var(url_var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os(require_var).is_none(),
                "{require_var} is set but {url_var} is not: start {what} (scripts/test.sh does)"
            );
            eprintln!("skipped: {url_var} is not set ({what} not running)");
            None
        }
    }
}

/// bqemulator, as scripts/test.sh starts it.
pub fn bqemulator() -> Option<String> {
    url("NLQ_BQEMU_URL", "NLQ_REQUIRE_BQEMU", "bqemulator")
}

/// The GCS emulator (fake-gcs-server), as scripts/test.sh starts it.
pub fn gcs() -> Option<String> {
    url("NLQ_GCS_EMU_URL", "NLQ_REQUIRE_GCS_EMU", "the GCS emulator")
}
