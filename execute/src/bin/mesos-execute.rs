//! `mesos-execute`: launch one command task through a master's v1 scheduler API and follow it
//! to a terminal state, printing each status update as Mesos's tool of the same name does.
//! Exit status: 0 when the task finished, 1 otherwise (or on error).

use clap::Parser;
use meseta_execute::Cli;

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(meseta_execute::run(&cli)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(true) => std::process::exit(0),
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("mesos-execute: {e:#}");
            std::process::exit(1);
        }
    }
}
