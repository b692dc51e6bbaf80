//! The store: products, listing pages, promotions, search terms and the site map, modelled on
//! the Google Merchandise Store so item and page dimensions read like the real export.
//!
//! The catalogue is the same for every seed (built from a fixed stream): it is part of what the
//! sample *is*; only the traffic over it varies with the seed.

use std::collections::HashSet;

use rand::Rng;

use crate::random::{Purpose, Weighted, chance, derive, lognormal, stream};

pub(crate) const STORE_URL: &str = "https://shop.googlemerchandisestore.com";
const SITE: &str = "Google Merchandise Store";
pub(crate) const HOSTNAME: &str = "shop.googlemerchandisestore.com";
pub(crate) const AFFILIATION: &str = "Google Merchandise Store";
const CATALOG_SEED: u64 = 0x6A4_2020_1101;

#[derive(Debug)]
pub(crate) struct Product {
    pub id: String,
    pub name: String,
    pub brand: &'static str,
    pub category: &'static str,
    /// `item_category2`: the apparel department, `(not set)` elsewhere.
    pub category2: &'static str,
    pub price: f64,
    /// Apparel comes in sizes (`item_variant`), everything else is a single option.
    pub sized: bool,
    /// The listing the product is filed under (its PLP).
    pub list: usize,
    pub page: usize,
}

/// A product listing: a category page, a brand page, Sale or New.
#[derive(Debug)]
pub(crate) struct ProductList {
    pub id: String,
    pub name: String,
    pub page: usize,
    pub products: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Promotion {
    pub id: &'static str,
    pub name: &'static str,
    pub creative_name: &'static str,
    pub creative_slot: &'static str,
    pub product: usize,
}

#[derive(Debug)]
pub(crate) struct SearchTerm {
    pub term: &'static str,
    pub page: usize,
    pub products: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageKind {
    Home,
    List(usize),
    Product(usize),
    Search(usize),
    Signin,
    Cart,
    Checkout(CheckoutStep),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckoutStep {
    YourInfo,
    Payment,
    Review,
    Confirmation,
}

#[derive(Debug)]
pub(crate) struct Page {
    pub location: String,
    pub title: String,
    pub kind: PageKind,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub products: Vec<Product>,
    pub lists: Vec<ProductList>,
    pub promotions: Vec<Promotion>,
    pub searches: Vec<SearchTerm>,
    pub pages: Vec<Page>,
    pub home: usize,
    pub signin: usize,
    pub cart: usize,
    /// The New listing, where newsletters land.
    pub new_arrivals: usize,
    /// The Shop-by-Brand listings.
    pub brand_lists: Vec<usize>,
    /// your info, payment, review, confirmation.
    pub checkout: [usize; 4],
    popularity: Weighted,
    list_weights: Weighted,
    product_weights: Vec<f64>,
}

struct Family {
    category: &'static str,
    department: Option<&'static str>,
    brand: &'static str,
    price: f64,
    /// `{}` is replaced by each variant; no variants means one product.
    name: &'static str,
    variants: &'static [&'static str],
}

const fn fam(
    category: &'static str,
    department: Option<&'static str>,
    brand: &'static str,
    price: f64,
    name: &'static str,
    variants: &'static [&'static str],
) -> Family {
    Family {
        category,
        department,
        brand,
        price,
        name,
        variants,
    }
}

const G: &str = "Google";
const YT: &str = "YouTube";
const AND: &str = "Android";
const MENS: Option<&str> = Some("Mens");
const WOMENS: Option<&str> = Some("Womens");
const KIDS: Option<&str> = Some("Kids");
const HATS: Option<&str> = Some("Hats");

#[rustfmt::skip]
static FAMILIES: &[Family] = &[
    fam("Apparel", MENS, G, 19.99, "Google {} Speckled Tee", &["Navy", "Red", "Black", "Green"]),
    fam("Apparel", MENS, G, 22.99, "Google {} Tonal Tee", &["Black", "Blue", "Grey"]),
    fam("Apparel", MENS, G, 21.99, "Google Unisex Eco Tee {}", &["Black", "White", "Navy"]),
    fam("Apparel", MENS, G, 44.99, "Google Crewneck Sweatshirt {}", &["Navy", "Grey", "Green"]),
    fam("Apparel", MENS, G, 59.99, "Google Zip Hoodie {}", &["Black", "Navy", "Charcoal"]),
    fam("Apparel", MENS, G, 64.99, "Google Mens Tech Fleece {}", &["Grey", "Black"]),
    fam("Apparel", MENS, G, 64.99, "Google Sherpa Zip Hoodie Navy", &[]),
    fam("Apparel", MENS, G, 49.99, "Super G Unisex Joggers", &[]),
    fam("Apparel", MENS, G, 24.99, "Google Cloud Unisex Tee", &[]),
    fam("Apparel", MENS, G, 27.99, "Google Long Sleeve Tee {}", &["Black", "White"]),
    fam("Apparel", MENS, G, 24.99, "Google Pride Eco Tee Black", &[]),
    fam("Apparel", MENS, G, 89.99, "Google Puff Jacket Black", &[]),
    fam("Apparel", MENS, G, 79.99, "Google Softshell Jacket Navy", &[]),
    fam("Apparel", MENS, YT, 21.99, "YouTube Icon Tee {}", &["Black", "Grey", "White"]),
    fam("Apparel", MENS, YT, 44.99, "YouTube Crewneck Sweatshirt Black", &[]),
    fam("Apparel", MENS, YT, 54.99, "YouTube Hoodie Black", &[]),
    fam("Apparel", MENS, AND, 19.99, "Android Iconic Tee {}", &["Green", "Black"]),
    fam("Apparel", MENS, AND, 39.99, "Android Iconic Crewneck", &[]),
    fam("Apparel", WOMENS, G, 64.99, "Google Womens Tech Fleece {}", &["Grey", "Navy"]),
    fam("Apparel", WOMENS, G, 31.99, "Google Womens Striped LS Tee", &[]),
    fam("Apparel", WOMENS, G, 21.99, "Google Womens Eco Tee {}", &["Black", "Green", "Lavender"]),
    fam("Apparel", WOMENS, G, 44.99, "Google Womens Crewneck Sweatshirt {}", &["Heather", "Navy"]),
    fam("Apparel", WOMENS, G, 54.99, "Google Womens Zip Hoodie Green", &[]),
    fam("Apparel", WOMENS, G, 34.99, "Google Womens Leggings Black", &[]),
    fam("Apparel", WOMENS, YT, 21.99, "YouTube Womens Icon Tee Red", &[]),
    fam("Apparel", KIDS, G, 29.99, "Google Kids Sweatshirt {}", &["Navy", "Red"]),
    fam("Apparel", KIDS, G, 16.99, "Google Toddler Tee {}", &["Blue", "Pink", "Green"]),
    fam("Apparel", KIDS, G, 24.99, "Google Kids Hoodie Charcoal", &[]),
    fam("Apparel", KIDS, AND, 19.99, "Android Pocket Onesie Green", &[]),
    fam("Apparel", KIDS, YT, 18.99, "YouTube Kids Tee Red", &[]),
    fam("Apparel", HATS, G, 19.99, "Google Heathered Pom Beanie", &[]),
    fam("Apparel", HATS, G, 19.99, "Google Striped Knit Beanie", &[]),
    fam("Apparel", HATS, G, 22.99, "Google Twill Cap {}", &["Navy", "Black", "Green"]),
    fam("Apparel", HATS, G, 24.99, "Google Vintage Trucker Hat", &[]),
    fam("Apparel", HATS, YT, 24.99, "YouTube Twill Cap Black", &[]),
    fam("Apparel", HATS, AND, 24.99, "Android Iconic Hat Green", &[]),
    fam("Drinkware", None, G, 22.99, "Google 24oz Ring Bottle {}", &["Blue", "Red", "Green", "Black"]),
    fam("Drinkware", None, G, 28.99, "Google Leather Strap Hydro Bottle", &[]),
    fam("Drinkware", None, YT, 28.99, "YouTube Leather Strap Hydro Bottle", &[]),
    fam("Drinkware", None, G, 12.99, "Google Classic Mug {}", &["White", "Black"]),
    fam("Drinkware", None, G, 24.99, "Google Cork Base Tumbler", &[]),
    fam("Drinkware", None, G, 14.99, "Google Pride Mug", &[]),
    fam("Drinkware", None, AND, 14.99, "Android Iconic Mug", &[]),
    fam("Drinkware", None, G, 24.99, "Google 17oz Stainless Steel Sport Bottle", &[]),
    fam("Drinkware", None, G, 16.99, "Google Camp Mug {}", &["Ivory", "Gray"]),
    fam("Drinkware", None, G, 29.99, "Google Chrome Dino Light Up Water Bottle", &[]),
    fam("Drinkware", None, G, 18.99, "Google 20oz Tumbler {}", &["Navy", "Red"]),
    fam("Drinkware", None, YT, 14.99, "YouTube Play Mug", &[]),
    fam("Drinkware", None, G, 9.99, "Google Reusable Straw Set", &[]),
    fam("Bags", None, AND, 59.99, "Android Iconic Backpack", &[]),
    fam("Bags", None, G, 79.99, "Google Utility Backpack", &[]),
    fam("Bags", None, G, 12.99, "Google Cotton Tote", &[]),
    fam("Bags", None, G, 89.99, "Google Laptop Tech Backpack", &[]),
    fam("Bags", None, YT, 14.99, "YouTube Tote", &[]),
    fam("Bags", None, G, 99.99, "Google Incognito Techpack V2", &[]),
    fam("Bags", None, G, 24.99, "Google Packable Bag Black", &[]),
    fam("Bags", None, G, 49.99, "Google Recycled Backpack {}", &["Black", "Grey"]),
    fam("Bags", None, G, 64.99, "Google Duffel Bag Black", &[]),
    fam("Bags", None, G, 9.99, "Google Zip Pouch", &[]),
    fam("Bags", None, G, 17.99, "Google Canvas Tote {}", &["Natural", "Navy"]),
    fam("Bags", None, G, 34.99, "Google Crossbody Bag Black", &[]),
    fam("Office", None, G, 2.99, "Google Decal", &[]),
    fam("Office", None, YT, 2.99, "YouTube Decal", &[]),
    fam("Office", None, AND, 2.99, "Android Decal", &[]),
    fam("Office", None, G, 9.99, "Google Mouse Pad Black", &[]),
    fam("Office", None, G, 14.99, "Google Desk Calendar 2021", &[]),
    fam("Office", None, G, 24.99, "Google Laptop Sleeve 13 inch", &[]),
    fam("Office", None, G, 6.99, "Google Badge Holder", &[]),
    fam("Office", None, G, 12.99, "Google Desk Organizer", &[]),
    fam("Office", None, G, 19.99, "Google Wooden Phone Stand", &[]),
    fam("Office", None, G, 7.99, "Google Cable Organizer", &[]),
    fam("Office", None, G, 4.99, "Google Magnet Set", &[]),
    fam("Stationery", None, G, 5.99, "Google Metallic Notebook Set", &[]),
    fam("Stationery", None, G, 9.99, "Google Spiral Notebook", &[]),
    fam("Stationery", None, G, 2.99, "Google Ballpoint Pen {}", &["Black", "Blue", "Red"]),
    fam("Stationery", None, G, 8.99, "Google Confetti Slim Task Pad", &[]),
    fam("Stationery", None, G, 7.99, "Google Recycled Memo Pad", &[]),
    fam("Stationery", None, G, 3.99, "Google Bamboo Pen", &[]),
    fam("Stationery", None, YT, 11.99, "YouTube Notebook", &[]),
    fam("Stationery", None, AND, 11.99, "Android Journal", &[]),
    fam("Stationery", None, G, 4.99, "Google Sticky Notes", &[]),
    fam("Stationery", None, G, 6.99, "Google Highlighter Set", &[]),
    fam("Stationery", None, G, 14.99, "Google Leather Journal Black", &[]),
    fam("Lifestyle", None, G, 14.99, "Google Pet Bandana", &[]),
    fam("Lifestyle", None, G, 39.99, "Google Picnic Blanket", &[]),
    fam("Lifestyle", None, G, 34.99, "Google Yoga Mat", &[]),
    fam("Lifestyle", None, G, 29.99, "Google Umbrella Black", &[]),
    fam("Lifestyle", None, G, 19.99, "Chrome Dino Plush", &[]),
    fam("Lifestyle", None, AND, 16.99, "Android Plush Toy", &[]),
    fam("Lifestyle", None, G, 12.99, "Google Dog Frisbee", &[]),
    fam("Lifestyle", None, G, 9.99, "Google Playing Cards", &[]),
    fam("Lifestyle", None, G, 19.99, "Google Puzzle 500 Pieces", &[]),
    fam("Lifestyle", None, G, 24.99, "Google Holiday Ornament Set", &[]),
    fam("Lifestyle", None, YT, 19.99, "YouTube Play Button Plush", &[]),
    fam("Lifestyle", None, G, 4.99, "Google Lip Balm", &[]),
    fam("Electronics", None, G, 39.99, "Google Wireless Charging Pad", &[]),
    fam("Electronics", None, G, 29.99, "Google Power Bank 5000mAh", &[]),
    fam("Electronics", None, G, 49.99, "Google Bluetooth Speaker", &[]),
    fam("Electronics", None, G, 9.99, "Google Phone Grip", &[]),
    fam("Electronics", None, G, 14.99, "Google USB-C Cable", &[]),
    fam("Electronics", None, G, 6.99, "Google Webcam Cover", &[]),
    fam("Electronics", None, G, 39.99, "Google Laptop Stand", &[]),
    fam("Electronics", None, YT, 29.99, "YouTube Ring Light", &[]),
    fam("Electronics", None, AND, 12.99, "Android Phone Case", &[]),
    fam("Accessories", None, G, 6.99, "Google Keychain", &[]),
    fam("Accessories", None, G, 5.99, "Google Lanyard {}", &["Black", "Blue"]),
    fam("Accessories", None, G, 11.99, "Google Sunglasses", &[]),
    fam("Accessories", None, G, 4.99, "Google Sticker Sheet", &[]),
    fam("Accessories", None, AND, 12.99, "Android Iconic Sock", &[]),
    fam("Accessories", None, G, 7.99, "Google Enamel Pin", &[]),
    fam("Accessories", None, YT, 7.99, "YouTube Enamel Pin", &[]),
    fam("Accessories", None, G, 9.99, "Google Face Mask {}", &["Black", "Navy", "Grey"]),
    fam("Accessories", None, G, 12.99, "Google Crew Socks {}", &["Navy", "Grey"]),
    fam("Accessories", None, G, 9.99, "Google Phone Wallet", &[]),
    fam("Campus Collection", None, G, 21.99, "Google {} Campus Tee", CAMPUSES),
    fam("Campus Collection", None, G, 14.99, "Google {} Campus Mug", CAMPUSES),
    fam("Campus Collection", None, G, 3.99, "Google {} Campus Sticker", CAMPUSES),
    fam("Campus Collection", None, G, 59.99, "Google NYC Campus Zip Hoodie", &[]),
    fam("Campus Collection", None, G, 16.99, "Google LA Campus Tote", &[]),
    fam("Campus Collection", None, G, 24.99, "Google Campus Bike Tee Navy", &[]),
];

const CAMPUSES: &[&str] = &[
    "Seattle",
    "NYC",
    "Boulder",
    "Austin",
    "LA",
    "Chicago",
    "Sunnyvale",
    "Cambridge",
    "Kirkland",
    "Pittsburgh",
    "Atlanta",
    "Ann Arbor",
];

/// Categories in menu order, with how much of the browsing each draws.
const CATEGORIES: &[(&str, &[&str], f64)] = &[
    ("Apparel", &["Mens", "Womens", "Kids", "Hats"], 6.0),
    ("Drinkware", &[], 5.0),
    ("Bags", &[], 4.0),
    ("Office", &[], 2.5),
    ("Stationery", &[], 2.0),
    ("Lifestyle", &[], 3.0),
    ("Electronics", &[], 2.0),
    ("Accessories", &[], 2.5),
    ("Campus Collection", &[], 3.0),
];
const DEPARTMENT_WEIGHTS: &[(&str, f64)] = &[
    ("Mens", 10.0),
    ("Womens", 5.0),
    ("Kids", 2.0),
    ("Hats", 3.0),
];
const BRANDS: &[(&str, f64)] = &[(G, 2.0), (YT, 3.0), (AND, 2.0)];

/// Products with a following: they lead item dimensions the way a few bestsellers do.
const BESTSELLERS: &[&str] = &[
    "Google Navy Speckled Tee",
    "Google Red Speckled Tee",
    "YouTube Icon Tee Black",
    "Google 24oz Ring Bottle Blue",
    "Android Iconic Backpack",
    "Google Decal",
    "Google Zip Hoodie Black",
    "Google Crewneck Sweatshirt Navy",
    "Google Heathered Pom Beanie",
    "Google Campus Bike Tee Navy",
    "Chrome Dino Plush",
    "Google Holiday Ornament Set",
];

const PROMOTIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "PROMO_HOLIDAY_2020",
        "Holiday Gift Guide",
        "holiday_gift_guide_banner",
        "Slot 1",
        "Google Holiday Ornament Set",
    ),
    (
        "PROMO_SPECKLED",
        "New Speckled Tees",
        "speckled_tee_hero",
        "Slot 2",
        "Google Navy Speckled Tee",
    ),
    (
        "PROMO_YOUTUBE",
        "Shop YouTube",
        "youtube_icon_tee",
        "Slot 3",
        "YouTube Icon Tee Black",
    ),
    (
        "PROMO_ANDROID",
        "Android Collection",
        "android_iconic_backpack",
        "Slot 4",
        "Android Iconic Backpack",
    ),
    (
        "PROMO_HYDRATE",
        "Stay Hydrated",
        "ring_bottle_blue",
        "Slot 5",
        "Google 24oz Ring Bottle Blue",
    ),
    (
        "PROMO_CAMPUS",
        "Campus Collection",
        "campus_seattle_tee",
        "Slot 6",
        "Google Seattle Campus Tee",
    ),
];

const SEARCH_TERMS: &[&str] = &[
    "hoodie",
    "bottle",
    "backpack",
    "youtube",
    "android",
    "mug",
    "sticker",
    "socks",
    "beanie",
    "tee",
    "sweatshirt",
    "pen",
    "notebook",
    "dino",
    "lanyard",
    "cloud",
    "campus",
    "tumbler",
    "jacket",
    "kids",
    "mask",
    "tote",
    "decal",
    "fleece",
    "charging",
    "bag",
    "speckled",
    "pride",
    "onesie",
    "cap",
];

/// `Google Navy Speckled Tee` -> `Google+Navy+Speckled+Tee`, as the store's URLs spell names.
fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn redesign_url(path: &[&str]) -> String {
    let segments: Vec<String> = path.iter().map(|s| url_segment(s)).collect();
    format!("{STORE_URL}/Google+Redesign/{}", segments.join("/"))
}

fn list_id(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "_")
}

impl Catalog {
    pub(crate) fn new() -> Catalog {
        let mut rng = stream(derive(CATALOG_SEED, Purpose::Catalog, 0));
        let mut pages = Vec::new();
        let mut add_page = |location: String, title: String, kind: PageKind| {
            pages.push(Page {
                location,
                title,
                kind,
            });
            pages.len() - 1
        };
        let home = add_page(format!("{STORE_URL}/"), "Home".into(), PageKind::Home);

        // Listing pages: categories, apparel departments, brands, Sale and New.
        let mut lists: Vec<ProductList> = Vec::new();
        let mut list_weights = Vec::new();
        let mut new_list =
            |id: String, name: String, location: String, title: String, weight: f64| {
                let page = add_page(location, title, PageKind::List(lists.len()));
                lists.push(ProductList {
                    id,
                    name,
                    page,
                    products: Vec::new(),
                });
                list_weights.push(weight);
                lists.len() - 1
            };
        let mut category_lists = Vec::new();
        let mut department_lists = Vec::new();
        for (category, departments, weight) in CATEGORIES {
            let root = new_list(
                list_id(category),
                (*category).to_owned(),
                redesign_url(&[category]),
                format!("{category} | {SITE}"),
                *weight,
            );
            category_lists.push((*category, root));
            for department in *departments {
                let weight = DEPARTMENT_WEIGHTS
                    .iter()
                    .find(|(d, _)| d == department)
                    .map_or(1.0, |(_, w)| *w);
                let list = new_list(
                    format!("{}_{}", list_id(category), list_id(department)),
                    (*department).to_owned(),
                    redesign_url(&[category, department]),
                    format!("{department} | {category} | {SITE}"),
                    weight,
                );
                department_lists.push((*category, *department, list));
            }
        }
        let mut brand_lists = Vec::new();
        for (brand, weight) in BRANDS {
            let list = new_list(
                format!("brand_{}", list_id(brand)),
                (*brand).to_owned(),
                redesign_url(&["Shop by Brand", brand]),
                format!("{brand} | Shop by Brand | {SITE}"),
                *weight,
            );
            brand_lists.push((*brand, list));
        }
        let sale = new_list(
            "sale".into(),
            "Sale".into(),
            redesign_url(&["Sale"]),
            format!("Sale | {SITE}"),
            4.0,
        );
        let new_arrivals = new_list(
            "new".into(),
            "New".into(),
            redesign_url(&["New"]),
            format!("New | {SITE}"),
            4.0,
        );

        // Products, each on its own page under its category's URL.
        let mut products = Vec::new();
        let mut product_weights = Vec::new();
        let mut ids = HashSet::new();
        for family in FAMILIES {
            let names: Vec<String> = if family.variants.is_empty() {
                vec![family.name.to_owned()]
            } else {
                family
                    .variants
                    .iter()
                    .map(|v| family.name.replace("{}", v))
                    .collect()
            };
            for name in names {
                let list = match family.department {
                    Some(d) => department_lists
                        .iter()
                        .find(|(c, dd, _)| *c == family.category && *dd == d)
                        .map(|x| x.2),
                    None => category_lists
                        .iter()
                        .find(|(c, _)| *c == family.category)
                        .map(|x| x.1),
                }
                .unwrap_or(0);
                let index = products.len();
                let page = add_page(
                    redesign_url(&[family.category, &name]),
                    name.clone(),
                    PageKind::Product(index),
                );
                let id = loop {
                    let id = item_id(&mut rng, family.brand, family.category);
                    if ids.insert(id.clone()) {
                        break id;
                    }
                };
                let bestseller = if BESTSELLERS.contains(&name.as_str()) {
                    4.0
                } else {
                    1.0
                };
                product_weights.push(
                    bestseller * lognormal(&mut rng, 1.0, 0.8) * (25.0 / family.price).sqrt(),
                );
                products.push(Product {
                    id,
                    name,
                    brand: family.brand,
                    category: family.category,
                    category2: family.department.unwrap_or(crate::audience::NOT_SET),
                    price: family.price,
                    sized: family.category == "Apparel" && family.department != HATS,
                    list,
                    page,
                });
            }
        }
        for (index, product) in products.iter().enumerate() {
            lists[product.list].products.push(index);
            if let Some((_, root)) = category_lists.iter().find(|(c, _)| *c == product.category)
                && *root != product.list
            {
                lists[*root].products.push(index);
            }
            if let Some((_, brand)) = brand_lists.iter().find(|(b, _)| *b == product.brand) {
                lists[*brand].products.push(index);
            }
            if chance(&mut rng, 0.12) {
                lists[sale].products.push(index);
            }
            if chance(&mut rng, 0.1) {
                lists[new_arrivals].products.push(index);
            }
        }

        let by_name = |name: &str| products.iter().position(|p| p.name == name);
        let promotions = PROMOTIONS
            .iter()
            .filter_map(|(id, name, creative_name, creative_slot, product)| {
                Some(Promotion {
                    id,
                    name,
                    creative_name,
                    creative_slot,
                    product: by_name(product)?,
                })
            })
            .collect();

        let mut searches = Vec::new();
        for term in SEARCH_TERMS {
            let matching: Vec<usize> = products
                .iter()
                .enumerate()
                .filter(|(_, p)| p.name.to_ascii_lowercase().contains(term))
                .map(|(i, _)| i)
                .collect();
            let page = add_page(
                format!("{STORE_URL}/search?q={}", url_segment(term)),
                format!("Store search results | {SITE}"),
                PageKind::Search(searches.len()),
            );
            searches.push(SearchTerm {
                term,
                page,
                products: matching,
            });
        }

        let signin = add_page(
            format!("{STORE_URL}/signin.html"),
            format!("The {SITE} - Log In"),
            PageKind::Signin,
        );
        let cart = add_page(
            format!("{STORE_URL}/basket.html"),
            "Shopping Cart".into(),
            PageKind::Cart,
        );
        let checkout = [
            add_page(
                format!("{STORE_URL}/yourinfo.html"),
                "Checkout Your Information".into(),
                PageKind::Checkout(CheckoutStep::YourInfo),
            ),
            add_page(
                format!("{STORE_URL}/payment.html"),
                "Payment Method".into(),
                PageKind::Checkout(CheckoutStep::Payment),
            ),
            add_page(
                format!("{STORE_URL}/revieworder.html"),
                "Checkout Review".into(),
                PageKind::Checkout(CheckoutStep::Review),
            ),
            add_page(
                format!("{STORE_URL}/ordercompleted.html"),
                "Checkout Confirmation".into(),
                PageKind::Checkout(CheckoutStep::Confirmation),
            ),
        ];

        Catalog {
            popularity: Weighted::new(product_weights.iter().copied()),
            list_weights: Weighted::new(list_weights),
            product_weights,
            products,
            lists,
            promotions,
            searches,
            pages,
            home,
            signin,
            cart,
            new_arrivals,
            brand_lists: brand_lists.iter().map(|(_, list)| *list).collect(),
            checkout,
        }
    }

    /// A product drawn by popularity.
    pub(crate) fn popular_product(&self, rng: &mut impl Rng) -> usize {
        self.popularity.pick(rng)
    }

    /// A product of one listing, drawn by popularity within it.
    pub(crate) fn product_in(&self, rng: &mut impl Rng, products: &[usize]) -> Option<usize> {
        let weights = Weighted::new(products.iter().map(|&p| self.product_weights[p]));
        (!products.is_empty()).then(|| products[weights.pick(rng)])
    }

    /// A listing page drawn by how much browsing it draws.
    pub(crate) fn popular_list(&self, rng: &mut impl Rng) -> usize {
        self.list_weights.pick(rng)
    }

    pub(crate) fn search_term(&self, rng: &mut impl Rng) -> usize {
        rng.random_range(0..self.searches.len().max(1))
    }
}

/// Item ids in the two shapes of the export: numeric ("9180753") and SKU ("GGOEGXXX0906").
fn item_id(rng: &mut impl Rng, brand: &str, category: &str) -> String {
    if chance(rng, 0.55) {
        return rng.random_range(9_100_000..9_200_000u32).to_string();
    }
    let brand_code = match brand {
        YT => 'Y',
        AND => 'A',
        _ => 'G',
    };
    let category_code = match category {
        "Apparel" => "AA",
        "Drinkware" => "DH",
        "Bags" => "BB",
        "Office" => "OF",
        "Stationery" => "OC",
        "Lifestyle" => "HP",
        "Electronics" => "ET",
        "Accessories" => "AC",
        _ => "XX",
    };
    let category_code = if chance(rng, 0.4) {
        "XX"
    } else {
        category_code
    };
    format!(
        "GGOE{brand_code}{category_code}X{:04}",
        rng.random_range(100..1000u32)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_looks_like_the_merch_store() {
        let c = Catalog::new();
        assert!(
            (150..=300).contains(&c.products.len()),
            "{}",
            c.products.len()
        );
        let tee = c
            .products
            .iter()
            .find(|p| p.name == "Google Navy Speckled Tee")
            .unwrap();
        assert_eq!(tee.category, "Apparel");
        assert_eq!(tee.category2, "Mens");
        assert_eq!(
            c.pages[tee.page].location,
            "https://shop.googlemerchandisestore.com/Google+Redesign/Apparel/Google+Navy+Speckled+Tee"
        );
        assert_eq!(
            c.pages[c.lists[tee.list].page].location,
            "https://shop.googlemerchandisestore.com/Google+Redesign/Apparel/Mens"
        );
        assert_eq!(
            c.pages[c.lists[tee.list].page].title,
            "Mens | Apparel | Google Merchandise Store"
        );
        for name in [
            "Google Red Speckled Tee",
            "Google 24oz Ring Bottle Blue",
            "Google Decal",
            "YouTube Icon Tee Black",
            "Android Iconic Backpack",
        ] {
            assert!(c.products.iter().any(|p| p.name == name), "{name}");
        }
        let ids: HashSet<&str> = c.products.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), c.products.len(), "item ids are unique");
        assert!(c.products.iter().all(|p| p.price > 0.0));
        assert_eq!(
            c.promotions.len(),
            PROMOTIONS.len(),
            "every promotion names a product"
        );
        assert!(
            c.searches.iter().all(|s| !s.products.is_empty()),
            "every search term finds something"
        );
        assert!(
            c.lists.iter().all(|l| !l.products.is_empty()),
            "no empty listing"
        );
        let locations: HashSet<&str> = c.pages.iter().map(|p| p.location.as_str()).collect();
        assert_eq!(locations.len(), c.pages.len(), "page URLs are unique");
        assert!(c.pages.iter().any(|p| {
            p.location
                .ends_with("/Google+Redesign/Shop+by+Brand/YouTube")
        }));
    }

    #[test]
    fn the_catalogue_does_not_depend_on_anything() {
        let (a, b) = (Catalog::new(), Catalog::new());
        let ids = |c: &Catalog| c.products.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
    }

    #[test]
    fn url_segments_escape_what_urls_cannot_hold() {
        assert_eq!(
            url_segment("Google 24oz Ring Bottle Blue"),
            "Google+24oz+Ring+Bottle+Blue"
        );
        assert_eq!(url_segment("a/b&c"), "a%2Fb%26c");
    }
}
