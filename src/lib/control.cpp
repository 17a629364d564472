#include "lib/control.h"

#include "lib/fd_passing.h"
#include "lib/strings.h"

namespace loft {

ControlClient::ControlClient(event_base* base, UniqueFd socket) : socket_(std::move(socket))
{
    evutil_make_socket_nonblocking(socket_.get());
    watcher_ = std::make_unique<ReadWatcher>(base, socket_.get(), [this] { on_readable(); });
}

Task<UniqueFd> ControlClient::connect_auth() { return request("AUTH"); }

Task<UniqueFd> ControlClient::connect_storage(std::string grant) { return request("STORAGE " + grant); }

Task<UniqueFd> ControlClient::request(std::string what)
{
    if (!socket_)
        throw ControlUnavailable("loftd is gone");
    uint64_t id = next_id_++;
    send_message(socket_.get(), std::to_string(id) + " " + what);
    auto shared = std::make_shared<Reply>();
    co_await CallbackAwaiter<bool>([&](CallbackAwaiter<bool>::Resolver resolve) {
        waiting_[id] = [shared, resolve](Reply reply) {
            *shared = std::move(reply);
            resolve(true);
        };
    });
    if (!shared->ok)
        throw ControlUnavailable(shared->reason);
    co_return std::move(shared->fd);
}

void ControlClient::on_readable()
{
    while (socket_) {
        std::optional<ReceivedMessage> message;
        try {
            message = receive_message(socket_.get());
        } catch (const std::exception&) {
            message = ReceivedMessage{"", UniqueFd(), true};
        }
        if (!message)
            return;
        if (message->end_of_stream) {
            watcher_.reset();
            socket_.reset();
            auto waiting = std::move(waiting_);
            for (auto& [id, resume] : waiting)
                resume(Reply{false, "loftd is gone", UniqueFd()});
            if (on_lost_)
                on_lost_();
            return;
        }
        auto words = split(message->text, ' ');
        auto id = words.empty() ? std::nullopt : parse_uint(words[0]);
        if (!id || words.size() < 2)
            continue;
        auto found = waiting_.find(*id);
        if (found == waiting_.end())
            continue;
        auto resume = std::move(found->second);
        waiting_.erase(found);
        Reply reply;
        reply.ok = words[1] == "OK" && message->fd.valid();
        auto reason_start = message->text.find("FAIL ");
        reply.reason = reply.ok ? "" : (reason_start == std::string::npos ? "refused" : message->text.substr(reason_start + 5));
        reply.fd = std::move(message->fd);
        resume(std::move(reply));
    }
}

}  // namespace loft
