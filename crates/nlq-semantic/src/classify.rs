//! Dimensions defined by rules the model file holds as data: GA4's default channel group
//! (ordered rules over a session's source, medium and campaign, the first that matches naming
//! the group, and the source categories they name) and page types (a URL classifier). This
//! module checks the rules, writes each set as one SQL `CASE`, and evaluates it in Rust, so
//! tests pin every rule and compare the SQL's answers with the Rust's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::SemanticError;
use crate::model::invalid;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRules {
    /// The dimensions whose values the rules read.
    pub source: String,
    pub medium: String,
    pub campaign: String,
    /// The group of a session no rule matches.
    pub fallback: String,
    pub groups: Vec<ChannelRule>,
    /// Named lists of exact source values (`source_in`).
    #[serde(default)]
    pub source_categories: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    pub group: String,
    // `{any: [...]}` as YAML writes it, not a `!any` tag.
    #[serde(with = "serde_norway::with::singleton_map_recursive")]
    pub when: Condition,
}

/// A condition on the lower-cased source, medium and campaign. `*_matches` finds a regular
/// expression anywhere in the value (RE2 syntax, which BigQuery and Rust's `regex` share for
/// these patterns); `*_is` is equality with one of the values, any case.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    SourceIn(String),
    SourceIs(Vec<String>),
    MediumIs(Vec<String>),
    SourceMatches(String),
    MediumMatches(String),
    CampaignMatches(String),
}

/// Which of the three values a condition reads.
#[derive(Clone, Copy)]
enum Field {
    Source,
    Medium,
    Campaign,
}

/// The session's values as the rules see them; None: the session has no such value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Touch<'a> {
    pub source: Option<&'a str>,
    pub medium: Option<&'a str>,
    pub campaign: Option<&'a str>,
}

impl ChannelRules {
    /// Every regex compiles, every category named exists, every group is named once.
    pub fn check(&self) -> Result<(), SemanticError> {
        let mut seen = std::collections::HashSet::new();
        for rule in &self.groups {
            if !seen.insert(rule.group.as_str()) || rule.group == self.fallback {
                return Err(invalid(format!(
                    "channels: the group \"{}\" is defined twice",
                    rule.group
                )));
            }
            self.check_condition(&rule.group, &rule.when)?;
        }
        Ok(())
    }

    fn check_condition(&self, group: &str, condition: &Condition) -> Result<(), SemanticError> {
        match condition {
            Condition::All(all) | Condition::Any(all) => {
                if all.is_empty() {
                    return Err(invalid(format!(
                        "channels: an empty all/any in the rule of \"{group}\""
                    )));
                }
                all.iter().try_for_each(|c| self.check_condition(group, c))
            }
            Condition::SourceIn(category) => {
                if self
                    .source_categories
                    .get(category)
                    .is_some_and(|list| !list.is_empty())
                {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "channels: the rule of \"{group}\" names the source category `{category}`, which is not defined or empty"
                    )))
                }
            }
            Condition::SourceIs(_) | Condition::MediumIs(_) => Ok(()),
            Condition::SourceMatches(pattern)
            | Condition::MediumMatches(pattern)
            | Condition::CampaignMatches(pattern) => regex::Regex::new(pattern)
                .map(drop)
                .map_err(|err| {
                    invalid(format!(
                        "channels: the pattern {pattern:?} of \"{group}\" is not a regular expression: {err}"
                    ))
                }),
        }
    }

    /// Every group a session can get, in rule order, the fallback last.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .map(|r| r.group.as_str())
            .chain(std::iter::once(self.fallback.as_str()))
    }

    /// The group of one session, as the SQL from [`ChannelRules::sql`] computes it.
    pub fn evaluate(&self, touch: Touch<'_>) -> &str {
        let lower = |v: Option<&str>| v.map(str::to_lowercase);
        let values = (
            lower(touch.source),
            lower(touch.medium),
            lower(touch.campaign),
        );
        self.groups
            .iter()
            .find(|rule| self.holds(&rule.when, &values))
            .map_or(self.fallback.as_str(), |rule| rule.group.as_str())
    }

    fn holds(
        &self,
        condition: &Condition,
        values: &(Option<String>, Option<String>, Option<String>),
    ) -> bool {
        let value = |field: Field| match field {
            Field::Source => values.0.as_deref(),
            Field::Medium => values.1.as_deref(),
            Field::Campaign => values.2.as_deref(),
        };
        let one_of = |field: Field, list: &[String]| {
            value(field).is_some_and(|v| list.iter().any(|x| x.to_lowercase() == v))
        };
        let matches = |field: Field, pattern: &str| {
            value(field).is_some_and(|v| regex::Regex::new(pattern).is_ok_and(|re| re.is_match(v)))
        };
        match condition {
            Condition::All(all) => all.iter().all(|c| self.holds(c, values)),
            Condition::Any(any) => any.iter().any(|c| self.holds(c, values)),
            Condition::SourceIn(category) => one_of(
                Field::Source,
                self.source_categories
                    .get(category)
                    .map_or(&[][..], Vec::as_slice),
            ),
            Condition::SourceIs(list) => one_of(Field::Source, list),
            Condition::MediumIs(list) => one_of(Field::Medium, list),
            Condition::SourceMatches(p) => matches(Field::Source, p),
            Condition::MediumMatches(p) => matches(Field::Medium, p),
            Condition::CampaignMatches(p) => matches(Field::Campaign, p),
        }
    }

    /// One `CASE` over the three SQL expressions (a NULL value matches nothing, as in Rust).
    pub fn sql(&self, source: &str, medium: &str, campaign: &str) -> String {
        let fields = [
            format!("LOWER({source})"),
            format!("LOWER({medium})"),
            format!("LOWER({campaign})"),
        ];
        let mut out = String::from("CASE");
        for rule in &self.groups {
            out.push_str(&format!(
                " WHEN {} THEN {}",
                self.condition_sql(&rule.when, &fields),
                crate::compile::quote(&rule.group)
            ));
        }
        out.push_str(&format!(
            " ELSE {} END",
            crate::compile::quote(&self.fallback)
        ));
        out
    }

    fn condition_sql(&self, condition: &Condition, fields: &[String; 3]) -> String {
        let list = |values: &[String]| {
            values
                .iter()
                .map(|v| crate::compile::quote(&v.to_lowercase()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let joined = |all: &[Condition], op: &str| {
            let parts: Vec<String> = all.iter().map(|c| self.condition_sql(c, fields)).collect();
            format!("({})", parts.join(op))
        };
        let [source, medium, campaign] = fields;
        match condition {
            Condition::All(all) => joined(all, " AND "),
            Condition::Any(any) => joined(any, " OR "),
            Condition::SourceIn(category) => format!(
                "{source} IN ({})",
                list(
                    self.source_categories
                        .get(category)
                        .map_or(&[][..], Vec::as_slice)
                )
            ),
            Condition::SourceIs(values) => format!("{source} IN ({})", list(values)),
            Condition::MediumIs(values) => format!("{medium} IN ({})", list(values)),
            Condition::SourceMatches(p) => {
                format!(
                    "REGEXP_CONTAINS({source}, {})",
                    crate::compile::quote_pattern(p)
                )
            }
            Condition::MediumMatches(p) => {
                format!(
                    "REGEXP_CONTAINS({medium}, {})",
                    crate::compile::quote_pattern(p)
                )
            }
            Condition::CampaignMatches(p) => {
                format!(
                    "REGEXP_CONTAINS({campaign}, {})",
                    crate::compile::quote_pattern(p)
                )
            }
        }
    }
}

/// Page types: the first rule whose pattern is found in the lower-cased page path names the
/// type. The default set is the Google Merchandise Store's (the sample's shop); another site
/// replaces the rules in its model file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PageTypes {
    /// The SQL of the page path the rules read (fragments allowed).
    pub path: String,
    pub fallback: String,
    pub rules: Vec<PageRule>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PageRule {
    #[serde(rename = "type")]
    pub page_type: String,
    pub matches: String,
}

impl PageTypes {
    pub fn check(&self) -> Result<(), SemanticError> {
        for rule in &self.rules {
            regex::Regex::new(&rule.matches).map_err(|err| {
                invalid(format!(
                    "page_types: the pattern {:?} of `{}` is not a regular expression: {err}",
                    rule.matches, rule.page_type
                ))
            })?;
        }
        Ok(())
    }

    /// The type of a page path, as the SQL from [`PageTypes::sql`] computes it.
    pub fn evaluate(&self, path: Option<&str>) -> &str {
        let Some(path) = path.map(str::to_lowercase) else {
            return &self.fallback;
        };
        self.rules
            .iter()
            .find(|rule| regex::Regex::new(&rule.matches).is_ok_and(|re| re.is_match(&path)))
            .map_or(self.fallback.as_str(), |rule| rule.page_type.as_str())
    }

    /// One `CASE` over the (expanded) path expression.
    pub fn sql(&self, path: &str) -> String {
        let mut out = String::from("CASE");
        for rule in &self.rules {
            out.push_str(&format!(
                " WHEN REGEXP_CONTAINS(LOWER({path}), {}) THEN {}",
                crate::compile::quote_pattern(&rule.matches),
                crate::compile::quote(&rule.page_type)
            ));
        }
        out.push_str(&format!(
            " ELSE {} END",
            crate::compile::quote(&self.fallback)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::SemanticModel;

    use super::*;

    /// (source, medium, campaign, GA4's group).
    type Case = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
    );

    /// (source, medium, campaign) → GA4's group, at least one row per rule and per way a
    /// rule can hold, and the cases where an earlier rule must win.
    const CHANNEL_CASES: &[Case] = &[
        (Some("(direct)"), Some("(none)"), None, "Direct"),
        (
            Some("(direct)"),
            Some("(not set)"),
            Some("(direct)"),
            "Direct",
        ),
        (
            Some("google"),
            Some("cpc"),
            Some("Summer_Cross-Network_2024"),
            "Cross-network",
        ),
        (
            Some("Google Shopping"),
            Some("cpc"),
            Some("Brand"),
            "Paid Shopping",
        ),
        (
            Some("google"),
            Some("cpc"),
            Some("Smart Shopping - Apparel"),
            "Paid Shopping",
        ),
        (
            Some("newsletter"),
            Some("paid"),
            Some("e-shop sale"),
            "Paid Shopping",
        ),
        (
            Some("google"),
            Some("cpc"),
            Some("Brand Search"),
            "Paid Search",
        ),
        (Some("bing"), Some("ppc"), None, "Paid Search"),
        (Some("naver"), Some("retargeting"), None, "Paid Search"),
        (
            Some("facebook.com"),
            Some("paid_social"),
            None,
            "Paid Social",
        ),
        (Some("youtube"), Some("cpv"), None, "Paid Video"),
        (Some("example.com"), Some("display"), None, "Display"),
        (Some("example.com"), Some("CPM"), None, "Display"),
        (
            Some("partner.example"),
            Some("paidsearch-like"),
            None,
            "Paid Other",
        ),
        (Some("example.com"), Some("cpc"), None, "Paid Other"),
        (
            Some("amazon.com"),
            Some("referral"),
            None,
            "Organic Shopping",
        ),
        (
            Some("blog.example"),
            Some("referral"),
            Some("workshop shopping guide"),
            "Organic Shopping",
        ),
        (
            Some("m.facebook.com"),
            Some("referral"),
            None,
            "Organic Social",
        ),
        (Some("t.co"), Some("referral"), None, "Organic Social"),
        (
            Some("forum.example"),
            Some("social-media"),
            None,
            "Organic Social",
        ),
        (Some("youtube.com"), Some("referral"), None, "Organic Video"),
        (Some("vimeo"), Some("web-video"), None, "Organic Video"),
        (
            Some("google"),
            Some("organic"),
            Some("(organic)"),
            "Organic Search",
        ),
        (Some("duckduckgo"), Some("referral"), None, "Organic Search"),
        (Some("example.com"), Some("organic"), None, "Organic Search"),
        (
            Some("shop.googlemerchandisestore.com"),
            Some("referral"),
            None,
            "Referral",
        ),
        (
            Some("creatoracademy.youtube.com"),
            Some("referral"),
            None,
            "Referral",
        ),
        (Some("partner.example"), Some("app"), None, "Referral"),
        (Some("partner.example"), Some("LINK"), None, "Referral"),
        (
            Some("newsletter"),
            Some("email"),
            Some("Holiday Newsletter"),
            "Email",
        ),
        (Some("e-mail"), Some("(none)"), None, "Email"),
        (
            Some("partner.example"),
            Some("affiliate"),
            None,
            "Affiliates",
        ),
        (Some("spotify"), Some("audio"), None, "Audio"),
        (Some("sms"), Some("text"), None, "SMS"),
        (Some("gateway"), Some("sms"), None, "SMS"),
        (
            Some("app"),
            Some("web-push"),
            None,
            "Mobile Push Notifications",
        ),
        (
            Some("app"),
            Some("mobile-alert"),
            None,
            "Mobile Push Notifications",
        ),
        (
            Some("app"),
            Some("notification"),
            None,
            "Mobile Push Notifications",
        ),
        (
            Some("firebase"),
            Some("inbox"),
            None,
            "Mobile Push Notifications",
        ),
        (
            Some("partner.example"),
            Some("banner-swap"),
            None,
            "Unassigned",
        ),
        (Some("(direct)"), Some("referral"), None, "Referral"),
        (None, None, None, "Unassigned"),
    ];

    fn model() -> SemanticModel {
        SemanticModel::builtin().unwrap()
    }

    #[test]
    fn every_channel_rule_gives_ga4s_group() {
        let model = model();
        let rules = model.channels.as_ref().unwrap();
        for &(source, medium, campaign, group) in CHANNEL_CASES {
            let touch = Touch {
                source,
                medium,
                campaign,
            };
            assert_eq!(rules.evaluate(touch), group, "{touch:?}");
        }
        // Every group the rules name is reached by some case.
        for group in rules.group_names() {
            assert!(
                CHANNEL_CASES.iter().any(|c| c.3 == group),
                "no case reaches {group}"
            );
        }
    }

    #[test]
    fn the_merchandise_stores_pages_have_their_types() {
        let model = model();
        let pages = model.page_types.as_ref().unwrap();
        for (path, page_type) in [
            ("/", "home"),
            ("", "home"),
            (
                "/Google+Redesign/Apparel/Google+Heathered+Pom+Beanie",
                "PDP",
            ),
            (
                "/Google+Redesign/Campus+Collection/Google+Kirkland+Campus+Sticker",
                "PDP",
            ),
            ("/Google+Redesign/Apparel/Mens", "PLP"),
            ("/Google+Redesign/Campus+Collection", "PLP"),
            ("/Google+Redesign/Shop+by+Brand/YouTube", "PLP"),
            ("/Google+Redesign/New", "PLP"),
            ("/basket.html", "cart"),
            ("/yourinfo.html", "checkout"),
            ("/payment.html", "checkout"),
            ("/revieworder.html", "checkout"),
            ("/ordercompleted.html", "purchase_confirmation"),
            ("/signin.html", "account"),
            ("/store-search", "search"),
            ("/about/research", "other"),
        ] {
            assert_eq!(pages.evaluate(Some(path)), page_type, "{path}");
        }
        assert_eq!(pages.evaluate(None), "other");
    }

    #[test]
    fn broken_rules_are_refused_with_what_is_wrong() {
        let base = include_str!("../../../fixtures/semantic/ga4.yaml");
        let broken = base.replacen(
            r#"{"source_in": "search"}, {"medium_matches""#,
            r#"{"source_in": "searches"}, {"medium_matches""#,
            1,
        );
        assert_ne!(broken, base);
        let err = SemanticModel::from_yaml(&broken).unwrap_err().to_string();
        assert!(err.contains("source category `searches`"), "{err}");
        let broken = base.replacen("'(^|/)(basket|cart)", "'(^|/)(basket|cart", 1);
        let err = SemanticModel::from_yaml(&broken).unwrap_err().to_string();
        assert!(err.contains("not a regular expression"), "{err}");
    }
}
