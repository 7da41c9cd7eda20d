//! `crm generate`: realistic German / Swiss / Austrian B2B test data as CSV, deterministic
//! from a seed (the benchmark's data, ready for `crm import`).

use std::io::Write as _;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use crm_tools::generate::{CsvHeader, Generator, write_companies_csv, write_contacts_csv};

use crate::ctx::Ctx;
use crate::exit;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GenKind {
    /// Contacts with company, e-mail, phone, job title, city and tags.
    Contacts,
    /// Companies with VAT id, domain, industry, city and phone.
    Companies,
}

/// Write generated records as CSV to a file or stdout.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_enum)]
    pub kind: GenKind,
    /// How many contacts the data set has (companies: one per eight contacts): 10k, 1m, ...
    #[arg(long, default_value = "10k")]
    pub size: String,
    /// Seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// German headers and `;` as German Excel writes them.
    #[arg(long)]
    pub german: bool,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<String>,
}

pub async fn run(args: GenerateArgs, ctx: &Ctx) -> Result<u8> {
    let n = crm_tools::bench::parse_size(&args.size)?;
    let generator = Generator::new(args.seed, n);
    let header = if args.german {
        CsvHeader::German
    } else {
        CsvHeader::English
    };
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("cannot create {p}"))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            crate::pipe::stdout(),
        )),
    };
    let rows = match args.kind {
        GenKind::Contacts => write_contacts_csv(&generator, &mut out, header)?,
        GenKind::Companies => write_companies_csv(&generator, &mut out, header)?,
    };
    out.flush()?;
    if args.out.is_some() {
        ctx.note(format!("wrote {rows} rows"));
    }
    Ok(exit::OK)
}
