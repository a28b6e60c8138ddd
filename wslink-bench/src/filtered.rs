//! The filter phase: publications to many subscribers that never told the server
//! (broadcast), then to as many server-side subscribers, first without filters, then
//! with ten distinct ones (each keeps `seq` and one of ten fields, so every publication
//! still reaches every subscriber, in ten forms). Reports publications received per
//! second and the server's encodings per publication for each. Only for a server that
//! takes subscriptions and has the bench's own methods ([`crate::bench_methods`]): ours.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use wslink::client::{Client, Subscription};
use wslink::{Filter, Map};

use crate::bench_methods::FIELDS;
use crate::phases::{receive_until, timed, wslink_many_telling, Kind, Results, Target};
use crate::plan::Plan;

const TOPIC: &str = "bench.filter";

/// The filter of subscriber `i` (`None`: no filter).
fn filter_of(i: usize, filtered: bool) -> Filter {
    if !filtered {
        return Filter::all();
    }
    let field = format!("f{}", i % FIELDS);
    Filter::all()
        .where_eq("kind", "bench")
        .fields(["seq".to_owned(), field])
}

/// Runs the phase against `t` (nothing for the raw baselines).
pub(crate) async fn filtered(
    t: &Target,
    plan: &Plan,
    subs: usize,
    r: &mut Results,
) -> Result<(), String> {
    if t.kind != Kind::Wslink {
        return Ok(());
    }
    let probe = wslink_many_telling(t, 1, 1, true).await?;
    let takes = probe[0].server_takes_subscriptions();
    close(probe).await;
    if !takes {
        r.notes.push(format!(
            "filter: {} takes no server-side subscriptions: skipped",
            t.name
        ));
        return Ok(());
    }
    let clients = wslink_many_telling(t, subs, 32, false).await?;
    let outcome = broadcast(&clients, plan, subs, r).await;
    close(clients).await;
    outcome?;
    let clients = wslink_many_telling(t, subs, 32, true).await?;
    let outcome = both(&clients, plan, subs, r).await;
    close(clients).await;
    outcome
}

async fn close(clients: Vec<Client>) {
    for c in clients {
        c.close().await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Subscribers the server was not told about: the broadcast path.
async fn broadcast(
    clients: &[Client],
    plan: &Plan,
    subs: usize,
    r: &mut Results,
) -> Result<(), String> {
    let mut subscriptions = Vec::with_capacity(clients.len());
    for client in clients {
        subscriptions.push(client.subscribe(TOPIC).map_err(|e| e.to_string())?);
    }
    let key = format!("filter{subs}.broadcast");
    let label = "never subscribed on the server";
    one(clients, &mut subscriptions, plan, &key, label, r).await
}

/// Subscribers the server was told about, without filters, then with ten.
async fn both(clients: &[Client], plan: &Plan, subs: usize, r: &mut Results) -> Result<(), String> {
    for (filtered, label) in [
        (false, "server-side, no filter"),
        (true, "server-side, 10 filters"),
    ] {
        let mut subscriptions = Vec::with_capacity(clients.len());
        for (i, client) in clients.iter().enumerate() {
            let subscribing = client.subscribe_filtered(TOPIC, filter_of(i, filtered));
            let sub = timed("subscribe", subscribing).await?;
            subscriptions.push(sub.map_err(|e| format!("subscribe: {e}"))?);
        }
        let key = format!("filter{subs}.{}", if filtered { "ten" } else { "none" });
        one(clients, &mut subscriptions, plan, &key, label, r).await?;
    }
    Ok(())
}

/// A probe, then a round sized to the time budget; puts its figures in `r`.
async fn one(
    clients: &[Client],
    subscriptions: &mut Vec<Subscription>,
    plan: &Plan,
    key: &str,
    label: &str,
    r: &mut Results,
) -> Result<(), String> {
    let subs = subscriptions.len() as u64;
    let probe = (2000 / subs).clamp(5, 200);
    let probe_limit = Duration::from_secs_f64((plan.secs * 10.0).clamp(3.0, 30.0));
    let (got, secs, _) = round(&clients[0], subscriptions, probe, probe_limit).await?;
    if got < probe * subs {
        return Err(format!("{key} probe: {got} of {} arrived", probe * subs));
    }
    let per_sec = got as f64 / secs.max(1e-6);
    let count = ((per_sec * plan.secs) as u64 / subs).clamp(5, (plan.pub_max_msgs / subs).max(5));
    let limit = Duration::from_secs_f64(plan.secs * 5.0 + 5.0);
    let (got, secs, encodings) = round(&clients[0], subscriptions, count, limit).await?;
    r.put(
        format!("{key}.rate"),
        format!("publications, {subs} subscribers, {label}"),
        "msgs/s rcvd",
        got as f64 / secs.max(1e-6),
    );
    r.put(
        format!("{key}.enc"),
        "  server encodings per publication",
        "encodings",
        encodings as f64 / count as f64,
    );
    if got < count * subs {
        r.notes.push(format!(
            "{key}: {got} of {} publications arrived within the limit",
            count * subs
        ));
    }
    Ok(())
}

/// Every subscription must see `count` publications: (received, seconds, encodings).
async fn round(
    control: &Client,
    subscriptions: &mut Vec<Subscription>,
    count: u64,
    limit: Duration,
) -> Result<(u64, f64, u64), String> {
    let encodings = || async {
        let n = control.call_as::<u64>("bench.encodings", Vec::new());
        timed("bench.encodings", n)
            .await?
            .map_err(|e| format!("bench.encodings: {e}"))
    };
    let before = encodings().await?;
    let start = Instant::now();
    let deadline = start + limit;
    let mut set = JoinSet::new();
    for mut sub in subscriptions.drain(..) {
        set.spawn(async move {
            let (n, last) = receive_until(&mut sub, count, deadline).await;
            (n, last, sub)
        });
    }
    let args = vec![TOPIC.into(), count.into()];
    let call = control.call("bench.publish_fields", args, Map::new());
    if let Ok(Err(e)) = tokio::time::timeout_at(deadline.into(), call).await {
        return Err(format!("bench.publish_fields: {e}"));
    }
    let (mut total, mut last) = (0u64, start);
    while let Some(joined) = set.join_next().await {
        let (n, at, sub) = joined.map_err(|e| e.to_string())?;
        total += n;
        last = last.max(at);
        subscriptions.push(sub);
    }
    let after = encodings().await?;
    Ok((
        total,
        last.duration_since(start).as_secs_f64(),
        after - before,
    ))
}
