//! Which property a sample imitates: the public ecommerce sample (the default), or a property
//! of one's own with web and app streams and custom events (`app-web`), so nlq is tested on
//! data shaped unlike the one it was first written for.

use std::fmt;
use std::str::FromStr;

use nlq_core::TableSchema;
use serde::{Deserialize, Serialize};

use crate::error::SampleError;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// `bigquery-public-data.ga4_obfuscated_sample_ecommerce`: the Google Merchandise Store.
    #[default]
    PublicSample,
    /// `nlq-sample-app.analytics_284713650`: a language-learning service with a web stream and
    /// Android and iOS apps, nine custom events with string, int and double parameters, three
    /// user properties, subscriptions and workbooks for sale, three days missing and the newest
    /// day only as an intraday table.
    AppWeb,
    /// A property's own export, brought in by `nlq data import`: the export schema, and the
    /// dataset name its manifest records. Never generated.
    Export,
}

impl Profile {
    /// The profiles `generate` can write.
    pub const ALL: [Profile; 2] = [Profile::PublicSample, Profile::AppWeb];

    pub fn name(self) -> &'static str {
        match self {
            Profile::PublicSample => "public-sample",
            Profile::AppWeb => "app-web",
            Profile::Export => "export",
        }
    }

    pub fn project(self) -> &'static str {
        match self {
            Profile::PublicSample => nlq_core::ga4::PUBLIC_PROJECT,
            Profile::AppWeb => crate::app_web::PROJECT,
            // An import's real names are in its manifest (`Manifest::dataset_name`).
            Profile::Export => crate::import::DEFAULT_PROJECT,
        }
    }

    pub fn dataset(self) -> &'static str {
        match self {
            Profile::PublicSample => nlq_core::ga4::PUBLIC_DATASET,
            Profile::AppWeb => crate::app_web::DATASET,
            Profile::Export => crate::import::DEFAULT_DATASET,
        }
    }

    /// The schema of its shards: the public sample's obfuscated user properties, or the export
    /// as Google documents it.
    pub fn schema(self) -> Result<TableSchema, SampleError> {
        Ok(match self {
            Profile::PublicSample => nlq_core::ga4::events_schema()?,
            Profile::AppWeb | Profile::Export => nlq_core::ga4::export_events_schema()?,
        })
    }

    pub fn is_default(&self) -> bool {
        *self == Profile::PublicSample
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                format!("no profile {text:?}: choose one of {}", names.join(", "))
            })
    }
}
