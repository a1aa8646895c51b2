//! A byte-counting, throttling TCP relay in front of the real registry: the agent pulls
//! through it, so a test can slow a pull down enough to act during it and see exactly how
//! many bytes the registry sent and whether a transfer is still open. It forwards bytes
//! unchanged; the registry behind it is the real one.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the relay has seen; shared with its threads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes sent from the registry to the agent, over all connections.
    pub down: AtomicU64,
    /// Connections that have carried more than 1 MiB down and are still open.
    pub big_open: AtomicUsize,
    /// Downstream rate limit in bytes per second; 0 = unlimited.
    pub rate: AtomicU64,
}

/// A running relay (its threads end with the test process).
#[derive(Debug)]
pub struct Relay {
    /// `http://127.0.0.1:<port>`, to give the agent as `--docker_registry`.
    pub url: String,
    /// What it has seen.
    pub counters: Arc<Counters>,
}

impl Relay {
    /// Relays 127.0.0.1:<new port> to `upstream` (`http://127.0.0.1:<port>`), at most
    /// `rate` bytes per second downstream.
    pub fn start(upstream: &str, rate: u64) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay listener");
        let url = format!("http://{}", listener.local_addr().expect("relay addr"));
        let counters = Arc::new(Counters::default());
        counters.rate.store(rate, Ordering::SeqCst);
        let shared = counters.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let counters = shared.clone();
                let (c2, s2) = (client.try_clone(), server.try_clone());
                let (Ok(c2), Ok(s2)) = (c2, s2) else {
                    continue;
                };
                std::thread::spawn(move || up(client, server));
                std::thread::spawn(move || down(s2, c2, &counters));
            }
        });
        Self { url, counters }
    }

    /// Bytes sent down so far.
    pub fn down(&self) -> u64 {
        self.counters.down.load(Ordering::SeqCst)
    }

    /// Open connections that carried more than 1 MiB (a layer download).
    pub fn big_open(&self) -> usize {
        self.counters.big_open.load(Ordering::SeqCst)
    }

    /// Changes the rate limit (0 = unlimited).
    pub fn set_rate(&self, rate: u64) {
        self.counters.rate.store(rate, Ordering::SeqCst);
    }
}

/// Agent → registry, unthrottled.
fn up(mut client: TcpStream, mut server: TcpStream) {
    let _ = std::io::copy(&mut client, &mut server);
    let _ = server.shutdown(Shutdown::Write);
}

/// Registry → agent, counted and throttled in 16 KiB steps; ends when either side closes.
fn down(mut server: TcpStream, mut client: TcpStream, counters: &Counters) {
    let mut buf = [0u8; 16 << 10];
    let mut sent: u64 = 0;
    let mut big = false;
    loop {
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
        let n = n as u64;
        sent += n;
        counters.down.fetch_add(n, Ordering::SeqCst);
        if !big && sent > 1 << 20 {
            big = true;
            counters.big_open.fetch_add(1, Ordering::SeqCst);
        }
        let rate = counters.rate.load(Ordering::SeqCst);
        if rate > 0 {
            std::thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
        }
    }
    if big {
        counters.big_open.fetch_sub(1, Ordering::SeqCst);
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}
