//! One server, both wire generations: the 1.x client (JSON text + attachments) runs the
//! whole test protocol against a server that also speaks 2.x, a 1.x client and a 2.x
//! client receive the same publication, and a server that speaks only 2.x turns a 1.x
//! client away with a close code instead of leaving it waiting.

mod common;

use common::conformance::{self as check, RUST};
use common::{start, test_server, SECRET, WAIT};
use wslink::client::{Client, ClientBuilder, ClientError};
use wslink::json::{JsonCodec, Style};
use wslink::memory::MemoryConnector;
use wslink::server::ServerBuilder;
use wslink::{Map, Value};

fn dual_server() -> ServerBuilder {
    test_server().codec(JsonCodec::with_style(Style::Python))
}

async fn v1_client(connector: &MemoryConnector) -> Client {
    let transport = connector.connect().await.unwrap();
    tokio::time::timeout(
        WAIT,
        ClientBuilder::with_codec(JsonCodec::new())
            .secret(SECRET)
            .connect(transport),
    )
    .await
    .expect("hello in time")
    .expect("1.x hello accepted")
}

#[tokio::test]
async fn a_1x_client_runs_the_test_protocol() {
    let (_server, connector) = start(dual_server());
    let client = v1_client(&connector).await;
    let hello_reply_has_no_max_msg_size =
        client.max_frame_size() == wslink::client::PRE_HELLO_FRAME_SIZE;
    assert!(
        hello_reply_has_no_max_msg_size,
        "1.x hello replies carry no maxMsgSize"
    );
    let sizes = check::Sizes {
        publications: 2000,
        big_binary: 20 * 1024 * 1024,
    };
    check::every_row(&client, &v1_client(&connector).await, RUST, sizes).await;
}

#[tokio::test]
async fn a_1x_and_a_2x_client_receive_one_publication() {
    let (server, connector) = start(dual_server());
    let old = v1_client(&connector).await;
    let new = common::connect(&connector).await;
    let mut old_sub = old.subscribe("mixed").unwrap();
    let mut new_sub = new.subscribe("mixed").unwrap();
    let payload = wslink::map! { "blob" => wslink::Bytes::from_static(&[1, 2, 3]), "n" => 3 };
    assert_eq!(server.publish("mixed", payload.clone()).await.unwrap(), 2);
    assert_eq!(
        tokio::time::timeout(WAIT, old_sub.recv()).await.unwrap(),
        Some(payload.clone())
    );
    assert_eq!(
        tokio::time::timeout(WAIT, new_sub.recv()).await.unwrap(),
        Some(payload)
    );
    // Calls from both at once.
    let (a, b) = tokio::join!(
        old.call("test.add", vec![1.into(), 2.into()], Map::new()),
        new.call("test.add", vec![3.into(), 4.into()], Map::new()),
    );
    assert_eq!((a.unwrap(), b.unwrap()), (Value::from(3), Value::from(7)));
}

#[tokio::test]
async fn a_2x_only_server_turns_a_1x_client_away_with_1003() {
    let (server, connector) = start(test_server());
    let transport = connector.connect().await.unwrap();
    let result = tokio::time::timeout(
        WAIT,
        ClientBuilder::with_codec(JsonCodec::new())
            .secret(SECRET)
            .connect(transport),
    )
    .await
    .expect("no hang: the server closes");
    assert!(
        matches!(result, Err(ClientError::Disconnected)),
        "{result:?}"
    );
    // Seen frame by frame: the close code and reason.
    let mut raw = common::Raw::open(&connector).await;
    raw.send_frame(wslink::Frame::Text(r#"{"wslink":"1.0","id":"system:c0:0","method":"wslink.hello","args":[{"secret":"wslink-secret"}],"kwargs":{}}"#.into())).await;
    assert_eq!(raw.recv().await, None);
    let close = raw.rx.close_frame().unwrap();
    assert_eq!(close.code, wslink::CloseCode::UNSUPPORTED_DATA);
    assert!(close.reason.contains("1.x"), "{}", close.reason);
    assert_eq!(server.connection_count(), 0);
}

#[tokio::test]
async fn a_1x_only_server_turns_a_2x_client_away() {
    let (_server, connector) = start(dual_server().without(wslink::Generation::V2));
    let transport = connector.connect().await.unwrap();
    let result = tokio::time::timeout(WAIT, Client::connect(transport, SECRET))
        .await
        .expect("no hang");
    assert!(
        matches!(result, Err(ClientError::Disconnected)),
        "{result:?}"
    );
    let client = v1_client(&connector).await;
    assert_eq!(
        client
            .call("test.echo", vec!["ok".into()], Map::new())
            .await
            .unwrap(),
        Value::from("ok")
    );
}
