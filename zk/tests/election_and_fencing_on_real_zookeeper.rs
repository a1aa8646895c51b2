#![allow(clippy::tests_outside_test_module)]
//! Contender, detector and fenced writes against a real ZooKeeper server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use meseta_tests::zookeeper::{available_or_skip, ZooKeeper};
use meseta_zk::zookeeper_client::{Client, Permission};
use meseta_zk::{
    read_children, Contender, Detector, Role, Session, SessionEvent, Write, ZkError, ZkUrl,
};

const TIMEOUT: Duration = Duration::from_secs(2);

fn url(path_prefix: &str) -> ZkUrl {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("meseta_zk=debug")
        .with_test_writer()
        .try_init();
    ZooKeeper::shared()
        .url(&ZooKeeper::unique_path(path_prefix))
        .parse()
        .unwrap()
}

async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_contenders_elect_the_lowest_and_the_next_takes_over() {
    if !available_or_skip("three_contenders_elect_the_lowest_and_the_next_takes_over") {
        return;
    }
    let url = url("elect");
    let detector = Detector::spawn(url.clone(), TIMEOUT);
    let a = Contender::spawn(url.clone(), TIMEOUT, "json.info", b"{\"n\":\"a\"}".to_vec());
    wait_for("a leads", || a.is_leader().then_some(())).await;
    let b = Contender::spawn(url.clone(), TIMEOUT, "json.info", b"{\"n\":\"b\"}".to_vec());
    let c = Contender::spawn(url.clone(), TIMEOUT, "json.info", b"{\"n\":\"c\"}".to_vec());
    wait_for("b and c are candidates", || {
        (matches!(b.role(), Role::Candidate { .. }) && matches!(c.role(), Role::Candidate { .. }))
            .then_some(())
    })
    .await;
    assert!(a.is_leader() && !b.is_leader() && !c.is_leader());
    let seen = wait_for("detector sees a", || detector.leader()).await;
    assert_eq!(seen.data, b"{\"n\":\"a\"}");
    assert_eq!(seen.label, "json.info");

    // Exactly the three members live under the path, and nothing else.
    let session = Session::connect(&url, TIMEOUT).await.unwrap();
    let mut children = session.client().list_children(&url.path).await.unwrap();
    children.sort();
    assert_eq!(children.len(), 3, "{children:?}");
    assert!(children
        .iter()
        .all(|c| c.starts_with("json.info_") && c.len() == "json.info_".len() + 10));

    // A clean withdrawal hands over at once (no session timeout to wait for) to the lower of
    // b and c (they were created concurrently, so either may be lower).
    let node = |c: &Contender| match c.role() {
        Role::Candidate { node } | Role::Leader { node, .. } => node,
        Role::Connecting => String::new(),
    };
    let (next, other, data) = if node(&b) < node(&c) {
        (&b, &c, "b")
    } else {
        (&c, &b, "c")
    };
    let start = std::time::Instant::now();
    a.withdraw().await;
    wait_for("the next leads", || next.is_leader().then_some(())).await;
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "handover took {:?}",
        start.elapsed()
    );
    let expected = format!("{{\"n\":\"{data}\"}}").into_bytes();
    wait_for("detector sees the next", || {
        detector.leader().filter(|l| l.data == expected)
    })
    .await;
    assert!(!other.is_leader());
    drop(b);
    drop(c);
    wait_for("no leader", || detector.leader().is_none().then_some(())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_leaders_fence_refuses_writes() {
    if !available_or_skip("a_deposed_leaders_fence_refuses_writes") {
        return;
    }
    let url = url("fence");
    let store = format!("{}-meseta/registry", url.path);
    let partition = Partition::start(ZooKeeper::shared().port()).await;
    let via_proxy: ZkUrl = format!("zk://{}{}", partition.addr, url.path)
        .parse()
        .unwrap();
    let a = Contender::spawn(via_proxy, TIMEOUT, "json.info", b"a".to_vec());
    wait_for("a leads", || a.is_leader().then_some(())).await;
    let fence_a = a.fence().expect("leader has a fence");
    let session = Session::connect(&url, TIMEOUT).await.unwrap();
    fence_a.ensure_path(&store, session.acls()).await.unwrap();
    let put = |name: &str, data: &[u8]| Write::Put {
        path: format!("{store}/{name}"),
        data: data.to_vec(),
    };
    fence_a
        .apply(&[put("x", b"1"), put("y", b"1")], session.acls())
        .await
        .unwrap();
    fence_a
        .apply(
            &[
                put("x", b"2"),
                Write::Delete {
                    path: format!("{store}/y"),
                },
            ],
            session.acls(),
        )
        .await
        .unwrap();
    fence_a
        .apply(
            &[Write::Delete {
                path: format!("{store}/never"),
            }],
            session.acls(),
        )
        .await
        .unwrap();
    let b = Contender::spawn(url.clone(), TIMEOUT, "json.info", b"b".to_vec());
    wait_for("b candidate", || {
        matches!(b.role(), Role::Candidate { .. }).then_some(())
    })
    .await;

    // Partition a from ZooKeeper past its session timeout, while "old code" still holds
    // a's fence: ZooKeeper expires a's node and b leads.
    partition.cut();
    wait_for("a steps down on its own clock", || {
        (!a.is_leader()).then_some(())
    })
    .await;
    wait_for("b leads", || b.is_leader().then_some(())).await;
    let err = fence_a
        .apply(&[put("x", b"stale")], session.acls())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ZkError::Fenced(_) | ZkError::Op { .. }),
        "{err}"
    );
    let fence_b = b.fence().unwrap();
    fence_b
        .apply(&[put("x", b"3")], session.acls())
        .await
        .unwrap();
    let all = read_children(session.client(), &store).await.unwrap();
    assert_eq!(all, vec![("x".to_string(), b"3".to_vec())]);
    // a contends again on a new session, behind b.
    partition.heal();
    wait_for("a candidate again", || {
        matches!(a.role(), Role::Candidate { .. }).then_some(())
    })
    .await;
    assert!(!a.is_leader());
}

/// A TCP proxy to ZooKeeper that can cut every connection (and refuse new ones) until healed:
/// a network partition between one client and the server.
struct Partition {
    addr: String,
    cut: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
}

impl Partition {
    async fn start(zk_port: u16) -> Partition {
        let listener = TcpListener::bind(("127.0.0.1", meseta_tests::free_port()))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let (c, g) = (cut.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                let (c, g) = (c.clone(), g.clone());
                let born = g.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", zk_port)).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    tokio::pin!(copy);
                    loop {
                        tokio::select! {
                            _ = &mut copy => return,
                            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                                if c.load(Ordering::SeqCst) || g.load(Ordering::SeqCst) != born {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Partition {
            addr,
            cut,
            generation,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_give_mesos_acls_and_lost_sessions_are_events() {
    if !available_or_skip("credentials_give_mesos_acls_and_lost_sessions_are_events") {
        return;
    }
    let mut url = url("acl");
    url = format!("zk://alice:secret@{}{}", url.connect_string(), url.path)
        .parse()
        .unwrap();
    let session = Session::connect(&url, TIMEOUT).await.unwrap();
    session.ensure_path(&url.path).await.unwrap();
    let (acls, _) = session.client().get_acl(&url.path).await.unwrap();
    let described: Vec<_> = acls
        .iter()
        .map(|a| (a.scheme().to_string(), a.permission()))
        .collect();
    assert!(
        described.contains(&("world".to_string(), Permission::READ)),
        "{described:?}"
    );
    assert!(
        described.contains(&("digest".to_string(), Permission::ALL)),
        "{described:?}"
    );
    // Someone without the credentials can read but not write.
    let anonymous = Client::connect(&url.connect_string()).await.unwrap();
    anonymous.get_data(&url.path).await.unwrap();
    assert!(anonymous.set_data(&url.path, b"x", None).await.is_err());

    let partition = Partition::start(ZooKeeper::shared().port()).await;
    let via_proxy: ZkUrl = format!("zk://alice:secret@{}{}", partition.addr, url.path)
        .parse()
        .unwrap();
    let session = Session::connect(&via_proxy, TIMEOUT).await.unwrap();
    let mut events = session.events();
    partition.cut();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap(),
        SessionEvent::Disconnected
    );
    tokio::time::sleep(TIMEOUT * 2).await;
    partition.heal();
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if events.next().await == SessionEvent::Lost {
                return SessionEvent::Lost;
            }
        }
    })
    .await
    .expect("lost event");
    assert_eq!(event, SessionEvent::Lost);
    assert!(session.is_lost());
}

/// `apply_expecting`: nodes guessed new are created, and a wrong guess either way still
/// writes what was asked (it only costs a retry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessed_creates_write_the_same_as_plain_puts() {
    if !available_or_skip("guessed_creates_write_the_same_as_plain_puts") {
        return;
    }
    let url = url("guess");
    let store = format!("{}-meseta/docs", url.path);
    let a = Contender::spawn(url.clone(), TIMEOUT, "json.info", b"a".to_vec());
    wait_for("a leads", || a.is_leader().then_some(())).await;
    let fence = a.fence().expect("leader has a fence");
    let session = Session::connect(&url, TIMEOUT).await.unwrap();
    fence.ensure_path(&store, session.acls()).await.unwrap();
    let put = |name: &str, data: &[u8]| Write::Put {
        path: format!("{store}/{name}"),
        data: data.to_vec(),
    };
    // Right guesses: three new nodes.
    let writes = [put("a", b"1"), put("b", b"1"), put("c", b"1")];
    fence
        .apply_expecting(&writes, |_| true, session.acls())
        .await
        .unwrap();
    // Wrong both ways: "a" exists but is guessed new, "d" is new but guessed existing; a
    // delete guessed new is a delete.
    let writes = [
        put("a", b"2"),
        put("d", b"2"),
        Write::Delete {
            path: format!("{store}/b"),
        },
    ];
    fence
        .apply_expecting(&writes, |i| i != 1, session.acls())
        .await
        .unwrap();
    let all = read_children(session.client(), &store).await.unwrap();
    let names: Vec<(String, Vec<u8>)> = ["a:2", "c:1", "d:2"]
        .iter()
        .map(|s| {
            let (k, v) = s.split_once(':').unwrap();
            (k.to_owned(), v.as_bytes().to_vec())
        })
        .collect();
    assert_eq!(all, names);
}
