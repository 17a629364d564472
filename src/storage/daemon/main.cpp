// loft-storage: serves one user's (or one uid's) mail over the storage RPC on the
// connections loftd hands it, and exits after lingering idle.
#include "config/config.h"
#include "lib/event_loop.h"
#include "lib/fd_passing.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/strings.h"
#include "rpc/server.h"
#include "storage/daemon/storage_daemon.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>

int main(int argc, char** argv)
{
    loft::storage::daemon::DaemonIdentity identity;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string option = argv[i];
        if (option == "--user")
            identity.user = argv[i + 1];
        else if (option == "--uid")
            identity.uid = static_cast<uid_t>(std::stoul(argv[i + 1]));
    }
    loft::Logger log(identity.user ? "storage(" + *identity.user + ")" : "storage(uid " + std::to_string(identity.uid.value_or(getuid())) + ")");
    if (getuid() == 0 || geteuid() == 0) {
        log.fatal("loft-storage must never run as root");
        return 89;
    }
    if (!identity.user && !identity.uid) {
        log.fatal("loft-storage is started by loftd (--user or --uid missing)");
        return 64;
    }
    try {
        std::string config_text = loft::read_all(loft::child_fd::kConfig, 64 << 20);
        std::string secret = loft::read_all(loft::child_fd::kSecret, 1024);
        close(loft::child_fd::kConfig);
        close(loft::child_fd::kSecret);
        loft::config::ParseOptions parse;
        parse.serialized = true;
        auto config = loft::config::Config::load_string(config_text, "<from loftd>", "/", parse);
        auto settings = config.resolve({});
        std::string log_path = settings.get("log_path");
        log.set_timestamps(log_path != "syslog" && !log_path.empty() && log_path != "/dev/stderr");
        log.set_debug(settings.get_bool("mail_debug") || getenv("LOFT_DEBUG"));
        // Lingering keeps mailboxes warm for the next short connection (webmail, POP3 pollers).
        std::chrono::milliseconds linger(settings.get_time_ms("loft_storage_idle_timeout"));

        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        loft::storage::daemon::StorageDaemon daemon(base.get(), log, config, std::move(secret), identity);
        loft::rpc::FrameServer server(base.get(), log, [&](auto connection) { return daemon.processor_for(connection); });

        loft::UniqueFd control(loft::child_fd::kControl);
        evutil_make_socket_nonblocking(control.get());
        loft::Timer idle(base.get(), [&] {
            // Serve a connection loftd sent just before we decided to go.
            if (auto late = loft::receive_message(control.get()); late && late->fd) {
                server.add_connection(std::move(late->fd));
                return;
            }
            log.debug("idle, exiting");
            event_base_loopexit(base.get(), nullptr);
        });
        server.set_on_closed([&](auto connection) {
            daemon.connection_closed(connection);
            if (server.connection_count() == 0)
                idle.start(linger);
        });
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
                    event_base_loopexit(base.get(), nullptr);  // loftd is gone
                    return;
                }
                if (message->text == "CONNECTION" && message->fd) {
                    idle.stop();
                    server.add_connection(std::move(message->fd));
                }
            }
        });
        loft::EventPtr on_term(evsignal_new(base.get(), SIGTERM, [](evutil_socket_t, short, void* loop) {
            event_base_loopexit(static_cast<event_base*>(loop), nullptr);
        }, base.get()));
        event_add(on_term.get(), nullptr);
        idle.start(linger);
        event_base_dispatch(base.get());
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
