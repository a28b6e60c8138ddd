//! Every row of the test protocol, Rust client ⇄ Rust server over the in-process transport.

mod common;

use common::conformance::{self as check, RUST};
use common::{connect, start, test_server};

#[tokio::test]
async fn echo_returns_every_kind_unchanged() {
    let (_server, connector) = start(test_server());
    check::echo(&connect(&connector).await).await;
}

#[tokio::test]
async fn echo_gives_extensions_back_as_extensions() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;
    check::echo_extensions(&client).await;
    // Ours also keeps the reserved negative types (Python refuses them).
    let reserved = wslink::Ext::new(-128, wslink::Bytes::from_static(b"r"));
    let got = client
        .call(
            "test.echo",
            vec![reserved.clone().into()],
            wslink::Map::new(),
        )
        .await
        .unwrap();
    assert_eq!(got, wslink::Value::Ext(reserved));
}

#[tokio::test]
async fn add_numbers() {
    let (_server, connector) = start(test_server());
    check::add(&connect(&connector).await).await;
}

#[tokio::test]
async fn kwargs_come_back_with_args() {
    let (_server, connector) = start(test_server());
    check::kwargs(&connect(&connector).await).await;
}

#[tokio::test]
async fn fail_gives_exception_error_with_method_and_message() {
    let (_server, connector) = start(test_server());
    check::fail(&connect(&connector).await, RUST).await;
}

#[tokio::test]
async fn unknown_method_names_the_method() {
    let (_server, connector) = start(test_server());
    check::unknown_method(&connect(&connector).await).await;
}

#[tokio::test]
async fn bytes_follow_the_pattern() {
    let (_server, connector) = start(test_server());
    check::bytes(&connect(&connector).await).await;
}

#[tokio::test]
async fn byte_len_describes_the_upload() {
    let (_server, connector) = start(test_server());
    check::byte_len(&connect(&connector).await).await;
}

#[tokio::test]
async fn publish_delivers_every_message_in_order() {
    let (_server, connector) = start(test_server());
    check::publish_in_order(&connect(&connector).await, 5000).await;
}

#[tokio::test]
async fn sleep_does_not_block_other_calls_of_the_connection() {
    let (_server, connector) = start(test_server());
    check::sleep(&connect(&connector).await, RUST).await;
}

#[tokio::test]
async fn version_names_the_implementation() {
    let (_server, connector) = start(test_server());
    check::version(&connect(&connector).await, RUST).await;
}

#[tokio::test]
async fn chat_say_hello_publishes_and_returns_the_line() {
    let (_server, connector) = start(test_server());
    check::chat_say_hello(&connect(&connector).await, &connect(&connector).await, RUST).await;
}

#[tokio::test]
async fn chat_talking_starts_and_stops() {
    let (_server, connector) = start(test_server());
    check::chat_talking(&connect(&connector).await, RUST).await;
}
