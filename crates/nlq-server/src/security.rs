//! Who is calling and how much they may use: API keys, the admin token, per-caller request
//! rates and daily warehouse-byte budgets. Counters live in memory: a restart forgives the
//! day's usage, which errs on the side of the user, never of a runaway bill beyond one day.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{NaiveDate, Utc};

use crate::config::Limits;
use crate::error::ServerError;

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

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-caller token buckets and byte budgets.
pub struct Limiter {
    limits: Limits,
    buckets: Mutex<HashMap<Caller, Bucket>>,
    spent: Mutex<HashMap<(Caller, NaiveDate), u64>>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Self {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
            spent: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one request from the caller's bucket, which refills at the per-minute rate up
    /// to one minute's worth (so a burst of a minute's requests is allowed).
    pub fn admit(&self, caller: &Caller) -> Result<(), ServerError> {
        let rate = f64::from(self.limits.requests_per_minute.max(1)) / 60.0;
        let capacity = f64::from(self.limits.requests_per_minute.max(1));
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| ServerError::Internal("the rate limiter's lock is poisoned".into()))?;
        let bucket = buckets.entry(caller.clone()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
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
        let today = Utc::now().date_naive();
        let spent = self.spent_on(caller, today);
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

    pub fn spend(&self, caller: &Caller, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let today = Utc::now().date_naive();
        if let Ok(mut spent) = self.spent.lock() {
            // Yesterday's counters are of no more use.
            spent.retain(|(_, day), _| *day == today);
            *spent.entry((caller.clone(), today)).or_default() += bytes;
        }
    }

    fn spent_on(&self, caller: &Caller, day: NaiveDate) -> u64 {
        self.spent
            .lock()
            .map(|s| s.get(&(caller.clone(), day)).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Today's bytes billed per caller, for the admin status.
    pub fn spent_today(&self) -> Vec<(String, u64)> {
        let today = Utc::now().date_naive();
        let mut list: Vec<(String, u64)> = self
            .spent
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|((_, day), _)| *day == today)
                    .map(|((caller, _), bytes)| (caller.0.clone(), *bytes))
                    .collect()
            })
            .unwrap_or_default();
        list.sort();
        list
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
        let limiter = Limiter::new(Limits {
            requests_per_minute: 3,
            daily_bytes: 100,
            ..Limits::default()
        });
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
        assert_eq!(limiter.spent_today(), [("key …k-1".to_owned(), 120)]);
    }
}
