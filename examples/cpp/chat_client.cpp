// The seed's chat client, in C++ over wslink.hpp.
//
//   chat_client [--v1] ws://HOST:PORT/ws [SECRET]
//
// Connects (the hello with SECRET, default wslink-secret; --v1 speaks the 1.x wire),
// subscribes to the chat topic, and says each line of its standard input with
// wslink.say.hello, waiting for each reply. Every publication on the topic is printed on
// standard output, one per line (strings as they are, anything else as JSON). At the end
// of the input it waits up to a second for the publications of its own lines, closes
// cleanly and exits 0. A failed connection, hello or call exits 1 with the error on
// standard error; bad arguments exit 2.
#include <wslink.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace {

const char* const kTopic = "wslink.communication.channel";

// What the subscription callback and the main thread share.
struct Heard {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t lines = 0;
};

void print(const wslink::Value& publication) {
    if (publication.kind() == wslink::Kind::String) {
        std::cout << publication.as_string() << '\n';
    } else {
        nlohmann::json json = publication;
        std::cout << json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
    std::cout.flush();
}

int usage() {
    std::cerr << "usage: chat_client [--v1] ws://HOST:PORT/ws [SECRET]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    wslink::Options options;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--v1") {
            options.wire = 1;
        } else if (!arg.empty() && arg[0] == '-') {
            return usage();
        } else {
            positional.push_back(arg);
        }
    }
    if (positional.empty() || positional.size() > 2) return usage();
    if (positional.size() == 2) options.secret = positional[1];

    try {
        wslink::Client client = wslink::Client::connect(positional[0], options);
        Heard heard;
        wslink::Subscription subscription = client.subscribe(kTopic, [&heard](const wslink::Value& line) {
            std::lock_guard<std::mutex> lock(heard.mutex);
            print(line);
            ++heard.lines;
            heard.changed.notify_all();
        });

        std::size_t said = 0;
        std::string line;
        while (std::getline(std::cin, line)) {
            client.call("wslink.say.hello", {line}).get();  // throws wslink::Error
            ++said;
        }

        {
            std::unique_lock<std::mutex> lock(heard.mutex);
            heard.changed.wait_for(lock, std::chrono::seconds(1), [&] { return heard.lines >= said; });
        }
        subscription.unsubscribe();
        client.close();
        return 0;
    } catch (const wslink::Error& e) {
        std::cerr << "chat_client: " << e.what() << " (code " << e.code() << ")\n";
        return 1;
    }
}
