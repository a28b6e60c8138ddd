//! A server with two methods and a publication, and a client that calls and subscribes,
//! talking over the in-process transport (no socket). Run: `cargo run --example in_process`
use wslink::{
    client::Client,
    map, memory,
    server::{Context, Server},
    Value,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder()
        .secret("s3cret")
        .rpc("demo.add", |a: f64, b: f64| async move { Ok(a + b) })
        .rpc("demo.announce", |ctx: Context, text: String| async move {
            ctx.publish(
                "demo.news",
                map! { "text" => text, "from" => ctx.client_id().as_str() },
            )
            .await
        })
        .build();
    let (listener, connector) = memory::listener(64);
    tokio::spawn(server.serve(listener));

    let client = Client::connect(connector.connect().await?, "s3cret").await?;
    let mut news = client.subscribe("demo.news")?;
    let sum: f64 = client
        .call_as("demo.add", vec![1.into(), 2.5.into()])
        .await?;
    println!("demo.add(1, 2.5) = {sum}");
    client
        .call("demo.announce", vec!["hello".into()], Default::default())
        .await?;
    let item: Value = news.recv().await.ok_or("no publication")?;
    println!("demo.news: {item}");
    Ok(())
}
