// loft-auth: verifies credentials and looks up users for the protocol workers, and
// signs the grants that storage daemons require.
#include "auth/service/auth_handler.h"
#include "auth/service/authenticator.h"
#include "config/config.h"
#include "lib/child_args.h"
#include "lib/event_loop.h"
#include "lib/fd_passing.h"
#include "lib/log.h"
#include "lib/process.h"
#include "rpc/server.h"

#include <signal.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    loft::Logger log("auth");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        std::string config_text = loft::read_all(loft::child_fd::kConfig, 64 << 20);
        std::string secret = loft::read_all(loft::child_fd::kSecret, 1024);
        close(loft::child_fd::kConfig);
        close(loft::child_fd::kSecret);
        loft::config::ParseOptions parse;
        parse.serialized = true;
        auto config = loft::config::Config::load_string(config_text, "<from loftd>", "/", parse);
        auto settings = config.resolve(loft::config::Filter{"", "", "", ""});
        std::string log_path = settings.get("log_path");
        log.set_timestamps(log_path != "syslog" && !log_path.empty() && log_path != "/dev/stderr");
        log.set_debug(settings.get_bool("auth_debug") || getenv("LOFT_DEBUG"));

        loft::enter_sandbox(args, log);
        loft::auth::service::Authenticator authenticator(settings, std::move(secret), log);
        auto failure_delay = std::chrono::milliseconds(settings.get_time_ms("auth_failure_delay"));

        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        // The service of the connection being added (from loftd's CONNECTION message).
        std::string next_service;
        loft::rpc::FrameServer server(base.get(), log, [&](auto) {
            return std::make_shared<loft::rpc::AuthAsyncProcessor>(std::make_shared<loft::auth::service::AuthHandler>(
                base.get(), authenticator, failure_delay, next_service));
        });
        loft::UniqueFd control(loft::child_fd::kControl);
        evutil_make_socket_nonblocking(control.get());
        loft::ReadWatcher from_master(base.get(), control.get(), [&] {
            while (true) {
                std::optional<loft::ReceivedMessage> message;
                try {
                    message = loft::receive_message(control.get());
                } catch (const std::exception&) {
                    event_base_loopexit(base.get(), nullptr);
                    return;
                }
                if (!message)
                    return;
                if (message->end_of_stream) {
                    event_base_loopexit(base.get(), nullptr);
                    return;
                }
                if (message->text.rfind("CONNECTION ", 0) == 0 && message->fd) {
                    next_service = message->text.substr(11);
                    server.add_connection(std::move(message->fd));
                }
            }
        });
        loft::EventPtr on_term(evsignal_new(base.get(), SIGTERM, [](evutil_socket_t, short, void* loop) {
            event_base_loopexit(static_cast<event_base*>(loop), nullptr);
        }, base.get()));
        event_add(on_term.get(), nullptr);
        event_base_dispatch(base.get());
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
