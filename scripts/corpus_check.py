#!/usr/bin/env python3
"""Developer tool: check fixtures/corpus/ga4_corpus.toml (BigQuery SQL + DuckDB-native pairs).

Needs Python >= 3.11 and the `duckdb` package (any 1.5.x), e.g. in a scratch venv:
    python3 -m venv /tmp/duckvenv && /tmp/duckvenv/bin/pip install duckdb==1.5.6

    corpus_check.py native  [--parquet DIR] [--ids ID ...]
        Build an in-memory DuckDB with the 92 tables events_20201101..events_20210131 (types from
        fixtures/ga4/events_schema.ddl; loaded from DIR/events_YYYYMMDD.parquet when given, else
        empty) and the view events_all (+ _table_suffix). Empty tables: EXPLAIN each `duckdb` entry
        (syntax + binding). With data: run it and report row counts, column names and types.
    corpus_check.py compare --parquet DIR --bq-url URL [--ids ID ...] [--json OUT]
        Run each `bigquery` entry on a bqemulator that holds the same data (scripts/bqemulator.sh
        load DIR) and each `duckdb` entry on DuckDB; compare column names, types and values
        (floats with 1e-9 relative tolerance, or the entry's `tolerance`; row order only when
        `order_matters`). Entries with `bqemulator_divergence` are expected to differ.
    corpus_check.py synth OUT_DIR [--rows-per-day N] [--seed S]
        Write a small deterministic random GA4-shaped data set (92 Parquet shards) for when no
        generator output is at hand. Its values are not realistic, only shaped right.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import math
import random
import sys
import tomllib
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bqemulator_load import duck_type, parse_ddl

ROOT = Path(__file__).resolve().parent.parent
DDL = ROOT / "fixtures" / "ga4" / "events_schema.ddl"
CORPUS = ROOT / "fixtures" / "corpus" / "ga4_corpus.toml"
FIRST, LAST = dt.date(2020, 11, 1), dt.date(2021, 1, 31)


def shard_days() -> list[str]:
    out, d = [], FIRST
    while d <= LAST:
        out.append(d.strftime("%Y%m%d"))
        d += dt.timedelta(days=1)
    return out


def columns() -> list[tuple[str, str]]:
    return [(n, duck_type(t)) for n, t in parse_ddl(DDL.read_text())]


def build_db(parquet: Path | None):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = columns()
    coldefs = ", ".join(f'"{n}" {t}' for n, t in cols)
    for day in shard_days():
        f = parquet / f"events_{day}.parquet" if parquet else None
        con.execute(f"CREATE TABLE events_{day} ({coldefs})")
        if f is not None and f.exists():
            names = ", ".join(f'"{n}"' for n, _ in cols)
            con.execute(
                f"INSERT INTO events_{day} ({names}) SELECT {names} FROM read_parquet(?)", [str(f)]
            )
    union = "\nUNION ALL\n".join(
        f"SELECT *, '{d}' AS _table_suffix FROM events_{d}" for d in shard_days()
    )
    con.execute(f"CREATE VIEW events_all AS {union}")
    return con


DEV_SET = ROOT.parent / "shared" / "ga4" / "questions" / "dev.jsonl"


def load_corpus(path: Path, ids: list[str] | None) -> list[dict]:
    entries = tomllib.loads(path.read_text())["query"]
    seen = set()
    for e in entries:
        if e["id"] in seen:
            raise SystemExit(f"duplicate id {e['id']}")
        seen.add(e["id"])
        for k in ("about", "bigquery", "duckdb", "order_matters"):
            if k not in e:
                raise SystemExit(f"{e['id']}: missing {k}")
    if DEV_SET.exists():  # every dev gold_sql is in the corpus, verbatim
        for line in DEV_SET.read_text().splitlines():
            q = json.loads(line) if line.strip() else {}
            if q.get("gold_sql") is None:
                continue
            e = next((e for e in entries if e["id"] == q["id"]), None)
            if e is None or e["bigquery"] != q["gold_sql"]:
                raise SystemExit(f"{q['id']}: missing or not verbatim from {DEV_SET}")
    if ids:
        entries = [e for e in entries if e["id"] in ids]
    return entries


# ---------------------------------------------------------------------------------------------
# results: both sides become (names, kinds, rows) with kinds in INTEGER/FLOAT/NUMERIC/STRING/
# DATE/BOOLEAN/TIMESTAMP/... and rows of plain Python values.
# ---------------------------------------------------------------------------------------------

_DUCK_KIND = {
    "BIGINT": "INTEGER",
    "DOUBLE": "FLOAT",
    "VARCHAR": "STRING",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
}


def duck_kind(t: str) -> str:
    t = str(t)
    if t.startswith("DECIMAL"):
        return "NUMERIC"
    if t.endswith("[]"):
        return "ARRAY<" + duck_kind(t[:-2]) + ">"
    return _DUCK_KIND.get(t, "duckdb:" + t)


def run_duck(con, sql: str):
    rel = con.sql(sql)
    names = list(rel.columns)
    kinds = [duck_kind(t) for t in rel.types]
    rows = [tuple(_norm(v) for v in r) for r in rel.fetchall()]
    return names, kinds, rows


def _norm(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return tuple(_norm(x) for x in v)
    return v


def bq_query(url: str, sql: str) -> dict:
    body = json.dumps(
        {"query": sql, "useLegacySql": False, "timeoutMs": 600000, "maxResults": 100000}
    ).encode()
    req = urllib.request.Request(
        f"{url.rstrip('/')}/bigquery/v2/projects/nlq-test/queries",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=900) as r:
        return json.loads(r.read())


def _bq_value(field: dict, cell):
    v = cell["v"] if isinstance(cell, dict) else cell
    if field.get("mode") == "REPEATED":
        return tuple(_bq_value({**field, "mode": "NULLABLE"}, x) for x in (v or []))
    if v is None:
        return None
    t = field["type"]
    if t in ("INTEGER", "INT64"):
        return int(v)
    if t in ("FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC"):
        return float(v)
    if t in ("BOOLEAN", "BOOL"):
        return v in (True, "true", "TRUE")
    if t == "TIMESTAMP":
        # BigQuery sends float seconds ("1.6068672E9"); bqemulator 1.4.0 sends integer micros.
        micros = int(v) if v.lstrip("-").isdigit() else round(float(v) * 1e6)
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)
    if t == "RECORD":
        return tuple(_bq_value(f, c) for f, c in zip(field["fields"], v["f"]))
    return v


def bq_kind(field: dict) -> str:
    t = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}.get(
        field["type"], field["type"]
    )
    return f"ARRAY<{t}>" if field.get("mode") == "REPEATED" else t


def run_bq(url: str, sql: str):
    res = bq_query(url, sql)
    if res.get("errors"):
        raise RuntimeError("; ".join(e.get("message", str(e)) for e in res["errors"]))
    if res.get("error"):
        raise RuntimeError(str(res["error"]))
    fields = res.get("schema", {}).get("fields", [])
    names = [f["name"] for f in fields]
    kinds = [bq_kind(f) for f in fields]
    rows = [tuple(_bq_value(f, c) for f, c in zip(fields, r["f"])) for r in res.get("rows", [])]
    return names, kinds, rows


def _close(a, b, rel: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, int) and isinstance(b, int) and rel > 1e-9:
        return math.isclose(a, b, rel_tol=rel)
    return a == b


def _sort_key(row):
    return tuple(
        (v is not None, repr(type(v).__name__), v if v is not None else 0)
        if not isinstance(v, float)
        else (True, "float", round(v, 6))
        for v in row
    )


def compare(bq, duck, order_matters: bool, rel: float) -> str | None:
    bn, bk, br = bq
    dn, dk, drows = duck
    if bn != dn:
        return f"column names differ: bq {bn} vs duckdb {dn}"
    if bk != dk:
        return f"column types differ: bq {bk} vs duckdb {dk}"
    if len(br) != len(drows):
        return f"row counts differ: bq {len(br)} vs duckdb {len(drows)}"
    if not order_matters:
        br, drows = sorted(br, key=_sort_key), sorted(drows, key=_sort_key)
    for i, (x, y) in enumerate(zip(br, drows)):
        if not _close(x, y, rel):
            return f"row {i} differs: bq {x} vs duckdb {y}"
    return None


# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------


def cmd_native(args) -> int:
    con = build_db(args.parquet)
    entries = load_corpus(args.corpus, args.ids)
    has_data = args.parquet is not None
    failed = 0
    for e in entries:
        try:
            if has_data:
                names, kinds, rows = run_duck(con, e["duckdb"])
                bad = [f"{n}:{k}" for n, k in zip(names, kinds) if k.startswith("duckdb:")]
                note = f"  UNEXPECTED TYPES {bad}" if bad else ""
                empty = "  EMPTY" if not rows else ""
                print(
                    f"ok   {e['id']}: {len(rows)} rows, "
                    f"{', '.join(f'{n} {k}' for n, k in zip(names, kinds))}{empty}{note}"
                )
                if args.show:
                    for r in rows[: args.show]:
                        print("       ", r)
                failed += bool(bad)
            else:
                con.execute("EXPLAIN " + e["duckdb"])
                print(f"ok   {e['id']}")
        except Exception as exc:  # noqa: BLE001 — report and go on
            failed += 1
            print(f"FAIL {e['id']}: {str(exc).splitlines()[0]}")
    print(f"{len(entries) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_compare(args) -> int:
    con = build_db(args.parquet)
    entries = load_corpus(args.corpus, args.ids)
    report, failed, diverged = [], 0, 0
    for e in entries:
        rel = float(e.get("tolerance", 1e-9))
        expected = e.get("bqemulator_divergence")
        try:
            duck = run_duck(con, e["duckdb"])
        except Exception as exc:  # noqa: BLE001
            failed += 1
            print(f"FAIL {e['id']}: duckdb error: {str(exc).splitlines()[0]}")
            report.append({"id": e["id"], "status": "duckdb_error", "detail": str(exc)})
            continue
        try:
            bq = run_bq(args.bq_url, e["bigquery"])
            diff = compare(bq, duck, e["order_matters"], rel)
        except Exception as exc:  # noqa: BLE001
            bq, diff = None, f"emulator error: {str(exc).splitlines()[0]}"
        if diff is None and expected:
            status = "unexpected_match"
            print(f"NOTE {e['id']}: matches although marked {expected}")
        elif diff is None:
            status = "match"
            print(f"ok   {e['id']} ({len(duck[2])} rows)")
        elif expected:
            status = "expected_divergence"
            diverged += 1
            print(f"div  {e['id']} [{expected}]: {diff[:300]}")
        else:
            status = "mismatch"
            failed += 1
            print(f"FAIL {e['id']}: {diff[:500]}")
        report.append(
            {
                "id": e["id"],
                "status": status,
                "detail": diff,
                "expected": expected,
                "rows": len(duck[2]),
            }
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    print(f"{len(entries) - failed} passed, {failed} failed ({diverged} known divergences)")
    return 1 if failed else 0


def cmd_synth(args) -> int:
    """Small random GA4-shaped data: sessions of page_view/view_item/add_to_cart/purchase..."""
    import duckdb

    rng = random.Random(args.seed)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    countries = [
        (
            "Americas",
            "Northern America",
            "United States",
            ["California", "New York", "Texas", "Washington", "Illinois", "Georgia"],
            ["Mountain View", "New York", "Austin", "Seattle", "Chicago", "(not set)"],
        ),
        ("Asia", "Eastern Asia", "South Korea", ["Seoul"], ["Seoul", "(not set)"]),
        ("Asia", "Southern Asia", "India", ["Karnataka", "Maharashtra"], ["Bengaluru", "Mumbai"]),
        ("Europe", "Northern Europe", "United Kingdom", ["England"], ["London"]),
        ("Americas", "Northern America", "Canada", ["Ontario"], ["Toronto"]),
        ("Europe", "Western Europe", "France", ["Ile-de-France"], ["Paris"]),
        ("(not set)", "(not set)", "(not set)", ["(not set)"], ["(not set)"]),
    ]
    items = [
        (f"9{200000 + i}", name, brand, cat, round(rng.uniform(2, 80), 2))
        for i, (name, brand, cat) in enumerate(
            [
                ("Google Navy Speckled Tee", "Google", "Apparel"),
                ("Google Zip Hoodie F/C", "Google", "Apparel"),
                ("YouTube Twill Sandwich Cap Black", "YouTube", "Apparel"),
                ("Android Iconic Sock", "Android", "Apparel"),
                ("Google Campus Bike", "Google", "Lifestyle"),
                ("Google Metallic Notebook Set", "Google", "Office"),
                ("Google Sticker", "Google", "Accessories"),
                ("Super G Unisex Joggers", "Google", "Apparel"),
                ("Google Laptop and Cell Phone Stickers", "Google", "Accessories"),
                ("Chrome Dino Glow-in-the-Dark Sticker", "Chrome", "Accessories"),
                ("Google Black Cloud Zip Hoodie", "Google", "Apparel"),
                ("Google Clear Pen 4-Pack", "Google", "Office"),
                ("Android SM S/F18 Sticker Sheet", "Android", "Accessories"),
                ("Google Incognito Techpack V2", "Google", "Bags"),
                (None, None, None),
            ]
        )
    ]
    pages = [
        ("https://shop.googlemerchandisestore.com/", "Home"),
        (
            "https://shop.googlemerchandisestore.com/Google+Redesign/Apparel",
            "Apparel | Google Merchandise Store",
        ),
        (
            "https://shop.googlemerchandisestore.com/Google+Redesign/Lifestyle/Bags",
            "Bags | Lifestyle | Google Merchandise Store",
        ),
        ("https://shop.googlemerchandisestore.com/basket.html", "Shopping Cart"),
        (
            "https://shop.googlemerchandisestore.com/store.html?vid=20160512512",
            "Google Online Store",
        ),
        (
            "https://shop.googlemerchandisestore.com/Google+Redesign/Shop+by+Brand/YouTube",
            "YouTube | Shop by Brand | Google Merchandise Store",
        ),
        ("https://googlemerchandisestore.com/signin.html", "The Google Merchandise Store - Log In"),
    ]
    sources = [
        ("google", "organic", "(organic)"),
        ("(direct)", "(none)", "(direct)"),
        ("<Other>", "referral", "(referral)"),
        ("shop.googlemerchandisestore.com", "referral", "(referral)"),
        ("google", "cpc", "Holiday Campaign"),
        ("(data deleted)", "(data deleted)", "(data deleted)"),
    ]
    devices = [
        ("desktop", "Web", "Chrome"),
        ("desktop", "Web", "Safari"),
        ("mobile", "iOS", "Safari"),
        ("mobile", "Android", "Chrome"),
        ("tablet", "iOS", "Safari"),
        ("desktop", "Windows", "Edge"),
        ("mobile", "Android", "Samsung Internet"),
    ]
    langs = ["en-us", "ko-kr", "en-gb", "fr", None, "en-us", "en-us"]
    n_users = max(50, args.rows_per_day * 92 // 60)
    users = []
    for i in range(n_users):
        users.append(
            {
                "id": f"{rng.randrange(10**6, 10**7)}.{rng.randrange(10**9, 10**10)}",
                "geo": rng.choice(countries),
                "dev": rng.choice(devices),
                "lang": rng.choice(langs),
                "src": rng.choice(sources),
                "sessions": 0,
                "seen": False,
                "region": None,
                "city": None,
            }
        )
    for u in users:
        g = u["geo"]
        u["region"], u["city"] = rng.choice(g[3]), rng.choice(g[4])
    txn = 0

    def param(key, s=None, i=None, d=None):
        return {
            "key": key,
            "value": {"string_value": s, "int_value": i, "float_value": None, "double_value": d},
        }

    for day in shard_days():
        date = dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.UTC)
        rows = []
        while len(rows) < args.rows_per_day:
            u = rng.choice(users)
            u["sessions"] += 1
            sid = rng.randrange(10**9, 2 * 10**9)
            t = int((date + dt.timedelta(seconds=rng.randrange(0, 86000))).timestamp() * 1e6)
            engaged = "1" if rng.random() < 0.6 else "0"
            geo = u["geo"]
            evs = []
            if not u["seen"]:
                evs.append("first_visit")
                u["seen"] = True
            evs.append("session_start")
            for _ in range(rng.randrange(1, 8)):
                evs.append(
                    rng.choice(
                        [
                            "page_view",
                            "page_view",
                            "page_view",
                            "user_engagement",
                            "scroll",
                            "view_item",
                            "view_item",
                            "add_to_cart",
                            "begin_checkout",
                            "view_promotion",
                        ]
                    )
                )
            if "add_to_cart" in evs and rng.random() < 0.35:
                evs.append("purchase")
            for k, name in enumerate(evs):
                t += rng.randrange(1, 90) * 10**6
                page = rng.choice(pages)
                params = [
                    param("ga_session_id", i=sid),
                    param("ga_session_number", i=u["sessions"]),
                    param("page_location", s=page[0]),
                    param("page_title", s=page[1]),
                ]
                if rng.random() < 0.97:
                    params.append(param("session_engaged", s=engaged))
                if name in ("user_engagement", "page_view", "scroll") and rng.random() < 0.7:
                    params.append(param("engagement_time_msec", i=rng.randrange(1, 60000)))
                if k == 0 or (name == "page_view" and k == 1):
                    params.append(param("entrances", i=1))
                if rng.random() < 0.3:
                    params.append(param("page_referrer", s="https://www.google.com/"))
                if rng.random() < 0.02:  # a few events without session id
                    params = [p for p in params if p["key"] != "ga_session_id"]
                rng.shuffle(params)
                its, ecom = [], None
                if name in ("view_item", "add_to_cart", "purchase", "begin_checkout"):
                    for it in rng.sample(items, rng.randrange(1, 4)):
                        q = rng.randrange(1, 4)
                        its.append(
                            {
                                "item_id": it[0],
                                "item_name": it[1],
                                "item_brand": it[2],
                                "item_variant": None,
                                "item_category": it[3],
                                "item_category2": None,
                                "item_category3": None,
                                "item_category4": None,
                                "item_category5": None,
                                "price_in_usd": it[4],
                                "price": it[4],
                                "quantity": q,
                                "item_revenue_in_usd": round(it[4] * q, 2)
                                if name == "purchase"
                                else None,
                                "item_revenue": round(it[4] * q, 2) if name == "purchase" else None,
                                "item_refund_in_usd": None,
                                "item_refund": None,
                                "coupon": None,
                                "affiliation": None,
                                "location_id": None,
                                "item_list_id": None,
                                "item_list_name": None,
                                "item_list_index": None,
                                "promotion_id": None,
                                "promotion_name": None,
                                "creative_name": None,
                                "creative_slot": None,
                            }
                        )
                if name == "purchase":
                    txn += 1
                    rev = round(sum(i["item_revenue"] for i in its), 2)
                    ecom = {
                        "total_item_quantity": sum(i["quantity"] for i in its),
                        "purchase_revenue_in_usd": rev,
                        "purchase_revenue": rev,
                        "refund_value_in_usd": None,
                        "refund_value": None,
                        "shipping_value_in_usd": None,
                        "shipping_value": None,
                        "tax_value_in_usd": None,
                        "tax_value": None,
                        "unique_items": len(its),
                        "transaction_id": f"T{txn:06d}",
                    }
                elif name in ("add_to_cart", "view_item"):
                    ecom = {
                        "total_item_quantity": None,
                        "purchase_revenue_in_usd": None,
                        "purchase_revenue": None,
                        "refund_value_in_usd": None,
                        "refund_value": None,
                        "shipping_value_in_usd": None,
                        "shipping_value": None,
                        "tax_value_in_usd": None,
                        "tax_value": None,
                        "unique_items": len(its),
                        "transaction_id": "(not set)",
                    }
                dev = u["dev"]
                rows.append(
                    {
                        "event_date": day,
                        "event_timestamp": t,
                        "event_name": name,
                        "event_params": params,
                        "event_previous_timestamp": None,
                        "event_value_in_usd": None,
                        "event_bundle_sequence_id": rng.randrange(10**9),
                        "event_server_timestamp_offset": None,
                        "user_id": None,
                        "user_pseudo_id": u["id"],
                        "privacy_info": {
                            "analytics_storage": None,
                            "ads_storage": None,
                            "uses_transient_token": "No",
                        },
                        "user_properties": [],
                        "user_first_touch_timestamp": t,
                        "user_ltv": {"revenue": 0.0, "currency": "USD"},
                        "device": {
                            "category": dev[0],
                            "mobile_brand_name": None,
                            "mobile_model_name": None,
                            "mobile_marketing_name": None,
                            "mobile_os_hardware_model": None,
                            "operating_system": dev[1],
                            "operating_system_version": None,
                            "vendor_id": None,
                            "advertising_id": None,
                            "language": u["lang"],
                            "is_limited_ad_tracking": "No",
                            "time_zone_offset_seconds": None,
                            "web_info": {"browser": dev[2], "browser_version": "87.0"},
                        },
                        "geo": {
                            "continent": geo[0],
                            "sub_continent": geo[1],
                            "country": geo[2],
                            "region": u["region"],
                            "city": u["city"],
                            "metro": "(not set)",
                        },
                        "app_info": None,
                        "traffic_source": {
                            "source": u["src"][0],
                            "medium": u["src"][1],
                            "name": u["src"][2],
                        },
                        "stream_id": 2100450278,
                        "platform": "WEB",
                        "event_dimensions": None,
                        "ecommerce": ecom,
                        "items": its,
                    }
                )
        src = out / f"events_{day}.json"
        src.write_text("\n".join(json.dumps(r) for r in rows))
        cols = "{" + ", ".join(f"'{n}': '{t}'" for n, t in columns()) + "}"
        names = ", ".join(f'"{n}"' for n, _ in columns())
        duckdb.sql(
            f"COPY (SELECT {names} FROM read_json('{src}', columns={cols}, "
            f"format='newline_delimited')) TO '{out / f'events_{day}.parquet'}' "
            "(FORMAT parquet)"
        )
        src.unlink()
    print(f"wrote {len(shard_days())} shards to {out}", file=sys.stderr)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("native")
    p.add_argument("--parquet", type=Path)
    p.add_argument("--ids", nargs="*")
    p.add_argument("--show", type=int, default=0, help="print the first N rows of each result")
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.set_defaults(fn=cmd_native)
    p = sub.add_parser("compare")
    p.add_argument("--parquet", type=Path, required=True)
    p.add_argument("--bq-url", required=True)
    p.add_argument("--ids", nargs="*")
    p.add_argument("--json")
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("synth")
    p.add_argument("out_dir")
    p.add_argument("--rows-per-day", type=int, default=400)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(fn=cmd_synth)
    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
