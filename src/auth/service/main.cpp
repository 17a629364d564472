// loft-auth: verifies credentials and looks up users for the protocol workers, and
// signs the grants that storage daemons require.
#include "auth/service/auth_client_server.h"
#include "auth/service/auth_handler.h"
#include "auth/service/auth_master_server.h"
#include "auth/service/authenticator.h"
#include "auth/worker/worker_pool.h"
#include "auth/worker/worker_service.h"
#include "config/config.h"
#include "lib/child_args.h"
#include "lib/event_loop.h"
#include "lib/fd_passing.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/strings.h"
#include "master/child_startup.h"
#include "rpc/server.h"

#include <signal.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    loft::Logger log("auth");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        auto config = loft::master::read_config_from_loftd();
        std::string secret = loft::read_all(loft::child_fd::kSecret, 1024);
        close(loft::child_fd::kSecret);
        auto settings = config.resolve(loft::config::Filter{});
        loft::master::configure_log(log, settings, "auth_debug");

        loft::enter_sandbox(args, log);
        auto failure_delay = std::chrono::milliseconds(settings.get_time_ms("auth_failure_delay"));

        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        // The service of the connection being added (from loftd's CONNECTION message).
        std::string next_service;
        std::unique_ptr<loft::master::HandoffReceiver> from_master;
        // Blocking passdbs/userdbs run in loft-auth-worker processes that loftd starts
        // on request, each handed over as one end of a socketpair.
        std::unique_ptr<loft::auth::worker::WorkerPool> workers;
        if (loft::auth::worker::WorkerService::needed(settings)) {
            loft::auth::worker::WorkerPoolLimits limits;
            const loft::config::Section* service = settings.section("service", "auth-worker");
            uint64_t process_limit = service ? service->get_uint("process_limit") : 0;
            limits.process_limit = process_limit ? process_limit : settings.get_uint("default_process_limit");
            workers = std::make_unique<loft::auth::worker::WorkerPool>(
                base.get(), [&from_master]() { return from_master->request("AUTH-WORKER"); }, limits, log);
        }
        loft::auth::service::Authenticator authenticator(settings, std::move(secret), log, workers.get());
        loft::rpc::FrameServer server(base.get(), log, [&](auto) {
            return std::make_shared<loft::rpc::AuthAsyncProcessor>(std::make_shared<loft::auth::service::AuthHandler>(
                base.get(), authenticator, failure_delay, next_service));
        });
        from_master = std::make_unique<loft::master::HandoffReceiver>(
            base.get(), loft::UniqueFd(loft::child_fd::kControl), [&](loft::UniqueFd fd, const std::string& service) {
                next_service = service;
                server.add_connection(std::move(fd));
            });
        // auth-client sockets (Postfix's SASL) that loftd bound from service auth.
        loft::auth::service::AuthClientSettings client_settings;
        for (const std::string& mechanism : loft::split_words(settings.get("auth_mechanisms")))
            client_settings.mechanisms.push_back(loft::to_upper(mechanism));
        client_settings.disable_plaintext_auth = settings.get_bool("disable_plaintext_auth");
        client_settings.failure_delay = failure_delay;
        client_settings.realms = loft::split_words(settings.get("auth_realms"));
        loft::auth::service::AuthClientServer client_server(base.get(), authenticator, client_settings, log);
        // auth-userdb/auth-master sockets (dovecot-lda, doveadm): USER, PASS, LIST.
        loft::auth::service::AuthMasterServer master_server(base.get(), authenticator, log);
        for (const loft::InheritedListener& listener : args.listeners) {
            if (auto kind = loft::auth::auth_master_socket_kind(listener.name)) {
                std::string path = listener.name.starts_with("/") ? listener.name
                                                                  : settings.get("base_dir") + "/" + listener.name;
                master_server.listen(listener.fd, path, *kind);
                log.debug("auth-master listener " + path);
                continue;
            }
            client_server.listen(listener.fd);
            log.debug("auth-client listener " + listener.name);
        }
        auto on_term = loft::master::exit_on_sigterm(base.get());
        event_base_dispatch(base.get());
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
