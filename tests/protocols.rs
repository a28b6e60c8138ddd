//! Protocols written with `#[wslink::protocol]`: arguments by position or by name as
//! Python fills them, the errors Python's `TypeError` would give, defaults, `**kwargs`,
//! the typed client (on both wire generations), several protocols on one server and the
//! refusal of a URI exported twice, and the state, per-connection and identity
//! extractors.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{connect, start, test_server, SECRET, WAIT};
use wslink::client::{Client, ClientBuilder, ClientError};
use wslink::json::{JsonCodec, Style};
use wslink::server::hello::Authenticate;
use wslink::server::{Auth, BuildError, Context, Extension, Kwargs, Server, State};
use wslink::{array, map, Bytes, Identity, Map, RpcError, Session, Topic, Value};
use wslink_test_protocol::{chat::Chat, pattern_bytes, TestClient, TestProtocol};

async fn call(
    client: &Client,
    method: &str,
    args: Vec<Value>,
    kwargs: Map,
) -> Result<Value, ClientError> {
    tokio::time::timeout(WAIT, client.call(method, args, kwargs))
        .await
        .expect("answer in time")
}

fn kw(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The wire error of a failed call: code, `data.exception`, `data.parameter`.
fn argument_error(result: Result<Value, ClientError>) -> (i64, String, String) {
    let e = result.expect_err("the call fails");
    let wire = e.wire().expect("a server error").clone();
    let data = wire.data.clone().unwrap_or_default();
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    (wire.code, text("exception"), text("parameter"))
}

#[tokio::test]
async fn keyword_arguments_fill_parameters_by_name() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;

    let blob = Value::Bin(pattern_bytes(300));
    let described = call(&client, "test.byte_len", vec![], kw(&[("blob", blob)]))
        .await
        .unwrap();
    assert_eq!(described["len"], Value::from(300));
    assert_eq!(described["pattern"], Value::Bool(true));

    let sum = call(
        &client,
        "test.add",
        vec![],
        kw(&[("a", 2.into()), ("b", 3.into())]),
    )
    .await;
    assert_eq!(sum.unwrap(), Value::from(5));
    // Positional first, then by name, in any order of the keywords.
    let sum = call(
        &client,
        "test.add",
        vec!["x".into()],
        kw(&[("b", "y".into())]),
    )
    .await;
    assert_eq!(sum.unwrap(), Value::from("xy"));
    let sum = call(
        &client,
        "test.add",
        vec![],
        kw(&[("b", "2".into()), ("a", "1".into())]),
    )
    .await;
    assert_eq!(sum.unwrap(), Value::from("12"));
}

#[tokio::test]
async fn argument_mistakes_fail_as_python_type_errors_do() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;

    let unknown = call(
        &client,
        "test.add",
        vec![1.into(), 2.into()],
        kw(&[("c", 3.into())]),
    )
    .await;
    assert_eq!(
        argument_error(unknown),
        (
            -32001,
            "add() got an unexpected keyword argument 'c'".into(),
            "c".into()
        )
    );
    let twice = call(
        &client,
        "test.add",
        vec![1.into(), 2.into()],
        kw(&[("a", 3.into())]),
    )
    .await;
    assert_eq!(
        argument_error(twice),
        (
            -32001,
            "add() got multiple values for argument 'a'".into(),
            "a".into()
        )
    );
    let missing = call(&client, "test.add", vec![1.into()], Map::new()).await;
    assert_eq!(
        argument_error(missing),
        (
            -32001,
            "add() missing required argument: 'b'".into(),
            "b".into()
        )
    );
    let surplus = call(
        &client,
        "test.add",
        vec![1.into(), 2.into(), 3.into()],
        Map::new(),
    )
    .await;
    assert_eq!(
        argument_error(surplus),
        (
            -32001,
            "add() takes 2 positional arguments but 3 were given".into(),
            String::new()
        )
    );
    let (code, text, parameter) =
        argument_error(call(&client, "test.bytes", vec![], kw(&[("n", "many".into())])).await);
    assert_eq!((code, parameter.as_str()), (-32001, "n"));
    assert!(text.starts_with("bytes() argument 'n': "), "{text}");
    // The connection goes on after every one of them.
    assert_eq!(
        call(&client, "test.echo", vec![7.into()], Map::new())
            .await
            .unwrap(),
        Value::from(7)
    );
}

#[tokio::test]
async fn defaults_and_keyword_catch_alls() {
    let (_server, connector) = start(test_server());
    let client = connect(&connector).await;

    let (code, text, _) = argument_error(call(&client, "test.fail", vec![], Map::new()).await);
    assert_eq!((code, text.as_str()), (-32001, "test.fail called"));
    let (_, text, _) = argument_error(
        call(
            &client,
            "test.fail",
            vec![],
            kw(&[("message", "by name".into())]),
        )
        .await,
    );
    assert_eq!(text, "by name");
    assert_eq!(
        call(&client, "test.echo", vec![], Map::new())
            .await
            .unwrap(),
        Value::Nil
    );

    // `*args` and `**kwargs` take whatever is given.
    let echoed = call(
        &client,
        "test.kwargs",
        vec![1.into(), "two".into()],
        kw(&[("x", 1.into()), ("y", Value::Nil)]),
    )
    .await;
    assert_eq!(
        echoed.unwrap(),
        map! { "args" => array![1, "two"], "kwargs" => map! { "x" => 1, "y" => Value::Nil } }
    );
}

#[tokio::test]
async fn the_typed_client_calls_with_the_protocols_own_signatures() {
    let (_server, connector) = start(test_server());
    let test = TestClient::new(connect(&connector).await);

    assert_eq!(
        test.add(2.into(), 40.into()).await.unwrap(),
        Value::from(42)
    );
    assert_eq!(test.echo(None).await.unwrap(), Value::Nil);
    assert_eq!(test.echo(Some("x".into())).await.unwrap(), Value::from("x"));
    let bytes = test.bytes(1000).await.unwrap();
    assert_eq!(bytes, pattern_bytes(1000));
    let described = test.byte_len(bytes).await.unwrap();
    assert_eq!(described["len"], Value::from(1000));
    let failure = test.fail(None).await.unwrap_err();
    assert_eq!(
        failure.wire().unwrap().data.as_ref().unwrap()["exception"],
        Value::from("test.fail called")
    );

    let mut seqs = test.client().subscribe("typed.news").unwrap();
    assert_eq!(test.publish("typed.news".into(), 2, None).await.unwrap(), 2);
    for seq in 0..2 {
        let publication = tokio::time::timeout(WAIT, seqs.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(publication, map! { "seq" => seq, "pad" => "" });
    }
    let echoed = test
        .kwargs(vec![1.into()], kw(&[("k", true.into())]))
        .await
        .unwrap();
    assert_eq!(
        echoed,
        map! { "args" => array![1], "kwargs" => map! { "k" => true } }
    );
}

#[tokio::test]
async fn the_typed_client_on_the_1x_wire_sends_an_attachment_as_a_keyword() {
    let (_server, connector) = start(test_server().codec(JsonCodec::with_style(Style::Python)));
    let transport = connector.connect().await.unwrap();
    let client = tokio::time::timeout(
        WAIT,
        ClientBuilder::with_codec(JsonCodec::new())
            .secret(SECRET)
            .connect(transport),
    )
    .await
    .unwrap()
    .unwrap();
    let blob = Value::Bin(pattern_bytes(70_000));
    let described = call(&client, "test.byte_len", vec![], kw(&[("blob", blob)]))
        .await
        .unwrap();
    assert_eq!(
        (described["len"].as_i64(), described["pattern"].as_bool()),
        (Some(70_000), Some(true))
    );
    let test = TestClient::new(client);
    assert_eq!(
        test.add("a".into(), "b".into()).await.unwrap(),
        Value::from("ab")
    );
}

/// A protocol of this test's own: state, a typed topic, optional parameters in a row,
/// and the extractors.
#[derive(Default)]
struct Room {
    said: AtomicUsize,
}

#[derive(Debug, Clone)]
struct Motd(&'static str);

#[derive(Debug, Clone, PartialEq)]
struct Nickname(String);

#[derive(Debug, Clone)]
struct Member {
    name: String,
}

#[wslink::protocol(client = RoomClient)]
impl Room {
    /// What is said in the room.
    #[topic]
    const LINES: Topic<Line> = Topic::new("room.lines");

    #[rpc("room.say")]
    async fn say(
        &self,
        ctx: Context,
        Auth(member): Auth<Member>,
        text: String,
    ) -> Result<usize, RpcError> {
        let count = self.said.fetch_add(1, Ordering::Relaxed) + 1;
        ctx.publish(
            &Self::LINES,
            Line {
                who: member.name,
                text,
            },
        )
        .await?;
        Ok(count)
    }

    #[rpc("room.window")]
    async fn window(
        &self,
        from: Option<i64>,
        to: Option<i64>,
        #[default(10)] step: i64,
    ) -> Vec<i64> {
        let (from, to) = (
            from.unwrap_or(0),
            to.unwrap_or(from.unwrap_or(0) + 3 * step),
        );
        (from..to).step_by(step.max(1) as usize).collect()
    }

    #[rpc("room.motd")]
    async fn motd(&self, State(motd): State<Motd>) -> String {
        motd.0.to_owned()
    }

    #[rpc("room.nick")]
    async fn nick(&self, Extension(nick): Extension<Nickname>) -> String {
        nick.0
    }

    #[rpc("room.options")]
    async fn options(&self, first: i64, Kwargs(rest): Kwargs<Map>) -> Value {
        map! { "first" => first, "rest" => Value::Map(rest) }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Line {
    who: String,
    text: String,
}

/// Accepts `member-<name>` secrets, as a member called `<name>`; the connection gets a
/// nickname too.
struct Members;

#[async_trait::async_trait]
impl Authenticate for Members {
    async fn authenticate(&self, hello: &Value, session: &Session) -> Option<Identity> {
        let name = hello["secret"].as_str()?.strip_prefix("member-")?;
        session.insert_extension(Nickname(format!("~{name}")));
        Some(Identity::new(Member {
            name: name.to_owned(),
        }))
    }
}

async fn member(connector: &wslink::memory::MemoryConnector, name: &str) -> RoomClient {
    let transport = connector.connect().await.unwrap();
    let client = tokio::time::timeout(WAIT, Client::connect(transport, &format!("member-{name}")))
        .await
        .unwrap()
        .expect("members are let in");
    RoomClient::new(client)
}

fn room_server() -> wslink::server::ServerBuilder {
    Server::builder()
        .authenticate(Members)
        .state(Motd("be kind"))
        .protocol(Room::default())
        .protocol(TestProtocol)
}

#[tokio::test]
async fn typed_topics_state_identity_and_extensions() {
    let (_server, connector) = start(room_server());
    let alice = member(&connector, "alice").await;
    let bob = member(&connector, "bob").await;
    let mut lines = bob.subscribe_lines().unwrap();

    assert_eq!(alice.say("hello".into()).await.unwrap(), 1);
    let line = tokio::time::timeout(WAIT, lines.recv())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        line,
        Line {
            who: "alice".into(),
            text: "hello".into()
        }
    );

    assert_eq!(alice.motd().await.unwrap(), "be kind");
    assert_eq!(bob.nick().await.unwrap(), "~bob");
    // Several protocols on one server.
    let test = TestClient::new(bob.client().clone());
    assert_eq!(test.echo(Some(1.into())).await.unwrap(), Value::from(1));
}

#[tokio::test]
async fn optional_parameters_left_out_send_the_later_ones_by_name() {
    let (_server, connector) = start(room_server());
    let room = member(&connector, "carol").await;
    assert_eq!(
        room.window(None, None, None).await.unwrap(),
        vec![0, 10, 20]
    );
    assert_eq!(
        room.window(Some(5), None, Some(1)).await.unwrap(),
        vec![5, 6, 7]
    );
    // `from` left out: `to` must not land in `from`'s place.
    assert_eq!(
        room.window(None, Some(25), None).await.unwrap(),
        vec![0, 10, 20]
    );
    assert_eq!(
        room.window(None, None, Some(2)).await.unwrap(),
        vec![0, 2, 4]
    );

    let options = room.options(1, kw(&[("x", 2.into())])).await.unwrap();
    assert_eq!(options, map! { "first" => 1, "rest" => map! { "x" => 2 } });
    let by_name = call(
        room.client(),
        "room.options",
        vec![],
        kw(&[("first", 3.into()), ("y", 4.into())]),
    )
    .await;
    assert_eq!(
        by_name.unwrap(),
        map! { "first" => 3, "rest" => map! { "y" => 4 } }
    );
}

#[tokio::test]
async fn an_identity_of_another_kind_is_unauthorized() {
    // The default shared secret gives an anonymous identity, not a `Member`.
    let (_server, connector) = start(Server::builder().secret(SECRET).protocol(Room::default()));
    let client = connect(&connector).await;
    let refused = call(&client, "room.say", vec!["hi".into()], Map::new())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), -32000);
    // A missing state or extension is the server's mistake: -32001, and it says which.
    let (code, text, _) = argument_error(call(&client, "room.motd", vec![], Map::new()).await);
    assert_eq!(code, -32001);
    assert!(text.contains("Motd"), "{text}");
}

struct Impostor;

#[wslink::protocol]
impl Impostor {
    #[rpc("test.echo")]
    async fn echo(&self, x: Value) -> Value {
        x
    }
}

#[test]
fn two_protocols_exporting_one_uri_do_not_build() {
    let refused = Server::builder()
        .protocol(TestProtocol)
        .protocol(Impostor)
        .try_build()
        .unwrap_err();
    assert_eq!(
        refused,
        BuildError::DuplicateMethod {
            method: "test.echo".into(),
            first: "protocol TestProtocol".into(),
            second: "protocol Impostor".into(),
        }
    );
    let closure_clash = Server::builder()
        .protocol(Chat::new("x"))
        .rpc("wslink.say.hello", || async { Ok(()) })
        .try_build();
    assert!(matches!(
        closure_clash,
        Err(BuildError::DuplicateMethod { .. })
    ));
    // An application may still replace a built-in method.
    let own_exit = Server::builder()
        .rpc("application.exit", || async { Ok(()) })
        .try_build();
    assert!(own_exit.is_ok());
    let _ = Bytes::new();
}
