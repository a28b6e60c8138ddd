//! Secrets never reach the logs: a hello (accepted or not) logged at TRACE level carries
//! no trace of the secret, and neither does the Debug form of the authenticator.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{start, test_server};
use wslink::client::Client;
use wslink::Map;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn hellos_do_not_log_the_secret() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The in-process transport and this single-threaded runtime keep every task's logs
    // on this thread's subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
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
