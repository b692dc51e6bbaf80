//! The chart of a result: a Vega-Lite spec chosen by rules from the columns' types and names,
//! never by a model, so the same result always gets the same chart.
//!
//! - a date or time first column and a number: a line over time (one line per category when a
//!   text column sits between them);
//! - a text column and a number: bars, largest first; a share (`*_share`, `*_rate`, `ratio`,
//!   `percent`) over at most six categories: a pie;
//! - anything else (one value, no number, wide tables): no chart.

use serde_json::{Value as Json, json};

use nlq_core::{BqType, Column};

/// Categories beyond this make bars unreadable; the table shows them all.
const MAX_BARS: usize = 50;
const MAX_SLICES: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Time,
    Number,
    Text,
    Other,
}

fn kind(ty: &BqType) -> Kind {
    match ty {
        BqType::Date | BqType::Datetime | BqType::Timestamp => Kind::Time,
        BqType::Int64 | BqType::Float64 | BqType::Numeric => Kind::Number,
        BqType::String | BqType::Bool => Kind::Text,
        _ => Kind::Other,
    }
}

fn is_share(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["share", "rate", "ratio", "percent", "pct"]
        .iter()
        .any(|w| name.contains(w))
}

/// The spec for `columns` and `rows` (as the API sends them), or None when no chart fits.
pub fn spec(columns: &[Column], rows: &[Vec<Json>]) -> Option<Json> {
    if rows.len() < 2 {
        return None;
    }
    let cols: Vec<(&str, Kind)> = columns
        .iter()
        .map(|c| (c.name.as_str(), kind(&c.ty)))
        .collect();
    let values: Vec<Json> = rows
        .iter()
        .map(|row| {
            let mut object = serde_json::Map::new();
            for ((name, kind), value) in cols.iter().zip(row) {
                // NUMERIC arrives as exact text; a chart needs a number.
                let value = match (kind, value) {
                    (Kind::Number, Json::String(s)) => {
                        s.parse::<f64>().map(Json::from).unwrap_or(Json::Null)
                    }
                    _ => value.clone(),
                };
                object.insert((*name).to_owned(), value);
            }
            Json::Object(object)
        })
        .collect();
    let number = cols.iter().position(|(_, k)| *k == Kind::Number)?;
    let (measure, _) = cols[number];
    let time = cols.iter().position(|(_, k)| *k == Kind::Time);
    let text = cols.iter().position(|(_, k)| *k == Kind::Text);
    let base = |mark: Json, encoding: Json| {
        json!({
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "width": "container",
            "height": 300,
            "data": {"values": values},
            "mark": mark,
            "encoding": encoding,
        })
    };
    if let Some(t) = time.filter(|t| *t < number) {
        let mut encoding = json!({
            "x": {"field": cols[t].0, "type": "temporal", "title": cols[t].0},
            "y": {"field": measure, "type": "quantitative", "title": measure},
            "tooltip": cols.iter().map(|(n, _)| json!({"field": n})).collect::<Vec<_>>(),
        });
        if let Some(c) = text.filter(|c| *c < number) {
            encoding["color"] = json!({"field": cols[c].0, "type": "nominal"});
        }
        return Some(base(json!({"type": "line", "point": true}), encoding));
    }
    let c = text.filter(|c| *c < number)?;
    let category = cols[c].0;
    if is_share(measure) && rows.len() <= MAX_SLICES {
        return Some(base(
            json!({"type": "arc"}),
            json!({
                "theta": {"field": measure, "type": "quantitative"},
                "color": {"field": category, "type": "nominal"},
                "tooltip": [{"field": category}, {"field": measure}],
            }),
        ));
    }
    if rows.len() > MAX_BARS {
        return None;
    }
    Some(base(
        json!({"type": "bar"}),
        json!({
            "y": {"field": category, "type": "nominal", "sort": "-x", "title": category},
            "x": {"field": measure, "type": "quantitative", "title": measure},
            "tooltip": [{"field": category}, {"field": measure}],
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter()
            .map(|(n, t)| Column {
                name: (*n).to_owned(),
                ty: BqType::parse(t).unwrap(),
            })
            .collect()
    }

    #[test]
    fn time_series_are_lines_and_categories_are_bars() {
        let line = spec(
            &columns(&[("day", "DATE"), ("users", "INT64")]),
            &[
                vec![json!("2021-01-01"), json!(3)],
                vec![json!("2021-01-02"), json!(4)],
            ],
        )
        .unwrap();
        assert_eq!(line["mark"]["type"], "line");
        assert_eq!(line["encoding"]["x"]["type"], "temporal");
        assert_eq!(line["data"]["values"][1]["users"], 4);

        let by_device = spec(
            &columns(&[("device_category", "STRING"), ("users", "INT64")]),
            &[
                vec![json!("mobile"), json!(3)],
                vec![json!("desktop"), json!(5)],
            ],
        )
        .unwrap();
        assert_eq!(by_device["mark"]["type"], "bar");
        assert_eq!(by_device["encoding"]["y"]["sort"], "-x");

        let lines = spec(
            &columns(&[
                ("day", "DATE"),
                ("device", "STRING"),
                ("revenue", "NUMERIC"),
            ]),
            &[
                vec![json!("2021-01-01"), json!("mobile"), json!("1.50")],
                vec![json!("2021-01-01"), json!("desktop"), json!("2.25")],
            ],
        )
        .unwrap();
        assert_eq!(lines["encoding"]["color"]["field"], "device");
        assert_eq!(lines["data"]["values"][1]["revenue"], 2.25);
    }

    #[test]
    fn few_shares_are_a_pie_and_what_fits_nothing_has_no_chart() {
        let pie = spec(
            &columns(&[("channel", "STRING"), ("session_share", "FLOAT64")]),
            &[
                vec![json!("organic"), json!(0.6)],
                vec![json!("paid"), json!(0.4)],
            ],
        )
        .unwrap();
        assert_eq!(pie["mark"]["type"], "arc");
        // One value; no number; numbers only.
        assert!(spec(&columns(&[("users", "INT64")]), &[vec![json!(3)]]).is_none());
        assert!(
            spec(
                &columns(&[("a", "STRING"), ("b", "STRING")]),
                &[vec![json!("x"), json!("y")], vec![json!("z"), json!("w")]]
            )
            .is_none()
        );
        assert!(
            spec(
                &columns(&[("a", "INT64"), ("b", "INT64")]),
                &[vec![json!(1), json!(2)], vec![json!(3), json!(4)]]
            )
            .is_none()
        );
    }
}
