//! Printing a query result as a table, JSON or CSV, and a validation report.

use std::io::Write;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use nlq_core::{QueryResult, Value};
use nlq_validate::{Report, Severity, Step, StepMeta, StepResult};

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

/// An answer: the summary, the rows, then how it was found (SQL, range, cost, timings).
pub fn answer(answer: &nlq_pipeline::Answer, out: &mut impl Write) -> std::io::Result<()> {
    let status = serde_json::to_value(answer.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(message) = &answer.message {
        writeln!(out, "[{status}] {message}")?;
    }
    if let Some(summary) = &answer.summary {
        writeln!(out, "{summary}")?;
    }
    for caveat in &answer.caveats {
        writeln!(out, "note: {caveat}")?;
    }
    if !answer.columns.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(answer.columns.iter().map(|c| c.name.clone()));
        for row in &answer.rows {
            table.add_row(row.iter().map(cell));
        }
        writeln!(out, "{table}")?;
    }
    if let Some(sql) = &answer.sql {
        writeln!(out, "\n{sql}\n")?;
    }
    if let Some(range) = &answer.range {
        write!(out, "range {} .. {}", range.start, range.end)?;
        if !answer.tables_read.is_empty() {
            write!(out, " · {} tables", answer.tables_read.len())?;
        }
        if let Some(cost) = &answer.cost {
            write!(
                out,
                " · {} billed, ${:.6}",
                bytes(cost.bytes_billed),
                cost.usd
            )?;
        }
        writeln!(out)?;
    }
    if let Some(llm) = &answer.llm {
        let last = llm.drafts().last();
        let drafts = llm.drafts().count();
        write!(
            out,
            "llm: {} {} · {} draft{} · {} input + {} output tokens",
            last.map_or("", |a| a.provider.as_str()),
            last.map_or("", |a| a.model.as_str()),
            drafts,
            if drafts == 1 { "" } else { "s" },
            llm.input_tokens,
            llm.output_tokens
        )?;
        if llm.unmetered_calls > 0 {
            write!(
                out,
                " (+ {} call{} that reported no usage)",
                llm.unmetered_calls,
                if llm.unmetered_calls == 1 { "" } else { "s" }
            )?;
        }
        if llm.unpriced_calls == llm.calls.len() {
            writeln!(
                out,
                " · cost unknown (model not in the price table, or no usage reported)"
            )?;
        } else if llm.unpriced_calls > 0 {
            writeln!(
                out,
                " · at least ${:.4} ({} call{} of unknown cost)",
                llm.cost_usd,
                llm.unpriced_calls,
                if llm.unpriced_calls == 1 { "" } else { "s" }
            )?;
        } else {
            writeln!(out, " · ${:.4}", llm.cost_usd)?;
        }
        for stage in llm.by_stage() {
            let name = serde_json::to_value(stage.stage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            writeln!(
                out,
                "  {name}: {} call{} · {} + {} tokens · ${:.4}",
                stage.calls,
                if stage.calls == 1 { "" } else { "s" },
                stage.input_tokens,
                stage.output_tokens,
                stage.cost_usd
            )?;
        }
        if let Some(risk) = &llm.risk {
            writeln!(out, "risk: {:.2} {}", risk.score, risk.reasons.join("; "))?;
        }
        for assumption in &llm.assumptions {
            writeln!(out, "assumed: {assumption}")?;
        }
    }
    if let Some(report) = &answer.validation {
        for finding in report.findings() {
            writeln!(out, "note [{}]: {}", finding.rule, finding.message)?;
        }
    }
    let timings: Vec<String> = answer
        .timings
        .iter()
        .map(|t| {
            let stage = serde_json::to_value(t.stage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{stage} {:.1} ms", t.ms)
        })
        .collect();
    writeln!(out, "{}", timings.join(" · "))
}

/// The validation report: one line per step, the cost, then every finding.
pub fn report(report: &Report, plan: bool, out: &mut impl Write) -> std::io::Result<()> {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(["step", "verdict", "ms", "details"]);
    for step in &report.steps {
        table.add_row([
            step_name(step.name).to_owned(),
            if step.ok { "ok" } else { "FAILED" }.to_owned(),
            format!("{:.2}", step.elapsed.as_secs_f64() * 1000.0),
            details(step),
        ]);
    }
    writeln!(out, "{table}")?;
    if let Some(cost) = &report.cost {
        let local = match &cost.local {
            Some((code, amount)) => format!(" ≈ {amount:.2} {code}"),
            None => String::new(),
        };
        writeln!(
            out,
            "cost: {} processed, {} billed, ${:.6}{local}",
            bytes(cost.bytes_processed),
            bytes(cost.bytes_billed),
            cost.usd
        )?;
    }
    writeln!(
        out,
        "verdict: {}",
        serde_json::to_value(report.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    )?;
    findings(report, out)?;
    if plan
        && let Some(text) = report
            .steps
            .iter()
            .find(|s| s.name == Step::Explain)
            .and_then(|s| match &s.meta {
                StepMeta::Explain { plan } => Some(plan.as_str()),
                _ => None,
            })
    {
        writeln!(out, "{text}")?;
    }
    Ok(())
}

/// Every finding, one per line: severity, rule, position, message.
pub fn findings(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    for finding in report.findings() {
        let severity = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = finding
            .position
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{severity} [{}]{at}: {}",
            finding.rule, finding.message
        )?;
    }
    Ok(())
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Guard => "guard",
        Step::Lint => "lint",
        Step::DryRun => "dry run",
        Step::Cost => "cost",
        Step::Explain => "explain",
        Step::Schema => "schema",
        Step::Canary => "canary",
        Step::Execute => "execute",
        Step::Assertions => "assertions",
    }
}

/// One line of what a step learned.
fn details(step: &StepResult) -> String {
    let meta = &step.meta;
    let count = |what: &str| {
        let n = step
            .findings
            .iter()
            .filter(|f| match what {
                "error" => f.severity == Severity::Error,
                _ => f.severity == Severity::Warning,
            })
            .count();
        (n > 0).then(|| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
    };
    let facts = match meta {
        StepMeta::Skipped { skipped } => return format!("skipped: {skipped}"),
        StepMeta::DryRun {
            bytes_processed,
            tables,
        } => Some(format!(
            "{} over {} tables",
            bytes(*bytes_processed),
            tables.len()
        )),
        StepMeta::Cost {
            bytes_billed,
            maximum_bytes_billed,
            ..
        } => Some(format!(
            "{} billed (cap {})",
            bytes(*bytes_billed),
            bytes(*maximum_bytes_billed)
        )),
        StepMeta::Explain { plan } => Some(format!(
            "{} plan lines (--plan prints them)",
            plan.lines().count()
        )),
        StepMeta::Schema { columns } => Some(
            columns
                .iter()
                .map(|c| format!("{} {}", c.name, c.ty))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        StepMeta::Canary { days, rows, .. } => Some(format!("{rows} rows on {}", days.join(", "))),
        StepMeta::Execute { rows, .. } => Some(format!("{rows} rows")),
        StepMeta::Nothing {} => None,
    };
    [count("error"), count("warning"), facts]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

fn cell(value: &Value) -> String {
    value.to_string()
}

pub use nlq_core::result::human_bytes as bytes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
