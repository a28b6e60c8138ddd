// wslink.hpp: a C++17 client for wslink servers, over the C library of wslink-ffi.
//
//   wslink::Client client = wslink::Client::connect("ws://127.0.0.1:1234/ws");
//   wslink::Value sum = client.call("test.add", {1, 2}).get();           // 3
//   wslink::Subscription sub = client.subscribe("wslink.communication.channel",
//       [](const wslink::Value& line) { std::cout << line.as_string() << "\n"; });
//
// * wslink::Value is a plain C++ value: nil, bool, integers, double, string, binary (bytes),
//   arrays, maps (string keys, in insertion order) and msgpack extensions. It converts to
//   and from nlohmann::json when <nlohmann/json.hpp> can be included.
// * wslink::Client owns the connection (RAII: its destructor closes and frees it). It may be
//   used from several threads at once. call() returns a std::future, or takes a callback.
// * subscribe() returns a wslink::Subscription; destroying it unsubscribes, and once it is
//   destroyed its callback never runs again.
// * Callbacks (publications, call callbacks, and the code that fulfils the futures) run on
//   the client's own callback thread, one at a time. They may call the client, blocking
//   calls included (call(...).get() from a callback is fine). A callback must not throw: an
//   exception leaving it ends the program (std::terminate), since it cannot cross into C.
// * Failures are thrown as wslink::Error (from connect(), from future.get()), carrying the
//   status, the wire code, the message and the server's data.
//
// Binary moves into the library without a copy when the arguments are passed as
// temporaries (the library reads the bytes in place); results are copied once, out of the
// library's buffers.
#ifndef WSLINK_HPP
#define WSLINK_HPP

#include "wslink.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define WSLINK_HAS_NLOHMANN_JSON 1
#endif

namespace wslink {

/// Raw bytes.
using Bytes = std::vector<std::uint8_t>;

/// Binary data (distinct from an array of numbers).
struct Binary {
    Bytes bytes;
    bool operator==(const Binary& other) const { return bytes == other.bytes; }
};

/// A msgpack extension: an application type tag (0..127) and its bytes. 2.x wire only.
struct Ext {
    std::int8_t tag = 0;
    Bytes bytes;
    bool operator==(const Ext& other) const { return tag == other.tag && bytes == other.bytes; }
};

class Value;

/// An array of values.
using Array = std::vector<Value>;

/// A map from strings to values, keeping insertion order (as the wire does).
class Object {
public:
    using Entry = std::pair<std::string, Value>;
    Object() = default;
    Object(std::initializer_list<Entry> entries);

    /// The value of `key`, or nullptr.
    const Value* find(const std::string& key) const;
    /// Sets `key` (an existing key keeps its place).
    void set(std::string key, Value value);
    /// The value of `key`; a nil value when there is none.
    const Value& operator[](const std::string& key) const;
    std::size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
    std::vector<Entry>::const_iterator end() const { return entries_.end(); }
    bool operator==(const Object& other) const;

private:
    std::vector<Entry> entries_;
};

/// The kind of a Value.
enum class Kind { Nil, Bool, Int, UInt, Float, String, Binary, Array, Object, Ext };

/// One wslink value.
class Value {
public:
    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : data_(b) {}
    template <typename T,
              std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    Value(T n) {
        if constexpr (std::is_signed_v<T>) {
            data_ = static_cast<std::int64_t>(n);
        } else if (static_cast<std::uint64_t>(n) <=
                   static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            data_ = static_cast<std::int64_t>(n);  // as on the wire: UInt only above INT64_MAX
        } else {
            data_ = static_cast<std::uint64_t>(n);
        }
    }
    template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
    Value(T f) : data_(static_cast<double>(f)) {}
    Value(const char* s) : data_(std::string(s)) {}
    Value(std::string s) : data_(std::move(s)) {}
    Value(Binary b) : data_(std::move(b)) {}
    Value(Array a) : data_(std::move(a)) {}
    Value(Object o) : data_(std::move(o)) {}
    Value(Ext e) : data_(std::move(e)) {}

    /// Binary holding `bytes`.
    static Value binary(Bytes bytes) { return Value(Binary{std::move(bytes)}); }

    Kind kind() const { return static_cast<Kind>(data_.index()); }
    bool is_nil() const { return kind() == Kind::Nil; }

    // Accessors throw std::bad_variant_access when the kind differs (as_double and the
    // integer ones accept every number that fits).
    bool as_bool() const { return std::get<bool>(data_); }
    std::int64_t as_int() const;
    std::uint64_t as_uint() const;
    double as_double() const;
    const std::string& as_string() const { return std::get<std::string>(data_); }
    const Bytes& as_bytes() const { return std::get<Binary>(data_).bytes; }
    const Array& as_array() const { return std::get<Array>(data_); }
    const Object& as_object() const { return std::get<Object>(data_); }
    const Ext& as_ext() const { return std::get<Ext>(data_); }
    Array& as_array() { return std::get<Array>(data_); }
    Bytes& as_bytes() { return std::get<Binary>(data_).bytes; }

    /// A map's value for `key` (nil when missing); throws when this is not a map.
    const Value& operator[](const std::string& key) const { return as_object()[key]; }
    const Value& operator[](const char* key) const { return as_object()[key]; }
    /// An array's item `index`; throws std::out_of_range.
    const Value& operator[](std::size_t index) const { return as_array().at(index); }

    bool operator==(const Value& other) const { return data_ == other.data_; }
    bool operator!=(const Value& other) const { return !(*this == other); }

private:
    friend class Object;
    std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Binary,
                 Array, Object, Ext>
        data_;
};

inline Object::Object(std::initializer_list<Entry> entries) {
    for (const auto& entry : entries) set(entry.first, entry.second);
}

inline const Value* Object::find(const std::string& key) const {
    for (const auto& entry : entries_) {
        if (entry.first == key) return &entry.second;
    }
    return nullptr;
}

inline void Object::set(std::string key, Value value) {
    for (auto& entry : entries_) {
        if (entry.first == key) {
            entry.second = std::move(value);
            return;
        }
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

inline const Value& Object::operator[](const std::string& key) const {
    static const Value nil;
    const Value* found = find(key);
    return found ? *found : nil;
}

inline bool Object::operator==(const Object& other) const { return entries_ == other.entries_; }

inline std::int64_t Value::as_int() const {
    if (kind() == Kind::UInt) {
        std::uint64_t u = std::get<std::uint64_t>(data_);
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw std::out_of_range("wslink::Value: integer above INT64_MAX");
        return static_cast<std::int64_t>(u);
    }
    return std::get<std::int64_t>(data_);
}

inline std::uint64_t Value::as_uint() const {
    if (kind() == Kind::Int) {
        std::int64_t i = std::get<std::int64_t>(data_);
        if (i < 0) throw std::out_of_range("wslink::Value: negative integer");
        return static_cast<std::uint64_t>(i);
    }
    return std::get<std::uint64_t>(data_);
}

inline double Value::as_double() const {
    switch (kind()) {
        case Kind::Int: return static_cast<double>(std::get<std::int64_t>(data_));
        case Kind::UInt: return static_cast<double>(std::get<std::uint64_t>(data_));
        default: return std::get<double>(data_);
    }
}

/// A failure: the status, the wire code (the server's, or -32099 for local failures), the
/// message, and the server's data (for example the exception text of a failed method).
class Error : public std::runtime_error {
public:
    Error(wslink_status status, std::int64_t code, const std::string& message,
          std::optional<Value> data = std::nullopt)
        : std::runtime_error(message), status_(status), code_(code), data_(std::move(data)) {}

    wslink_status status() const { return status_; }
    std::int64_t code() const { return code_; }
    const std::optional<Value>& data() const { return data_; }

private:
    wslink_status status_;
    std::int64_t code_;
    std::optional<Value> data_;
};

namespace detail {

struct ValueDeleter {
    void operator()(wslink_value* v) const { wslink_value_free(v); }
};
struct ErrorDeleter {
    void operator()(wslink_error* e) const { wslink_error_free(e); }
};
using OwnedValue = std::unique_ptr<wslink_value, ValueDeleter>;
using OwnedError = std::unique_ptr<wslink_error, ErrorDeleter>;

inline OwnedValue checked(wslink_value* v) {
    if (!v) throw Error(WSLINK_ERROR_INVALID_ARGUMENT, -32099, "wslink: invalid value");
    return OwnedValue(v);
}

/// A C value tree, as a Value (binary copied once, out of the library).
inline Value from_c(const wslink_value* v) {
    switch (wslink_value_kind(v)) {
        case WSLINK_NIL: return Value();
        case WSLINK_BOOL: {
            bool b = false;
            wslink_value_get_bool(v, &b);
            return Value(b);
        }
        case WSLINK_INT: {
            std::int64_t i = 0;
            wslink_value_get_int(v, &i);
            return Value(i);
        }
        case WSLINK_UINT: {
            std::uint64_t u = 0;
            wslink_value_get_uint(v, &u);
            return Value(u);
        }
        case WSLINK_FLOAT: {
            double f = 0;
            wslink_value_get_float(v, &f);
            return Value(f);
        }
        case WSLINK_STRING: {
            const char* text = nullptr;
            std::size_t len = 0;
            wslink_value_get_string(v, &text, &len);
            return Value(std::string(text, len));
        }
        case WSLINK_BINARY: {
            const std::uint8_t* data = nullptr;
            std::size_t len = 0;
            wslink_value_get_binary(v, &data, &len);
            return Value::binary(Bytes(data, data + len));
        }
        case WSLINK_EXT: {
            std::int8_t tag = 0;
            const std::uint8_t* data = nullptr;
            std::size_t len = 0;
            wslink_value_get_ext(v, &tag, &data, &len);
            return Value(Ext{tag, Bytes(data, data + len)});
        }
        case WSLINK_ARRAY: {
            Array items;
            std::size_t n = wslink_value_len(v);
            items.reserve(n);
            for (std::size_t i = 0; i < n; ++i) items.push_back(from_c(wslink_value_array_get(v, i)));
            return Value(std::move(items));
        }
        case WSLINK_MAP: {
            Object entries;
            std::size_t n = wslink_value_len(v);
            for (std::size_t i = 0; i < n; ++i) {
                const char* key = nullptr;
                std::size_t key_len = 0;
                const wslink_value* item = wslink_value_map_entry(v, i, &key, &key_len);
                entries.set(std::string(key, key_len), from_c(item));
            }
            return Value(std::move(entries));
        }
    }
    throw Error(WSLINK_ERROR_PROTOCOL, -32099, "wslink: unknown value kind");
}

inline void release_bytes(void* context, std::uint8_t*, std::size_t) {
    delete static_cast<Bytes*>(context);
}

inline void push(wslink_value* array, OwnedValue item) {
    wslink_status status = wslink_value_array_push(array, item.release(), nullptr);
    if (status != WSLINK_OK) throw Error(status, -32099, "wslink: cannot build an array");
}

/// A Value as a new C value tree. A temporary's binary is lent to the library (no copy);
/// otherwise it is copied once.
template <typename V>
OwnedValue to_c(V&& value) {
    constexpr bool movable = !std::is_lvalue_reference_v<V>;
    switch (value.kind()) {
        case Kind::Nil: return checked(wslink_value_nil());
        case Kind::Bool: return checked(wslink_value_bool(value.as_bool()));
        case Kind::Int: return checked(wslink_value_int(value.as_int()));
        case Kind::UInt: return checked(wslink_value_uint(value.as_uint()));
        case Kind::Float: return checked(wslink_value_float(value.as_double()));
        case Kind::String: {
            const std::string& s = value.as_string();
            return checked(wslink_value_string(s.data(), s.size()));
        }
        case Kind::Binary: {
            if constexpr (movable) {
                if (!value.as_bytes().empty()) {
                    auto* owned = new Bytes(std::move(value.as_bytes()));
                    // On failure the library has already called release_bytes.
                    return checked(wslink_value_binary_take(owned->data(), owned->size(), release_bytes, owned));
                }
            }
            {
                const Bytes& b = value.as_bytes();
                return checked(wslink_value_binary(b.data(), b.size()));
            }
        }
        case Kind::Ext: {
            const Ext& e = value.as_ext();
            return checked(wslink_value_ext(e.tag, e.bytes.data(), e.bytes.size()));
        }
        case Kind::Array: {
            OwnedValue array = checked(wslink_value_array());
            if constexpr (movable) {
                for (Value& item : value.as_array()) push(array.get(), to_c(std::move(item)));
            } else {
                for (const Value& item : value.as_array()) push(array.get(), to_c(item));
            }
            return array;
        }
        case Kind::Object: {
            OwnedValue map = checked(wslink_value_map());
            for (const auto& entry : value.as_object()) {
                wslink_status status = wslink_value_map_insert(map.get(), entry.first.data(), entry.first.size(),
                                                               to_c(entry.second).release(), nullptr);
                if (status != WSLINK_OK) throw Error(status, -32099, "wslink: cannot build a map");
            }
            return map;
        }
    }
    throw Error(WSLINK_ERROR_INVALID_ARGUMENT, -32099, "wslink: unknown value kind");
}

/// Turns a C error into a wslink::Error (and frees it).
inline Error to_error(wslink_error* raw) {
    OwnedError e(raw);
    std::optional<Value> data;
    if (const wslink_value* d = wslink_error_data(e.get())) data = from_c(d);
    return Error(wslink_error_status(e.get()), wslink_error_code(e.get()), wslink_error_message(e.get()),
                 std::move(data));
}

inline void check(wslink_status status, wslink_error* error) {
    if (status != WSLINK_OK) {
        if (error) throw to_error(error);
        throw Error(status, -32099, "wslink: call failed");
    }
}

}  // namespace detail

/// What a call's callback receives: a value, or an error.
struct Outcome {
    std::optional<Value> value;
    std::optional<Error> error;
    bool ok() const { return value.has_value(); }
};

/// Reconnect settings (see wslink_options_set_reconnect).
struct Reconnect {
    std::chrono::milliseconds initial_delay{100};
    std::chrono::milliseconds max_delay{5000};
    std::uint32_t max_attempts = 0;  // 0: never give up
    std::chrono::milliseconds wait_for_link{10000};
};

/// Connection settings.
struct Options {
    std::string secret = "wslink-secret";
    int wire = 2;                                   // 2 (msgpack) or 1 (JSON, wslink 1.x)
    std::chrono::milliseconds request_timeout{0};   // 0: none
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds close_timeout{1000};
    std::optional<Reconnect> reconnect;
    std::vector<std::string> trust_pem_files;       // extra roots for wss://
};

/// A subscription: publications go to its callback until it is destroyed or
/// unsubscribe() is called. Move-only.
class Subscription {
public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept { *this = std::move(other); }
    Subscription& operator=(Subscription&& other) noexcept {
        if (this != &other) {
            unsubscribe();
            handle_ = std::exchange(other.handle_, nullptr);
            callback_ = std::move(other.callback_);
        }
        return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { unsubscribe(); }

    /// Stops the publications; when this returns the callback is not running and never
    /// runs again. Harmless when already done.
    void unsubscribe() noexcept {
        if (handle_) wslink_unsubscribe(std::exchange(handle_, nullptr));
        callback_.reset();
    }
    bool active() const { return handle_ != nullptr; }

private:
    friend class Client;
    using Callback = std::function<void(const Value&)>;
    wslink_subscription* handle_ = nullptr;
    std::unique_ptr<Callback> callback_;

    static void deliver(void* user_data, const wslink_value* data) noexcept {
        (*static_cast<Callback*>(user_data))(detail::from_c(data));
    }
};

/// A connected client. Move-only; destroying it closes the connection.
class Client {
public:
    /// Connects and says hello; throws wslink::Error (WSLINK_ERROR_AUTH for a wrong
    /// secret, WSLINK_ERROR_TRANSPORT when nobody listens, ...).
    static Client connect(const std::string& url, const Options& options = {}) {
        std::unique_ptr<wslink_options, void (*)(wslink_options*)> o(wslink_options_new(), wslink_options_free);
        if (!o) throw Error(WSLINK_ERROR_INTERNAL, -32099, "wslink: cannot allocate options");
        wslink_error* error = nullptr;
        auto set = [&](wslink_status status) { detail::check(status, error); };
        set(wslink_options_set_secret(o.get(), options.secret.c_str(), &error));
        set(wslink_options_set_wire(o.get(), static_cast<std::uint32_t>(options.wire), &error));
        set(wslink_options_set_request_timeout_ms(o.get(), ms(options.request_timeout), &error));
        set(wslink_options_set_connect_timeout_ms(o.get(), ms(options.connect_timeout), &error));
        set(wslink_options_set_close_timeout_ms(o.get(), ms(options.close_timeout), &error));
        if (options.reconnect) {
            const Reconnect& r = *options.reconnect;
            set(wslink_options_set_reconnect(o.get(), ms(r.initial_delay), ms(r.max_delay), r.max_attempts,
                                             ms(r.wait_for_link), &error));
        }
        for (const std::string& path : options.trust_pem_files)
            set(wslink_options_trust_pem_file(o.get(), path.c_str(), &error));
        Client client;
        set(wslink_connect(url.c_str(), o.get(), &client.handle_, &error));
        return client;
    }

    Client(Client&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Client& operator=(Client&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { reset(); }

    /// Calls `method(*args, **kwargs)`; the future holds the result, or throws
    /// wslink::Error from get().
    std::future<Value> call(const std::string& method, Array args = {}, Object kwargs = {}) const {
        auto state = std::make_unique<std::promise<Value>>();
        std::future<Value> result = state->get_future();
        start(method, std::move(args), std::move(kwargs), &Client::fulfil, state.get());
        state.release();  // the callback owns it now
        return result;
    }

    /// Calls `method(*args, **kwargs)`; `done` runs once on the callback thread with the
    /// outcome.
    void call(const std::string& method, Array args, Object kwargs, std::function<void(Outcome)> done) const {
        auto state = std::make_unique<std::function<void(Outcome)>>(std::move(done));
        start(method, std::move(args), std::move(kwargs), &Client::report, state.get());
        state.release();
    }

    /// Receives the publications of `topic` until the returned handle goes away.
    Subscription subscribe(const std::string& topic, std::function<void(const Value&)> on_publication) const {
        Subscription sub;
        sub.callback_ = std::make_unique<Subscription::Callback>(std::move(on_publication));
        wslink_error* error = nullptr;
        detail::check(wslink_subscribe(handle_, topic.c_str(), &Subscription::deliver, sub.callback_.get(),
                                       &sub.handle_, &error),
                      error);
        return sub;
    }

    /// true while connected (not closed, not reconnecting).
    bool connected() const { return handle_ && wslink_client_is_connected(handle_); }

    /// Closes the connection cleanly (waits for the server's acknowledgement, up to the
    /// close timeout); later calls fail with WSLINK_ERROR_DISCONNECTED.
    void close() {
        wslink_error* error = nullptr;
        if (handle_) detail::check(wslink_client_close(handle_, &error), error);
    }

private:
    Client() = default;
    wslink_client* handle_ = nullptr;

    void reset() noexcept {
        if (handle_) wslink_client_free(std::exchange(handle_, nullptr));
    }

    static std::uint64_t ms(std::chrono::milliseconds d) {
        return d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
    }

    void start(const std::string& method, Array args, Object kwargs, wslink_call_fn callback, void* state) const {
        detail::OwnedValue a = detail::to_c(Value(std::move(args)));
        detail::OwnedValue k = detail::to_c(Value(std::move(kwargs)));
        wslink_error* error = nullptr;
        detail::check(wslink_call_async(handle_, method.c_str(), a.release(), k.release(), callback, state, &error),
                      error);
    }

    static Outcome outcome(wslink_value* result, wslink_error* error) {
        Outcome out;
        if (error) {
            out.error = detail::to_error(error);
        } else {
            detail::OwnedValue owned(result);
            out.value = detail::from_c(owned.get());
        }
        return out;
    }

    static void fulfil(void* state, wslink_value* result, wslink_error* error) noexcept {
        std::unique_ptr<std::promise<Value>> promise(static_cast<std::promise<Value>*>(state));
        try {
            Outcome out = outcome(result, error);
            if (out.error) {
                promise->set_exception(std::make_exception_ptr(*out.error));
            } else {
                promise->set_value(std::move(*out.value));
            }
        } catch (...) {
            promise->set_exception(std::current_exception());
        }
    }

    static void report(void* state, wslink_value* result, wslink_error* error) noexcept {
        std::unique_ptr<std::function<void(Outcome)>> done(static_cast<std::function<void(Outcome)>*>(state));
        (*done)(outcome(result, error));
    }
};

#ifdef WSLINK_HAS_NLOHMANN_JSON
/// Value -> JSON (nlohmann::json or nlohmann::ordered_json): binary as a JSON binary, an extension as a binary with its tag as the
/// subtype (0..255, the tag's bits), unsigned integers as unsigned numbers.
template <typename Json, std::enable_if_t<nlohmann::detail::is_basic_json<Json>::value, int> = 0>
void to_json(Json& j, const Value& v) {
    switch (v.kind()) {
        case Kind::Nil: j = nullptr; return;
        case Kind::Bool: j = v.as_bool(); return;
        case Kind::Int: j = v.as_int(); return;
        case Kind::UInt: j = v.as_uint(); return;
        case Kind::Float: j = v.as_double(); return;
        case Kind::String: j = v.as_string(); return;
        case Kind::Binary: j = Json::binary(v.as_bytes()); return;
        case Kind::Ext: j = Json::binary(v.as_ext().bytes, static_cast<std::uint8_t>(v.as_ext().tag)); return;
        case Kind::Array: {
            j = Json::array();
            for (const Value& item : v.as_array()) j.push_back(item);
            return;
        }
        case Kind::Object: {
            j = Json::object();
            for (const auto& entry : v.as_object()) j[entry.first] = entry.second;
            return;
        }
    }
}

/// JSON -> Value: the inverse of to_json. Object keys come in the JSON type's order:
/// sorted with nlohmann::json, as inserted with nlohmann::ordered_json.
template <typename Json, std::enable_if_t<nlohmann::detail::is_basic_json<Json>::value, int> = 0>
void from_json(const Json& j, Value& v) {
    using T = nlohmann::detail::value_t;
    switch (j.type()) {
        case T::null: case T::discarded: v = Value(); return;
        case T::boolean: v = Value(j.template get<bool>()); return;
        case T::number_integer: v = Value(j.template get<std::int64_t>()); return;
        case T::number_unsigned: v = Value(j.template get<std::uint64_t>()); return;
        case T::number_float: v = Value(j.template get<double>()); return;
        case T::string: v = Value(j.template get<std::string>()); return;
        case T::binary: {
            const auto& b = j.get_binary();
            Bytes bytes(b.begin(), b.end());
            v = b.has_subtype() ? Value(Ext{static_cast<std::int8_t>(b.subtype()), std::move(bytes)})
                                : Value::binary(std::move(bytes));
            return;
        }
        case T::array: {
            Array items;
            for (const auto& item : j) items.push_back(item.template get<Value>());
            v = Value(std::move(items));
            return;
        }
        case T::object: {
            Object entries;
            for (auto it = j.begin(); it != j.end(); ++it) entries.set(it.key(), it.value().template get<Value>());
            v = Value(std::move(entries));
            return;
        }
    }
}
#endif

}  // namespace wslink

#endif  // WSLINK_HPP
