//! Generates a sample and prints what it cost: `generate <out-dir> [scale] [seed]`.
//! Used to measure full-scale generation until the CLI grows a command for it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use nlq_sample::{Progress, SampleConfig, generate};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: generate <out-dir> [scale] [seed]");
        return ExitCode::from(2);
    };
    let defaults = SampleConfig::default();
    let scale = match args.next().map(|s| s.parse::<f64>()) {
        None => defaults.scale,
        Some(Ok(scale)) => scale,
        Some(Err(e)) => {
            eprintln!("scale: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = match args.next().map(|s| s.parse::<u64>()) {
        None => defaults.seed,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            eprintln!("seed: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let report = |p: Progress| {
        if p.done_days.is_multiple_of(10) || p.done_days == p.total_days {
            eprintln!(
                "{:>3}/{} days, {} rows, {:.1}s",
                p.done_days,
                p.total_days,
                p.rows_written,
                started.elapsed().as_secs_f64()
            );
        }
    };
    match generate(
        &SampleConfig {
            seed,
            scale,
            ..SampleConfig::default()
        },
        &out,
        &report,
    ) {
        Ok(manifest) => {
            let disk: u64 = manifest.shards.iter().map(|s| s.file_bytes).sum();
            let logical: u64 = manifest.shards.iter().map(|s| s.logical_bytes()).sum();
            println!("elapsed_seconds {:.2}", started.elapsed().as_secs_f64());
            println!("rows {}", manifest.rows);
            println!("users {}", manifest.users);
            println!("sessions {}", manifest.sessions);
            println!("parquet_bytes {disk} ({:.1} MB)", disk as f64 / 1e6);
            println!("logical_bytes {logical} ({:.1} MB)", logical as f64 / 1e6);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
