//! What a query costs on BigQuery on-demand pricing, from the bytes a dry run reports, and the
//! byte cap that refuses expensive queries before they run.
//!
//! BigQuery bills on-demand queries by bytes processed, rounded up to the next MB, with at least
//! 10 MB per table referenced; the cap is `maximum_bytes_billed`.

use serde::{Deserialize, Serialize};

use nlq_core::result::human_bytes;

use crate::finding::Finding;

const MIB: u64 = 1 << 20;
const TIB: f64 = (1u64 << 40) as f64;

/// Prices and limits. Defaults: BigQuery's on-demand list price in USD, no other currency, a
/// 10 GiB cap.
#[derive(Debug, Clone, PartialEq)]
pub struct CostPolicy {
    pub usd_per_tib: f64,
    /// Another currency to show next to USD: (code, units per USD), e.g. ("KRW", 1380.0).
    pub currency: Option<(String, f64)>,
    /// Refuse queries that would bill more than this many bytes.
    pub maximum_bytes_billed: u64,
}

impl Default for CostPolicy {
    fn default() -> Self {
        CostPolicy {
            usd_per_tib: 6.25,
            currency: None,
            maximum_bytes_billed: 10 * 1024 * MIB,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub bytes_processed: u64,
    pub bytes_billed: u64,
    pub usd: f64,
    /// The cost in the policy's other currency, when one is set.
    pub local: Option<(String, f64)>,
}

/// The bytes BigQuery bills for a query that processes `bytes_processed` over `tables`
/// referenced tables.
pub fn bytes_billed(bytes_processed: u64, tables: usize) -> u64 {
    let rounded = bytes_processed.div_ceil(MIB).saturating_mul(MIB);
    let minimum = (tables as u64).saturating_mul(10 * MIB);
    rounded.max(minimum)
}

pub fn cost(bytes_processed: u64, tables: usize, policy: &CostPolicy) -> Cost {
    let billed = bytes_billed(bytes_processed, tables);
    let usd = billed as f64 / TIB * policy.usd_per_tib;
    Cost {
        bytes_processed,
        bytes_billed: billed,
        usd,
        local: policy
            .currency
            .as_ref()
            .map(|(code, rate)| (code.clone(), usd * rate)),
    }
}

/// A refusal when the query would bill more than the cap; `None` when it may run.
pub fn over_cap(cost: &Cost, policy: &CostPolicy) -> Option<Finding> {
    (cost.bytes_billed > policy.maximum_bytes_billed).then(|| {
        let share = policy.maximum_bytes_billed as f64 / cost.bytes_billed as f64;
        Finding::error(
            "cost.maximum_bytes_billed",
            format!(
                "the query would bill {} (${:.4}), over the cap of {}; read fewer columns or narrow the \
                 _TABLE_SUFFIX range to about {:.0}% of its days",
                human_bytes(cost.bytes_billed),
                cost.usd,
                human_bytes(policy.maximum_bytes_billed),
                (share * 100.0).floor().max(1.0)
            ),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_a_megabyte_with_ten_per_table() {
        assert_eq!(bytes_billed(0, 0), 0);
        assert_eq!(bytes_billed(1, 1), 10 * MIB);
        assert_eq!(bytes_billed(74_200_000, 31), 310 * MIB);
        assert_eq!(bytes_billed(400 * MIB + 1, 31), 401 * MIB);
        assert_eq!(bytes_billed(3 * MIB, 0), 3 * MIB);
    }

    #[test]
    fn cost_is_per_tib_and_converts() {
        let policy = CostPolicy {
            currency: Some(("KRW".into(), 1400.0)),
            ..CostPolicy::default()
        };
        let c = cost(1 << 40, 1, &policy);
        assert_eq!(c.bytes_billed, 1 << 40);
        assert!((c.usd - 6.25).abs() < 1e-12);
        assert_eq!(c.local, Some(("KRW".to_owned(), 8750.0)));
    }

    #[test]
    fn the_cap_refuses_with_a_cheaper_suggestion() {
        let policy = CostPolicy {
            maximum_bytes_billed: 100 * MIB,
            ..CostPolicy::default()
        };
        assert!(over_cap(&cost(100 * MIB, 1, &policy), &policy).is_none());
        let finding = over_cap(&cost(400 * MIB, 1, &policy), &policy).unwrap();
        assert_eq!(finding.rule, "cost.maximum_bytes_billed");
        assert!(
            finding.message.contains("400.0 MiB") && finding.message.contains("100.0 MiB"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("about 25% of its days"),
            "{}",
            finding.message
        );
    }
}
