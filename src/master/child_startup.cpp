#include "master/child_startup.h"

#include "lib/process.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

namespace loft::master {

namespace {
constexpr size_t kMaxConfigSize = 64u << 20;
}

config::Config read_config_from_loftd()
{
    std::string text = read_all(child_fd::kConfig, kMaxConfigSize);
    close(child_fd::kConfig);
    config::ParseOptions parse;
    parse.serialized = true;
    return config::Config::load_string(text, "<from loftd>", "/", parse);
}

void configure_log(Logger& log, const config::Settings& settings, std::string_view debug_setting)
{
    std::string log_path = settings.get("log_path");
    log.set_timestamps(log_path != "syslog" && !log_path.empty() && log_path != "/dev/stderr");
    log.set_debug(settings.get_bool(debug_setting) || getenv("LOFT_DEBUG"));
}

EventPtr exit_on_sigterm(event_base* base)
{
    EventPtr event(evsignal_new(
        base, SIGTERM, [](evutil_socket_t, short, void* loop) { event_base_loopexit(static_cast<event_base*>(loop), nullptr); },
        base));
    event_add(event.get(), nullptr);
    return event;
}

HandoffReceiver::HandoffReceiver(event_base* base, UniqueFd control, OnConnection on_connection)
    : base_(base), control_(std::move(control)), on_connection_(std::move(on_connection))
{
    evutil_make_socket_nonblocking(control_.get());
    watcher_ = std::make_unique<ReadWatcher>(base_, control_.get(), [this] { drain(); });
}

bool HandoffReceiver::take_pending()
{
    std::optional<ReceivedMessage> message;
    try {
        message = receive_message(control_.get());
    } catch (const std::exception&) {
        return false;
    }
    if (!message || !message->fd || message->text.rfind("CONNECTION", 0) != 0)
        return false;
    on_connection_(std::move(message->fd), message->text.size() > 11 ? message->text.substr(11) : "");
    return true;
}

void HandoffReceiver::drain()
{
    while (true) {
        std::optional<ReceivedMessage> message;
        try {
            message = receive_message(control_.get());
        } catch (const std::exception&) {
            event_base_loopexit(base_, nullptr);
            return;
        }
        if (!message)
            return;
        if (message->end_of_stream) {
            event_base_loopexit(base_, nullptr);  // loftd is gone
            return;
        }
        if (message->fd && message->text.rfind("CONNECTION", 0) == 0)
            on_connection_(std::move(message->fd), message->text.size() > 11 ? message->text.substr(11) : "");
    }
}

}  // namespace loft::master
