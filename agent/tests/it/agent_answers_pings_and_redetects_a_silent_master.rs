//! Master health from the agent's side, as Mesos: the agent answers each PING with a PONG
//! (carrying its id), and when no PING comes for `connection.total_ping_timeout_seconds`
//! (given in REGISTERED) it treats the master as gone and re-subscribes with the same id.

use std::time::{Duration, Instant};

use crate::daemon_harness::{FakeMaster, TestAgent};
use meseta_api::internal::{CallType, Event, EventType, Ping};

fn ping() -> Event {
    Event {
        r#type: EventType::Ping,
        ping: Some(Ping { connected: true }),
        ..Event::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_pongs_and_resubscribes_when_pings_stop() {
    let master = FakeMaster::start().await;
    *master.total_ping_timeout.lock().unwrap() = Some(1.5);
    let _agent = TestAgent::start(master.addr, &[]).await;
    master
        .next_call(20, |c| c.r#type == CallType::Subscribe)
        .await;

    // PINGs every 0.5 s for 4 s: each is answered, and the agent stays subscribed.
    let start = Instant::now();
    let mut pongs = 0;
    let mut last_ping = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        master.send(&ping()).await;
        last_ping = Instant::now();
        let pong = master
            .next_call(5, |c| c.r#type != CallType::StatusUpdate)
            .await;
        assert_eq!(pong.r#type, CallType::Pong, "{pong:?}");
        assert_eq!(pong.agent_id.unwrap().value, "m1-S0");
        pongs += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(pongs >= 6, "{pongs} pongs");

    // Silence: after 1.5 s (plus backoff) the agent re-subscribes with its id.
    let sub = master
        .next_call(10, |c| c.r#type == CallType::Subscribe)
        .await;
    let waited = last_ping.elapsed();
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    let info = sub.subscribe.unwrap().agent_info;
    assert_eq!(info.id.unwrap().value, "m1-S0");
}
