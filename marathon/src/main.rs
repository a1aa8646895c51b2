//! `marathon`: parses the flags and runs the scheduler until it is stopped.

use clap::Parser;
use meseta_marathon::flags::Flags;

fn main() {
    let flags = Flags::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(flags.logging_level.clone()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("marathon: cannot start the runtime: {err}");
            std::process::exit(1);
        }
    };
    if let Err(err) = rt.block_on(meseta_marathon::run::run(flags)) {
        eprintln!("marathon: {err:#}");
        std::process::exit(1);
    }
}
