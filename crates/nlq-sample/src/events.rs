//! One session's event stream, expanded from its plan and its own seed.
//!
//! A session is a walk over the store's pages (see `journey`). Each page view brings the
//! events GA4's web tag sends there: the listing, item or promotion impression, scrolls,
//! clicks that lead to the next page, `user_engagement` on leaving, and the checkout steps at
//! the end. Parameters follow the sample rows of the public export (keys, which value field,
//! `(not set)` strings).

use rand::Rng;

use crate::calendar::MICROS_PER_SECOND;
use crate::catalog::{Catalog, CheckoutStep, Page, PageKind, Product, Promotion};
use crate::journey::{Exit, Visit, plan_visits};
use crate::population::{Depth, Order, SessionPlan, User, price_order};
use crate::random::{Purpose, Stream, between, chance, derive, pick, stream};

#[derive(Debug, Clone)]
pub(crate) struct Event<'a> {
    pub timestamp: i64,
    pub name: &'static str,
    pub params: Vec<Param<'a>>,
    pub value_in_usd: Option<f64>,
    pub bundle_id: i64,
    pub server_offset: Option<i64>,
    /// `user_ltv.revenue` at the time of the event.
    pub ltv: f64,
    /// Whether `event_dimensions.hostname` is filled (it is NULL on most rows of the sample).
    pub hostname: bool,
    pub ecommerce: Ecommerce<'a>,
    pub items: Vec<Item<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Param<'a> {
    pub key: &'static str,
    pub value: ParamValue<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ParamValue<'a> {
    Str(&'a str),
    Int(i64),
    /// A key whose value fields are all NULL, as `gclid` and `gclsrc` in the sample.
    Null,
}

/// The `ecommerce` struct: every row has it; only item events fill counts, only purchases
/// fill revenue.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ecommerce<'a> {
    pub total_item_quantity: Option<i64>,
    pub unique_items: Option<i64>,
    pub purchase: Option<Purchase<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Purchase<'a> {
    pub revenue: f64,
    pub shipping: f64,
    pub tax: f64,
    pub transaction_id: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Item<'a> {
    pub product: &'a Product,
    pub variant: &'static str,
    pub quantity: i64,
    /// `item_revenue`: purchases only.
    pub revenue: Option<f64>,
    pub list: Option<ListPosition<'a>>,
    pub promotion: Option<&'a Promotion>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ListPosition<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// 1-based; the export stores it as a STRING.
    pub index: usize,
}

const SIZES: &[&str] = &["XS", "SM", "MD", "MD", "LG", "LG", "XL", "2XL"];
const SINGLE_OPTION: &str = "Single Option Only";

/// Builds the events of one session, in time order.
pub(crate) fn session_events<'a>(
    catalog: &'a Catalog,
    user: &'a User,
    plan: &'a SessionPlan,
) -> Vec<Event<'a>> {
    let mut rng = stream(plan.seed);
    let visits = plan_visits(catalog, plan, &mut rng);
    let engaged_since = match visits.get(1) {
        Some(second) if plan.engaged => {
            second.start.min(plan.start_micros + 10 * MICROS_PER_SECOND)
        }
        _ => i64::MAX,
    };
    let order = (plan.depth >= Depth::Cart).then(|| price_order(catalog, &plan.basket, &user.geo));
    let mut emitter = Emitter {
        catalog,
        user,
        plan,
        rng,
        order,
        ltv: plan.prior_ltv,
        engaged_since,
        last_flush: plan.start_micros,
        engaged_share: 1.0,
        events: Vec::with_capacity(visits.len() * 4 + 2),
    };
    for (i, visit) in visits.iter().enumerate() {
        emitter.visit(i, visit);
    }
    emitter.events
}

struct Emitter<'a> {
    catalog: &'a Catalog,
    user: &'a User,
    plan: &'a SessionPlan,
    rng: Stream,
    order: Option<Order>,
    ltv: f64,
    /// From when on `session_engaged` reads '1' (never, for a session that bounces).
    engaged_since: i64,
    /// When engagement time was last reported; the next carrier reports the time since.
    last_flush: i64,
    /// Share of the current page's time the visitor is actually engaged.
    engaged_share: f64,
    events: Vec<Event<'a>>,
}

impl<'a> Emitter<'a> {
    fn visit(&mut self, index: usize, visit: &Visit<'a>) {
        let page = &self.catalog.pages[visit.page];
        let at = |fraction: f64| visit.start + (visit.dwell as f64 * fraction) as i64;
        self.engaged_share = if self.plan.engaged {
            between(&mut self.rng, 0.5, 0.95)
        } else {
            between(&mut self.rng, 0.3, 0.9)
        };
        let bundle = self.bundle_id();

        if index == 0 {
            let mut params = self.base_params(visit.start, page, false);
            self.push_source(&mut params);
            self.push_event(visit.start, "session_start", params, bundle);
            if self.plan.number == 1 {
                let mut params = self.base_params(visit.start, page, true);
                self.push_source(&mut params);
                self.push_event(visit.start, "first_visit", params, bundle);
            }
        }
        self.page_view(index, visit, page, bundle);

        let impression = at(between(&mut self.rng, 0.02, 0.08));
        self.impression(impression, visit, page);

        let scroll_chance = if self.plan.engaged { 0.38 } else { 0.06 };
        if chance(&mut self.rng, scroll_chance) {
            let t = at(between(&mut self.rng, 0.2, 0.6));
            let mut params = self.base_params(t, page, true);
            params.push(int("percent_scrolled", 90));
            params.push(int("engagement_time_msec", self.flush_engagement(t)));
            self.push_debug(&mut params);
            let bundle = self.bundle_id();
            self.push_event(t, "scroll", params, bundle);
        }

        if let Some(line) = visit.add_to_cart {
            let t = at(between(&mut self.rng, 0.62, 0.8));
            let basket_line = self.plan.basket[line];
            let item = self.item(basket_line.product, basket_line.quantity);
            self.push_item_event(t, "add_to_cart", page, Vec::new(), vec![item]);
        }

        let t = at(between(&mut self.rng, 0.85, 0.95));
        match visit.exit {
            Exit::Leave => {}
            Exit::SelectItem(product, list) => {
                let item = Item {
                    list: Some(list),
                    ..self.item(product, 1)
                };
                self.push_item_event(t, "select_item", page, Vec::new(), vec![item]);
            }
            Exit::SelectPromotion(promotion) => {
                let item = Item {
                    promotion: Some(promotion),
                    ..self.item(promotion.product, 1)
                };
                self.push_item_event(t, "select_promotion", page, Vec::new(), vec![item]);
            }
            Exit::BeginCheckout => {
                let items = self.basket_items();
                self.push_item_event(t, "begin_checkout", page, Vec::new(), items);
            }
        }

        let leave_chance = if self.plan.engaged { 0.88 } else { 0.35 };
        if chance(&mut self.rng, leave_chance) {
            let t = visit.start + visit.dwell;
            let mut params = self.base_params(t, page, true);
            params.push(int("engagement_time_msec", self.flush_engagement(t)));
            params.push(Param {
                key: "gclid",
                value: ParamValue::Null,
            });
            params.push(Param {
                key: "gclsrc",
                value: ParamValue::Null,
            });
            self.push_debug(&mut params);
            let bundle = self.bundle_id();
            self.push_event(t, "user_engagement", params, bundle);
        }
    }

    fn page_view(&mut self, index: usize, visit: &Visit<'a>, page: &'a Page, bundle: i64) {
        let t = visit.start;
        let mut params = self.base_params(t, page, true);
        if index == 0 {
            if let Some(referrer) = self.plan.channel.referrer {
                params.push(text("page_referrer", referrer));
            }
            params.push(int("entrances", 1));
            params.push(text("clean_event", "gtm.js"));
            params.push(Param {
                key: "all_data",
                value: ParamValue::Null,
            });
            self.push_source(&mut params);
        } else {
            // The referrer of a later page view is the page before it.
            if let Some(previous) = self.events.iter().rev().find(|e| e.name == "page_view")
                && let Some(location) = previous.params.iter().find(|p| p.key == "page_location")
            {
                params.push(Param {
                    key: "page_referrer",
                    value: location.value,
                });
            }
            params.push(int("engagement_time_msec", self.flush_engagement(t)));
        }
        params.push(Param {
            key: "gclid",
            value: ParamValue::Null,
        });
        params.push(Param {
            key: "gclsrc",
            value: ParamValue::Null,
        });
        self.push_debug(&mut params);
        self.push_event(t, "page_view", params, bundle);
    }

    /// What the page shows: promotions, a product list, a product, search results, checkout.
    fn impression(&mut self, t: i64, visit: &Visit<'a>, page: &'a Page) {
        let catalog = self.catalog;
        match page.kind {
            PageKind::Home if chance(&mut self.rng, 0.5) && !catalog.promotions.is_empty() => {
                let shown = self
                    .rng
                    .random_range(1..=3usize.min(catalog.promotions.len()));
                let first = self.rng.random_range(0..catalog.promotions.len());
                let items = (0..shown)
                    .map(|k| {
                        let promotion = &catalog.promotions[(first + k) % catalog.promotions.len()];
                        Item {
                            promotion: Some(promotion),
                            ..self.item(promotion.product, 1)
                        }
                    })
                    .collect();
                self.push_item_event(t, "view_promotion", page, Vec::new(), items);
            }
            PageKind::List(list) if chance(&mut self.rng, 0.45) => {
                let list = &catalog.lists[list];
                let shown = self.rng.random_range(6..=12usize).min(list.products.len());
                let offset = if list.products.len() > shown && chance(&mut self.rng, 0.2) {
                    self.rng.random_range(0..=list.products.len() - shown)
                } else {
                    0
                };
                let items = (offset..offset + shown)
                    .map(|i| Item {
                        list: Some(ListPosition {
                            id: &list.id,
                            name: &list.name,
                            index: i + 1,
                        }),
                        ..self.item(list.products[i], 1)
                    })
                    .collect();
                self.push_item_event(t, "view_item_list", page, Vec::new(), items);
            }
            PageKind::Product(product)
                if visit.add_to_cart.is_some() || chance(&mut self.rng, 0.95) =>
            {
                let item = self.item(product, 1);
                self.push_item_event(t, "view_item", page, Vec::new(), vec![item]);
            }
            PageKind::Search(search) => {
                let mut params = self.base_params(t, page, true);
                params.push(text("search_term", catalog.searches[search].term));
                let bundle = self.bundle_id();
                self.push_event(t, "view_search_results", params, bundle);
            }
            PageKind::Checkout(CheckoutStep::YourInfo) => {
                let tier = pick(&mut self.rng, &[("Ground", 0.8), ("Express", 0.2)]);
                let items = self.basket_items();
                self.push_item_event(
                    t,
                    "add_shipping_info",
                    page,
                    vec![text("shipping_tier", tier)],
                    items,
                );
            }
            PageKind::Checkout(CheckoutStep::Payment) => {
                let kind = pick(&mut self.rng, &[("Credit Card", 0.75), ("PayPal", 0.25)]);
                let items = self.basket_items();
                self.push_item_event(
                    t,
                    "add_payment_info",
                    page,
                    vec![text("payment_type", kind)],
                    items,
                );
            }
            PageKind::Checkout(CheckoutStep::Confirmation) => self.purchase(t, page),
            _ => {}
        }
    }

    fn purchase(&mut self, t: i64, page: &'a Page) {
        let (Some(order), Some(transaction_id)) =
            (self.order.as_ref(), self.plan.transaction_id.as_deref())
        else {
            return;
        };
        let items: Vec<Item<'a>> = order
            .lines
            .iter()
            .map(|line| Item {
                revenue: Some(line.revenue),
                ..self.item(line.product, line.quantity)
            })
            .collect();
        let ecommerce = Ecommerce {
            total_item_quantity: Some(order.quantity),
            unique_items: Some(items.len() as i64),
            purchase: Some(Purchase {
                revenue: order.revenue,
                shipping: order.shipping,
                tax: order.tax,
                transaction_id,
            }),
        };
        let revenue = order.revenue;
        self.ltv = ((self.ltv + revenue) * 100.0).round() / 100.0;
        let params = self.base_params(t, page, true);
        let bundle = self.bundle_id();
        let mut event = self.event(t, "purchase", params, bundle);
        event.value_in_usd = Some(revenue);
        event.ecommerce = ecommerce;
        event.items = items;
        self.events.push(event);
    }

    fn basket_items(&self) -> Vec<Item<'a>> {
        self.plan
            .basket
            .iter()
            .map(|line| self.item(line.product, line.quantity))
            .collect()
    }

    fn item(&self, product: usize, quantity: i64) -> Item<'a> {
        let p = &self.catalog.products[product];
        // The same product keeps its size through one session.
        let variant = if p.sized {
            SIZES[(derive(self.plan.seed, Purpose::Session, product as u64) % SIZES.len() as u64)
                as usize]
        } else {
            SINGLE_OPTION
        };
        Item {
            product: p,
            variant,
            quantity,
            revenue: None,
            list: None,
            promotion: None,
        }
    }

    fn push_item_event(
        &mut self,
        t: i64,
        name: &'static str,
        page: &'a Page,
        extra: Vec<Param<'a>>,
        items: Vec<Item<'a>>,
    ) {
        let mut params = self.base_params(t, page, true);
        params.extend(extra);
        let bundle = self.bundle_id();
        let mut event = self.event(t, name, params, bundle);
        event.ecommerce = Ecommerce {
            total_item_quantity: Some(items.iter().map(|i| i.quantity).sum()),
            unique_items: Some(items.len() as i64),
            purchase: None,
        };
        event.items = items;
        self.events.push(event);
    }

    fn push_event(&mut self, t: i64, name: &'static str, params: Vec<Param<'a>>, bundle: i64) {
        let event = self.event(t, name, params, bundle);
        self.events.push(event);
    }

    fn event(
        &mut self,
        t: i64,
        name: &'static str,
        params: Vec<Param<'a>>,
        bundle_id: i64,
    ) -> Event<'a> {
        let server_offset =
            chance(&mut self.rng, 0.1).then(|| self.rng.random_range(20_000..2_000_000i64));
        Event {
            timestamp: t,
            name,
            params,
            value_in_usd: None,
            bundle_id,
            server_offset,
            ltv: self.ltv,
            hostname: chance(&mut self.rng, 0.05),
            ecommerce: Ecommerce::default(),
            items: Vec::new(),
        }
    }

    /// Parameters every event of the session carries.
    fn base_params(&mut self, t: i64, page: &'a Page, with_engaged_flag: bool) -> Vec<Param<'a>> {
        let mut params = Vec::with_capacity(14);
        params.push(int("ga_session_id", self.plan.session_id()));
        params.push(int("ga_session_number", self.plan.number));
        if self.plan.engaged {
            params.push(int("engaged_session_event", 1));
        }
        if with_engaged_flag {
            let value = if t < self.engaged_since {
                ParamValue::Str("0")
            } else if chance(&mut self.rng, 0.02) {
                // A small share of real rows carry the flag as an integer.
                ParamValue::Int(1)
            } else {
                ParamValue::Str("1")
            };
            params.push(Param {
                key: "session_engaged",
                value,
            });
        }
        params.push(text("page_location", &page.location));
        params.push(text("page_title", &page.title));
        params
    }

    fn push_source(&self, params: &mut Vec<Param<'a>>) {
        let channel = self.plan.channel;
        if !channel.is_direct() {
            params.push(text("source", channel.source));
            params.push(text("medium", channel.medium));
            params.push(text("campaign", channel.campaign));
        }
    }

    fn push_debug(&self, params: &mut Vec<Param<'a>>) {
        if self.user.debug_mode {
            params.push(int("debug_mode", 1));
        }
    }

    /// Engagement time (ms) since it was last reported.
    fn flush_engagement(&mut self, t: i64) -> i64 {
        let elapsed_ms = (t - self.last_flush).max(0) as f64 / 1000.0;
        self.last_flush = t;
        ((elapsed_ms * self.engaged_share) as i64).max(1)
    }

    /// The sample's bundle ids are obfuscated negative numbers.
    fn bundle_id(&mut self) -> i64 {
        -self.rng.random_range(1_000_000_000..10_000_000_000i64)
    }
}

fn int(key: &'static str, value: i64) -> Param<'static> {
    Param {
        key,
        value: ParamValue::Int(value),
    }
}

fn text<'a>(key: &'static str, value: &'a str) -> Param<'a> {
    Param {
        key,
        value: ParamValue::Str(value),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::population::{MAX_SESSION_MICROS, Population};

    fn param<'e>(event: &'e Event<'_>, key: &str) -> Option<ParamValue<'e>> {
        event.params.iter().find(|p| p.key == key).map(|p| p.value)
    }

    #[test]
    fn sessions_have_the_shape_of_ga4_web_sessions() {
        let catalog = Catalog::new();
        let population = Population::simulate(5, 4_000, &catalog);
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut total = 0;
        for plan in &population.sessions {
            let user = &population.users[plan.user];
            let events = session_events(&catalog, user, plan);
            total += events.len();
            assert!(
                events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
                "time order"
            );
            assert!(events.last().unwrap().timestamp - plan.start_micros < MAX_SESSION_MICROS);
            assert_eq!(
                events.iter().filter(|e| e.name == "session_start").count(),
                1
            );
            let first_visits = events.iter().filter(|e| e.name == "first_visit").count();
            assert_eq!(first_visits, usize::from(plan.number == 1));
            let entrances = events
                .iter()
                .filter(|e| param(e, "entrances") == Some(ParamValue::Int(1)))
                .count();
            assert_eq!(entrances, 1);
            for e in &events {
                assert_eq!(
                    param(e, "ga_session_id"),
                    Some(ParamValue::Int(plan.session_id()))
                );
                assert_eq!(
                    param(e, "ga_session_number"),
                    Some(ParamValue::Int(plan.number))
                );
                let keys: Vec<&str> = e.params.iter().map(|p| p.key).collect();
                let mut unique = keys.clone();
                unique.sort_unstable();
                unique.dedup();
                assert_eq!(unique.len(), keys.len(), "one value per key: {keys:?}");
                *names.entry(e.name).or_default() += 1;
            }
            let engaged = events
                .iter()
                .any(|e| param(e, "session_engaged") == Some(ParamValue::Str("1")));
            if !plan.engaged {
                assert!(!engaged);
            }
            let purchases: Vec<&Event> = events.iter().filter(|e| e.name == "purchase").collect();
            assert_eq!(purchases.len(), usize::from(plan.depth == Depth::Purchase));
            for p in purchases {
                let purchase = p.ecommerce.purchase.unwrap();
                let items: f64 = p.items.iter().map(|i| i.revenue.unwrap()).sum();
                assert!(
                    (purchase.revenue - (items + purchase.shipping + purchase.tax)).abs() < 0.005
                );
                assert_eq!(
                    Some(purchase.transaction_id),
                    plan.transaction_id.as_deref()
                );
            }
        }
        let per_session = total as f64 / population.sessions.len() as f64;
        assert!(
            (10.0..14.0).contains(&per_session),
            "events per session {per_session}"
        );
        for name in [
            "page_view",
            "user_engagement",
            "scroll",
            "view_item",
            "view_item_list",
            "select_item",
            "view_promotion",
            "select_promotion",
            "add_to_cart",
            "begin_checkout",
            "add_shipping_info",
            "add_payment_info",
            "purchase",
            "view_search_results",
            "first_visit",
            "session_start",
        ] {
            assert!(
                names.get(name).copied().unwrap_or(0) > 0,
                "{name} missing: {names:?}"
            );
        }
        assert!(names["page_view"] > names["user_engagement"]);
        assert!(names["user_engagement"] > names["scroll"]);
    }

    #[test]
    fn a_session_is_the_same_every_time() {
        let catalog = Catalog::new();
        let population = Population::simulate(9, 200, &catalog);
        for plan in &population.sessions {
            let user = &population.users[plan.user];
            let a = session_events(&catalog, user, plan);
            let b = session_events(&catalog, user, plan);
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
    }
}
