//! Which value field each GA4 parameter keeps its value in. The lint asks a `ParamCatalog`; a
//! later stage (MetaSync) fills one from the dataset's real parameter statistics, and until then
//! `StandardParams` knows the parameters Google documents for every GA4 property.

use serde::Serialize;

/// The repeated key/value field a parameter lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamScope {
    EventParams,
    UserProperties,
    ItemParams,
}

impl ParamScope {
    /// The scope of an `UNNEST(<path>)` argument's last field name.
    pub fn of_field(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "event_params" => Some(ParamScope::EventParams),
            "user_properties" => Some(ParamScope::UserProperties),
            "item_params" => Some(ParamScope::ItemParams),
            _ => None,
        }
    }
}

/// One of the typed fields of a parameter's `value` struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueField {
    String,
    Int,
    Float,
    Double,
}

impl ValueField {
    pub fn of_column(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "string_value" => Some(ValueField::String),
            "int_value" => Some(ValueField::Int),
            "float_value" => Some(ValueField::Float),
            "double_value" => Some(ValueField::Double),
            _ => None,
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            ValueField::String => "string_value",
            ValueField::Int => "int_value",
            ValueField::Float => "float_value",
            ValueField::Double => "double_value",
        }
    }
}

/// Where the values of each parameter key are found.
pub trait ParamCatalog: Send + Sync {
    /// The value fields `key` has been seen with (for `event_name`, when the catalog knows
    /// per-event statistics), or `None` when the key is unknown: unknown keys are never
    /// reported, since custom parameters are normal.
    fn value_fields(
        &self,
        scope: ParamScope,
        event_name: Option<&str>,
        key: &str,
    ) -> Option<Vec<ValueField>>;
}

/// The parameters GA4 collects automatically or documents as recommended, with the value field
/// the BigQuery export stores them in.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardParams;

const STANDARD_EVENT_PARAMS: &[(&str, &[ValueField])] = {
    use ValueField::{Double, Int, String};
    &[
        ("all_data", &[String]),
        ("campaign", &[String]),
        ("content", &[String]),
        ("coupon", &[String]),
        ("currency", &[String]),
        ("debug_mode", &[Int]),
        ("engaged_session_event", &[Int]),
        ("engagement_time_msec", &[Int]),
        ("entrances", &[Int]),
        ("file_extension", &[String]),
        ("file_name", &[String]),
        ("firebase_conversion", &[Int]),
        ("firebase_screen", &[String]),
        ("firebase_screen_class", &[String]),
        ("ga_session_id", &[Int]),
        ("ga_session_number", &[Int]),
        ("gclid", &[String]),
        ("gclsrc", &[String]),
        ("ignore_referrer", &[String]),
        ("link_classes", &[String]),
        ("link_domain", &[String]),
        ("link_id", &[String]),
        ("link_text", &[String]),
        ("link_url", &[String]),
        ("medium", &[String]),
        ("outbound", &[String]),
        ("page_location", &[String]),
        ("page_referrer", &[String]),
        ("page_title", &[String]),
        ("payment_type", &[String]),
        ("percent_scrolled", &[Int]),
        ("promotion_name", &[String]),
        ("search_term", &[String]),
        // Real exports carry '1'/'0' strings and, on some rows, the integer 1.
        ("session_engaged", &[String, Int]),
        ("shipping_tier", &[String]),
        ("source", &[String]),
        ("term", &[String]),
        ("transaction_id", &[String]),
        ("unique_search_term", &[Int]),
        // Tagging sends whole and fractional amounts.
        ("value", &[Double, Int]),
        ("video_current_time", &[Int]),
        ("video_duration", &[Int]),
        ("video_percent", &[Int]),
        ("video_provider", &[String]),
        ("video_title", &[String]),
        ("video_url", &[String]),
        ("visible", &[String]),
    ]
};

impl ParamCatalog for StandardParams {
    fn value_fields(
        &self,
        scope: ParamScope,
        _event_name: Option<&str>,
        key: &str,
    ) -> Option<Vec<ValueField>> {
        if scope != ParamScope::EventParams {
            return None;
        }
        STANDARD_EVENT_PARAMS
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| STANDARD_EVENT_PARAMS[i].1.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_table_is_sorted_for_binary_search() {
        assert!(STANDARD_EVENT_PARAMS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn standard_params_answer_only_for_known_event_params() {
        let fields = |scope, key| StandardParams.value_fields(scope, None, key);
        assert_eq!(
            fields(ParamScope::EventParams, "ga_session_id"),
            Some(vec![ValueField::Int])
        );
        assert_eq!(
            fields(ParamScope::EventParams, "page_location"),
            Some(vec![ValueField::String])
        );
        assert_eq!(fields(ParamScope::EventParams, "my_custom_param"), None);
        assert_eq!(fields(ParamScope::UserProperties, "ga_session_id"), None);
    }
}
