//! The typed client (`yun_api::Client`) through a renter's and an operator's day on a real
//! engine: every answer must read into the wire types, whose unknown fields are refused, so a
//! shape the server sends and the contract disagree on fails here.

use futures::StreamExt;
use std::time::Duration;
use yun_api::client::Page;
use yun_api::containers::{ContainerState, CreateContainer, LogStream, PortRequest};
use yun_api::images::PullEvent;
use yun_api::live::{ExecServerMessage, StatsMessage};
use yun_api::{ClientError, ErrorCode};
use yun_testkit::{fetch_eventually, TestCluster};

#[tokio::test(flavor = "multi_thread")]
async fn a_renters_day_reads_into_the_wire_types() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let anon = cluster.api.client();

    let user = anon
        .register("carol", "carol-rides-a-blue-tram")
        .await
        .unwrap();
    assert_eq!(user.username, "carol");
    let login = anon
        .login("carol", "carol-rides-a-blue-tram", None)
        .await
        .unwrap();
    let carol = anon.with_token(&login.token);
    assert_eq!(carol.me().await.unwrap().id, user.id);
    assert!(format!("{carol:?}").contains("signed_in: true"));
    assert!(
        !format!("{carol:?}").contains(&login.token),
        "the token stays out of Debug"
    );

    let plans = carol.plans().await.unwrap();
    assert!(plans.plans.iter().any(|p| p.name == "nano" && p.default));
    assert!(carol
        .images()
        .await
        .unwrap()
        .iter()
        .any(|i| i.reference == image));

    // A refusal comes back typed, with the field it is about.
    let bad = CreateContainer {
        image: image.clone(),
        plan: Some("galactic".into()),
        ..Default::default()
    };
    match carol.create_container(&bad, None).await {
        Err(ClientError::Api {
            status,
            code,
            field,
            ..
        }) => {
            assert_eq!((status, code), (422, ErrorCode::InvalidInput));
            assert_eq!(field.as_deref(), Some("plan"));
        }
        other => panic!("a create with an unknown plan: {other:?}"),
    }

    let spec = CreateContainer {
        image: image.clone(),
        name: Some("web".into()),
        command: Some(
            ["print", "1", "booted", "serve", "8080", "hello carol"]
                .map(String::from)
                .to_vec(),
        ),
        ports: Some(vec![PortRequest {
            container_port: 8080,
            host_port: None,
            protocol: None,
        }]),
        ..Default::default()
    };
    let (c, made) = carol.create_container(&spec, Some("day-1")).await.unwrap();
    assert!(made);
    assert_eq!(c.state, ContainerState::Running);
    let (again, made) = carol.create_container(&spec, Some("day-1")).await.unwrap();
    assert!(!made, "the same Idempotency-Key makes nothing new");
    assert_eq!(again.id, c.id);
    assert_eq!(fetch_eventually(&c.ports[0].endpoint).await, "hello carol");
    assert_eq!(carol.containers(false).await.unwrap().len(), 1);
    assert_eq!(
        carol
            .container(&c.name)
            .await
            .map_err(|e| e.code())
            .unwrap_err(),
        Some(ErrorCode::NotFound)
    );

    // Logs as lines, told apart by stream.
    let lines: Vec<_> = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let s = carol.log_lines(&c.id, None, false).await.unwrap();
            let lines: Vec<_> = s
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            if lines.len() >= 2 {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the container logs");
    assert!(lines
        .iter()
        .any(|l| l.line == "booted 0" && l.stream == LogStream::Stdout));
    assert!(lines
        .iter()
        .any(|l| l.line == "err booted 0" && l.stream == LogStream::Stderr));

    // Live stats: the state first, then samples.
    let mut stats = Box::pin(carol.stats(&c.id).await.unwrap());
    match stats.next().await {
        Some(Ok(StatsMessage::State { state, .. })) => assert_eq!(state, ContainerState::Running),
        other => panic!("the first stats message: {other:?}"),
    }
    let sample = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if let Some(Ok(StatsMessage::Stats(s))) = stats.next().await {
                return s;
            }
        }
    })
    .await
    .expect("a sample within 15 s");
    assert!(sample.memory_limit_bytes > 0);
    drop(stats);

    // The console runs a command and ends with its exit code.
    let mut ws = carol
        .exec(&c.id, &["/testbox", "exit", "3"], Some((80, 24)))
        .await
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(Ok(m)) = ws.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                return serde_json::from_str::<ExecServerMessage>(&t).unwrap();
            }
        }
        panic!("the console closed without an exit");
    })
    .await
    .expect("the console ends");
    assert_eq!(exit, ExecServerMessage::Exit { exit_code: 3 });

    assert_eq!(
        carol.stop(&c.id).await.unwrap().state,
        ContainerState::Stopped
    );
    assert_eq!(
        carol.start(&c.id).await.unwrap().state,
        ContainerState::Running
    );
    assert_eq!(
        carol.restart(&c.id).await.unwrap().state,
        ContainerState::Running
    );
    assert_eq!(
        carol.remove_container(&c.id).await.unwrap(),
        yun_api::client::Removal::Done
    );
    assert_eq!(
        carol.container(&c.id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );

    // Money.
    let ledger = carol.ledger(None, Some(10)).await.unwrap();
    assert_eq!(ledger.balance, carol.me().await.unwrap().balance);
    let order = carol.create_order(1000).await.unwrap();
    assert_eq!(
        carol.orders(&Page::default()).await.unwrap().orders[0].id,
        order.order.id
    );
    assert_eq!(carol.order(&order.order.id).await.unwrap().credits, 1000);
    let cancelled = carol.cancel_order(&order.order.id).await.unwrap();
    assert_eq!(cancelled.state, yun_api::billing::OrderState::Cancelled);

    // Operators' answers read too.
    let admin = cluster.admin.client();
    assert_eq!(
        admin.mark_paid(&order.order.id).await.unwrap_err().code(),
        Some(ErrorCode::OrderNotPending),
        "a cancelled order cannot be paid"
    );
    let nodes = admin.nodes(&Page::default()).await.unwrap();
    assert_eq!(nodes.nodes.len(), 1);
    assert!(admin
        .users(&Page::default())
        .await
        .unwrap()
        .users
        .iter()
        .any(|u| u.id == user.id));
    assert_eq!(
        admin.adjust_credits(&user.id, 5, "a test").await.unwrap(),
        carol.me().await.unwrap().balance
    );
    assert!(admin.billing_check().await.unwrap().unbalanced.is_empty());
    assert!(!admin
        .audit(&Page::default())
        .await
        .unwrap()
        .entries
        .is_empty());
    assert!(!admin
        .all_orders(&Page::default())
        .await
        .unwrap()
        .orders
        .is_empty());
    assert!(admin.readiness().await.unwrap().ready);
    // A client given the API's path as its base meets a typed refusal, not an unreadable body.
    let misaddressed = yun_api::Client::new(&format!("{}/api/v1", admin.base())).unwrap();
    match misaddressed.readiness().await {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code), (404, ErrorCode::NoSuchRoute))
        }
        other => panic!("readiness at the wrong base: {other:?}"),
    }
    // An unpublished image can no longer be run.
    let catalog = carol.images().await.unwrap();
    let entry = catalog.iter().find(|i| i.reference == image).unwrap();
    admin.unpublish_image(&entry.id).await.unwrap();
    assert!(!carol
        .images()
        .await
        .unwrap()
        .iter()
        .any(|i| i.id == entry.id));
    let again = CreateContainer {
        image: image.clone(),
        ..Default::default()
    };
    assert_eq!(
        carol
            .create_container(&again, None)
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::UnknownImage)
    );
    assert_eq!(
        admin.unpublish_image(&entry.id).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    // A renter does not see operators' routes.
    assert_eq!(
        carol.nodes(&Page::default()).await.unwrap_err().code(),
        Some(ErrorCode::NoSuchRoute)
    );

    carol.logout().await.unwrap();
    assert_eq!(
        carol.me().await.unwrap_err().code(),
        Some(ErrorCode::Unauthorized)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_progress_streams_typed_events_and_ends_with_one_answer() {
    let cluster = TestCluster::start().await;
    let registry = yun_testkit::LocalRegistry::start().await;
    let reference = registry.push(
        &yun_testkit::testbox_image(),
        &format!("dave-{}/app", cluster.cluster_id()),
    );
    let dave = cluster
        .api
        .sign_up("dave", "dave-rides-a-blue-tram")
        .await
        .client();
    let events: Vec<PullEvent> = dave
        .pull_progress(&reference)
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    match events.last() {
        Some(PullEvent::Done { image }) => assert_eq!(image.reference, reference),
        other => panic!("the last event: {other:?}"),
    }
    let ends = events
        .iter()
        .filter(|e| !matches!(e, PullEvent::Progress { .. }))
        .count();
    assert_eq!(ends, 1, "one answer, at the end");
    assert!(dave
        .images()
        .await
        .unwrap()
        .iter()
        .any(|i| i.reference == reference));
}

/// Every list pages the same way: `limit`, then the `next_cursor` of the page before; a
/// cursor from another list, or made up, is refused on `cursor`.
#[tokio::test(flavor = "multi_thread")]
async fn lists_page_by_cursor_and_filter_by_state() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let hal = cluster
        .api
        .sign_up("hal", "hal-rides-a-blue-tram")
        .await
        .client();
    let mut made = Vec::new();
    for _ in 0..3 {
        let spec = CreateContainer {
            image: image.clone(),
            ports: Some(vec![]),
            ..Default::default()
        };
        made.push(hal.create_container(&spec, None).await.unwrap().0.id);
    }
    hal.stop(&made[1]).await.unwrap();

    let first = hal
        .containers_page(false, None, &Page::first(2))
        .await
        .unwrap();
    assert_eq!(first.containers.len(), 2);
    let cursor = first.next_cursor.clone().expect("a next page");
    let next = Page {
        limit: Some(2),
        cursor: Some(cursor.clone()),
    };
    let second = hal.containers_page(false, None, &next).await.unwrap();
    assert_eq!(second.containers.len(), 1);
    assert_eq!(second.next_cursor, None, "the last page says so");
    let seen: Vec<String> = first
        .containers
        .iter()
        .chain(&second.containers)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(seen, made, "in the order they were made, each once");
    assert_eq!(hal.containers(false).await.unwrap().len(), 3);

    let stopped = hal
        .containers_page(false, Some(ContainerState::Stopped), &Page::default())
        .await
        .unwrap();
    assert_eq!(
        stopped
            .containers
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![made[1].clone()]
    );

    for bad in [cursor.as_str(), "made-up"] {
        let wrong = Page {
            limit: None,
            cursor: Some(bad.into()),
        };
        match hal.orders(&wrong).await {
            Err(ClientError::Api {
                status,
                code,
                field,
                ..
            }) => {
                assert_eq!(
                    (status, code, field.as_deref()),
                    (400, ErrorCode::InvalidQuery, Some("cursor"))
                );
            }
            other => panic!("a foreign cursor: {other:?}"),
        }
    }
    match hal.containers_page(false, None, &Page::first(500)).await {
        Err(ClientError::Api { code, field, .. }) => {
            assert_eq!(
                (code, field.as_deref()),
                (ErrorCode::InvalidQuery, Some("limit"))
            );
        }
        other => panic!("limit=500: {other:?}"),
    }
    let r = cluster
        .api
        .sign_up("ivy", "ivy-rides-a-blue-tram")
        .await
        .get("/containers?state=sleeping")
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_query"));
    assert_eq!(r.body["error"]["field"], "state");
}

/// The events stream: a renter sees their own containers' changes in order as they happen,
/// never another's; an operator sees all with `all=true`; `since` resumes without a gap.
#[tokio::test(flavor = "multi_thread")]
async fn events_stream_state_changes_to_their_owner() {
    use yun_api::events::EventState;
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let jo = cluster
        .api
        .sign_up("joan", "joan-rides-a-blue-tram")
        .await
        .client();
    let kim = cluster
        .api
        .sign_up("kim", "kim-rides-a-blue-tram")
        .await
        .client();
    let admin = cluster.admin.client();
    let mut jo_events = Box::pin(jo.events(false, None).await.unwrap());
    let mut kim_events = Box::pin(kim.events(false, None).await.unwrap());
    let mut all_events = Box::pin(admin.events(true, None).await.unwrap());

    let spec = CreateContainer {
        image: image.clone(),
        ports: Some(vec![]),
        ..Default::default()
    };
    let (c, _) = jo.create_container(&spec, None).await.unwrap();
    jo.stop(&c.id).await.unwrap();
    jo.remove_container(&c.id).await.unwrap();

    let mut seen: Vec<(EventState, i64)> = Vec::new();
    while seen.last().map(|s| s.0) != Some(EventState::Removed) {
        let e: yun_api::events::ContainerEvent = next_event(&mut jo_events).await;
        assert_eq!(e.container_id, c.id);
        seen.push((e.state, e.seq));
    }
    let states: Vec<EventState> = seen.iter().map(|s| s.0).collect();
    assert_eq!(states.first(), Some(&EventState::Creating), "{states:?}");
    for want in [EventState::Running, EventState::Stopped] {
        assert!(states.contains(&want), "{want:?} in {states:?}");
    }
    assert!(
        seen.windows(2).all(|w| w[1].1 > w[0].1),
        "in seq order: {seen:?}"
    );

    // The operator saw the same changes; the other renter saw nothing.
    let first: yun_api::events::ContainerEvent = next_event(&mut all_events).await;
    assert_eq!(
        (first.container_id.as_str(), first.seq),
        (c.id.as_str(), seen[0].1)
    );
    let quiet = tokio::time::timeout(
        Duration::from_millis(800),
        futures::StreamExt::next(&mut kim_events),
    )
    .await;
    assert!(quiet.is_err(), "kim must not see jo's container: {quiet:?}");

    // Resuming after the first event answers the rest, stored.
    let backlog: Vec<_> = jo
        .events_backlog(false, seen[0].1)
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    let resumed: Vec<i64> = backlog.into_iter().map(|e| e.unwrap().seq).collect();
    assert_eq!(resumed, seen[1..].iter().map(|s| s.1).collect::<Vec<_>>());
    let none: Vec<_> = kim
        .events_backlog(false, 0)
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    assert!(none.is_empty(), "another renter's backlog is empty");
}

async fn next_event<S>(s: &mut S) -> yun_api::events::ContainerEvent
where
    S: futures::Stream<Item = Result<yun_api::events::ContainerEvent, ClientError>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(10), s.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream goes on")
        .expect("a readable event")
}

/// Exec without a TTY: stdout and stderr come apart in tagged frames, stdin is binary-safe and
/// ends with `stdin_close`, and the exit code comes last.
#[tokio::test(flavor = "multi_thread")]
async fn exec_without_a_tty_keeps_streams_apart_and_stdin_binary() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use yun_api::live::ExecClientMessage;
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let lee = cluster
        .api
        .sign_up("lee", "lee-rides-a-blue-tram")
        .await
        .client();
    let spec = CreateContainer {
        image,
        ports: Some(vec![]),
        ..Default::default()
    };
    let (c, _) = lee.create_container(&spec, None).await.unwrap();

    // Both streams, told apart.
    let mut ws = lee
        .exec(&c.id, &["/testbox", "print", "2", "line"], None)
        .await
        .unwrap();
    let (out, err, exit) = drain(&mut ws).await;
    assert_eq!(String::from_utf8_lossy(&out), "line 0\nline 1\n");
    assert_eq!(String::from_utf8_lossy(&err), "err line 0\nerr line 1\n");
    assert_eq!(exit, 0);

    // Stdin goes through byte for byte, and closing it ends the command.
    let mut ws = lee.exec(&c.id, &["/testbox", "cat"], None).await.unwrap();
    let bytes: Vec<u8> = (0u8..=255).chain([0, 10, 13, 0xff]).collect();
    ws.send(Message::Binary(bytes.clone().into()))
        .await
        .unwrap();
    let close = serde_json::to_string(&ExecClientMessage::StdinClose).unwrap();
    ws.send(Message::Text(close.into())).await.unwrap();
    let (out, err, exit) = drain(&mut ws).await;
    assert_eq!(out, bytes);
    assert!(err.is_empty());
    assert_eq!(exit, 0);

    // The testbox is built FROM scratch: a shell, by path or by name along its PATH, is
    // refused before the engine runs anything, in words a renter can act on.
    for shell in ["/bin/sh", "bash"] {
        let mut ws = lee.exec(&c.id, &[shell], None).await.unwrap();
        let message = refusal(&mut ws).await;
        assert!(
            message.contains(&format!("{shell} is not there")) && !message.contains("OCI"),
            "{message}"
        );
    }
}

/// Reads an exec that must be refused: its error message.
async fn refusal(ws: &mut yun_api::client::WebSocket) -> String {
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(t) = msg.expect("the console answers") {
                match serde_json::from_str(&t).unwrap() {
                    ExecServerMessage::Error { message } => return message,
                    other => panic!("an exec that should not run: {other:?}"),
                }
            }
        }
        panic!("the console closed without saying why");
    };
    tokio::time::timeout(Duration::from_secs(15), read)
        .await
        .expect("the refusal comes at once")
}

/// Reads a non-TTY exec to its end: (stdout, stderr, exit code).
async fn drain(ws: &mut yun_api::client::WebSocket) -> (Vec<u8>, Vec<u8>, i64) {
    use tokio_tungstenite::tungstenite::Message;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let read = async {
        while let Some(msg) = ws.next().await {
            match msg.expect("the console answers") {
                Message::Binary(b) => match b.first() {
                    Some(1) => out.extend_from_slice(&b[1..]),
                    Some(2) => err.extend_from_slice(&b[1..]),
                    other => panic!("a frame without a stream tag: {other:?}"),
                },
                Message::Text(t) => match serde_json::from_str(&t).unwrap() {
                    ExecServerMessage::Exit { exit_code } => return exit_code,
                    ExecServerMessage::Error { message } => panic!("{message}"),
                },
                _ => {}
            }
        }
        panic!("the console closed without an exit");
    };
    let code = tokio::time::timeout(Duration::from_secs(15), read)
        .await
        .expect("the command ends");
    (out, err, code)
}
