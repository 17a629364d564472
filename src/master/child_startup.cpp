#include "master/child_startup.h"

#include "lib/control.h"
#include "lib/process.h"
#include "lib/strings.h"

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

Task<UniqueFd> HandoffReceiver::request(std::string what)
{
    if (!control_)
        throw ControlUnavailable("loftd is gone");
    uint64_t id = next_id_++;
    send_message(control_.get(), std::to_string(id) + " " + what);
    struct Answer {
        bool ok = false;
        std::string reason;
        UniqueFd fd;
    };
    auto answer = std::make_shared<Answer>();
    co_await CallbackAwaiter<bool>([&](CallbackAwaiter<bool>::Resolver resolve) {
        waiting_[id] = [answer, resolve](bool ok, std::string reason, UniqueFd fd) {
            *answer = Answer{ok, std::move(reason), std::move(fd)};
            resolve(true);
        };
    });
    if (!answer->ok)
        throw ControlUnavailable(answer->reason);
    co_return std::move(answer->fd);
}

bool HandoffReceiver::answer(ReceivedMessage& message)
{
    size_t space = message.text.find(' ');
    auto id = parse_uint(std::string_view(message.text).substr(0, space));
    if (!id || space == std::string::npos)
        return false;
    auto found = waiting_.find(*id);
    if (found == waiting_.end())
        return true;
    auto resume = std::move(found->second);
    waiting_.erase(found);
    std::string verdict = message.text.substr(space + 1);
    bool ok = verdict == "OK" && message.fd.valid();
    resume(ok, ok ? "" : (verdict.starts_with("FAIL ") ? verdict.substr(5) : verdict), std::move(message.fd));
    return true;
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
            auto waiting = std::move(waiting_);
            for (auto& [id, resume] : waiting)
                resume(false, "loftd is gone", UniqueFd());
            return;
        }
        if (answer(*message))
            continue;
        if (message->fd && message->text.rfind("CONNECTION", 0) == 0)
            on_connection_(std::move(message->fd), message->text.size() > 11 ? message->text.substr(11) : "");
    }
}

}  // namespace loft::master
