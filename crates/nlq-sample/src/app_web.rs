//! The `app-web` profile: "Lingo", a language-learning service with a web stream and Android
//! and iOS apps, in `nlq-sample-app.analytics_284713650` — shaped unlike the public sample on
//! purpose: custom events with string, int and double parameters, named user properties, a
//! `user_id` for signed-in users, `app_info` and `screen_view` on the apps, subscriptions and
//! workbooks for sale, three days without a table and the newest day only as
//! `events_intraday_YYYYMMDD` (cut at noon UTC, as a day still being exported is).
//!
//! Rows are built as JSON objects in the export's shape and decoded into Arrow by the
//! export schema itself, so a row that does not fit the schema fails the run. Every user and
//! every session draws from its own seeded stream (`Purpose::AppUser`, `AppSession`), so a
//! seed gives the same files on any number of threads.

use std::path::Path;

use arrow::datatypes::SchemaRef;
use rand::Rng;
use serde_json::{Value, json};

use crate::calendar::{DAYS, MICROS_PER_SECOND, date_suffix, day_start_micros};
use crate::error::SampleError;
use crate::logical_bytes::ColumnBytes;
use crate::manifest::{Manifest, ShardManifest};
use crate::random::{
    Purpose, between, chance, derive, exponential, geometric, normal, pick, stream,
};
use crate::shard::PARQUET_DIR;
use crate::writer::ParquetSink;
use crate::{Progress, SampleConfig};

pub const PROJECT: &str = "nlq-sample-app";
pub const DATASET: &str = "analytics_284713650";

const USERS_AT_FULL_SCALE: f64 = 60_000.0;
/// Days of the window whose export failed: no table at all.
const MISSING_DAYS: [u32; 3] = [44, 45, 70];
/// The newest day is still being exported: only its intraday table exists, up to noon UTC.
const INTRADAY_DAY: u32 = DAYS - 1;
const INTRADAY_CUT_SECONDS: i64 = 12 * 3600;
const BATCH_ROWS: usize = 16_384;
const HOST: &str = "lingo.example";

/// (platform, stream id, share of users)
const STREAMS: [(&str, i64, f64); 3] = [
    ("WEB", 2_847_136_501, 0.5),
    ("ANDROID", 2_847_136_502, 0.3),
    ("IOS", 2_847_136_503, 0.2),
];

/// (continent, sub-continent, country, region, city)
type Place = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const PLACES: [(Place, f64); 7] = [
    (
        ("Asia", "Eastern Asia", "South Korea", "Seoul", "Seoul"),
        0.30,
    ),
    (
        ("Asia", "Eastern Asia", "South Korea", "Busan", "Busan"),
        0.08,
    ),
    (
        (
            "Americas",
            "Northern America",
            "United States",
            "California",
            "Los Angeles",
        ),
        0.20,
    ),
    (
        (
            "Americas",
            "Northern America",
            "United States",
            "New York",
            "New York",
        ),
        0.12,
    ),
    (("Asia", "Eastern Asia", "Japan", "Tokyo", "Tokyo"), 0.15),
    (
        (
            "Europe",
            "Western Europe",
            "France",
            "Ile-de-France",
            "Paris",
        ),
        0.08,
    ),
    (
        (
            "Europe",
            "Northern Europe",
            "United Kingdom",
            "England",
            "London",
        ),
        0.07,
    ),
];

/// (source, medium, campaign)
const TRAFFIC: [((&str, &str, &str), f64); 5] = [
    (("google", "organic", "(organic)"), 0.35),
    (("(direct)", "(none)", "(direct)"), 0.25),
    (("kakao", "social", "winter_promo"), 0.15),
    (("newsletter", "email", "weekly_digest"), 0.15),
    (("google", "cpc", "learn_spanish"), 0.10),
];

const TIERS: [(&str, f64); 3] = [("free", 0.7), ("plus", 0.2), ("pro", 0.1)];
const LOGGED_IN: [(&str, f64); 2] = [("yes", 0.6), ("no", 0.4)];
const LANGUAGES: [(&str, f64); 3] = [("ko", 0.45), ("en", 0.40), ("ja", 0.15)];
const COURSES: [(&str, f64); 4] = [
    ("spanish", 0.4),
    ("french", 0.2),
    ("japanese", 0.25),
    ("korean", 0.15),
];
const SIGN_UP_METHODS: [(&str, f64); 3] = [("email", 0.5), ("google", 0.3), ("apple", 0.2)];
const TUTORIALS: [(&str, f64); 3] = [("basics_1", 0.5), ("basics_2", 0.3), ("travel_1", 0.2)];
const VIDEOS: [(&str, f64); 6] = [
    ("Ordering Coffee in Madrid", 0.25),
    ("Hiragana in Ten Minutes", 0.2),
    ("French Vowels", 0.15),
    ("Korean Honorifics", 0.15),
    ("Spanish Past Tense", 0.15),
    ("Travel Phrases", 0.1),
];
const ARTICLE_CATEGORIES: [(&str, f64); 4] = [
    ("grammar", 0.35),
    ("vocabulary", 0.3),
    ("culture", 0.2),
    ("travel", 0.15),
];
const LEAD_SOURCES: [(&str, f64); 3] = [("webinar", 0.4), ("newsletter", 0.4), ("partner", 0.2)];
/// (plan, monthly price)
const PLANS: [((&str, f64), f64); 3] = [
    (("basic", 4.99), 0.5),
    (("premium", 9.99), 0.35),
    (("family", 14.99), 0.15),
];
const CONTENT_TYPES: [(&str, f64); 3] = [("lesson", 0.5), ("article", 0.3), ("video", 0.2)];
const SHARE_METHODS: [(&str, f64); 3] = [("kakao", 0.45), ("link", 0.4), ("twitter", 0.15)];
#[derive(Debug, Clone, Copy)]
struct Product {
    id: &'static str,
    name: &'static str,
    category: &'static str,
    price: f64,
}

const fn product(
    id: &'static str,
    name: &'static str,
    category: &'static str,
    price: f64,
) -> Product {
    Product {
        id,
        name,
        category,
        price,
    }
}

const PRODUCTS: [(Product, f64); 5] = [
    (
        product("LG-PM-01", "Premium Monthly", "Subscription", 9.99),
        0.35,
    ),
    (
        product("LG-PA-12", "Premium Annual", "Subscription", 79.99),
        0.2,
    ),
    (
        product("LG-FA-12", "Family Annual", "Subscription", 119.99),
        0.1,
    ),
    (product("LG-WB-ES", "Spanish Workbook", "Books", 14.99), 0.2),
    (product("LG-CD-JA", "Kana Flash Cards", "Books", 9.99), 0.15),
];

/// One user: who they are and when they come.
struct AppUser {
    pseudo_id: String,
    user_id: Option<String>,
    stream: usize,
    place: Place,
    traffic: (&'static str, &'static str, &'static str),
    tier: &'static str,
    logged_in: &'static str,
    language: &'static str,
    course: &'static str,
    tablet: bool,
    first_touch: i64,
    /// (day, start in micros), in time order.
    sessions: Vec<(u32, i64)>,
}

fn users(seed: u64, count: usize) -> Vec<AppUser> {
    (0..count as u64)
        .map(|index| {
            let mut rng = stream(derive(seed, Purpose::AppUser, index));
            let stream_index = pick(
                &mut rng,
                &[(0usize, STREAMS[0].2), (1, STREAMS[1].2), (2, STREAMS[2].2)],
            );
            let logged_in = pick(&mut rng, &LOGGED_IN);
            let mut day = rng.random_range(0..DAYS);
            let mut sessions = Vec::new();
            let count = 1 + geometric(&mut rng, 0.65, 25);
            for _ in 0..count {
                if day >= DAYS {
                    break;
                }
                // Between 06:00 and 22:00 UTC, so a session never crosses midnight.
                let start = day_start_micros(day)
                    + (rng.random_range(6 * 3600..22 * 3600) as i64) * MICROS_PER_SECOND;
                sessions.push((day, start));
                day += 1 + exponential(&mut rng, 6.0) as u32;
            }
            AppUser {
                pseudo_id: format!("{}.{}", 1_000_000_000 + index, 1_600_000_000 + index * 7),
                user_id: (logged_in == "yes").then(|| format!("lingo-{index:06}")),
                stream: stream_index,
                place: pick(&mut rng, &PLACES),
                traffic: pick(&mut rng, &TRAFFIC),
                tier: pick(&mut rng, &TIERS),
                logged_in,
                language: pick(&mut rng, &LANGUAGES),
                course: pick(&mut rng, &COURSES),
                tablet: chance(&mut rng, 0.1),
                first_touch: sessions.first().map_or(0, |s| s.1),
                sessions,
            }
        })
        .collect()
}

/// One event before it becomes a row.
struct Event {
    at: i64,
    name: &'static str,
    params: Vec<(&'static str, Value)>,
    value_in_usd: Option<f64>,
    /// A purchase's transaction id and items (one of each).
    purchase: Option<(String, Vec<Product>)>,
}

fn string(v: &str) -> Value {
    json!({"string_value": v})
}
fn int(v: i64) -> Value {
    json!({"int_value": v})
}
fn double(v: f64) -> Value {
    json!({"double_value": v})
}

struct Session {
    at: i64,
    events: Vec<Event>,
}

/// The events of one session, in time order.
fn session_events(seed: u64, user_index: u64, user: &AppUser, number: usize) -> Vec<Event> {
    let mut rng = stream(derive(
        seed,
        Purpose::AppSession,
        (user_index << 8) | number as u64,
    ));
    let web = STREAMS[user.stream].0 == "WEB";
    let (_, start) = user.sessions[number];
    let session_id = start / MICROS_PER_SECOND;
    let mut session = Session {
        at: start,
        events: Vec::new(),
    };
    let emit = |rng: &mut crate::random::Stream,
                session: &mut Session,
                name: &'static str,
                params: Vec<(&'static str, Value)>| {
        session.at += (exponential(rng, 35.0) * MICROS_PER_SECOND as f64) as i64 + 1;
        session.events.push(Event {
            at: session.at,
            name,
            params,
            value_in_usd: None,
            purchase: None,
        });
    };
    emit(&mut rng, &mut session, "session_start", vec![]);
    if number == 0 {
        emit(
            &mut rng,
            &mut session,
            if web { "first_visit" } else { "first_open" },
            vec![],
        );
    }
    let views = 1 + geometric(&mut rng, 0.7, 12);
    for _ in 0..views {
        if web {
            let page = pick(
                &mut rng,
                &[
                    ("lessons", 0.4),
                    ("articles", 0.3),
                    ("pricing", 0.15),
                    ("", 0.15),
                ],
            );
            emit(
                &mut rng,
                &mut session,
                "page_view",
                vec![
                    ("page_location", string(&format!("https://{HOST}/{page}"))),
                    (
                        "page_title",
                        string(if page.is_empty() { "Lingo" } else { page }),
                    ),
                ],
            );
        } else {
            let screen = pick(
                &mut rng,
                &[("Home", 0.4), ("Lesson", 0.4), ("Profile", 0.2)],
            );
            emit(
                &mut rng,
                &mut session,
                "screen_view",
                vec![("firebase_screen", string(screen))],
            );
        }
    }
    if number == 0 && chance(&mut rng, 0.35) {
        let method = pick(&mut rng, &SIGN_UP_METHODS);
        emit(
            &mut rng,
            &mut session,
            "sign_up",
            vec![("method", string(method))],
        );
    }
    if !web && number == 0 && chance(&mut rng, 0.5) {
        let tutorial = pick(&mut rng, &TUTORIALS);
        let seconds = rng.random_range(60..600);
        emit(
            &mut rng,
            &mut session,
            "tutorial_complete",
            vec![
                ("tutorial_id", string(tutorial)),
                ("duration_sec", int(seconds)),
            ],
        );
    }
    let mut level = 1 + (number as i64).min(9);
    for _ in 0..geometric(&mut rng, 0.55, 4) {
        let score = (normal(&mut rng) * 12.0 + 78.0).clamp(0.0, 100.0);
        emit(
            &mut rng,
            &mut session,
            "lesson_complete",
            vec![
                ("course", string(user.course)),
                ("level", int(level)),
                ("score", double((score * 10.0).round() / 10.0)),
            ],
        );
        if level < 10 && chance(&mut rng, 0.15) {
            level += 1;
            emit(
                &mut rng,
                &mut session,
                "level_up",
                vec![("course", string(user.course)), ("level", int(level))],
            );
        }
    }
    if web && chance(&mut rng, 0.35) {
        let title = pick(&mut rng, &VIDEOS);
        for percent in [10, 25, 50, 75, 90] {
            emit(
                &mut rng,
                &mut session,
                "video_progress",
                vec![
                    ("video_title", string(title)),
                    ("video_percent", int(percent)),
                ],
            );
            if !chance(&mut rng, 0.75) {
                break;
            }
        }
    }
    if chance(&mut rng, if web { 0.4 } else { 0.2 }) {
        for _ in 0..1 + geometric(&mut rng, 0.4, 3) {
            let article = rng.random_range(1..=200);
            let category = pick(&mut rng, &ARTICLE_CATEGORIES);
            let read = between(&mut rng, 20.0, 400.0) as i64;
            emit(
                &mut rng,
                &mut session,
                "article_view",
                vec![
                    ("article_id", string(&format!("a-{article:04}"))),
                    ("article_category", string(category)),
                    ("read_time_sec", int(read)),
                ],
            );
        }
    }
    if web && chance(&mut rng, 0.04) {
        let source = pick(&mut rng, &LEAD_SOURCES);
        let value = pick(&mut rng, &[(10.0, 0.5), (25.0, 0.3), (50.0, 0.2)]);
        emit(
            &mut rng,
            &mut session,
            "generate_lead",
            vec![
                ("lead_source", string(source)),
                ("value", double(value)),
                ("currency", string("USD")),
            ],
        );
        if let Some(last) = session.events.last_mut() {
            last.value_in_usd = Some(value);
        }
    }
    if chance(&mut rng, 0.05) {
        let (plan, price) = pick(&mut rng, &PLANS);
        emit(
            &mut rng,
            &mut session,
            "subscribe",
            vec![("plan_type", string(plan)), ("price", double(price))],
        );
    }
    if chance(&mut rng, 0.05) {
        let content = pick(&mut rng, &CONTENT_TYPES);
        let method = pick(&mut rng, &SHARE_METHODS);
        emit(
            &mut rng,
            &mut session,
            "share",
            vec![
                ("content_type", string(content)),
                ("method", string(method)),
            ],
        );
    }
    if chance(&mut rng, 0.025) {
        let mut items: Vec<Product> = Vec::new();
        for _ in 0..1 + geometric(&mut rng, 0.25, 2) {
            let product = pick(&mut rng, &PRODUCTS);
            if !items.iter().any(|p| p.id == product.id) {
                items.push(product);
            }
        }
        let revenue: f64 = items.iter().map(|p| p.price).sum();
        let transaction = format!("T{}-{number}", &user.pseudo_id[..10]);
        emit(
            &mut rng,
            &mut session,
            "purchase",
            vec![("transaction_id", string(&transaction))],
        );
        if let Some(last) = session.events.last_mut() {
            last.value_in_usd = Some(revenue);
            last.purchase = Some((transaction, items));
        }
    }
    let engaged = (exponential(&mut rng, 90_000.0) as i64).max(1_000);
    emit(
        &mut rng,
        &mut session,
        "user_engagement",
        vec![("engagement_time_msec", int(engaged))],
    );
    let mut out = session.events;
    for event in &mut out {
        event.params.push(("ga_session_id", int(session_id)));
        event
            .params
            .push(("ga_session_number", int(number as i64 + 1)));
    }
    out
}

/// The export row of one event.
fn row(event_date: &str, user: &AppUser, event: &Event) -> Value {
    let (platform, stream_id, _) = STREAMS[user.stream];
    let web = platform == "WEB";
    let (continent, sub_continent, country, region, city) = user.place;
    let (source, medium, campaign) = user.traffic;
    let set = user.first_touch;
    let property = |key: &str, value: &str| json!({"key": key, "value": {"string_value": value, "set_timestamp_micros": set}});
    let device = match platform {
        "WEB" => json!({
            "category": if user.tablet { "tablet" } else { "desktop" },
            "operating_system": "Windows", "language": "ko-kr",
            "web_info": {"browser": "Chrome", "browser_version": "120.0"}
        }),
        "ANDROID" => json!({
            "category": if user.tablet { "tablet" } else { "mobile" },
            "mobile_brand_name": "Samsung", "mobile_model_name": "Galaxy S23",
            "operating_system": "Android", "operating_system_version": "Android 14", "language": "ko-kr"
        }),
        _ => json!({
            "category": if user.tablet { "tablet" } else { "mobile" },
            "mobile_brand_name": "Apple", "mobile_model_name": "iPhone",
            "operating_system": "iOS", "operating_system_version": "iOS 17.2", "language": "ko-kr"
        }),
    };
    let app_info = (!web).then(|| {
        json!({
            "id": "com.lingo.app", "version": "3.2.1",
            "install_store": if platform == "IOS" { "iTunes" } else { "com.android.vending" },
            "firebase_app_id": format!("1:284713650:{}:9f3c", platform.to_ascii_lowercase()),
            "install_source": if platform == "IOS" { "iTunes" } else { "com.android.vending" }
        })
    });
    let params: Vec<Value> = event
        .params
        .iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    let (ecommerce, items) = match &event.purchase {
        None => (Value::Null, json!([])),
        Some((transaction, items)) => {
            let revenue: f64 = items.iter().map(|p| p.price).sum();
            (
                json!({
                    "total_item_quantity": items.len(), "purchase_revenue_in_usd": revenue,
                    "purchase_revenue": revenue, "unique_items": items.len(),
                    "transaction_id": transaction
                }),
                items
                    .iter()
                    .map(|p| {
                        json!({
                            "item_id": p.id, "item_name": p.name, "item_brand": "Lingo",
                            "item_category": p.category, "price": p.price, "price_in_usd": p.price,
                            "quantity": 1, "item_revenue": p.price, "item_revenue_in_usd": p.price
                        })
                    })
                    .collect(),
            )
        }
    };
    json!({
        "event_date": event_date,
        "event_timestamp": event.at,
        "event_name": event.name,
        "event_params": params,
        "event_value_in_usd": event.value_in_usd,
        "user_id": user.user_id,
        "user_pseudo_id": user.pseudo_id,
        "user_properties": [
            property("membership_tier", user.tier),
            property("logged_in", user.logged_in),
            property("preferred_language", user.language),
        ],
        "user_first_touch_timestamp": user.first_touch,
        "device": device,
        "geo": {"continent": continent, "sub_continent": sub_continent, "country": country,
                "region": region, "city": city},
        "app_info": app_info,
        "traffic_source": {"medium": medium, "name": campaign, "source": source},
        // The export writes the stream id as STRING.
        "stream_id": stream_id.to_string(),
        "platform": platform,
        "event_dimensions": web.then(|| json!({"hostname": HOST})),
        "ecommerce": ecommerce,
        "items": items,
    })
}

/// What one day becomes: its table (or none), and the instant its data stops.
fn table_of(day: u32) -> Option<(String, i64)> {
    if MISSING_DAYS.contains(&day) {
        return None;
    }
    let suffix = date_suffix(day);
    if day == INTRADAY_DAY {
        return Some((
            format!("events_intraday_{suffix}"),
            day_start_micros(day) + INTRADAY_CUT_SECONDS * MICROS_PER_SECOND,
        ));
    }
    Some((format!("events_{suffix}"), day_start_micros(day + 1)))
}

struct Context<'a> {
    seed: u64,
    users: &'a [AppUser],
    schema: SchemaRef,
    leaf_paths: &'a [String],
    out: &'a Path,
}

fn write_day(ctx: &Context<'_>, day: u32) -> Result<Option<ShardManifest>, SampleError> {
    let Some((table, end)) = table_of(day) else {
        return Ok(None);
    };
    let file = format!("{PARQUET_DIR}/{table}.parquet");
    let mut sink = ParquetSink::create(&ctx.out.join(&file), ctx.schema.clone())?;
    let filled = (|| {
        let event_date = date_suffix(day);
        let mut decoder = arrow::json::ReaderBuilder::new(ctx.schema.clone())
            .with_batch_size(BATCH_ROWS)
            .build_decoder()?;
        let mut bytes = ColumnBytes::new(ctx.leaf_paths);
        let mut rows: Vec<Value> = Vec::new();
        let mut total = 0u64;
        let mut flush =
            |rows: &mut Vec<Value>, sink: &mut ParquetSink| -> Result<(), SampleError> {
                decoder.serialize(rows.as_slice())?;
                if let Some(batch) = decoder.flush()? {
                    bytes.add(&batch)?;
                    sink.write(&batch)?;
                }
                total += rows.len() as u64;
                rows.clear();
                Ok(())
            };
        for (index, user) in ctx.users.iter().enumerate() {
            for (number, (session_day, _)) in user.sessions.iter().enumerate() {
                if *session_day != day {
                    continue;
                }
                for event in session_events(ctx.seed, index as u64, user, number) {
                    if event.at < end {
                        rows.push(row(&event_date, user, &event));
                    }
                }
            }
            if rows.len() >= BATCH_ROWS {
                flush(&mut rows, &mut sink)?;
            }
        }
        if !rows.is_empty() {
            flush(&mut rows, &mut sink)?;
        }
        Ok::<_, SampleError>((total, bytes))
    })();
    match filled {
        Ok((rows, bytes)) => Ok(Some(ShardManifest {
            table,
            file,
            rows,
            file_bytes: sink.commit()?,
            column_bytes: bytes.into_map(),
        })),
        Err(e) => {
            sink.abandon();
            Err(e)
        }
    }
}

pub(crate) fn generate(
    config: &SampleConfig,
    out: &Path,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Manifest, SampleError> {
    let count = config.users_of(USERS_AT_FULL_SCALE)?;
    crate::prepare_output(out)?;
    let table = config.profile.schema()?;
    let schema = std::sync::Arc::new(crate::arrow_schema::arrow_schema(&table)?);
    let leaf_paths = table.leaf_paths();
    let users = users(config.seed, count);
    let ctx = Context {
        seed: config.seed,
        users: &users,
        schema,
        leaf_paths: &leaf_paths,
        out,
    };
    let shards = crate::write_days(progress, |day| write_day(&ctx, day))?;
    let sessions = users.iter().map(|u| u.sessions.len() as u64).sum();
    let mut manifest = Manifest::new(
        config.seed,
        config.scale,
        users.len() as u64,
        sessions,
        shards,
    );
    manifest.profile = Some(config.profile);
    manifest.write(out)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_missing_and_the_newest_one_intraday() {
        assert!(table_of(44).is_none() && table_of(70).is_none());
        assert_eq!(table_of(0).unwrap().0, "events_20201101");
        let (table, end) = table_of(DAYS - 1).unwrap();
        assert_eq!(table, "events_intraday_20210131");
        assert_eq!(
            end - day_start_micros(DAYS - 1),
            12 * 3600 * MICROS_PER_SECOND
        );
    }

    #[test]
    fn sessions_stay_inside_their_day_and_carry_their_ids() {
        let users = users(7, 200);
        for (index, user) in users.iter().enumerate() {
            for (number, (day, _)) in user.sessions.iter().enumerate() {
                let events = session_events(7, index as u64, user, number);
                assert_eq!(events[0].name, "session_start");
                for event in &events {
                    assert!(event.at < day_start_micros(day + 1), "{}", event.name);
                    assert!(event.params.iter().any(|(k, _)| *k == "ga_session_id"));
                }
            }
        }
        let names: std::collections::BTreeSet<&str> = users
            .iter()
            .enumerate()
            .flat_map(|(i, u)| {
                (0..u.sessions.len()).flat_map(move |n| {
                    session_events(7, i as u64, u, n)
                        .into_iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for custom in [
            "sign_up",
            "tutorial_complete",
            "lesson_complete",
            "level_up",
            "video_progress",
            "article_view",
            "subscribe",
            "share",
            "screen_view",
        ] {
            assert!(names.contains(custom), "{custom} never happens: {names:?}");
        }
    }
}
