//! The chart of a result: a Vega-Lite spec chosen by rules from the columns' types and names,
//! never by a model, so the same result always gets the same chart.
//!
//! - a date or time first column and a number: a line over time (one line per category when a
//!   text column sits between them);
//! - a text column and numbers: bars, largest first; a share (`*_share`, `percent`, `pct`)
//!   whose values add up to the whole (1 or 100) over at most six categories: a pie. Rates
//!   (conversion, engagement) do not add up to anything: they are bars;
//! - every number after the date or category is drawn (folded into one measure axis, told
//!   apart by colour or dash), not only the first;
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

/// A name that says "part of a whole". Rates and ratios are not: they are per-item figures.
fn is_share(name: &str) -> bool {
    let name = name.to_lowercase();
    ["share", "percent", "pct", "proportion", "비중", "점유율"]
        .iter()
        .any(|w| name.contains(w))
}

/// Whether the values are non-negative and add up to a whole: 1 (fractions) or 100 (percent).
fn adds_up_to_whole(values: &[Json], field: &str) -> bool {
    let numbers: Option<Vec<f64>> = values.iter().map(|v| v[field].as_f64()).collect();
    let Some(numbers) = numbers else {
        return false;
    };
    let sum: f64 = numbers.iter().sum();
    numbers.iter().all(|x| *x >= 0.0) && ((sum - 1.0).abs() <= 0.01 || (sum - 100.0).abs() <= 1.0)
}

/// The spec for `columns` and `rows` (as the API sends them), or None when no chart fits.
/// The field a chart's rows carry when some buckets are partial.
const BUCKET: &str = "bucket";

/// `partial`: the first dimension's values whose bucket the range cuts (a short first or last
/// week); their bars are pale and their points drawn as triangles, so a short bucket never
/// reads as a collapse.
pub fn spec(columns: &[Column], rows: &[Vec<Json>], partial: &[String]) -> Option<Json> {
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
    let time = cols.iter().position(|(_, k)| *k == Kind::Time);
    let text = cols.iter().position(|(_, k)| *k == Kind::Text);
    // The measures: every number after the first dimension (a number before it is a label).
    let first_dimension = time.into_iter().chain(text).min()?;
    let mut values = values;
    let marked = !partial.is_empty()
        && values.iter_mut().fold(false, |any, value| {
            let key = match &value[cols[first_dimension].0] {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            let cut = partial.contains(&key);
            value[BUCKET] = json!(if cut { "partial" } else { "complete" });
            any || cut
        });
    let measure_at: Vec<usize> = (first_dimension + 1..cols.len())
        .filter(|i| cols[*i].1 == Kind::Number)
        .collect();
    let measures: Vec<&str> = measure_at.iter().map(|i| cols[*i].0).collect();
    let (measure, several) = match measures.as_slice() {
        [] => return None,
        [one] => (*one, false),
        _ => ("value", true),
    };
    let tooltip: Vec<Json> = cols.iter().map(|(n, _)| json!({"field": n})).collect();
    let base = |mark: Json, encoding: Json| {
        let mut spec = vega(&values, mark, encoding);
        if several {
            // One row per (row, measure): Vega-Lite draws each measure as its own series.
            spec["transform"] = json!([{"fold": measures, "as": ["measure", "value"]}]);
        }
        spec
    };
    // A funnel (step, event, count, rates): the count of each step as a bar, in step order.
    if let (Some(("step", Kind::Number)), Some((event, Kind::Text)), Some((count, Kind::Number))) = (
        cols.first().copied(),
        cols.get(1).copied(),
        cols.get(2).copied(),
    ) {
        return Some(vega(
            &values,
            json!({"type": "bar"}),
            json!({
                "y": {"field": event, "type": "nominal", "sort": {"field": "step"}, "title": event},
                "x": {"field": count, "type": "quantitative", "title": count},
                "tooltip": tooltip,
            }),
        ));
    }
    // A cohort table (cohort start, periods after it, a rate): a heatmap, one row per cohort,
    // one column per period, the rate as colour; a line per measure would mix counts and rates.
    if let (Some(0), Some(("period", Kind::Number))) = (time, cols.get(1).copied())
        && let Some((rate, _)) = cols
            .iter()
            .find(|(n, k)| *k == Kind::Number && n.ends_with("_rate"))
    {
        let mut spec = vega(
            &values,
            json!({"type": "rect"}),
            json!({
                "x": {"field": "period", "type": "ordinal", "title": "period"},
                "y": {"field": cols[0].0, "type": "ordinal", "timeUnit": "yearmonthdate", "title": cols[0].0},
                "color": {"field": rate, "type": "quantitative", "title": rate, "scale": {"scheme": "blues"}},
                "tooltip": tooltip,
            }),
        );
        spec["config"] = json!({"axis": {"grid": false}});
        return Some(spec);
    }
    if let Some(t) = time.filter(|t| *t == first_dimension) {
        let mut encoding = json!({
            "x": {"field": cols[t].0, "type": "temporal", "title": cols[t].0},
            "y": {"field": measure, "type": "quantitative", "title": measure},
            "tooltip": tooltip,
        });
        match (text.filter(|c| *c > t && *c < measure_at[0]), several) {
            (Some(c), false) => encoding["color"] = json!({"field": cols[c].0, "type": "nominal"}),
            (Some(c), true) => {
                encoding["color"] = json!({"field": cols[c].0, "type": "nominal"});
                encoding["strokeDash"] = json!({"field": "measure", "type": "nominal"});
            }
            (None, true) => encoding["color"] = json!({"field": "measure", "type": "nominal"}),
            (None, false) => {}
        }
        if !marked {
            return Some(base(json!({"type": "line", "point": true}), encoding));
        }
        // A line through every bucket, and points that say which buckets are partial.
        let mut spec = base(json!({"type": "line"}), encoding);
        let mark = spec.as_object_mut().and_then(|o| o.remove("mark"));
        spec["layer"] = json!([
            {"mark": mark},
            {
                "mark": {"type": "point", "filled": true, "size": 70},
                "encoding": {"shape": {
                    "field": BUCKET,
                    "type": "nominal",
                    "title": "bucket",
                    "scale": {"domain": ["complete", "partial"], "range": ["circle", "triangle-up"]},
                }},
            },
        ]);
        return Some(spec);
    }
    let c = text.filter(|c| *c == first_dimension)?;
    let category = cols[c].0;
    if !several
        && is_share(measure)
        && rows.len() <= MAX_SLICES
        && adds_up_to_whole(&values, measure)
    {
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
    let mut encoding = json!({
        "y": {"field": category, "type": "nominal", "sort": "-x", "title": category},
        "x": {"field": measure, "type": "quantitative", "title": measure},
        "tooltip": tooltip,
    });
    if several {
        encoding["color"] = json!({"field": "measure", "type": "nominal"});
        encoding["yOffset"] = json!({"field": "measure"});
        encoding["y"]["sort"] = Json::Null;
    }
    if marked {
        encoding["opacity"] = json!({
            "condition": {"test": format!("datum.{BUCKET} === 'partial'"), "value": 0.35},
            "value": 1,
        });
    }
    Some(base(json!({"type": "bar"}), encoding))
}

/// A Vega-Lite spec of one mark over the rows, as wide as the page's card.
fn vega(values: &[Json], mark: Json, encoding: Json) -> Json {
    json!({
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 300,
        "data": {"values": values},
        "mark": mark,
        "encoding": encoding,
    })
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
    fn partial_buckets_are_drawn_apart() {
        let weeks = columns(&[("week", "DATE"), ("revenue", "FLOAT64")]);
        let rows = [
            vec![json!("2020-11-30"), json!(120.0)],
            vec![json!("2020-12-07"), json!(300.0)],
            vec![json!("2020-12-28"), json!(90.0)],
        ];
        let cut = ["2020-11-30".to_owned(), "2020-12-28".to_owned()];
        let line = spec(&weeks, &rows, &cut).unwrap();
        assert_eq!(line["layer"][0]["mark"]["type"], "line");
        assert_eq!(line["layer"][1]["encoding"]["shape"]["field"], "bucket");
        let buckets: Vec<&str> = line["data"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["bucket"].as_str().unwrap())
            .collect();
        assert_eq!(buckets, ["partial", "complete", "partial"]);
        // Nothing cut: the plain line, no bucket field.
        let plain = spec(&weeks, &rows, &[]).unwrap();
        assert_eq!(plain["mark"]["type"], "line");
        assert!(plain["data"]["values"][0].get("bucket").is_none());
        // Months are categories: the cut month's bar is pale.
        let months = spec(
            &columns(&[("month", "STRING"), ("revenue", "FLOAT64")]),
            &[
                vec![json!("2020-11"), json!(120.0)],
                vec![json!("2020-12"), json!(300.0)],
            ],
            &["2020-11".to_owned()],
        )
        .unwrap();
        assert_eq!(months["mark"]["type"], "bar");
        assert_eq!(months["encoding"]["opacity"]["value"], 1);
    }

    #[test]
    fn a_funnel_is_bars_in_step_order() {
        let funnel = spec(
            &columns(&[
                ("step", "INT64"),
                ("event_name", "STRING"),
                ("users", "INT64"),
                ("step_conversion_rate", "FLOAT64"),
                ("overall_conversion_rate", "FLOAT64"),
            ]),
            &[
                vec![
                    json!(1),
                    json!("view_item"),
                    json!(747),
                    json!(null),
                    json!(1.0),
                ],
                vec![
                    json!(2),
                    json!("add_to_cart"),
                    json!(122),
                    json!(0.163),
                    json!(0.163),
                ],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(funnel["mark"]["type"], "bar");
        assert_eq!(funnel["encoding"]["x"]["field"], "users");
        assert_eq!(funnel["encoding"]["y"]["sort"]["field"], "step");
    }

    #[test]
    fn a_cohort_table_is_a_heatmap_of_its_rate() {
        let heat = spec(
            &columns(&[
                ("cohort", "DATE"),
                ("period", "INT64"),
                ("cohort_users", "INT64"),
                ("users", "INT64"),
                ("retention_rate", "FLOAT64"),
            ]),
            &[
                vec![
                    json!("2020-12-07"),
                    json!(0),
                    json!(255),
                    json!(255),
                    json!(1.0),
                ],
                vec![
                    json!("2020-12-07"),
                    json!(1),
                    json!(255),
                    json!(18),
                    json!(0.07),
                ],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(heat["mark"]["type"], "rect");
        assert_eq!(heat["encoding"]["color"]["field"], "retention_rate");
        assert_eq!(heat["encoding"]["x"]["field"], "period");
    }

    #[test]
    fn time_series_are_lines_and_categories_are_bars() {
        let line = spec(
            &columns(&[("day", "DATE"), ("users", "INT64")]),
            &[
                vec![json!("2021-01-01"), json!(3)],
                vec![json!("2021-01-02"), json!(4)],
            ],
            &[],
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
            &[],
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
            &[],
        )
        .unwrap();
        assert_eq!(lines["encoding"]["color"]["field"], "device");
        assert_eq!(lines["data"]["values"][1]["revenue"], 2.25);
    }

    /// Issue 20: a rate by device is not a share of a whole, whatever its name says.
    #[test]
    fn rates_are_bars_and_only_shares_that_add_up_are_pies() {
        let rates = spec(
            &columns(&[("device", "STRING"), ("engagement_rate", "FLOAT64")]),
            &[
                vec![json!("mobile"), json!(0.61)],
                vec![json!("desktop"), json!(0.72)],
                vec![json!("tablet"), json!(0.55)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(rates["mark"]["type"], "bar");
        let conversion = spec(
            &columns(&[("device", "STRING"), ("conversion_ratio", "FLOAT64")]),
            &[
                vec![json!("mobile"), json!(0.4)],
                vec![json!("desktop"), json!(0.6)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(conversion["mark"]["type"], "bar");
        // Named a share, but the parts do not make a whole (a filtered top 2 of many).
        let partial = spec(
            &columns(&[("channel", "STRING"), ("session_share_pct", "FLOAT64")]),
            &[
                vec![json!("organic"), json!(41.0)],
                vec![json!("paid"), json!(22.5)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(partial["mark"]["type"], "bar");
        let whole = spec(
            &columns(&[("channel", "STRING"), ("session_share_pct", "FLOAT64")]),
            &[
                vec![json!("organic"), json!(41.0)],
                vec![json!("paid"), json!(22.5)],
                vec![json!("other"), json!(36.5)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(whole["mark"]["type"], "arc");
    }

    #[test]
    fn every_measure_is_drawn_not_only_the_first() {
        let bars = spec(
            &columns(&[
                ("device", "STRING"),
                ("users", "INT64"),
                ("sessions", "INT64"),
            ]),
            &[
                vec![json!("mobile"), json!(10), json!(14)],
                vec![json!("desktop"), json!(7), json!(9)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(bars["mark"]["type"], "bar");
        assert_eq!(bars["transform"][0]["fold"], json!(["users", "sessions"]));
        assert_eq!(bars["encoding"]["color"]["field"], "measure");
        let lines = spec(
            &columns(&[("day", "DATE"), ("users", "INT64"), ("revenue", "FLOAT64")]),
            &[
                vec![json!("2021-01-01"), json!(3), json!(1.5)],
                vec![json!("2021-01-02"), json!(4), json!(2.5)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(lines["mark"]["type"], "line");
        assert_eq!(lines["transform"][0]["fold"], json!(["users", "revenue"]));
        assert_eq!(lines["encoding"]["y"]["field"], "value");
        // One measure: no fold, the measure on the axis as before.
        let one = spec(
            &columns(&[("device", "STRING"), ("users", "INT64")]),
            &[
                vec![json!("mobile"), json!(10)],
                vec![json!("desktop"), json!(7)],
            ],
            &[],
        )
        .unwrap();
        assert!(one.get("transform").is_none());
        assert_eq!(one["encoding"]["x"]["field"], "users");
    }

    #[test]
    fn few_shares_are_a_pie_and_what_fits_nothing_has_no_chart() {
        let pie = spec(
            &columns(&[("channel", "STRING"), ("session_share", "FLOAT64")]),
            &[
                vec![json!("organic"), json!(0.6)],
                vec![json!("paid"), json!(0.4)],
            ],
            &[],
        )
        .unwrap();
        assert_eq!(pie["mark"]["type"], "arc");
        // One value; no number; numbers only.
        assert!(spec(&columns(&[("users", "INT64")]), &[vec![json!(3)]], &[]).is_none());
        assert!(
            spec(
                &columns(&[("a", "STRING"), ("b", "STRING")]),
                &[vec![json!("x"), json!("y")], vec![json!("z"), json!("w")]],
                &[]
            )
            .is_none()
        );
        assert!(
            spec(
                &columns(&[("a", "INT64"), ("b", "INT64")]),
                &[vec![json!(1), json!(2)], vec![json!(3), json!(4)]],
                &[]
            )
            .is_none()
        );
    }
}
