//! Printing a query result as a table, JSON or CSV.

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use nlq_core::{QueryResult, Value};

pub fn table(result: &QueryResult, out: &mut impl Write) -> std::io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(
        result
            .columns
            .iter()
            .map(|c| format!("{}\n{}", c.name, c.ty)),
    );
    for row in &result.rows {
        table.add_row(row.iter().map(cell));
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{} row{}{} · {} processed · {} tables · {} ms",
        result.rows.len(),
        if result.rows.len() == 1 { "" } else { "s" },
        if result.truncated {
            " (cut at the row cap)"
        } else {
            ""
        },
        bytes(result.bytes_processed),
        result.tables_read.len(),
        result.elapsed_ms
    )
}

pub fn json(result: &QueryResult, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, result)?;
    writeln!(out)
}

pub fn csv(result: &QueryResult, out: &mut impl Write) -> std::io::Result<()> {
    let header: Vec<String> = result.columns.iter().map(|c| csv_field(&c.name)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in &result.rows {
        let fields: Vec<String> = row.iter().map(|v| csv_field(&cell(v))).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::String(s) => s.clone(),
        Value::Float64(f) => f.to_string(),
        other => match serde_json::to_value(other) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        },
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn bytes_are_human_sized() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GB");
    }
}
