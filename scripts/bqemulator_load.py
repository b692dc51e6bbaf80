#!/usr/bin/env python3
"""Load GA4 daily Parquet shards into a running bqemulator (stdlib only).

    python3 scripts/bqemulator_load.py --url http://127.0.0.1:PORT [--schema DDL] PARQUET_DIR

For each PARQUET_DIR/events_YYYYMMDD.parquet this creates (once) the dataset
`bigquery-public-data.ga4_obfuscated_sample_ecommerce` and the table `events_YYYYMMDD` with the
GA4 schema from fixtures/ga4/events_schema.ddl, then runs a PARQUET load job.

What works with bqemulator 1.4.0:
- A foreign project id needs no flag: POST /bigquery/v2/projects/bigquery-public-data/datasets
  creates the dataset under that project, and queries sent to any project (e.g. nlq-test) can
  name `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`.
- The emulator runs on this machine, so a load job can point at the file itself
  (`sourceUris: ["file:///abs/path.parquet"]`); `--upload` sends the bytes instead through
  POST /upload/bigquery/v2/projects/P/jobs?uploadType=multipart (what client libraries do).
- The load is `INSERT INTO t SELECT * FROM read_parquet(...)`: columns are matched by position.
  When the `duckdb` module is importable (it is in the project .venv) a file whose columns or types
  differ from the DDL is first rewritten to a temporary copy in DDL order and types.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

PROJECT = "bigquery-public-data"
DATASET = "ga4_obfuscated_sample_ecommerce"
DEFAULT_DDL = Path(__file__).resolve().parent.parent / "fixtures" / "ga4" / "events_schema.ddl"

# ---------------------------------------------------------------------------------------------
# DDL parsing: `( name TYPE, ... )` with BigQuery types STRING, INT64, FLOAT64, ARRAY<..>,
# STRUCT<name TYPE, ...>. Produces a small tree: ("scalar", "STRING") | ("array", t) |
# ("struct", [(name, t), ...]).
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[<>(),])")


def _tokens(text: str) -> list[str]:
    text = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"DDL: unexpected text at {pos}: {text[pos : pos + 30]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, toks: list[str]):
        self.toks, self.i = toks, 0

    def peek(self) -> str:
        return self.toks[self.i]

    def take(self, expect: str | None = None) -> str:
        tok = self.toks[self.i]
        if expect is not None and tok.upper() != expect:
            raise ValueError(f"DDL: expected {expect!r}, got {tok!r}")
        self.i += 1
        return tok

    def typ(self):
        name = self.take().upper()
        if name == "ARRAY":
            self.take("<")
            inner = self.typ()
            self.take(">")
            return ("array", inner)
        if name == "STRUCT":
            self.take("<")
            fields = self.fields(">")
            return ("struct", fields)
        return ("scalar", name)

    def fields(self, close: str):
        out = []
        while True:
            fname = self.take()
            out.append((fname, self.typ()))
            tok = self.take()
            if tok == close:
                return out
            if tok != ",":
                raise ValueError(f"DDL: expected ',' or {close!r}, got {tok!r}")


def parse_ddl(text: str) -> list[tuple[str, tuple]]:
    """Top-level columns of the DDL file as (name, type tree)."""
    p = _Parser(_tokens(text))
    p.take("(")
    cols = p.fields(")")
    if p.i != len(p.toks):
        raise ValueError("DDL: trailing tokens")
    return cols


_BQ_LEGACY = {
    "STRING": "STRING",
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "BOOL": "BOOLEAN",
    "NUMERIC": "NUMERIC",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "BYTES": "BYTES",
}
_DUCK = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "NUMERIC": "DECIMAL(38,9)",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP WITH TIME ZONE",
    "BYTES": "BLOB",
}


def bq_field(name: str, t) -> dict:
    """BigQuery REST TableFieldSchema for one column."""
    mode = "NULLABLE"
    if t[0] == "array":
        mode, t = "REPEATED", t[1]
    if t[0] == "struct":
        return {
            "name": name,
            "type": "RECORD",
            "mode": mode,
            "fields": [bq_field(n, ft) for n, ft in t[1]],
        }
    return {"name": name, "type": _BQ_LEGACY[t[1]], "mode": mode}


def duck_type(t) -> str:
    """DuckDB type text for a type tree (STRUCT -> STRUCT, ARRAY -> LIST)."""
    if t[0] == "array":
        return duck_type(t[1]) + "[]"
    if t[0] == "struct":
        return "STRUCT(" + ", ".join(f'"{n}" {duck_type(ft)}' for n, ft in t[1]) + ")"
    return _DUCK[t[1]]


# ---------------------------------------------------------------------------------------------
# REST
# ---------------------------------------------------------------------------------------------


def _call(method: str, url: str, body: bytes | None = None, ctype: str = "application/json"):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"raw": raw.decode("utf-8", "replace")}


def _post_json(url: str, obj) -> tuple[int, dict]:
    return _call("POST", url, json.dumps(obj).encode())


def ensure_dataset(base: str) -> None:
    status, body = _post_json(
        f"{base}/bigquery/v2/projects/{PROJECT}/datasets",
        {"datasetReference": {"projectId": PROJECT, "datasetId": DATASET}},
    )
    if status not in (200, 409):
        raise SystemExit(f"create dataset: HTTP {status}: {body}")


def ensure_table(base: str, table: str, fields: list[dict]) -> None:
    url = f"{base}/bigquery/v2/projects/{PROJECT}/datasets/{DATASET}/tables"
    status, body = _post_json(
        url,
        {
            "tableReference": {"projectId": PROJECT, "datasetId": DATASET, "tableId": table},
            "schema": {"fields": fields},
        },
    )
    if status not in (200, 409):
        raise SystemExit(f"create table {table}: HTTP {status}: {body}")


def _load_config(table: str) -> dict:
    return {
        "load": {
            "destinationTable": {"projectId": PROJECT, "datasetId": DATASET, "tableId": table},
            "sourceFormat": "PARQUET",
            "writeDisposition": "WRITE_TRUNCATE",
            "createDisposition": "CREATE_NEVER",
        }
    }


def load_file(base: str, table: str, path: Path, upload: bool) -> dict:
    config = _load_config(table)
    if upload:
        boundary = "nlq" + uuid.uuid4().hex
        meta = json.dumps({"configuration": config}).encode()
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                meta,
                f"\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode(),
                path.read_bytes(),
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        status, job = _call(
            "POST",
            f"{base}/upload/bigquery/v2/projects/{PROJECT}/jobs?uploadType=multipart",
            body,
            f"multipart/related; boundary={boundary}",
        )
    else:
        config["load"]["sourceUris"] = [path.resolve().as_uri()]
        status, job = _post_json(
            f"{base}/bigquery/v2/projects/{PROJECT}/jobs", {"configuration": config}
        )
    err = job.get("status", {}).get("errorResult") or job.get("error")
    if status != 200 or err:
        raise SystemExit(f"load {path.name}: HTTP {status}: {err or job}")
    return job


def conform(files: list[Path], cols: list[tuple[str, tuple]], tmp: Path) -> list[Path]:
    """Files whose schema differs from the DDL are rewritten (DDL order and types) under tmp."""
    try:
        import duckdb
    except ImportError:
        return files
    con = duckdb.connect()
    con.execute("CREATE TABLE ddl (" + ", ".join(f'"{n}" {duck_type(t)}' for n, t in cols) + ")")
    want = con.execute("DESCRIBE ddl").fetchall()
    out = []
    for f in files:
        have = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(f)]).fetchall()
        if [r[:2] for r in have] == [r[:2] for r in want]:
            out.append(f)
            continue
        dst = tmp / f.name
        select = ", ".join(f'CAST("{n}" AS {duck_type(t)}) AS "{n}"' for n, t in cols)
        con.execute(
            f"COPY (SELECT {select} FROM read_parquet(?)) TO '{dst}' (FORMAT parquet)", [str(f)]
        )
        out.append(dst)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="emulator base URL, http://127.0.0.1:PORT")
    ap.add_argument("--schema", default=str(DEFAULT_DDL), help="GA4 DDL file")
    ap.add_argument(
        "--upload",
        action="store_true",
        help="send the bytes as a multipart upload instead of a file:// source URI",
    )
    ap.add_argument("parquet_dir")
    args = ap.parse_args()

    base = args.url.rstrip("/")
    cols = parse_ddl(Path(args.schema).read_text())
    fields = [bq_field(n, t) for n, t in cols]
    files = sorted(Path(args.parquet_dir).glob("events_[0-9]*.parquet"))
    if not files:
        raise SystemExit(f"no events_YYYYMMDD.parquet files in {args.parquet_dir}")
    t0 = time.monotonic()
    ensure_dataset(base)
    rows = 0
    with tempfile.TemporaryDirectory(prefix="bqemu-load-") as tmp:
        for f in conform(files, cols, Path(tmp)):
            table = f.name.removesuffix(".parquet")
            ensure_table(base, table, fields)
            job = load_file(base, table, f, args.upload)
            rows += int(job.get("statistics", {}).get("load", {}).get("outputRows", 0))
    print(
        f"loaded {len(files)} tables, {rows} rows into {PROJECT}.{DATASET} "
        f"in {time.monotonic() - t0:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
