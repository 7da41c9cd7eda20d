//! `crm`: the CRM's command line for admins and ops.

mod cli;
mod cmd;
mod ctx;
mod exit;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
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
    match runtime.block_on(cmd::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if exit::is_broken_pipe(&e) {
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
