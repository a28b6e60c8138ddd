//! Client robustness: a dropped connection fails the calls in flight, and with a
//! reconnect policy the client dials again, says hello again and keeps its
//! subscriptions.

mod common;

use std::time::Duration;

use common::{start, test_server, SECRET, WAIT};
use wslink::client::{Client, ClientError, ReconnectPolicy};
use wslink::memory::MemoryConnector;
use wslink::{Map, Value};

fn fast_policy() -> ReconnectPolicy {
    ReconnectPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_attempts: Some(20),
        wait_for_link: Duration::from_secs(5),
    }
}

async fn reconnecting_client(connector: &MemoryConnector, policy: ReconnectPolicy) -> Client {
    let connector = connector.clone();
    Client::builder()
        .secret(SECRET)
        .reconnect(policy)
        .connect_with(move || {
            let connector = connector.clone();
            async move { connector.connect().await }
        })
        .await
        .expect("first connection")
}

#[tokio::test]
async fn reconnects_with_a_new_id_and_keeps_subscriptions() {
    let (server, connector) = start(test_server());
    let client = reconnecting_client(&connector, fast_policy()).await;
    let mut sub = client.subscribe("news").unwrap();
    let first_id = client.client_id();

    // A call in flight when the server drops the connection fails, typed.
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("test.sleep", vec![5000.into()], Map::new())
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(server.disconnect(&first_id));
    let failed = tokio::time::timeout(WAIT, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(failed, Err(ClientError::Disconnected)),
        "{failed:?}"
    );

    // The next call waits for the new link and succeeds.
    let got = client
        .call("test.add", vec![1.into(), 2.into()], Map::new())
        .await
        .unwrap();
    assert_eq!(got, Value::from(3));
    assert_ne!(client.client_id(), first_id, "a new hello, a new client id");
    assert!(client.is_connected() && !client.is_closed());

    // The subscription made before the drop still receives.
    server.publish("news", "after reconnect").await.unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, sub.recv()).await.unwrap(),
        Some(Value::from("after reconnect"))
    );
}

#[tokio::test]
async fn without_a_policy_a_drop_closes_the_client() {
    let (server, connector) = start(test_server());
    let client = common::connect(&connector).await;
    let mut sub = client.subscribe("news").unwrap();
    assert!(server.disconnect(&client.client_id()));
    assert_eq!(
        tokio::time::timeout(WAIT, sub.recv()).await.unwrap(),
        None,
        "subscriptions end"
    );
    assert!(client.is_closed());
    let after = client.call("test.echo", vec![], Map::new()).await;
    assert!(matches!(after, Err(ClientError::Disconnected)), "{after:?}");
}

#[tokio::test]
async fn gives_up_after_max_attempts_when_the_server_is_gone() {
    let (server, connector) = start(test_server());
    let policy = ReconnectPolicy {
        max_attempts: Some(3),
        ..fast_policy()
    };
    let client = reconnecting_client(&connector, policy).await;
    server.shutdown();
    tokio::time::timeout(WAIT, async {
        while !client.is_closed() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the client gives up");
    let after = client.call("test.echo", vec![], Map::new()).await;
    assert!(matches!(after, Err(ClientError::Disconnected)), "{after:?}");
}
