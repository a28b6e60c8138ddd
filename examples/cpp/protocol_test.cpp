// Every row of the test protocol, from C++ through wslink.hpp: the same cases as the Rust
// client's (tests/common/conformance.rs), plus the C++ API's own (futures and callbacks,
// subscription handles, timeouts, a wrong secret, nlohmann::json).
//
//   protocol_test [--v1] URL SECRET IMPLEMENTATION CHAT_NAME CONCURRENT TRACE BIG PUBLICATIONS
//
//   IMPLEMENTATION  what test.version names ("wslink-rs", "python-wslink")
//   CHAT_NAME       the chat's speaker ("Rust server", "python-wslink")
//   CONCURRENT      1 if the server runs one connection's calls concurrently, else 0
//   TRACE           1 if test.fail's data carries a trace, else 0
//   BIG             bytes each way in the large binary case
//   PUBLICATIONS    publications in the ordering case
//
// Prints each failed check and a closing "N passed, M failed" line; exits 0 only when
// nothing failed.
#include <wslink.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using wslink::Array;
using wslink::Object;
using wslink::Value;
using namespace std::chrono_literals;

namespace {

int passed = 0;
int failed = 0;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond) {                                                                      \
            ++passed;                                                                    \
        } else {                                                                         \
            ++failed;                                                                    \
            std::cerr << "protocol_test: " << __LINE__ << ": failed: " #cond << std::endl; \
        }                                                                                \
    } while (0)

struct Server {
    std::string url, secret, implementation, chat_name;
    int wire = 2;
    bool concurrent = false, trace = false;
    std::size_t big = 0, publications = 0;
};

wslink::Client connect(const Server& server, std::chrono::milliseconds request_timeout = 0ms) {
    wslink::Options options;
    options.secret = server.secret;
    options.wire = server.wire;
    options.request_timeout = request_timeout;
    return wslink::Client::connect(server.url, options);
}

Value call(const wslink::Client& c, const std::string& method, Array args = {}, Object kwargs = {}) {
    return c.call(method, std::move(args), std::move(kwargs)).get();
}

// The server's error for a call that must fail.
wslink::Error call_error(const wslink::Client& c, const std::string& method, Array args = {}) {
    try {
        call(c, method, std::move(args));
    } catch (const wslink::Error& e) {
        return e;
    }
    return wslink::Error(WSLINK_OK, 0, "the call did not fail");
}

wslink::Bytes pattern(std::size_t n) {
    wslink::Bytes bytes(n);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i % 256);
    return bytes;
}

// Publications of one topic, collected by a subscription callback.
struct Inbox {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Value> items;

    std::function<void(const Value&)> sink() {
        return [this](const Value& v) {
            std::lock_guard<std::mutex> lock(mutex);
            items.push_back(v);
            changed.notify_all();
        };
    }
    bool wait_for(std::size_t n, std::chrono::milliseconds limit = 20s) {
        std::unique_lock<std::mutex> lock(mutex);
        return changed.wait_for(lock, limit, [&] { return items.size() >= n; });
    }
    std::size_t size() {
        std::lock_guard<std::mutex> lock(mutex);
        return items.size();
    }
};

void version(const wslink::Client& c, const Server& s) {
    Value got = call(c, "test.version");
    CHECK(got["implementation"] == Value(s.implementation));
    CHECK(got["version"].kind() == wslink::Kind::String && !got["version"].as_string().empty());
}

void echo(const wslink::Client& c) {
    const std::vector<Value> cases = {
        Value(),
        true,
        false,
        0,
        std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::uint64_t>::max(),
        -32000,
        1.5,
        std::numeric_limits<double>::max(),
        std::numeric_limits<double>::infinity(),
        "",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\xa6\x80",
        Value::binary({0x00, 0x01, 0xfe, 0xff}),
        Value::binary({}),
        Array{1, "two", 3.0, Value(), Array{Array{}}},
        Object{{"nested", Object{{"list", Array{Object{{"deep", true}}}}}}, {"", 0}},
    };
    for (const Value& value : cases) {
        CHECK(call(c, "test.echo", {value}) == value);
    }
}

// msgpack extensions come back as the same extension (2.x only).
void echo_extensions(const wslink::Client& c) {
    for (const wslink::Ext& ext : {wslink::Ext{5, {'a', 'b', 'c'}}, wslink::Ext{0, {}},
                                   wslink::Ext{42, wslink::Bytes(70000, 2)}}) {
        CHECK(call(c, "test.echo", {ext}) == Value(ext));
    }
}

void add(const wslink::Client& c) {
    CHECK(call(c, "test.add", {1, 2}) == Value(3));
    CHECK(call(c, "test.add", {1, 2.5}) == Value(3.5));
    CHECK(call(c, "test.add", {-7, 7}) == Value(0));
    CHECK(call(c, "test.add", {std::numeric_limits<std::int64_t>::max(), 1}) == Value(std::uint64_t{1} << 63));
    CHECK(call(c, "test.add", {"ab", "cd"}) == Value("abcd"));
    CHECK(call(c, "test.add", {Array{1, "x"}, Array{Array{2}}}) == Value(Array{1, "x", Array{2}}));
    for (const Array& args : {Array{"x", 1}, Array{Array{1}, "x"}, Array{Object{}, Object{}}}) {
        wslink::Error e = call_error(c, "test.add", args);
        CHECK(e.status() == WSLINK_ERROR_RPC && e.code() == -32001);
        bool named = false;
        if (e.data() && e.data()->kind() == wslink::Kind::Object) {
            const Value& exception = (*e.data())["exception"];
            if (exception.kind() == wslink::Kind::String) {
                const std::string& text = exception.as_string();
                named = text.find("concatenate") != std::string::npos ||
                        text.find("unsupported operand") != std::string::npos;
            }
        }
        CHECK(named);
    }
}

void kwargs(const wslink::Client& c) {
    Object kw{{"alpha", 1}, {"beta", Array{"b"}}};
    Value got = call(c, "test.kwargs", {1, "two"}, kw);
    CHECK(got == Value(Object{{"args", Array{1, "two"}}, {"kwargs", kw}}));
    CHECK(call(c, "test.kwargs") == Value(Object{{"args", Array{}}, {"kwargs", Object{}}}));
}

void fail(const wslink::Client& c, const Server& s) {
    wslink::Error e = call_error(c, "test.fail", {"boom"});
    CHECK(e.status() == WSLINK_ERROR_RPC);
    CHECK(e.code() == -32001 && std::string(e.what()) == "Exception raised");
    CHECK(e.data().has_value());
    if (e.data()) {
        const Value& data = *e.data();
        CHECK(data["method"] == Value("test.fail"));
        CHECK(data["exception"].kind() == wslink::Kind::String &&
              data["exception"].as_string().find("boom") != std::string::npos);
        CHECK((data.as_object().find("trace") != nullptr) == s.trace);
    }
}

void unknown_method(const wslink::Client& c) {
    wslink::Error e = call_error(c, "no.such.method");
    CHECK(e.status() == WSLINK_ERROR_RPC && e.code() == -32601);
    CHECK(std::string(e.what()) == "Unregistered method called");
    CHECK(e.data() && *e.data() == Value("no.such.method"));
}

void bytes(const wslink::Client& c) {
    for (std::size_t n : {0, 1, 255, 256, 1000, 70000}) {
        CHECK(call(c, "test.bytes", {n}) == Value::binary(pattern(n)));
    }
}

void byte_len(const wslink::Client& c) {
    CHECK(call(c, "test.byte_len", {Value::binary(pattern(1000))}) ==
          Value(Object{{"len", 1000}, {"first", 0}, {"last", 231}, {"pattern", true}}));
    CHECK(call(c, "test.byte_len", {Value::binary({})}) ==
          Value(Object{{"len", 0}, {"first", nullptr}, {"last", nullptr}, {"pattern", true}}));
    CHECK(call(c, "test.byte_len", {Value::binary({9, 9})})["pattern"] == Value(false));
}

void big_binary_both_ways(const wslink::Client& c, std::size_t n) {
    Value down = call(c, "test.bytes", {n});
    CHECK(down.kind() == wslink::Kind::Binary && down.as_bytes() == pattern(n));
    Value up = call(c, "test.byte_len", {Value::binary(pattern(n))});
    CHECK(up == Value(Object{{"len", n}, {"first", 0}, {"last", (n - 1) % 256}, {"pattern", true}}));
}

void publish_in_order(const wslink::Client& c, std::size_t count) {
    Inbox inbox;
    wslink::Subscription sub = c.subscribe("test.stream", inbox.sink());
    CHECK(call(c, "test.publish", {"test.stream", count, 10}) == Value(count));
    CHECK(inbox.wait_for(count));
    bool in_order = inbox.size() == count;
    for (std::size_t seq = 0; in_order && seq < count; ++seq) {
        in_order = inbox.items[seq] == Value(Object{{"seq", seq}, {"pad", "xxxxxxxxxx"}});
    }
    CHECK(in_order);
}

// Destroying the handle unsubscribes: nothing reaches its callback afterwards.
void subscription_handle(const wslink::Client& c) {
    Inbox inbox;
    {
        wslink::Subscription sub = c.subscribe("test.handle", inbox.sink());
        call(c, "test.publish", {"test.handle", 3});
        CHECK(inbox.wait_for(3));
    }
    std::atomic<int> other{0};
    wslink::Subscription witness = c.subscribe("test.handle", [&](const Value&) { ++other; });
    call(c, "test.publish", {"test.handle", 3});
    for (int i = 0; i < 200 && other < 3; ++i) std::this_thread::sleep_for(10ms);
    CHECK(other == 3);
    CHECK(inbox.size() == 3);
}

void sleep(const wslink::Client& c, const Server& s) {
    auto started = std::chrono::steady_clock::now();
    std::future<Value> slow = c.call("test.sleep", {1500});
    std::this_thread::sleep_for(50ms);
    Value fast = call(c, "test.echo", {"fast"});
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(fast == Value("fast"));
    if (s.concurrent) {
        CHECK(waited < 750ms);
    } else {
        CHECK(waited >= 1000ms);
    }
    CHECK(slow.get() == Value(1500));
}

void two_hundred_concurrent_calls(const wslink::Client& c) {
    std::vector<std::future<Value>> calls;
    for (int i = 0; i < 200; ++i) {
        calls.push_back(i % 2 == 0 ? c.call("test.add", {i, 1000}) : c.call("test.sleep", {i % 7}));
    }
    bool all = true;
    for (int i = 0; i < 200; ++i) {
        Value want = i % 2 == 0 ? Value(i + 1000) : Value(i % 7);
        all = all && calls[i].get() == want;
    }
    CHECK(all);
}

// The callback overload: runs once, on the callback thread, with the outcome.
void callback_calls(const wslink::Client& c) {
    std::promise<wslink::Outcome> done;
    c.call("test.add", {20, 22}, {}, [&done](wslink::Outcome o) { done.set_value(std::move(o)); });
    wslink::Outcome ok = done.get_future().get();
    CHECK(ok.ok() && *ok.value == Value(42));
    std::promise<wslink::Outcome> failed_call;
    c.call("test.fail", {"cb"}, {}, [&](wslink::Outcome o) { failed_call.set_value(std::move(o)); });
    wslink::Outcome bad = failed_call.get_future().get();
    CHECK(!bad.ok() && bad.error && bad.error->code() == -32001);
}

void chat_say_hello(const wslink::Client& speaker, const wslink::Client& listener, const Server& s) {
    Inbox heard;
    wslink::Subscription sub = listener.subscribe("wslink.communication.channel", heard.sink());
    std::string line = s.chat_name + ": hi all";
    CHECK(call(speaker, "wslink.say.hello", {"hi all"}) == Value(line));
    CHECK(heard.wait_for(1) && heard.items[0] == Value(line));
}

void chat_talking(const wslink::Client& c, const Server& s) {
    Inbox heard;
    wslink::Subscription sub = c.subscribe("wslink.communication.channel", heard.sink());
    call(c, "wslink.start.talking", {0.1});
    CHECK(heard.wait_for(3));
    bool spoken = true;
    for (std::size_t i = 0; i < 3 && i < heard.size(); ++i) {
        const Value& line = heard.items[i];
        spoken = spoken && line.kind() == wslink::Kind::String && line.as_string().rfind(s.chat_name + ": ", 0) == 0;
    }
    CHECK(spoken);
    call(c, "wslink.stop.talking");
    // Drain what was in flight, then nothing more comes.
    std::size_t before;
    do {
        before = heard.size();
        std::this_thread::sleep_for(300ms);
    } while (heard.size() != before);
    std::this_thread::sleep_for(400ms);
    CHECK(heard.size() == before);
}

void wrong_secret(Server s) {
    s.secret += "-wrong";
    try {
        connect(s);
        CHECK(!"a wrong secret connects");
    } catch (const wslink::Error& e) {
        CHECK(e.status() == WSLINK_ERROR_AUTH);
        CHECK(e.code() == -32000 && std::string(e.what()) == "Authentication failed");
    }
}

void request_timeout(const Server& s) {
    wslink::Client c = connect(s, 200ms);
    try {
        call(c, "test.sleep", {1000});
        CHECK(!"the call outlived its timeout");
    } catch (const wslink::Error& e) {
        CHECK(e.status() == WSLINK_ERROR_TIMEOUT);
    }
}

void closed_client(const Server& s) {
    wslink::Client c = connect(s);
    CHECK(c.connected());
    c.close();
    CHECK(!c.connected());
    try {
        call(c, "test.echo", {1});
        CHECK(!"a closed client calls");
    } catch (const wslink::Error& e) {
        CHECK(e.status() == WSLINK_ERROR_DISCONNECTED);
    }
}

void json_round_trip() {
    Value v = Object{{"n", -3}, {"u", std::numeric_limits<std::uint64_t>::max()}, {"f", 0.25},
                     {"s", "x"}, {"b", Value::binary({1, 2})}, {"a", Array{true, nullptr}}};
    nlohmann::json j = v;  // keys sorted
    CHECK(j["n"] == -3 && j["u"] == std::numeric_limits<std::uint64_t>::max() && j["f"] == 0.25);
    CHECK(j["b"].is_binary() && j["a"][0] == true && j["a"][1].is_null());
    nlohmann::ordered_json ordered = v;  // keys in insertion order: the same value back
    CHECK(ordered.get<Value>() == v);
    CHECK(nlohmann::json::parse(R"({"k": [1, 2.5, "s"]})").get<Value>() == Value(Object{{"k", Array{1, 2.5, "s"}}}));
}

// Runs one case, naming it first (so a failure's output says where it was).
template <typename F>
void step(const char* name, F&& run) {
    std::cout << "protocol_test: " << name << std::endl;
    run();
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    Server s;
    if (!args.empty() && args[0] == "--v1") {
        s.wire = 1;
        args.erase(args.begin());
    }
    if (args.size() != 8) {
        std::cerr << "usage: protocol_test [--v1] URL SECRET IMPLEMENTATION CHAT_NAME CONCURRENT TRACE BIG "
                     "PUBLICATIONS\n";
        return 2;
    }
    s.url = args[0];
    s.secret = args[1];
    s.implementation = args[2];
    s.chat_name = args[3];
    s.concurrent = args[4] == "1";
    s.trace = args[5] == "1";
    s.big = std::stoull(args[6]);
    s.publications = std::stoull(args[7]);

    try {
        wslink::Client c = connect(s);
        wslink::Client listener = connect(s);
        step("version", [&] { version(c, s); });
        step("echo", [&] { echo(c); });
        if (s.wire == 2) step("echo_extensions", [&] { echo_extensions(c); });
        step("add", [&] { add(c); });
        step("kwargs", [&] { kwargs(c); });
        step("fail", [&] { fail(c, s); });
        step("unknown_method", [&] { unknown_method(c); });
        step("bytes", [&] { bytes(c); });
        step("byte_len", [&] { byte_len(c); });
        step("publish_in_order", [&] { publish_in_order(c, s.publications); });
        step("subscription_handle", [&] { subscription_handle(c); });
        step("sleep", [&] { sleep(c, s); });
        step("two_hundred_concurrent_calls", [&] { two_hundred_concurrent_calls(c); });
        step("callback_calls", [&] { callback_calls(c); });
        step("chat_say_hello", [&] { chat_say_hello(c, listener, s); });
        step("chat_talking", [&] { chat_talking(c, s); });
        step("big_binary_both_ways", [&] { big_binary_both_ways(c, s.big); });
        step("wrong_secret", [&] { wrong_secret(s); });
        step("request_timeout", [&] { request_timeout(s); });
        step("closed_client", [&] { closed_client(s); });
        step("json_round_trip", [&] { json_round_trip(); });
    } catch (const std::exception& e) {
        ++failed;
        std::cerr << "protocol_test: stopped by an exception: " << e.what() << std::endl;
    }
    std::cout << "protocol_test: " << passed << " passed, " << failed << " failed" << std::endl;
    return failed == 0 ? 0 : 1;
}
