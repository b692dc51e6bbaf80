//! Users and their sessions over the 92 days, simulated before any event is built.
//!
//! This pass is cheap (a few numbers per session) and sequential over users, so everything
//! that links sessions of one user lives here: session numbers, the first-touch source,
//! lifetime value, and transaction ids unique over the whole run. Events are expanded later,
//! per day and in parallel, from each session's own seed.

use std::collections::HashSet;

use rand::Rng;

use crate::audience::{
    Channel, DESKTOP, Device, Geo, MOBILE, TrafficSource, UNITED_STATES, direct, draw_channel,
    draw_device, draw_geo, first_touch,
};
use crate::calendar::{
    DAYS, HOUR_WEIGHT, MAX_HOUR_WEIGHT, MICROS_PER_DAY, MICROS_PER_SECOND, WINDOW_END_MICROS,
    WINDOW_START_MICROS, day_of, day_start_micros, day_weight, local_hour, max_day_weight,
};
use crate::catalog::Catalog;
use crate::random::{
    Purpose, Stream, Weighted, between, chance, derive, exponential, geometric, lognormal, pick,
    stream,
};

/// Users at `scale = 1.0`: the public sample has about 270k.
pub(crate) const USERS_AT_FULL_SCALE: f64 = 270_000.0;

/// Upper bound on a session's length. Day shards overlap by this much when collecting the
/// sessions whose events can fall into a day.
pub(crate) const MAX_SESSION_MICROS: i64 = 2 * 3600 * MICROS_PER_SECOND;
/// Sessions of one user start at least this far apart, so `ga_session_id` (the start second)
/// is unique per user and sessions never overlap.
const MIN_SESSION_GAP_MICROS: i64 = MAX_SESSION_MICROS + 30 * 60 * MICROS_PER_SECOND;
const MAX_SESSIONS_PER_USER: usize = 120;

#[derive(Debug)]
pub(crate) struct User {
    pub pseudo_id: String,
    pub first_touch_micros: i64,
    pub device: Device,
    pub geo: Geo,
    pub traffic_source: TrafficSource,
    /// Some browsers of the sample run the tag in debug mode (`debug_mode` = 1).
    pub debug_mode: bool,
}

/// How far down the funnel a session goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Depth {
    Browse,
    Cart,
    Checkout,
    Purchase,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct BasketLine {
    pub product: usize,
    pub quantity: i64,
}

#[derive(Debug)]
pub(crate) struct SessionPlan {
    pub user: usize,
    /// `ga_session_number`.
    pub number: i64,
    pub start_micros: i64,
    pub engaged: bool,
    pub channel: &'static Channel,
    pub depth: Depth,
    /// What goes into the cart; bought whole when `depth` is `Purchase`.
    pub basket: Vec<BasketLine>,
    /// The user's purchase revenue before this session (`user_ltv.revenue`).
    pub prior_ltv: f64,
    pub transaction_id: Option<String>,
    /// Seed of the session's own event stream.
    pub seed: u64,
}

impl SessionPlan {
    /// `ga_session_id`: the session's start in unix seconds.
    pub(crate) fn session_id(&self) -> i64 {
        self.start_micros.div_euclid(MICROS_PER_SECOND)
    }
}

#[derive(Debug)]
pub(crate) struct Population {
    pub users: Vec<User>,
    /// Sorted by start time.
    pub sessions: Vec<SessionPlan>,
}

/// An order priced from a basket: one function so the event stream and the lifetime value
/// computed here agree to the cent.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub lines: Vec<OrderLine>,
    pub shipping: f64,
    pub tax: f64,
    pub revenue: f64,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderLine {
    pub product: usize,
    pub quantity: i64,
    pub revenue: f64,
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Prices a basket: revenue = items + shipping + tax. Shipping is free over a threshold
/// (higher abroad), tax is the US state's sales tax.
pub(crate) fn price_order(catalog: &Catalog, basket: &[BasketLine], geo: &Geo) -> Order {
    let lines: Vec<OrderLine> = basket
        .iter()
        .map(|line| {
            let price = catalog.products[line.product].price;
            OrderLine {
                product: line.product,
                quantity: line.quantity,
                revenue: cents(price * line.quantity as f64),
            }
        })
        .collect();
    let subtotal = cents(lines.iter().map(|l| l.revenue).sum());
    let domestic = geo.country.name == UNITED_STATES;
    let shipping = match (domestic, subtotal) {
        (true, s) if s >= 75.0 => 0.0,
        (true, _) => 5.99,
        (false, s) if s >= 150.0 => 0.0,
        (false, _) => 14.99,
    };
    let tax = cents(subtotal * geo.tax_rate);
    Order {
        quantity: lines.iter().map(|l| l.quantity).sum(),
        lines,
        shipping,
        tax,
        revenue: cents(subtotal + shipping + tax),
    }
}

/// When sessions start: day by the calendar's weights, hour by the visitor's local clock.
struct Clock {
    days: Weighted,
    hours: Weighted,
    max_day_weight: f64,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            days: Weighted::new((0..DAYS).map(day_weight)),
            hours: Weighted::new(HOUR_WEIGHT),
            max_day_weight: max_day_weight(),
        }
    }

    /// A first visit: a weighted day, then a local hour.
    fn first_start(&self, rng: &mut Stream, utc_offset: f64) -> i64 {
        let offset = (utc_offset * 3600.0) as i64 * MICROS_PER_SECOND;
        for _ in 0..64 {
            let day = self.days.pick(rng) as u32;
            let hour = self.hours.pick(rng) as i64;
            let local =
                hour * 3600 * MICROS_PER_SECOND + rng.random_range(0..3600 * MICROS_PER_SECOND);
            let start = day_start_micros(day) + local - offset;
            if (WINDOW_START_MICROS..WINDOW_END_MICROS).contains(&start) {
                return start;
            }
        }
        WINDOW_START_MICROS + MICROS_PER_DAY / 2
    }

    /// The next return visit after `previous`, or `None` past the window. A Poisson process
    /// with `rate_per_day`, thinned by the day and hour rhythm so returns follow it too.
    fn next_start(
        &self,
        rng: &mut Stream,
        previous: i64,
        rate_per_day: f64,
        utc_offset: f64,
    ) -> Option<i64> {
        if rate_per_day <= 0.0 {
            return None;
        }
        let mut t = previous + MIN_SESSION_GAP_MICROS;
        loop {
            t += (exponential(rng, 1.0 / rate_per_day) * MICROS_PER_DAY as f64) as i64;
            let day = day_of(t)?;
            let accept = day_weight(day) / self.max_day_weight
                * HOUR_WEIGHT[local_hour(t, utc_offset)]
                / MAX_HOUR_WEIGHT;
            if chance(rng, accept) {
                return Some(t);
            }
        }
    }
}

/// Share of users already known before 2020-11-01: their first session in the window is a
/// returning one, without `first_visit`.
const KNOWN_BEFORE: f64 = 0.07;
/// Share of new users who come back at all; the rest visit once.
const RETURNERS: f64 = 0.24;

impl Population {
    pub(crate) fn simulate(seed: u64, user_count: usize, catalog: &Catalog) -> Population {
        let clock = Clock::new();
        let mut users = Vec::with_capacity(user_count);
        let mut sessions = Vec::with_capacity(user_count * 4 / 3);
        let mut pseudo_ids = HashSet::with_capacity(user_count);
        for index in 0..user_count {
            let mut rng = stream(derive(seed, Purpose::User, index as u64));
            let user = simulate_user(
                &mut rng,
                &clock,
                catalog,
                index,
                seed,
                &mut sessions,
                &mut pseudo_ids,
            );
            users.push(user);
        }
        sessions.sort_by_key(|s| (s.start_micros, s.user, s.number));
        assign_orders(seed, catalog, &users, &mut sessions);
        Population { users, sessions }
    }

    /// Sessions whose events can fall in `[start, end)`: those starting in it or shortly before.
    pub(crate) fn sessions_touching(&self, start: i64, end: i64) -> &[SessionPlan] {
        let from = self
            .sessions
            .partition_point(|s| s.start_micros < start - MAX_SESSION_MICROS);
        let to = self.sessions.partition_point(|s| s.start_micros < end);
        &self.sessions[from..to]
    }
}

fn simulate_user(
    rng: &mut Stream,
    clock: &Clock,
    catalog: &Catalog,
    index: usize,
    seed: u64,
    sessions: &mut Vec<SessionPlan>,
    pseudo_ids: &mut HashSet<String>,
) -> User {
    let geo = draw_geo(rng);
    let device = draw_device(rng, &geo);
    let known_before = chance(rng, KNOWN_BEFORE);
    let first_start = clock.first_start(rng, geo.utc_offset);
    let first_channel = draw_channel(rng);
    let (first_touch_micros, prior_sessions, traffic_source) = if known_before {
        let before = (between(rng, 1.0, 90.0) * MICROS_PER_DAY as f64) as i64;
        let earlier_channel = draw_channel(rng);
        (
            WINDOW_START_MICROS - before,
            1 + i64::from(geometric(rng, 0.6, 30)),
            first_touch(rng, earlier_channel),
        )
    } else {
        (first_start, 0, first_touch(rng, first_channel))
    };
    let returns = known_before || chance(rng, RETURNERS);
    let rate_per_day = if returns {
        lognormal(rng, 0.07, 0.9)
    } else {
        0.0
    };

    let mut starts = vec![first_start];
    while starts.len() < MAX_SESSIONS_PER_USER {
        let Some(next) =
            clock.next_start(rng, starts[starts.len() - 1], rate_per_day, geo.utc_offset)
        else {
            break;
        };
        starts.push(next);
        if chance(rng, 0.25) {
            break;
        }
    }

    let user = User {
        pseudo_id: pseudo_id(rng, first_touch_micros, pseudo_ids),
        first_touch_micros,
        device,
        geo,
        traffic_source,
        debug_mode: chance(rng, 0.3),
    };
    for (k, start) in starts.into_iter().enumerate() {
        let number = prior_sessions + k as i64 + 1;
        let channel = if k == 0 {
            first_channel
        } else {
            let other = draw_channel(rng);
            pick(
                rng,
                &[(first_channel, 0.45), (direct(), 0.35), (other, 0.2)],
            )
        };
        let session_seed = derive(seed, Purpose::Session, ((index as u64) << 8) | k as u64);
        sessions.push(plan_session(
            rng,
            catalog,
            &user,
            index,
            number,
            start,
            channel,
            session_seed,
        ));
    }
    user
}

/// GA's client id: a random number and the first visit's unix second.
fn pseudo_id(rng: &mut Stream, first_touch_micros: i64, taken: &mut HashSet<String>) -> String {
    let seconds = first_touch_micros.div_euclid(MICROS_PER_SECOND);
    loop {
        let id = format!(
            "{}.{seconds}",
            rng.random_range(1_000_000..2_147_483_647u32)
        );
        if taken.insert(id.clone()) {
            return id;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_session(
    rng: &mut Stream,
    catalog: &Catalog,
    user: &User,
    user_index: usize,
    number: i64,
    start_micros: i64,
    channel: &'static Channel,
    seed: u64,
) -> SessionPlan {
    let returning = number > 1;
    let device_engagement = match user.device.category {
        DESKTOP => 0.66,
        MOBILE => 0.52,
        _ => 0.55,
    };
    let engaged = chance(rng, device_engagement + if returning { 0.08 } else { 0.0 });
    let depth = if engaged {
        funnel_depth(rng, user, start_micros, returning)
    } else {
        Depth::Browse
    };
    let basket = if depth >= Depth::Cart {
        basket(rng, catalog)
    } else {
        Vec::new()
    };
    SessionPlan {
        user: user_index,
        number,
        start_micros,
        engaged,
        channel,
        depth,
        basket,
        prior_ltv: 0.0,
        transaction_id: None,
        seed,
    }
}

/// Cart, checkout and purchase rates: desktop converts better, the weeks before Christmas
/// convert best, returning visitors more than new ones, the US more than elsewhere.
fn funnel_depth(rng: &mut Stream, user: &User, start_micros: i64, returning: bool) -> Depth {
    let device = match user.device.category {
        DESKTOP => 1.1,
        MOBILE => 0.85,
        _ => 0.9,
    };
    let season = match day_of(start_micros).unwrap_or(0) {
        25..=47 => 1.3, // Thanksgiving to the last shipping day
        53..=63 => 0.8, // Christmas to the first January weekend
        _ => 1.0,
    };
    let loyalty = if returning { 1.3 } else { 1.0 };
    if !chance(rng, 0.105 * device * season * loyalty) {
        return Depth::Browse;
    }
    if !chance(rng, 0.55) {
        return Depth::Cart;
    }
    if !chance(rng, (0.5 * user.geo.country.conversion).min(0.95)) {
        return Depth::Checkout;
    }
    Depth::Purchase
}

/// One to five products, often from one category (what is bought together), mostly one each.
fn basket(rng: &mut Stream, catalog: &Catalog) -> Vec<BasketLine> {
    let size = 1 + geometric(rng, 0.38, 4) as usize;
    let first = catalog.popular_product(rng);
    let mut lines = vec![first];
    let family = &catalog.lists[catalog.products[first].list].products;
    for _ in 1..size {
        let candidate = if chance(rng, 0.5) {
            catalog.product_in(rng, family).unwrap_or(first)
        } else {
            catalog.popular_product(rng)
        };
        if !lines.contains(&candidate) {
            lines.push(candidate);
        }
    }
    lines
        .into_iter()
        .map(|product| {
            let quantity = pick(
                rng,
                &[(1, 0.80), (2, 0.12), (3, 0.04), (5, 0.025), (20, 0.015)],
            );
            BasketLine { product, quantity }
        })
        .collect()
}

/// Transaction ids in time order with irregular gaps, and each session's lifetime value so far.
fn assign_orders(seed: u64, catalog: &Catalog, users: &[User], sessions: &mut [SessionPlan]) {
    let mut rng = stream(derive(seed, Purpose::Orders, 0));
    let mut next_id: u64 = 100_000 + rng.random_range(0..50_000);
    let mut ltv = vec![0.0f64; users.len()];
    for session in sessions.iter_mut() {
        session.prior_ltv = ltv[session.user];
        if session.depth == Depth::Purchase {
            next_id += rng.random_range(1..8);
            session.transaction_id = Some(next_id.to_string());
            let order = price_order(catalog, &session.basket, &users[session.user].geo);
            ltv[session.user] = cents(ltv[session.user] + order.revenue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(users: usize) -> (Catalog, Population) {
        let catalog = Catalog::new();
        let population = Population::simulate(11, users, &catalog);
        (catalog, population)
    }

    #[test]
    fn sessions_per_user_and_conversion_are_realistic() {
        let (_, p) = population(20_000);
        let per_user = p.sessions.len() as f64 / p.users.len() as f64;
        assert!(
            (1.2..1.45).contains(&per_user),
            "sessions per user {per_user}"
        );
        let purchases = p
            .sessions
            .iter()
            .filter(|s| s.depth == Depth::Purchase)
            .count();
        let rate = purchases as f64 / p.sessions.len() as f64;
        assert!((0.015..0.03).contains(&rate), "purchase rate {rate}");
        let engaged =
            p.sessions.iter().filter(|s| s.engaged).count() as f64 / p.sessions.len() as f64;
        assert!((0.5..0.75).contains(&engaged), "engaged {engaged}");
    }

    #[test]
    fn sessions_of_a_user_are_numbered_apart_and_inside_the_window() {
        let (_, p) = population(3_000);
        assert!(
            p.sessions
                .windows(2)
                .all(|w| w[0].start_micros <= w[1].start_micros)
        );
        let mut last: Vec<Option<(i64, i64)>> = vec![None; p.users.len()];
        for s in &p.sessions {
            assert!((WINDOW_START_MICROS..WINDOW_END_MICROS).contains(&s.start_micros));
            if let Some((number, start)) = last[s.user] {
                assert_eq!(s.number, number + 1);
                assert!(s.start_micros - start >= MIN_SESSION_GAP_MICROS);
            }
            last[s.user] = Some((s.number, s.start_micros));
        }
        let ids: HashSet<&str> = p.users.iter().map(|u| u.pseudo_id.as_str()).collect();
        assert_eq!(ids.len(), p.users.len());
    }

    #[test]
    fn transaction_ids_are_unique_and_ltv_accumulates() {
        let (catalog, p) = population(5_000);
        let ids: Vec<&str> = p
            .sessions
            .iter()
            .filter_map(|s| s.transaction_id.as_deref())
            .collect();
        assert!(!ids.is_empty());
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        let mut ltv = vec![0.0; p.users.len()];
        for s in &p.sessions {
            assert!((s.prior_ltv - ltv[s.user]).abs() < 1e-6);
            if s.depth == Depth::Purchase {
                ltv[s.user] = cents(
                    ltv[s.user] + price_order(&catalog, &s.basket, &p.users[s.user].geo).revenue,
                );
            }
        }
    }

    #[test]
    fn orders_add_up() {
        let catalog = Catalog::new();
        let mut rng = stream(5);
        let geo = draw_geo(&mut rng);
        let basket = [
            BasketLine {
                product: 0,
                quantity: 2,
            },
            BasketLine {
                product: 1,
                quantity: 1,
            },
        ];
        let order = price_order(&catalog, &basket, &geo);
        let items: f64 = order.lines.iter().map(|l| l.revenue).sum();
        assert!((order.revenue - (items + order.shipping + order.tax)).abs() < 0.005);
        assert_eq!(order.quantity, 3);
        assert_eq!(
            order.lines[0].revenue,
            cents(2.0 * catalog.products[0].price)
        );
    }
}
