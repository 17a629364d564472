// loft-storage: serves one user's (or one uid's) mail over the storage RPC on the
// connections loftd hands it, and exits after lingering idle.
#include "config/config.h"
#include "lib/event_loop.h"
#include "lib/fd_passing.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/strings.h"
#include "master/child_startup.h"
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
        auto config = loft::master::read_config_from_loftd();
        std::string secret = loft::read_all(loft::child_fd::kSecret, 1024);
        close(loft::child_fd::kSecret);
        auto settings = config.resolve({});
        loft::master::configure_log(log, settings, "mail_debug");
        // Lingering keeps mailboxes warm for the next short connection (webmail, POP3 pollers).
        std::chrono::milliseconds linger(settings.get_time_ms("loft_storage_idle_timeout"));

        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        loft::storage::daemon::StorageDaemon daemon(base.get(), log, config, std::move(secret), identity);
        loft::rpc::FrameServer server(base.get(), log, [&](auto connection) { return daemon.processor_for(connection); });

        std::unique_ptr<loft::master::HandoffReceiver> from_master;
        loft::Timer idle(base.get(), [&] {
            // Serve a connection loftd sent just before we decided to go.
            if (from_master->take_pending())
                return;
            log.debug("idle, exiting");
            event_base_loopexit(base.get(), nullptr);
        });
        from_master = std::make_unique<loft::master::HandoffReceiver>(
            base.get(), loft::UniqueFd(loft::child_fd::kControl), [&](loft::UniqueFd fd, const std::string&) {
                idle.stop();
                server.add_connection(std::move(fd));
            });
        server.set_on_closed([&](auto connection) {
            daemon.connection_closed(connection);
            if (server.connection_count() == 0)
                idle.start(linger);
        });
        auto on_term = loft::master::exit_on_sigterm(base.get());
        idle.start(linger);
        event_base_dispatch(base.get());
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
