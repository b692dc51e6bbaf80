//! The pages a session visits and when: a landing page chosen by the traffic channel, a walk
//! over listings, products and searches, the product pages of what goes into the cart, then
//! cart and checkout as far as the session's plan goes. Timing is squeezed under the session
//! cap so a session never spans more than two day shards.

use rand::Rng;

use crate::calendar::MICROS_PER_SECOND;
use crate::catalog::{Catalog, CheckoutStep, PageKind, Promotion};
use crate::events::ListPosition;
use crate::population::{Depth, MAX_SESSION_MICROS, SessionPlan};
use crate::random::{Stream, between, chance, geometric, lognormal, pick};

const SEARCH_LIST_ID: &str = "search_results";
const SEARCH_LIST_NAME: &str = "Search Results";

/// How a visitor leaves a page for the next one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Exit<'a> {
    Leave,
    SelectItem(usize, ListPosition<'a>),
    SelectPromotion(&'a Promotion),
    BeginCheckout,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Visit<'a> {
    pub page: usize,
    /// Index of the basket line added to the cart on this product page.
    pub add_to_cart: Option<usize>,
    /// How the visitor leaves for the next page.
    pub exit: Exit<'a>,
    pub start: i64,
    pub dwell: i64,
}

/// The pages of a session with their timing: landing, a browse walk, the basket's product
/// pages, then cart and checkout as far as the plan goes.
pub(crate) fn plan_visits<'a>(
    catalog: &'a Catalog,
    plan: &SessionPlan,
    rng: &mut Stream,
) -> Vec<Visit<'a>> {
    let mut pages = vec![landing_page(catalog, plan, rng)];
    let mut carted = vec![None];
    if plan.engaged {
        let extra = 1 + geometric(rng, 0.72, 30);
        for _ in 0..extra {
            let next = next_page(catalog, pages[pages.len() - 1], rng);
            pages.push(next);
            carted.push(None);
        }
        for (line, item) in plan.basket.iter().enumerate() {
            let at = rng.random_range(1..=pages.len());
            pages.insert(at, catalog.products[item.product].page);
            carted.insert(at, Some(line));
        }
        if plan.depth >= Depth::Cart {
            pages.push(catalog.cart);
            carted.push(None);
        }
        let steps = match plan.depth {
            Depth::Purchase => 4,
            Depth::Checkout if chance(rng, 0.5) => 2,
            Depth::Checkout => 1,
            _ => 0,
        };
        for &page in &catalog.checkout[..steps] {
            pages.push(page);
            carted.push(None);
        }
    }

    // Dwell on each page and the click-through to the next, squeezed under the session cap.
    let mut dwell: Vec<f64> = pages
        .iter()
        .map(|&page| match catalog.pages[page].kind {
            _ if !plan.engaged => between(rng, 1.0, 9.5),
            PageKind::Checkout(CheckoutStep::Confirmation) => between(rng, 5.0, 30.0),
            PageKind::Checkout(_) | PageKind::Cart => lognormal(rng, 35.0, 0.6).clamp(5.0, 600.0),
            _ => lognormal(rng, 28.0, 0.9).clamp(3.0, 600.0),
        })
        .collect();
    let transit: Vec<f64> = pages.iter().map(|_| between(rng, 0.2, 1.5)).collect();
    let budget = (MAX_SESSION_MICROS / MICROS_PER_SECOND - 20 * 60) as f64;
    let total: f64 = dwell.iter().sum::<f64>() + transit.iter().sum::<f64>();
    if total > budget {
        let factor = budget / total;
        dwell.iter_mut().for_each(|d| *d *= factor);
    }

    let mut visits = Vec::with_capacity(pages.len());
    let mut t = plan.start_micros;
    for (i, &page) in pages.iter().enumerate() {
        let dwell_micros = (dwell[i] * MICROS_PER_SECOND as f64) as i64;
        let exit = match pages.get(i + 1) {
            Some(&next) => exit(catalog, page, next, rng),
            None => Exit::Leave,
        };
        visits.push(Visit {
            page,
            add_to_cart: carted[i],
            exit,
            start: t,
            dwell: dwell_micros,
        });
        t += dwell_micros + (transit[i] * MICROS_PER_SECOND as f64) as i64;
    }
    visits
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Home,
    PopularList,
    Brand,
    Search,
    Signin,
    Cart,
    PopularProduct,
    PromotedProduct,
    ProductOfList(usize),
    ProductOfSearch(usize),
    List(usize),
}

fn landing_page(catalog: &Catalog, plan: &SessionPlan, rng: &mut Stream) -> usize {
    let returning = plan.number > 1;
    let table: &[(Step, f64)] = match plan.channel.medium {
        "cpc" => &[(Step::PopularProduct, 0.6), (Step::PopularList, 0.4)],
        "organic" => &[
            (Step::Home, 0.35),
            (Step::PopularProduct, 0.35),
            (Step::PopularList, 0.25),
            (Step::Brand, 0.05),
        ],
        "email" => &[
            (Step::List(catalog.new_arrivals), 0.5),
            (Step::PopularProduct, 0.3),
            (Step::Home, 0.2),
        ],
        "(none)" if returning => &[
            (Step::Home, 0.55),
            (Step::PopularList, 0.15),
            (Step::PopularProduct, 0.15),
            (Step::Cart, 0.08),
            (Step::Signin, 0.07),
        ],
        "(none)" => &[
            (Step::Home, 0.65),
            (Step::PopularList, 0.15),
            (Step::PopularProduct, 0.15),
            (Step::Signin, 0.05),
        ],
        _ => &[
            (Step::Home, 0.5),
            (Step::PopularList, 0.2),
            (Step::PopularProduct, 0.2),
            (Step::Brand, 0.1),
        ],
    };
    resolve(catalog, pick(rng, table), rng)
}

fn next_page(catalog: &Catalog, current: usize, rng: &mut Stream) -> usize {
    let step = match catalog.pages[current].kind {
        PageKind::Home => pick(
            rng,
            &[
                (Step::PopularList, 0.45),
                (Step::PromotedProduct, 0.12),
                (Step::PopularProduct, 0.08),
                (Step::Brand, 0.12),
                (Step::Search, 0.13),
                (Step::Signin, 0.03),
            ],
        ),
        PageKind::List(list) => pick(
            rng,
            &[
                (Step::ProductOfList(list), 0.58),
                (Step::PopularList, 0.2),
                (Step::Home, 0.1),
                (Step::Search, 0.07),
                (Step::Brand, 0.05),
            ],
        ),
        PageKind::Product(product) => pick(
            rng,
            &[
                (Step::ProductOfList(catalog.products[product].list), 0.3),
                (Step::List(catalog.products[product].list), 0.3),
                (Step::Home, 0.15),
                (Step::Search, 0.1),
                (Step::Brand, 0.07),
                (Step::PopularList, 0.08),
            ],
        ),
        PageKind::Search(search) => pick(
            rng,
            &[
                (Step::ProductOfSearch(search), 0.6),
                (Step::PopularList, 0.2),
                (Step::Home, 0.2),
            ],
        ),
        PageKind::Signin | PageKind::Cart | PageKind::Checkout(_) => {
            pick(rng, &[(Step::Home, 0.6), (Step::PopularList, 0.4)])
        }
    };
    resolve(catalog, step, rng)
}

fn resolve(catalog: &Catalog, step: Step, rng: &mut Stream) -> usize {
    let list_page = |list: usize| catalog.lists[list].page;
    let product_page = |product: usize| catalog.products[product].page;
    match step {
        Step::Home => catalog.home,
        Step::Signin => catalog.signin,
        Step::Cart => catalog.cart,
        Step::PopularList => list_page(catalog.popular_list(rng)),
        Step::List(list) => list_page(list),
        Step::Brand => {
            let brand = catalog.brand_lists[rng.random_range(0..catalog.brand_lists.len())];
            list_page(brand)
        }
        Step::Search => catalog.searches[catalog.search_term(rng)].page,
        Step::PopularProduct => product_page(catalog.popular_product(rng)),
        Step::PromotedProduct => {
            let promotion = &catalog.promotions[rng.random_range(0..catalog.promotions.len())];
            product_page(promotion.product)
        }
        Step::ProductOfList(list) => match catalog.product_in(rng, &catalog.lists[list].products) {
            Some(product) => product_page(product),
            None => catalog.home,
        },
        Step::ProductOfSearch(search) => {
            match catalog.product_in(rng, &catalog.searches[search].products) {
                Some(product) => product_page(product),
                None => catalog.home,
            }
        }
    }
}

/// The click that leads from `page` to `next`, when the store tracks one.
fn exit<'a>(catalog: &'a Catalog, page: usize, next: usize, rng: &mut Stream) -> Exit<'a> {
    let next_product = match catalog.pages[next].kind {
        PageKind::Product(p) => Some(p),
        _ => None,
    };
    match (catalog.pages[page].kind, next_product) {
        (PageKind::List(list), Some(product)) if chance(rng, 0.4) => {
            let list = &catalog.lists[list];
            match list.products.iter().position(|&p| p == product) {
                Some(i) => Exit::SelectItem(
                    product,
                    ListPosition {
                        id: &list.id,
                        name: &list.name,
                        index: i + 1,
                    },
                ),
                None => Exit::Leave,
            }
        }
        (PageKind::Search(search), Some(product)) if chance(rng, 0.5) => {
            match catalog.searches[search]
                .products
                .iter()
                .position(|&p| p == product)
            {
                Some(i) => Exit::SelectItem(
                    product,
                    ListPosition {
                        id: SEARCH_LIST_ID,
                        name: SEARCH_LIST_NAME,
                        index: i + 1,
                    },
                ),
                None => Exit::Leave,
            }
        }
        (PageKind::Home, Some(product)) if chance(rng, 0.8) => {
            match catalog.promotions.iter().find(|p| p.product == product) {
                Some(promotion) => Exit::SelectPromotion(promotion),
                None => Exit::Leave,
            }
        }
        (PageKind::Cart, _)
            if catalog.pages[next].kind == PageKind::Checkout(CheckoutStep::YourInfo) =>
        {
            Exit::BeginCheckout
        }
        _ => Exit::Leave,
    }
}
