//! `agentctl`: the operator CLI for a Meseta agent (`ps`, `inspect`, `logs`); see
//! `meseta_cli::agentctl` and `agentctl --help`.

use std::process::ExitCode;

use clap::Parser;
use meseta_cli::agentctl::cli::{run, Cli};
use meseta_cli::agentctl::CtlError;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("agentctl: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(run(cli, &mut stdout)) {
        Ok(()) => ExitCode::SUCCESS,
        // `agentctl logs ... | head` closing the pipe is not an error.
        Err(CtlError::Output(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("agentctl: {err}");
            ExitCode::FAILURE
        }
    }
}
