//! Secrets never reach the logs: a hello (accepted or not) logged at TRACE level carries
//! no trace of the secret, and neither does the Debug form of the authenticator.

mod common;

use common::logs;
use common::{start, test_server};
use wslink::client::Client;
use wslink::Map;

#[tokio::test]
async fn hellos_do_not_log_the_secret() {
    // The in-process transport and this single-threaded runtime keep every task's logs
    // on this thread's subscriber.
    let (logs, _guard) = logs::capture();

    let secret = "s3cret-7f9c2e-never-log-me";
    let wrong = "wrong-4b1d-never-log-me-either";
    let (_server, connector) = start(test_server().secret(secret));
    let client = Client::connect(connector.connect().await.unwrap(), secret)
        .await
        .unwrap();
    client
        .call("test.echo", vec![1.into()], Map::new())
        .await
        .unwrap();
    assert!(Client::connect(connector.connect().await.unwrap(), wrong)
        .await
        .is_err());
    client.close().await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let text = logs.text();
    assert!(
        text.contains("hello accepted") && text.contains("hello rejected"),
        "the hellos were logged:\n{text}"
    );
    assert!(
        !text.contains(secret) && !text.contains(wrong),
        "a secret leaked into the logs:\n{text}"
    );
    let auth = wslink::server::SharedSecret::new(secret);
    assert!(!format!("{auth:?}").contains(secret));
}
