//! The real npm wslink client through the relay (feature `interop`): our server in reverse
//! mode serves it on the other side, 20 MiB both ways (`interop/node/relay_session.js`).

mod common;

use std::time::Duration;

use common::peers::node;
use common::relay::{start_relay, start_reverse_server};
use wslink::ws::relay::RelayMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_npm_client_through_the_relay_with_20_mib_both_ways() {
    let base = start_relay(|_| RelayMode::Relay).await;
    let url = format!("{base}/session-js");
    start_reverse_server(&url).await;
    let (ok, output) = node("relay_session.js", &[&url], Duration::from_secs(120)).await;
    println!("{output}");
    assert!(
        ok && output.contains("# fail 0"),
        "the npm client through the relay failed:\n{output}"
    );
}
