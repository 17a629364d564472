// loft-pop3: the POP3 worker. Runs unprivileged and chrooted, serves many clients from
// one event loop, and reaches mail only through loft-auth grants and storage daemons.
#include "auth/network.h"
#include "config/config.h"
#include "lib/acceptor.h"
#include "lib/child_args.h"
#include "lib/control.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/stream.h"
#include "master/child_startup.h"
#include "master/tls_setup.h"
#include "pop3/pop3_session.h"
#include "rpc/connector.h"

#include <signal.h>
#include <unistd.h>

#include <list>

namespace {

loft::pop3::Pop3Settings read_settings(const loft::config::Settings& settings)
{
    loft::pop3::Pop3Settings pop3;
    pop3.greeting = settings.get("login_greeting");
    pop3.disable_plaintext_auth = settings.get_bool("disable_plaintext_auth");
    pop3.ssl_required = settings.get("ssl") == "required";
    auto trusted = loft::auth::parse_network_list(settings.get("login_trusted_networks"));
    if (!trusted)
        throw std::runtime_error("login_trusted_networks: invalid network in \"" +
                                 settings.get("login_trusted_networks") + "\"");
    pop3.trusted_networks = std::move(*trusted);
    pop3.uidl_format = settings.get("pop3_uidl_format");
    if (pop3.uidl_format.find('%') == std::string::npos)
        throw std::runtime_error("Invalid pop3_uidl_format");
    pop3.logout_format = settings.get("pop3_logout_format");
    pop3.enable_last = settings.get_bool("pop3_enable_last");
    pop3.no_flag_updates = settings.get_bool("pop3_no_flag_updates");
    pop3.lock_session = settings.get_bool("pop3_lock_session");
    pop3.rename_duplicate_uidls = settings.get("pop3_uidl_duplicates") == "rename";
    pop3.deleted_flag = settings.get("pop3_deleted_flag");
    std::string delete_type = settings.get("pop3_delete_type");
    pop3.delete_by_flag = delete_type == "flag" || (delete_type == "default" && !pop3.deleted_flag.empty());
    if (pop3.delete_by_flag && pop3.deleted_flag.empty())
        throw std::runtime_error("pop3_delete_type=flag, but pop3_deleted_flag not set");
    pop3.workarounds = loft::pop3::parse_workarounds(settings.get("pop3_client_workarounds"));
    return pop3;
}

}  // namespace

int main(int argc, char** argv)
{
    loft::Logger log("pop3-login");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        auto config = loft::master::read_config_from_loftd();
        auto settings = config.resolve(loft::config::Filter{"pop3", "", "", ""});
        loft::master::configure_log(log, settings, "mail_debug");
        loft::pop3::Pop3Settings pop3_settings = read_settings(settings);
        // Built before the sandbox: the certificate and key came with the config.
        pop3_settings.tls = loft::master::make_tls_context(settings);

        loft::enter_sandbox(args, log);
        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        loft::ControlClient control(base.get(), loft::UniqueFd(loft::child_fd::kControl));
        control.set_on_lost([&] { event_base_loopexit(base.get(), nullptr); });
        loft::rpc::Connector connector(base.get(), control);
        loft::pop3::SessionLocks locks;

        std::list<std::unique_ptr<loft::Acceptor>> acceptors;
        for (const auto& listener : args.listeners) {
            acceptors.push_back(std::make_unique<loft::Acceptor>(base.get(), listener.fd, [&](loft::UniqueFd fd) {
                auto stream = std::make_shared<loft::AsyncStream>(base.get(), std::move(fd));
                // Dovecot's pop3 disconnects after 10 minutes without input.
                stream->set_idle_timeout(std::chrono::minutes(10));
                if (listener.ssl) {
                    if (!pop3_settings.tls)
                        return;  // loftd does not hand out ssl listeners with ssl = no
                    stream->start_tls(*pop3_settings.tls);
                }
                auto session =
                    std::make_shared<loft::pop3::Pop3Session>(stream, connector, log, pop3_settings, locks);
                loft::spawn([](std::shared_ptr<loft::pop3::Pop3Session> owned) -> loft::Task<void> {
                    co_await owned->run();
                }(session), [&log](std::exception_ptr failure) {
                    try {
                        std::rethrow_exception(failure);
                    } catch (const std::exception& error) {
                        log.error(std::string("session failed: ") + error.what());
                    }
                });
            }));
        }
        auto on_term = loft::master::exit_on_sigterm(base.get());
        event_base_dispatch(base.get());
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
