//! `crm`: the CRM's command line for admins and ops.

mod cli;
mod cmd;
mod confirm;
mod ctx;
mod exit;
mod input;
mod output;
mod pipe;
mod resolve;
mod time;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() -> ExitCode {
    let parsed = cli::Cli::command().try_get_matches().and_then(|m| {
        let mut cli = cli::Cli::from_arg_matches(&m)?;
        cli.global.org_typed =
            m.value_source("org") == Some(clap::parser::ValueSource::CommandLine);
        Ok(cli)
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    output::set_csv_options(cli.global.csv_options());
    let quiet = cli.global.quiet;
    let verbose = cli.global.verbose;
    let started = std::time::Instant::now();
    let result = runtime.block_on(cmd::run(cli));
    if verbose {
        eprintln!("crm: took {} ms", started.elapsed().as_millis());
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if crate::pipe::closed() || exit::is_broken_pipe(&e) {
                return ExitCode::from(exit::OK);
            }
            let code = exit::code_for(&e);
            if !quiet || code != exit::OK {
                eprintln!("error: {}", exit::message(&e));
            }
            ExitCode::from(code)
        }
    }
}
