//! Who is calling and how much they may use: API keys, the admin token, per-caller request
//! rates and daily warehouse-byte budgets. The counts live in the store, so they survive a
//! restart and replicas on one database share them.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::Utc;

use crate::config::Limits;
use crate::error::ServerError;
use crate::store::UsageStore;

/// The caller of a request, as the limits count it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller(pub String);

impl Caller {
    /// A key is never kept or shown whole: callers are named by its last four characters.
    pub fn of_key(key: &str) -> Self {
        let tail: String = key
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Caller(format!("key …{tail}"))
    }

    pub fn of_address(address: &str) -> Self {
        Caller(format!("address {address}"))
    }
}

/// Compares secrets in time that does not depend on where they first differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut differ = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        differ |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    differ == 0
}

/// Per-caller token buckets and byte budgets.
pub struct Limiter {
    limits: Limits,
    usage: Arc<dyn UsageStore>,
}

impl Limiter {
    pub fn new(limits: Limits, usage: Arc<dyn UsageStore>) -> Self {
        Limiter { limits, usage }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one request from the caller's bucket, which refills at the per-minute rate up
    /// to one minute's worth (so a burst of a minute's requests is allowed).
    pub fn admit(&self, caller: &Caller) -> Result<(), ServerError> {
        let rate = f64::from(self.limits.requests_per_minute.max(1)) / 60.0;
        let capacity = f64::from(self.limits.requests_per_minute.max(1));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let bucket = self.usage.take_token(&caller.0, now, rate, capacity)?;
        if bucket.admitted {
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / rate).ceil() as u64;
        Err(ServerError::Limited {
            code: "rate_limited",
            message: format!(
                "{} allows {} requests a minute; try again in {wait} s",
                caller.0, self.limits.requests_per_minute
            ),
            retry_after_secs: wait.max(1),
        })
    }

    /// Refuses a query when the caller has already spent today's budget.
    pub fn check_budget(&self, caller: &Caller) -> Result<(), ServerError> {
        let spent = self.usage.bytes_spent(&caller.0, Utc::now().date_naive())?;
        if spent >= self.limits.daily_bytes {
            let tomorrow = Utc::now()
                .date_naive()
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| (t.and_utc() - Utc::now()).num_seconds().max(1) as u64)
                .unwrap_or(3600);
            return Err(ServerError::Limited {
                code: "budget_exhausted",
                message: format!(
                    "{} has used today's warehouse budget ({} of {} billed); it renews at 00:00 UTC",
                    caller.0,
                    nlq_core::result::human_bytes(spent),
                    nlq_core::result::human_bytes(self.limits.daily_bytes)
                ),
                retry_after_secs: tomorrow,
            });
        }
        Ok(())
    }

    /// Counts bytes a query billed. The query has run and its answer is kept whatever
    /// happens here, so a store that cannot count is logged, not returned.
    pub fn spend(&self, caller: &Caller, bytes: u64) {
        if bytes == 0 {
            return;
        }
        if let Err(err) = self
            .usage
            .add_bytes(&caller.0, Utc::now().date_naive(), bytes)
        {
            tracing::error!(caller = %caller.0, bytes, error = %err, "bytes billed were not counted");
        }
    }

    /// Today's bytes billed per caller, for the admin status.
    pub fn spent_today(&self) -> Result<Vec<(String, u64)>, ServerError> {
        self.usage.bytes_spent_on(Utc::now().date_naive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole_and_keys_never_show() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("abcd", "abc"));
        assert_eq!(Caller::of_key("sk-secret-1234").0, "key …1234");
    }

    #[test]
    fn a_burst_over_the_rate_is_refused_with_a_wait_and_budgets_stop_spending() {
        let limiter = Limiter::new(
            Limits {
                requests_per_minute: 3,
                daily_bytes: 100,
                ..Limits::default()
            },
            Arc::new(crate::store::sqlite::SqliteStore::in_memory().unwrap()),
        );
        let caller = Caller::of_key("k-1");
        for _ in 0..3 {
            limiter.admit(&caller).unwrap();
        }
        match limiter.admit(&caller) {
            Err(ServerError::Limited {
                retry_after_secs, ..
            }) => assert!((1..=20).contains(&retry_after_secs)),
            other => panic!("{other:?}"),
        }
        // Another caller has a bucket of its own.
        limiter.admit(&Caller::of_key("k-2")).unwrap();

        limiter.check_budget(&caller).unwrap();
        limiter.spend(&caller, 60);
        limiter.check_budget(&caller).unwrap();
        limiter.spend(&caller, 60);
        let err = limiter.check_budget(&caller).unwrap_err();
        assert_eq!(err.code(), "budget_exhausted");
        assert_eq!(
            limiter.spent_today().unwrap(),
            [("key …k-1".to_owned(), 120)]
        );
    }
}
