//! `crm man`: manual pages generated from the command definition (clap_mangen), so they
//! never drift from `--help`.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Args, CommandFactory as _};

use crate::cli::Cli;
use crate::exit;

/// Print the manual page of `crm` (roff), or write a page per subcommand into a folder.
///
/// `crm man --out DIR` writes crm.1, crm-contact.1, crm-contact-add.1, ... (every page the
/// others refer to); `man -l DIR/crm-contact-add.1` reads one, or put DIR on MANPATH.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command and subcommand into this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: ManArgs, ctx: &crate::ctx::Ctx) -> Result<u8> {
    match args.out {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
            let pages = std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
                        .count()
                })
                .unwrap_or(0);
            ctx.note(format!("wrote {pages} manual pages to {}", dir.display()));
        }
        None => {
            let mut cmd = Cli::command().disable_help_subcommand(true);
            cmd.build();
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            crate::pipe::write_all(&page)?;
        }
    }
    Ok(exit::OK)
}
