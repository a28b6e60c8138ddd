//! The C and C++ programs of `examples/cpp/` (over the C library of `wslink-ffi`), built
//! with CMake and Debian's g++ (installed by `interop/setup.sh`), run against our test
//! server (which serves the chat example's methods) and against the Python test server on
//! the real PyPI wslink, on the 2.x and the 1.x wire each; and once under valgrind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::child::ChildServer;
use common::peers::{python_server, repo};
use common::SECRET;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const PY_SECRET: &str = "cpp-secret";

/// What a program did.
struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `command` to its end within `limit`, killing it past that.
fn run_std(mut command: StdCommand, limit: Duration, what: &str) {
    let mut child = command
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e} (run `bash interop/setup.sh`)"));
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{what} failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Builds the library (`cargo build -p wslink-ffi`) and the programs, once per test run;
/// returns the folder holding the programs.
fn programs() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = StdCommand::new(cargo);
        build.current_dir(&root).args(["build", "-p", "wslink-ffi"]);
        run_std(
            build,
            Duration::from_secs(1200),
            "cargo build -p wslink-ffi",
        );
        // Where cargo put the library: its target folder, as this test binary's cargo has it.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), |t| root.join(t));
        let out = target.join("interop-cpp");
        let mut configure = StdCommand::new("cmake");
        configure
            .arg("-S")
            .arg(root.join("examples/cpp"))
            .arg("-B")
            .arg(&out)
            .arg(format!(
                "-DWSLINK_FFI_LIB_DIR={}",
                target.join("debug").display()
            ))
            .arg("-DCMAKE_BUILD_TYPE=Debug")
            .arg("-DCMAKE_CXX_COMPILER=g++")
            .arg("-DCMAKE_C_COMPILER=gcc")
            .stdout(Stdio::null());
        run_std(configure, Duration::from_secs(120), "cmake (configure)");
        let mut compile = StdCommand::new("cmake");
        compile
            .arg("--build")
            .arg(&out)
            .args(["-j", "2"])
            .stdout(Stdio::null());
        run_std(compile, Duration::from_secs(600), "cmake --build");
        out
    })
}

/// Runs one of the programs (`wrapper` in front, for valgrind) with `stdin` as its input.
async fn run(wrapper: &[&str], program: &str, args: &[&str], stdin: &str) -> Run {
    let path = tokio::task::spawn_blocking(|| programs().to_owned())
        .await
        .expect("build")
        .join(program);
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&path);
            c
        }
        None => Command::new(&path),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{program} {args:?} did not finish within 300 s"))
        .expect("wait");
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `--v1` first for the 1.x wire.
fn wire_args<'a>(v1: bool, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = if v1 { vec!["--v1"] } else { vec![] };
    args.extend_from_slice(rest);
    args
}

const LINES: &str = "first line\nsecond line, with ✓ and 日本語\nthird\n";

fn chat_expected(name: &str) -> String {
    LINES.lines().map(|l| format!("{name}: {l}\n")).collect()
}

async fn chat(url: &str, secret: &str, v1: bool, speaker: &str) {
    let got = run(&[], "chat_client", &wire_args(v1, &[url, secret]), LINES).await;
    assert!(got.ok, "chat_client (v1: {v1}) failed: {}", got.stderr);
    assert_eq!(got.stdout, chat_expected(speaker), "v1: {v1}");
    assert_eq!(got.stderr, "", "v1: {v1}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_client_against_our_server_on_both_wires() {
    let server = ChildServer::start(&[]).await;
    chat(&server.url, SECRET, false, "Rust server").await;
    chat(&server.url, SECRET, true, "Rust server").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_client_against_python_wslink_2() {
    let peer = python_server(2, PY_SECRET).await;
    chat(&peer.url, PY_SECRET, false, "python-wslink").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_client_against_python_wslink_1() {
    let peer = python_server(1, PY_SECRET).await;
    chat(&peer.url, PY_SECRET, true, "python-wslink").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_client_reports_failures_and_exits_non_zero() {
    let server = ChildServer::start(&[]).await;
    for v1 in [false, true] {
        let got = run(
            &[],
            "chat_client",
            &wire_args(v1, &[&server.url, "wrong"]),
            "x\n",
        )
        .await;
        assert_eq!(got.code, Some(1), "a wrong secret (v1: {v1})");
        assert!(
            got.stderr.contains("Authentication failed"),
            "{}",
            got.stderr
        );
        assert_eq!(got.stdout, "");
    }
    // Nobody listens on a port that was just free.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let got = run(&[], "chat_client", &[&url], "x\n").await;
    assert_eq!(got.code, Some(1));
    assert!(got.stderr.starts_with("chat_client: "), "{}", got.stderr);
    let got = run(&[], "chat_client", &[], "").await;
    assert_eq!(got.code, Some(2), "no URL is a usage error");
}

/// Runs `protocol_test` and fails with its output unless every check passed.
async fn protocol(url: &str, secret: &str, v1: bool, facts: [&str; 6]) {
    let mut args = wire_args(v1, &[url, secret]);
    args.extend_from_slice(&facts);
    let got = run(&[], "protocol_test", &args, "").await;
    assert!(
        got.ok && got.stdout.contains(" passed, 0 failed"),
        "protocol_test {args:?}:\n{}\n{}",
        got.stdout,
        got.stderr
    );
}

const MIB20: &str = "20971520";
/// One 1.x message is one WebSocket message, which the servers cap near 4 MiB.
const V1_BIG: &str = "4000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpp_test_protocol_against_our_server_2x_and_1x() {
    let server = ChildServer::start(&[]).await;
    let url = server.url.as_str();
    protocol(
        url,
        SECRET,
        false,
        ["wslink-rs", "Rust server", "1", "0", MIB20, "1000"],
    )
    .await;
    protocol(
        url,
        SECRET,
        true,
        ["wslink-rs", "Rust server", "1", "0", V1_BIG, "1000"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpp_test_protocol_against_python_wslink_2() {
    let peer = python_server(2, PY_SECRET).await;
    let facts = ["python-wslink", "python-wslink", "0", "1", MIB20, "1000"];
    protocol(&peer.url, PY_SECRET, false, facts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpp_test_protocol_against_python_wslink_1() {
    let peer = python_server(1, PY_SECRET).await;
    let facts = ["python-wslink", "python-wslink", "0", "1", V1_BIG, "500"];
    protocol(&peer.url, PY_SECRET, true, facts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c99_program_calls_on_both_wires() {
    let server = ChildServer::start(&[]).await;
    for v1 in [false, true] {
        let got = run(&[], "c_call", &wire_args(v1, &[&server.url, SECRET]), "").await;
        assert!(got.ok, "c_call (v1: {v1}): {}", got.stderr);
        assert_eq!(got.stdout, "c_call: ok\n");
    }
    let peer = python_server(1, PY_SECRET).await;
    let got = run(&[], "c_call", &["--v1", &peer.url, PY_SECRET], "").await;
    assert!(got.ok, "c_call against Python 1.x: {}", got.stderr);
}

/// valgrind's verdict: no memory errors, and no block lost (definitely, indirectly or
/// possibly) when the program exits.
fn assert_clean(tool_output: &str) {
    assert!(
        tool_output.contains("ERROR SUMMARY: 0 errors"),
        "valgrind found errors:\n{tool_output}"
    );
    let leaks_none = tool_output.contains("All heap blocks were freed")
        || (tool_output.contains("definitely lost: 0 bytes")
            && tool_output.contains("indirectly lost: 0 bytes")
            && tool_output.contains("possibly lost: 0 bytes"));
    assert!(leaks_none, "valgrind found leaks:\n{tool_output}");
}

const VALGRIND: &[&str] = &[
    "valgrind",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect,possible",
    "--errors-for-leak-kinds=definite,indirect,possible",
    "--error-exitcode=97",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_client_and_c_program_under_valgrind() {
    let server = ChildServer::start(&[]).await;
    let got = run(VALGRIND, "chat_client", &[&server.url, SECRET], LINES).await;
    assert!(got.ok, "chat_client under valgrind: {}", got.stderr);
    assert_eq!(got.stdout, chat_expected("Rust server"));
    assert_clean(&got.stderr);
    let got = run(VALGRIND, "c_call", &["--v1", &server.url, SECRET], "").await;
    assert!(got.ok, "c_call under valgrind: {}", got.stderr);
    assert_clean(&got.stderr);
}
