//! `--deflate`: our server with permessage-deflate agreed and refused, side by side in
//! one run, on typical wslink traffic.
//!
//! The client decides: it offers deflate (the server accepts) or offers nothing. For each
//! payload — a state-like map of a few hundred numbers and names, an array of 8192
//! floats, and a 64 KiB blob of random bytes (like a JPEG frame: incompressible) — it
//! makes `test.echo` calls through a counting TCP relay of its own (the bytes on the wire,
//! both ways, WebSocket framing included, the handshake and hello spread over the calls)
//! and reads the server process's CPU time, per call. Then it holds idle connections that
//! each echoed the float array once (so each has compressed and inflated) and reports the
//! server's resident memory per connection: without deflate first, then with it, so the
//! second figure is what deflate adds beyond memory the first could reuse.

use std::time::Duration;

use wslink::client::Client;
use wslink::ws::{ConnectOptions, Deflate};
use wslink::{Map, Value};

use crate::phases::Target;
use crate::sys;

const CALLS: usize = 200;
const IDLE: usize = 200;

/// The payloads measured: (name, value).
fn payloads() -> Vec<(&'static str, Value)> {
    let mut state = Map::new();
    for i in 0..100 {
        let mut entry = Map::new();
        entry.insert("name".into(), Value::from(format!("field_{i}")));
        entry.insert("value".into(), Value::Float(i as f64 * 0.5));
        entry.insert("visible".into(), Value::Bool(i % 3 == 0));
        state.insert(format!("key{i}"), Value::Map(entry));
    }
    let floats = (0..8192)
        .map(|i| Value::Float((i as f64 * 0.01).sin()))
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let blob: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    vec![
        ("state map", Value::Map(state)),
        ("8192 floats", Value::Array(floats)),
        ("64 KiB random", Value::Bin(blob.into())),
    ]
}

/// A one-connection TCP relay to `t`'s server: its URL, and the bytes it carried both
/// ways once the connection closed.
async fn counting_relay(
    t: &Target,
) -> Result<(String, tokio::task::JoinHandle<Option<u64>>), String> {
    let upstream = t
        .url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or("a ws:// URL")?
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = t
        .url
        .replace(&upstream, &listener.local_addr().unwrap().to_string());
    let relay = tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.ok()?;
        let mut server = tokio::net::TcpStream::connect(&upstream).await.ok()?;
        let (up, down) = tokio::io::copy_bidirectional(&mut client, &mut server)
            .await
            .ok()?;
        Some(up + down)
    });
    Ok((url, relay))
}

async fn client(t: &Target, url: &str, deflate: &Deflate) -> Result<Client, String> {
    let options = ConnectOptions {
        deflate: deflate.clone(),
        ..ConnectOptions::default()
    };
    let transport = wslink::ws::connect_with(url, &options)
        .await
        .map_err(|e| format!("connect {}: {e}", t.url))?;
    Client::connect(transport, t.secret.as_str())
        .await
        .map_err(|e| format!("hello: {e}"))
}

async fn echo(c: &Client, payload: &Value) -> Result<(), String> {
    tokio::time::timeout(
        Duration::from_secs(30),
        c.call("test.echo", vec![payload.clone()], Map::new()),
    )
    .await
    .map_err(|_| "echo timed out".to_string())?
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Measures `t` (our server, with its pid) and prints the table.
pub(crate) async fn run(t: &Target) -> Result<(), String> {
    let pid = t.pid.ok_or("--deflate needs a server the tool started")?;
    let modes = [("off", Deflate::off()), ("on", Deflate::default())];
    println!("\n## permessage-deflate off and on ({CALLS} test.echo calls each)\n");
    println!("| traffic | deflate | bytes on the wire/call (both ways) | server CPU µs/call |");
    println!("|---|---|---|---|");
    for (name, payload) in payloads() {
        for (mode, deflate) in &modes {
            let (url, relay) = counting_relay(t).await?;
            let c = client(t, &url, deflate).await?;
            echo(&c, &payload).await?;
            let cpu0 = sys::proc_stats(pid).map(|s| s.cpu_secs);
            for _ in 0..CALLS {
                echo(&c, &payload).await?;
            }
            let cpu1 = sys::proc_stats(pid).map(|s| s.cpu_secs);
            c.close().await;
            let carried = tokio::time::timeout(Duration::from_secs(10), relay)
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            let bytes = carried.map(|b| b as f64 / (CALLS + 1) as f64);
            let cpu = cpu0.zip(cpu1).map(|(a, b)| (b - a) * 1e6 / CALLS as f64);
            println!(
                "| {name} | {mode} | {} | {} |",
                bytes.map_or("n/a".into(), |b| format!("{b:.0}")),
                cpu.map_or("n/a".into(), |c| format!("{c:.1}")),
            );
        }
    }
    println!("\n| idle connections ({IDLE}, each echoed 8192 floats once) | deflate | server RSS KiB/connection |");
    println!("|---|---|---|");
    let floats = payloads().swap_remove(1).1;
    for (mode, deflate) in &modes {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = sys::proc_stats(pid).map(|s| s.rss_kib);
        let mut held = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            let c = client(t, &t.url, deflate).await?;
            echo(&c, &floats).await?;
            held.push(c);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = sys::proc_stats(pid).map(|s| s.rss_kib);
        let per = before
            .zip(after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / IDLE as f64);
        println!(
            "| | {mode} | {} |",
            per.map_or("n/a".into(), |p| format!("{p:.1}"))
        );
        for c in held {
            c.close().await;
        }
    }
    Ok(())
}
