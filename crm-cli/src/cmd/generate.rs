//! `crm generate`: realistic German / Swiss / Austrian B2B test data as CSV, deterministic
//! from a seed (the benchmark's data, ready for `crm import`).

use std::io::Write as _;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use crm_tools::generate::{
    CsvHeader, Duplicates, Generator, write_companies_csv_with, write_contacts_csv_with,
    write_truth_csv,
};

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
    /// Plant duplicates with known truth: PCT per cent of the records (0-100, e.g. 5 or
    /// 0.5) get a duplicate, appended after them. Contacts: e-mail in other case with spaces
    /// (as `email2`), umlaut spelling, typo, initials, swapped names, the mobile number in
    /// another format; companies: another legal form, a typo, the same domain. Contacts
    /// and companies generated with the same --size, --seed and --duplicates fit together.
    #[arg(long, value_name = "PCT")]
    pub duplicates: Option<f64>,
    /// Where the true duplicate pairs go, as CSV (`kind,variant,index_a,index_b,key_a,key_b`;
    /// keys: the contacts' e-mail, the companies' name). Default with --out: beside it,
    /// `NAME.truth.csv` for `NAME.csv`. Needed with --duplicates when writing to stdout.
    #[arg(long, value_name = "FILE", requires = "duplicates")]
    pub truth: Option<String>,
}

/// Where the truth file goes: `--truth`, else beside `--out` (`x.csv` → `x.truth.csv`).
fn truth_path(args: &GenerateArgs) -> Option<String> {
    if let Some(t) = &args.truth {
        return Some(t.clone());
    }
    let out = std::path::Path::new(args.out.as_deref()?);
    let stem = out.file_stem()?.to_string_lossy();
    Some(
        out.with_file_name(format!("{stem}.truth.csv"))
            .to_string_lossy()
            .into_owned(),
    )
}

pub async fn run(args: GenerateArgs, ctx: &Ctx) -> Result<u8> {
    let n = crm_tools::bench::parse_size(&args.size)?;
    let generator = Generator::new(args.seed, n);
    let planted = match args.duplicates {
        Some(p) if !(0.0..=100.0).contains(&p) => {
            return Err(exit::usage("--duplicates is a percentage from 0 to 100"));
        }
        Some(p) => Duplicates::percent(&generator, p),
        None => Duplicates::none(&generator),
    };
    let truth = match args.duplicates {
        Some(_) => Some(truth_path(&args).ok_or_else(|| {
            exit::usage("--duplicates on stdout needs --truth FILE for the true pairs")
        })?),
        None => None,
    };
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
        GenKind::Contacts => write_contacts_csv_with(&planted, &mut out, header)?,
        GenKind::Companies => write_companies_csv_with(&planted, &mut out, header)?,
    };
    out.flush()?;
    if args.out.is_some() {
        ctx.note(format!("wrote {rows} rows"));
    }
    if let Some(path) = truth {
        let f = std::fs::File::create(&path).with_context(|| format!("cannot create {path}"))?;
        let pairs = write_truth_csv(
            &planted,
            matches!(args.kind, GenKind::Contacts),
            std::io::BufWriter::new(f),
        )?;
        ctx.note(format!("wrote {pairs} true duplicate pairs to {path}"));
    }
    Ok(exit::OK)
}
