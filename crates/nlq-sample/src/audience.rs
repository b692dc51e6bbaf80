//! Who visits: countries with their regions and cities, devices and browsers, and the
//! channels people arrive from. Shares follow the public sample's (US ~40%, desktop ~58%,
//! google/organic and direct leading), so group-bys over these columns look familiar.

use rand::Rng;

use crate::random::{chance, pick};

/// Where a user is. Constant per user, as `geo` is in the export.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geo {
    pub country: &'static Country,
    pub region: &'static str,
    pub city: &'static str,
    /// Sales tax on orders shipped there (US states only).
    pub tax_rate: f64,
    /// UTC offset in hours, for the time-of-day rhythm.
    pub utc_offset: f64,
}

#[derive(Debug)]
pub(crate) struct Country {
    pub name: &'static str,
    pub continent: &'static str,
    pub sub_continent: &'static str,
    weight: f64,
    utc_offset: f64,
    languages: &'static [(&'static str, f64)],
    regions: &'static [Region],
    /// How much more (or less) often a session here ends in an order than on average.
    pub conversion: f64,
}

#[derive(Debug)]
struct Region {
    name: &'static str,
    weight: f64,
    utc_offset: Option<f64>,
    tax_rate: f64,
    cities: &'static [&'static str],
}

const fn region(name: &'static str, weight: f64, cities: &'static [&'static str]) -> Region {
    Region {
        name,
        weight,
        utc_offset: None,
        tax_rate: 0.0,
        cities,
    }
}

const fn state(
    name: &'static str,
    weight: f64,
    utc_offset: f64,
    tax_rate: f64,
    cities: &'static [&'static str],
) -> Region {
    Region {
        name,
        weight,
        utc_offset: Some(utc_offset),
        tax_rate,
        cities,
    }
}

#[allow(clippy::too_many_arguments)]
const fn country(
    name: &'static str,
    continent: &'static str,
    sub_continent: &'static str,
    weight: f64,
    utc_offset: f64,
    conversion: f64,
    languages: &'static [(&'static str, f64)],
    regions: &'static [Region],
) -> Country {
    Country {
        name,
        continent,
        sub_continent,
        weight,
        utc_offset,
        languages,
        regions,
        conversion,
    }
}

pub(crate) const NOT_SET: &str = "(not set)";
pub(crate) const UNITED_STATES: &str = "United States";

const EN: &[(&str, f64)] = &[("en-us", 0.8), ("en-gb", 0.2)];

#[rustfmt::skip]
static COUNTRIES: &[Country] = &[
    country("United States", "Americas", "Northern America", 40.0, -5.0, 1.3, &[("en-us", 0.93), ("es-us", 0.02), ("es-419", 0.02), ("zh-cn", 0.015), ("en-gb", 0.015)], &[
        state("California", 22.0, -8.0, 0.0725, &["Mountain View", "San Jose", "Los Angeles", "San Francisco", "Sunnyvale", "San Diego", "Palo Alto", "Santa Clara", "Irvine"]),
        state("New York", 10.0, -5.0, 0.04, &["New York", "Buffalo", "Rochester"]),
        state("Texas", 8.0, -6.0, 0.0625, &["Austin", "Houston", "Dallas", "San Antonio"]),
        state("Washington", 5.0, -8.0, 0.065, &["Seattle", "Kirkland", "Bellevue"]),
        state("Illinois", 5.0, -6.0, 0.0625, &["Chicago", "Naperville"]),
        state("Florida", 4.0, -5.0, 0.06, &["Miami", "Orlando", "Tampa"]),
        state("Massachusetts", 3.0, -5.0, 0.0625, &["Boston", "Cambridge"]),
        state("Georgia", 3.0, -5.0, 0.04, &["Atlanta"]),
        state("Pennsylvania", 3.0, -5.0, 0.06, &["Philadelphia", "Pittsburgh"]),
        state("Colorado", 2.5, -7.0, 0.029, &["Denver", "Boulder"]),
        state("Virginia", 2.5, -5.0, 0.053, &["Ashburn", "Arlington", "Richmond"]),
        state("North Carolina", 2.5, -5.0, 0.0475, &["Charlotte", "Raleigh"]),
        state("Ohio", 2.5, -5.0, 0.0575, &["Columbus", "Cleveland"]),
        state("New Jersey", 2.5, -5.0, 0.06625, &["Newark", "Jersey City"]),
        state("Michigan", 2.0, -5.0, 0.06, &["Detroit", "Ann Arbor"]),
        state("Arizona", 2.0, -7.0, 0.056, &["Phoenix", "Scottsdale"]),
        state("Oregon", 1.5, -8.0, 0.0, &["Portland"]),
        state("Minnesota", 1.5, -6.0, 0.06875, &["Minneapolis"]),
        state("Missouri", 1.2, -6.0, 0.04225, &["Kansas City", "St. Louis"]),
        state("Utah", 1.0, -7.0, 0.0485, &["Salt Lake City"]),
    ]),
    country("India", "Asia", "Southern Asia", 9.5, 5.5, 0.35, &[("en-us", 0.62), ("en-gb", 0.26), ("en-in", 0.08), ("hi-in", 0.04)], &[
        region("Karnataka", 5.0, &["Bengaluru"]),
        region("Maharashtra", 5.0, &["Mumbai", "Pune"]),
        region("Delhi", 4.0, &["New Delhi"]),
        region("Telangana", 3.0, &["Hyderabad"]),
        region("Tamil Nadu", 3.0, &["Chennai"]),
        region("Uttar Pradesh", 2.0, &["Noida", "Lucknow"]),
        region("Haryana", 1.5, &["Gurugram"]),
        region("West Bengal", 1.5, &["Kolkata"]),
        region("Gujarat", 1.0, &["Ahmedabad"]),
    ]),
    country("Canada", "Americas", "Northern America", 7.5, -5.0, 1.0, &[("en-us", 0.62), ("en-ca", 0.2), ("fr-ca", 0.12), ("en-gb", 0.06)], &[
        region("Ontario", 6.0, &["Toronto", "Ottawa", "Mississauga", "Waterloo"]),
        region("Quebec", 2.5, &["Montreal", "Quebec City"]),
        state("British Columbia", 2.5, -8.0, 0.0, &["Vancouver", "Burnaby"]),
        state("Alberta", 1.5, -7.0, 0.0, &["Calgary", "Edmonton"]),
    ]),
    country("United Kingdom", "Europe", "Northern Europe", 3.8, 0.0, 0.8, &[("en-gb", 0.75), ("en-us", 0.25)], &[
        region("England", 8.0, &["London", "Manchester", "Birmingham", "Leeds"]),
        region("Scotland", 1.0, &["Edinburgh", "Glasgow"]),
        region("Wales", 0.5, &["Cardiff"]),
        region("Northern Ireland", 0.3, &["Belfast"]),
    ]),
    country("South Korea", "Asia", "Eastern Asia", 3.0, 9.0, 0.6, &[("ko-kr", 0.88), ("en-us", 0.12)], &[
        region("Seoul", 6.0, &["Seoul"]),
        region("Gyeonggi-do", 3.0, &["Seongnam-si", "Suwon-si"]),
        region("Busan", 1.0, &["Busan"]),
        region("Incheon", 0.8, &["Incheon"]),
    ]),
    country("France", "Europe", "Western Europe", 2.6, 1.0, 0.7, &[("fr-fr", 0.82), ("fr", 0.05), ("en-us", 0.13)], &[
        region("Île-de-France", 5.0, &["Paris"]),
        region("Auvergne-Rhône-Alpes", 1.5, &["Lyon", "Grenoble"]),
        region("Provence-Alpes-Côte d'Azur", 1.0, &["Marseille", "Nice"]),
        region("Occitanie", 1.0, &["Toulouse", "Montpellier"]),
    ]),
    country("Japan", "Asia", "Eastern Asia", 2.4, 9.0, 0.7, &[("ja-jp", 0.88), ("en-us", 0.12)], &[
        region("Tokyo", 6.0, &["Minato City", "Shibuya City", "Shinjuku City"]),
        region("Osaka", 2.0, &["Osaka"]),
        region("Kanagawa", 1.5, &["Yokohama"]),
        region("Aichi", 1.0, &["Nagoya"]),
        region("Fukuoka", 0.6, &["Fukuoka"]),
    ]),
    country("Germany", "Europe", "Western Europe", 2.2, 1.0, 0.8, &[("de-de", 0.8), ("en-us", 0.2)], &[
        region("Berlin", 2.0, &["Berlin"]),
        region("Bavaria", 2.0, &["Munich", "Nuremberg"]),
        region("Hamburg", 1.2, &["Hamburg"]),
        region("Hesse", 1.2, &["Frankfurt"]),
        region("North Rhine-Westphalia", 2.0, &["Cologne", "Dusseldorf"]),
        region("Baden-Württemberg", 1.2, &["Stuttgart"]),
    ]),
    country("Spain", "Europe", "Southern Europe", 2.0, 1.0, 0.6, &[("es-es", 0.85), ("en-us", 0.15)], &[
        region("Community of Madrid", 3.0, &["Madrid"]),
        region("Catalonia", 2.5, &["Barcelona"]),
        region("Valencian Community", 1.0, &["Valencia"]),
        region("Andalusia", 1.0, &["Seville", "Malaga"]),
    ]),
    country("Taiwan", "Asia", "Eastern Asia", 1.8, 8.0, 0.6, &[("zh-tw", 0.85), ("en-us", 0.15)], &[
        region("Taipei City", 4.0, &["Taipei"]),
        region("New Taipei City", 2.0, &["New Taipei"]),
        region("Taichung City", 1.0, &["Taichung"]),
        region("Kaohsiung City", 0.8, &["Kaohsiung"]),
    ]),
    country("Singapore", "Asia", "Southeast Asia", 1.6, 8.0, 0.8, &[("en-us", 0.55), ("en-gb", 0.3), ("zh-cn", 0.15)], &[
        region("Singapore", 1.0, &["Singapore"]),
    ]),
    country("Australia", "Oceania", "Australasia", 1.3, 10.0, 0.8, &[("en-au", 0.55), ("en-us", 0.3), ("en-gb", 0.15)], &[
        region("New South Wales", 3.0, &["Sydney"]),
        region("Victoria", 2.5, &["Melbourne"]),
        region("Queensland", 1.2, &["Brisbane"]),
        state("Western Australia", 0.8, 8.0, 0.0, &["Perth"]),
    ]),
    country("Netherlands", "Europe", "Western Europe", 1.2, 1.0, 0.7, &[("nl-nl", 0.7), ("en-us", 0.3)], &[
        region("North Holland", 2.0, &["Amsterdam"]),
        region("South Holland", 1.5, &["Rotterdam", "The Hague"]),
        region("Utrecht", 0.8, &["Utrecht"]),
    ]),
    country("Italy", "Europe", "Southern Europe", 1.2, 1.0, 0.6, &[("it-it", 0.85), ("en-us", 0.15)], &[
        region("Lombardy", 2.0, &["Milan"]),
        region("Lazio", 1.5, &["Rome"]),
        region("Piedmont", 0.8, &["Turin"]),
    ]),
    country("Brazil", "Americas", "South America", 1.1, -3.0, 0.4, &[("pt-br", 0.9), ("en-us", 0.1)], &[
        region("State of São Paulo", 3.0, &["São Paulo", "Campinas"]),
        region("State of Rio de Janeiro", 1.5, &["Rio de Janeiro"]),
        region("Minas Gerais", 1.0, &["Belo Horizonte"]),
    ]),
    country("Mexico", "Americas", "Central America", 1.0, -6.0, 0.5, &[("es-419", 0.6), ("es-mx", 0.3), ("en-us", 0.1)], &[
        region("Mexico City", 3.0, &["Mexico City"]),
        region("Jalisco", 1.0, &["Guadalajara"]),
        region("Nuevo Leon", 1.0, &["Monterrey"]),
    ]),
    country("Turkey", "Asia", "Western Asia", 0.9, 3.0, 0.4, &[("tr-tr", 0.8), ("en-us", 0.2)], &[
        region("Istanbul", 3.0, &["Istanbul"]),
        region("Ankara", 1.0, &["Ankara"]),
        region("Izmir", 0.6, &["Izmir"]),
    ]),
    country("China", "Asia", "Eastern Asia", 0.9, 8.0, 0.4, &[("zh-cn", 0.85), ("en-us", 0.15)], &[
        region("Beijing", 2.0, &["Beijing"]),
        region("Shanghai", 2.0, &["Shanghai"]),
        region("Guangdong", 2.0, &["Shenzhen", "Guangzhou"]),
    ]),
    country("Philippines", "Asia", "Southeast Asia", 0.8, 8.0, 0.4, EN, &[
        region("Metro Manila", 3.0, &["Manila", "Makati", "Quezon City"]),
        region("Cebu", 0.6, &["Cebu City"]),
    ]),
    country("Indonesia", "Asia", "Southeast Asia", 0.8, 7.0, 0.4, &[("id-id", 0.6), ("en-us", 0.4)], &[
        region("Jakarta", 3.0, &["Jakarta"]),
        region("West Java", 1.0, &["Bandung", "Bekasi"]),
    ]),
    country("Vietnam", "Asia", "Southeast Asia", 0.7, 7.0, 0.3, &[("vi-vn", 0.7), ("en-us", 0.3)], &[
        region("Ho Chi Minh City", 2.0, &["Ho Chi Minh City"]),
        region("Hanoi", 1.5, &["Hanoi"]),
    ]),
    country("Thailand", "Asia", "Southeast Asia", 0.6, 7.0, 0.4, &[("th-th", 0.7), ("en-us", 0.3)], &[
        region("Bangkok", 1.0, &["Bangkok"]),
    ]),
    country("Malaysia", "Asia", "Southeast Asia", 0.6, 8.0, 0.5, &[("en-us", 0.6), ("en-gb", 0.25), ("ms-my", 0.15)], &[
        region("Federal Territory of Kuala Lumpur", 2.0, &["Kuala Lumpur"]),
        region("Selangor", 1.5, &["Petaling Jaya", "Shah Alam"]),
    ]),
    country("Israel", "Asia", "Western Asia", 0.6, 2.0, 0.7, &[("he-il", 0.5), ("en-us", 0.5)], &[
        region("Tel Aviv District", 2.0, &["Tel Aviv-Yafo"]),
        region("Jerusalem District", 0.8, &["Jerusalem"]),
        region("Haifa District", 0.6, &["Haifa"]),
    ]),
    country("Ireland", "Europe", "Northern Europe", 0.5, 0.0, 0.8, &[("en-gb", 0.6), ("en-us", 0.4)], &[
        region("County Dublin", 2.0, &["Dublin"]),
        region("County Cork", 0.5, &["Cork"]),
    ]),
    country("Poland", "Europe", "Eastern Europe", 0.5, 1.0, 0.5, &[("pl-pl", 0.8), ("en-us", 0.2)], &[
        region("Masovian Voivodeship", 1.5, &["Warsaw"]),
        region("Lesser Poland Voivodeship", 0.8, &["Krakow"]),
    ]),
    country("Russia", "Europe", "Eastern Europe", 0.5, 3.0, 0.3, &[("ru-ru", 0.85), ("en-us", 0.15)], &[
        region("Moscow", 2.0, &["Moscow"]),
        region("Saint Petersburg", 1.0, &["Saint Petersburg"]),
    ]),
    country("Pakistan", "Asia", "Southern Asia", 0.5, 5.0, 0.2, EN, &[
        region("Punjab", 2.0, &["Lahore"]),
        region("Sindh", 1.5, &["Karachi"]),
        region("Islamabad Capital Territory", 1.0, &["Islamabad"]),
    ]),
    country("Hong Kong", "Asia", "Eastern Asia", 0.5, 8.0, 0.7, &[("zh-hk", 0.5), ("en-us", 0.5)], &[
        region("Hong Kong", 1.0, &["Hong Kong"]),
    ]),
    country("Sweden", "Europe", "Northern Europe", 0.4, 1.0, 0.7, &[("sv-se", 0.75), ("en-us", 0.25)], &[
        region("Stockholm County", 2.0, &["Stockholm"]),
        region("Vastra Gotaland County", 1.0, &["Gothenburg"]),
    ]),
    country("Switzerland", "Europe", "Western Europe", 0.4, 1.0, 0.8, &[("de-ch", 0.5), ("fr-ch", 0.25), ("en-us", 0.25)], &[
        region("Zurich", 2.0, &["Zurich"]),
        region("Geneva", 1.0, &["Geneva"]),
    ]),
    country("Belgium", "Europe", "Western Europe", 0.4, 1.0, 0.6, &[("nl-be", 0.45), ("fr-be", 0.35), ("en-us", 0.2)], &[
        region("Brussels", 1.5, &["Brussels"]),
        region("Flanders", 1.5, &["Antwerp", "Ghent"]),
    ]),
    country("Colombia", "Americas", "South America", 0.4, -5.0, 0.3, &[("es-419", 0.85), ("en-us", 0.15)], &[
        region("Bogota", 2.0, &["Bogota"]),
        region("Antioquia", 1.0, &["Medellin"]),
    ]),
    country("Ukraine", "Europe", "Eastern Europe", 0.35, 2.0, 0.3, &[("uk-ua", 0.5), ("ru-ru", 0.3), ("en-us", 0.2)], &[
        region("Kyiv city", 1.0, &["Kyiv"]),
    ]),
    country("Bangladesh", "Asia", "Southern Asia", 0.35, 6.0, 0.2, EN, &[region("Dhaka Division", 1.0, &["Dhaka"])]),
    country("South Africa", "Africa", "Southern Africa", 0.35, 2.0, 0.5, &[("en-us", 0.5), ("en-gb", 0.3), ("en-za", 0.2)], &[
        region("Gauteng", 2.0, &["Johannesburg", "Pretoria"]),
        region("Western Cape", 1.0, &["Cape Town"]),
    ]),
    country("Argentina", "Americas", "South America", 0.35, -3.0, 0.3, &[("es-419", 0.85), ("en-us", 0.15)], &[
        region("Buenos Aires", 1.0, &["Buenos Aires"]),
    ]),
    country("United Arab Emirates", "Asia", "Western Asia", 0.35, 4.0, 0.7, &[("en-us", 0.7), ("ar-ae", 0.3)], &[
        region("Dubai", 2.0, &["Dubai"]),
        region("Abu Dhabi", 0.8, &["Abu Dhabi"]),
    ]),
    country("Austria", "Europe", "Western Europe", 0.3, 1.0, 0.7, &[("de-at", 0.8), ("en-us", 0.2)], &[region("Vienna", 1.0, &["Vienna"])]),
    country("Denmark", "Europe", "Northern Europe", 0.3, 1.0, 0.7, &[("da-dk", 0.7), ("en-us", 0.3)], &[
        region("Capital Region of Denmark", 1.0, &["Copenhagen"]),
    ]),
    country("Nigeria", "Africa", "Western Africa", 0.3, 1.0, 0.2, EN, &[
        region("Lagos", 2.0, &["Lagos"]),
        region("Federal Capital Territory", 0.8, &["Abuja"]),
    ]),
    country("Egypt", "Africa", "Northern Africa", 0.3, 2.0, 0.2, &[("ar-eg", 0.5), ("en-us", 0.5)], &[
        region("Cairo Governorate", 1.0, &["Cairo"]),
    ]),
    country("Saudi Arabia", "Asia", "Western Asia", 0.3, 3.0, 0.5, &[("ar-sa", 0.5), ("en-us", 0.5)], &[
        region("Riyadh Province", 1.0, &["Riyadh"]),
    ]),
    country("Norway", "Europe", "Northern Europe", 0.25, 1.0, 0.7, &[("nb-no", 0.7), ("en-us", 0.3)], &[region("Oslo", 1.0, &["Oslo"])]),
    country("Chile", "Americas", "South America", 0.25, -3.0, 0.3, &[("es-419", 0.85), ("en-us", 0.15)], &[
        region("Santiago Metropolitan Region", 1.0, &["Santiago"]),
    ]),
    country("Peru", "Americas", "South America", 0.25, -5.0, 0.3, &[("es-419", 0.85), ("en-us", 0.15)], &[
        region("Lima Region", 1.0, &["Lima"]),
    ]),
    country("New Zealand", "Oceania", "Australasia", 0.25, 13.0, 0.7, &[("en-nz", 0.4), ("en-us", 0.4), ("en-gb", 0.2)], &[
        region("Auckland", 2.0, &["Auckland"]),
        region("Wellington", 1.0, &["Wellington"]),
    ]),
    country("Romania", "Europe", "Eastern Europe", 0.25, 2.0, 0.3, &[("ro-ro", 0.7), ("en-us", 0.3)], &[
        region("Bucharest", 1.0, &["Bucharest"]),
    ]),
    country("Greece", "Europe", "Southern Europe", 0.25, 2.0, 0.4, &[("el-gr", 0.7), ("en-us", 0.3)], &[
        region("Attica", 1.0, &["Athens"]),
    ]),
    country("Portugal", "Europe", "Southern Europe", 0.25, 0.0, 0.5, &[("pt-pt", 0.7), ("en-us", 0.3)], &[
        region("Lisbon", 1.0, &["Lisbon"]),
        region("Porto", 0.6, &["Porto"]),
    ]),
    country("Czechia", "Europe", "Eastern Europe", 0.2, 1.0, 0.5, &[("cs-cz", 0.7), ("en-us", 0.3)], &[region("Prague", 1.0, &["Prague"])]),
    country("Hungary", "Europe", "Eastern Europe", 0.2, 1.0, 0.4, &[("hu-hu", 0.7), ("en-us", 0.3)], &[
        region("Budapest", 1.0, &["Budapest"]),
    ]),
    country("Kenya", "Africa", "Eastern Africa", 0.2, 3.0, 0.2, EN, &[region("Nairobi County", 1.0, &["Nairobi"])]),
    country("Sri Lanka", "Asia", "Southern Asia", 0.2, 5.5, 0.2, EN, &[region("Western Province", 1.0, &["Colombo"])]),
    country(NOT_SET, NOT_SET, NOT_SET, 0.9, 0.0, 0.5, EN, &[]),
];

/// Share of users whose region and city did not resolve, as in the export.
const UNRESOLVED_CITY: f64 = 0.08;

pub(crate) fn draw_geo(rng: &mut impl Rng) -> Geo {
    let countries: Vec<(&'static Country, f64)> = COUNTRIES.iter().map(|c| (c, c.weight)).collect();
    let country = pick(rng, &countries);
    let unresolved = Geo {
        country,
        region: NOT_SET,
        city: NOT_SET,
        tax_rate: 0.0,
        utc_offset: country.utc_offset,
    };
    if country.regions.is_empty() || chance(rng, UNRESOLVED_CITY) {
        return unresolved;
    }
    let regions: Vec<(&'static Region, f64)> =
        country.regions.iter().map(|r| (r, r.weight)).collect();
    let region = pick(rng, &regions);
    // The first city of a region is its biggest.
    let cities: Vec<(&'static str, f64)> = region
        .cities
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, 1.0 / (i as f64 + 1.0)))
        .collect();
    Geo {
        country,
        region: region.name,
        city: pick(rng, &cities),
        tax_rate: region.tax_rate,
        utc_offset: region.utc_offset.unwrap_or(country.utc_offset),
    }
}

/// The device a user browses with. Constant per user: the export's `device` describes the
/// client, and a pseudo id is one browser.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Device {
    pub category: &'static str,
    pub brand: &'static str,
    pub model: &'static str,
    pub marketing_name: &'static str,
    pub os: &'static str,
    pub os_version: &'static str,
    pub language: Option<&'static str>,
    pub browser: &'static str,
    pub browser_version: &'static str,
}

pub(crate) const DESKTOP: &str = "desktop";
pub(crate) const MOBILE: &str = "mobile";
pub(crate) const TABLET: &str = "tablet";
const OTHER: &str = "<Other>";

type Table<T> = &'static [(T, f64)];

#[rustfmt::skip]
mod tables {
    use super::{OTHER, Table};

    /// A desktop platform. The export puts the browser in `mobile_model_name` for desktops.
    #[derive(Clone, Copy)]
    pub(super) struct Desktop {
        pub os: &'static str,
        pub brand: &'static str,
        pub versions: Table<&'static str>,
        pub browsers: Table<&'static str>,
    }

    /// A maker of Android phones or tablets: (model, marketing name) pairs and its browsers.
    #[derive(Clone, Copy)]
    pub(super) struct Maker {
        pub brand: &'static str,
        pub models: Table<(&'static str, &'static str)>,
        pub browsers: Table<&'static str>,
    }

    const WINDOWS_BROWSERS: Table<&str> = &[("Chrome", 0.72), ("Edge", 0.14), ("Firefox", 0.09), ("Opera", 0.03), ("Internet Explorer", 0.02)];
    const MAC_BROWSERS: Table<&str> = &[("Chrome", 0.62), ("Safari", 0.30), ("Firefox", 0.06), ("Edge", 0.02)];
    const ANDROID_BROWSERS: Table<&str> = &[("Chrome", 0.9), ("Android Webview", 0.06), ("Firefox", 0.04)];
    const SAMSUNG_BROWSERS: Table<&str> = &[("Chrome", 0.62), ("Samsung Internet", 0.33), ("Android Webview", 0.03), ("Firefox", 0.02)];

    pub(super) const DESKTOPS: Table<Desktop> = &[
        (Desktop { os: "Windows", brand: "Microsoft", versions: &[("Windows 10", 0.86), ("Windows 7", 0.09), ("Windows 8.1", 0.05)], browsers: WINDOWS_BROWSERS }, 0.52),
        (Desktop { os: "Macintosh", brand: "Apple", versions: &[("Intel 10.15", 0.7), ("Intel 11.0", 0.15), ("Intel 10.14", 0.15)], browsers: MAC_BROWSERS }, 0.30),
        (Desktop { os: "Chrome OS", brand: "Google", versions: &[("13421.89.0", 0.5), ("13505.73.0", 0.5)], browsers: &[("Chrome", 1.0)] }, 0.06),
        (Desktop { os: "Linux", brand: OTHER, versions: &[("(not set)", 1.0)], browsers: &[("Chrome", 0.7), ("Firefox", 0.3)] }, 0.05),
        // The obfuscated sample reports some desktops as OS "Web".
        (Desktop { os: "Web", brand: "Apple", versions: &[("Intel 10.15", 1.0)], browsers: MAC_BROWSERS }, 0.07),
    ];

    pub(super) const IOS_VERSIONS: Table<&str> = &[("iOS 14.2", 0.45), ("iOS 14.3", 0.2), ("iOS 14.0", 0.1), ("iOS 13.7", 0.12), ("iOS 12.4", 0.08), ("iOS 14.4", 0.05)];
    pub(super) const IOS_BROWSERS: Table<&str> = &[("Safari", 0.72), ("Chrome", 0.22), ("Safari (in-app)", 0.06)];
    pub(super) const ANDROID_VERSIONS: Table<&str> = &[("Android 10", 0.45), ("Android 11", 0.22), ("Android 9", 0.18), ("Android 8.1.0", 0.09), ("Android 7.0", 0.06)];

    pub(super) const PHONE_MAKERS: Table<Maker> = &[
        (Maker { brand: "Samsung", models: &[(("SM-G981U", "Galaxy S20 5G"), 0.3), (("SM-G973F", "Galaxy S10"), 0.25), (("SM-A515F", "Galaxy A51"), 0.3), (("SM-N986U", "Galaxy Note20 Ultra 5G"), 0.15)], browsers: SAMSUNG_BROWSERS }, 0.38),
        (Maker { brand: "Google", models: &[(("Pixel 4a", "Pixel 4a"), 0.4), (("Pixel 3", "Pixel 3"), 0.3), (("Pixel 5", "Pixel 5"), 0.3)], browsers: ANDROID_BROWSERS }, 0.18),
        (Maker { brand: "Xiaomi", models: &[(("Redmi Note 8 Pro", "Redmi Note 8 Pro"), 0.6), (("Mi 10", "Mi 10"), 0.4)], browsers: ANDROID_BROWSERS }, 0.12),
        (Maker { brand: "OnePlus", models: &[(("IN2013", "OnePlus 8"), 1.0)], browsers: ANDROID_BROWSERS }, 0.07),
        (Maker { brand: "Motorola", models: &[(("moto g(8) power", "Moto G Power"), 1.0)], browsers: ANDROID_BROWSERS }, 0.06),
        (Maker { brand: "Huawei", models: &[(("ELE-L29", "P30"), 1.0)], browsers: ANDROID_BROWSERS }, 0.05),
        (Maker { brand: "LG", models: &[(("LM-Q730", "LG Stylo 6"), 1.0)], browsers: ANDROID_BROWSERS }, 0.04),
        (Maker { brand: OTHER, models: &[((OTHER, OTHER), 1.0)], browsers: ANDROID_BROWSERS }, 0.10),
    ];

    pub(super) const TABLET_MAKERS: Table<Maker> = &[
        (Maker { brand: "Samsung", models: &[(("SM-T510", "Galaxy Tab A 10.1"), 0.6), (("SM-T860", "Galaxy Tab S6"), 0.4)], browsers: SAMSUNG_BROWSERS }, 0.6),
        (Maker { brand: "Amazon", models: &[(("KFMAWI", "Fire HD 10"), 1.0)], browsers: &[("Amazon Silk", 1.0)] }, 0.25),
        (Maker { brand: "Lenovo", models: &[(("Lenovo TB-X606F", "Tab M10 FHD Plus"), 1.0)], browsers: ANDROID_BROWSERS }, 0.15),
    ];

    pub(super) const CHROME_VERSIONS: Table<&str> = &[("87.0", 0.55), ("86.0", 0.25), ("88.0", 0.15), ("85.0", 0.05)];
    pub(super) const SAFARI_VERSIONS: Table<&str> = &[("14.0", 0.6), ("13.1", 0.25), ("14.0.1", 0.15)];
    pub(super) const EDGE_VERSIONS: Table<&str> = &[("87.0", 0.6), ("86.0", 0.4)];
    pub(super) const FIREFOX_VERSIONS: Table<&str> = &[("83.0", 0.45), ("84.0", 0.35), ("82.0", 0.2)];
    pub(super) const SAMSUNG_VERSIONS: Table<&str> = &[("13.0", 0.6), ("12.1", 0.4)];
    pub(super) const OPERA_VERSIONS: Table<&str> = &[("72.0", 0.6), ("73.0", 0.4)];
}

fn browser_version(rng: &mut impl Rng, browser: &str) -> &'static str {
    let table = match browser {
        "Safari" | "Safari (in-app)" => tables::SAFARI_VERSIONS,
        "Edge" => tables::EDGE_VERSIONS,
        "Firefox" => tables::FIREFOX_VERSIONS,
        "Samsung Internet" => tables::SAMSUNG_VERSIONS,
        "Opera" => tables::OPERA_VERSIONS,
        _ => tables::CHROME_VERSIONS,
    };
    pick(rng, table)
}

pub(crate) fn draw_device(rng: &mut impl Rng, geo: &Geo) -> Device {
    let category = pick(rng, &[(DESKTOP, 0.58), (MOBILE, 0.40), (TABLET, 0.02)]);
    let language = if chance(rng, 0.03) {
        None
    } else {
        Some(pick(rng, geo.country.languages))
    };
    let (os, os_version, brand, model, marketing_name, browser) = if category == DESKTOP {
        let desktop = pick(rng, tables::DESKTOPS);
        let browser = pick(rng, desktop.browsers);
        (
            desktop.os,
            pick(rng, desktop.versions),
            desktop.brand,
            browser,
            OTHER,
            browser,
        )
    } else {
        let tablet = category == TABLET;
        if chance(rng, if tablet { 0.7 } else { 0.48 }) {
            let (model, marketing_name) = if tablet {
                ("iPad", "iPad")
            } else {
                ("iPhone", "iPhone")
            };
            let version = pick(rng, tables::IOS_VERSIONS);
            (
                "iOS",
                version,
                "Apple",
                model,
                marketing_name,
                pick(rng, tables::IOS_BROWSERS),
            )
        } else {
            let maker = pick(
                rng,
                if tablet {
                    tables::TABLET_MAKERS
                } else {
                    tables::PHONE_MAKERS
                },
            );
            let (model, marketing_name) = pick(rng, maker.models);
            let version = pick(rng, tables::ANDROID_VERSIONS);
            (
                "Android",
                version,
                maker.brand,
                model,
                marketing_name,
                pick(rng, maker.browsers),
            )
        }
    };
    Device {
        category,
        brand,
        model,
        marketing_name,
        os,
        os_version,
        language,
        browser,
        browser_version: browser_version(rng, browser),
    }
}

/// Where a session came from: the session-scoped `source`/`medium`/`campaign` parameters,
/// and for a user's first session also the first-touch `traffic_source`.
#[derive(Debug)]
pub(crate) struct Channel {
    pub source: &'static str,
    pub medium: &'static str,
    pub campaign: &'static str,
    /// The external page on the entrance's `page_referrer`.
    pub referrer: Option<&'static str>,
    weight: f64,
}

impl Channel {
    pub(crate) fn is_direct(&self) -> bool {
        self.medium == "(none)"
    }
}

const fn channel(
    source: &'static str,
    medium: &'static str,
    campaign: &'static str,
    referrer: Option<&'static str>,
    weight: f64,
) -> Channel {
    Channel {
        source,
        medium,
        campaign,
        referrer,
        weight,
    }
}

#[rustfmt::skip]
static CHANNELS: &[Channel] = &[
    channel("(direct)", "(none)", "(direct)", None, 28.0),
    channel("google", "organic", "(organic)", Some("https://www.google.com/"), 40.0),
    channel("shop.googlemerchandisestore.com", "referral", "(referral)", Some("https://shop.googlemerchandisestore.com/"), 8.0),
    channel("analytics.google.com", "referral", "(referral)", Some("https://analytics.google.com/"), 3.0),
    channel("youtube.com", "referral", "(referral)", Some("https://www.youtube.com/"), 2.0),
    channel("support.google.com", "referral", "(referral)", Some("https://support.google.com/"), 1.5),
    channel("creatoracademy.youtube.com", "referral", "(referral)", Some("https://creatoracademy.youtube.com/"), 0.7),
    channel("m.facebook.com", "referral", "(referral)", Some("https://m.facebook.com/"), 0.6),
    channel("t.co", "referral", "(referral)", Some("https://t.co/"), 0.3),
    channel("google", "cpc", "Holiday Gift Guide 2020", Some("https://www.google.com/"), 1.6),
    channel("google", "cpc", "Brand Search", Some("https://www.google.com/"), 1.2),
    channel("google", "cpc", "Smart Shopping - Apparel", Some("https://www.google.com/"), 0.9),
    channel("google", "cpc", "Black Friday 2020", Some("https://www.google.com/"), 0.8),
    channel("bing", "organic", "(organic)", Some("https://www.bing.com/"), 1.2),
    channel("yahoo", "organic", "(organic)", Some("https://search.yahoo.com/"), 0.3),
    channel("duckduckgo", "organic", "(organic)", Some("https://duckduckgo.com/"), 0.3),
    channel("baidu", "organic", "(organic)", Some("https://www.baidu.com/"), 0.3),
    channel("newsletter", "email", "Holiday Newsletter", None, 1.0),
];

pub(crate) fn draw_channel(rng: &mut impl Rng) -> &'static Channel {
    let table: Vec<(&'static Channel, f64)> = CHANNELS.iter().map(|c| (c, c.weight)).collect();
    pick(rng, &table)
}

pub(crate) fn direct() -> &'static Channel {
    &CHANNELS[0]
}

/// A user's first-touch source, the export's `traffic_source` (medium, name, source).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrafficSource {
    pub medium: &'static str,
    pub name: &'static str,
    pub source: &'static str,
}

/// The public sample is obfuscated: a share of first-touch sources reads `<Other>` or
/// `(data deleted)` instead of the real channel.
pub(crate) fn first_touch(rng: &mut impl Rng, channel: &Channel) -> TrafficSource {
    let masked = pick(
        rng,
        &[
            (None, 0.81),
            (Some(OTHER), 0.11),
            (Some("(data deleted)"), 0.08),
        ],
    );
    match masked {
        Some(mask) => TrafficSource {
            medium: mask,
            name: mask,
            source: mask,
        },
        None => TrafficSource {
            medium: channel.medium,
            name: channel.campaign,
            source: channel.source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream;

    #[test]
    fn tables_are_complete() {
        for c in COUNTRIES {
            assert!(!c.languages.is_empty(), "{}", c.name);
            assert!(c.regions.iter().all(|r| !r.cities.is_empty()), "{}", c.name);
        }
        assert!(COUNTRIES.len() >= 50);
        assert!(direct().is_direct());
    }

    #[test]
    fn shares_look_like_the_public_sample() {
        let mut rng = stream(3);
        let n = 40_000;
        let (mut us, mut desktop, mut mobile, mut direct_or_organic) = (0, 0, 0, 0);
        for _ in 0..n {
            let geo = draw_geo(&mut rng);
            let device = draw_device(&mut rng, &geo);
            us += usize::from(geo.country.name == UNITED_STATES);
            desktop += usize::from(device.category == DESKTOP);
            mobile += usize::from(device.category == MOBILE);
            let c = draw_channel(&mut rng);
            direct_or_organic += usize::from(c.is_direct() || c.medium == "organic");
            if geo.country.name == NOT_SET {
                assert_eq!(
                    (geo.region, geo.city, geo.country.continent),
                    (NOT_SET, NOT_SET, NOT_SET)
                );
            }
            if device.os == "iOS" {
                assert_eq!(device.brand, "Apple");
            }
        }
        let share = |k: usize| k as f64 / n as f64;
        assert!((share(us) - 0.40).abs() < 0.03, "US {}", share(us));
        assert!(
            (share(desktop) - 0.58).abs() < 0.02,
            "desktop {}",
            share(desktop)
        );
        assert!(
            (share(mobile) - 0.40).abs() < 0.02,
            "mobile {}",
            share(mobile)
        );
        assert!(share(direct_or_organic) > 0.6);
    }
}
