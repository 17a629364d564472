// loft-imap: the IMAP worker. Runs unprivileged and chrooted, serves many clients from
// one event loop, and reaches mail only through loft-auth grants and storage daemons.
#include "auth/network.h"
#include "config/config.h"
#include "imap/session.h"
#include "lib/acceptor.h"
#include "lib/child_args.h"
#include "lib/control.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/stream.h"
#include "master/child_startup.h"
#include "master/tls_setup.h"
#include "rpc/connector.h"

#include <signal.h>
#include <unistd.h>

#include <list>

int main(int argc, char** argv)
{
    loft::Logger log("imap-login");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        auto config = loft::master::read_config_from_loftd();
        auto settings = config.resolve(loft::config::Filter{"imap", "", "", ""});
        loft::master::configure_log(log, settings, "mail_debug");

        loft::imap::ImapSettings imap_settings;
        imap_settings.greeting = settings.get("login_greeting");
        imap_settings.disable_plaintext_auth = settings.get_bool("disable_plaintext_auth");
        auto trusted = loft::auth::parse_network_list(settings.get("login_trusted_networks"));
        if (!trusted)
            throw std::runtime_error("login_trusted_networks: invalid network in \"" +
                                     settings.get("login_trusted_networks") + "\"");
        imap_settings.trusted_networks = std::move(*trusted);
        imap_settings.max_line_length = settings.get_size("imap_max_line_length");
        imap_settings.idle_notify_interval = std::chrono::milliseconds(settings.get_time_ms("imap_idle_notify_interval"));
        if (imap_settings.idle_notify_interval.count() <= 0)
            imap_settings.idle_notify_interval = std::chrono::minutes(2);
        // Built before the sandbox: the certificate and key came with the config.
        imap_settings.tls = loft::master::make_tls_context(settings);
        imap_settings.ssl_required = settings.get("ssl") == "required";
        imap_settings.require_client_cert = settings.get_bool("auth_ssl_require_client_cert");
        imap_settings.username_from_cert = settings.get_bool("auth_ssl_username_from_cert");

        loft::enter_sandbox(args, log);
        signal(SIGPIPE, SIG_IGN);
        auto base = loft::make_event_base();
        loft::ControlClient control(base.get(), loft::UniqueFd(loft::child_fd::kControl));
        control.set_on_lost([&] { event_base_loopexit(base.get(), nullptr); });
        loft::rpc::Connector connector(base.get(), control);

        std::list<std::unique_ptr<loft::Acceptor>> acceptors;
        for (const auto& listener : args.listeners) {
            acceptors.push_back(std::make_unique<loft::Acceptor>(base.get(), listener.fd, [&](loft::UniqueFd fd) {
                auto stream = std::make_shared<loft::AsyncStream>(base.get(), std::move(fd));
                // Dovecot's autologout: 30 minutes of silence ends a session.
                stream->set_idle_timeout(std::chrono::minutes(30));
                if (listener.ssl) {
                    if (!imap_settings.tls)
                        return;  // loftd does not hand out ssl listeners with ssl = no
                    stream->start_tls(*imap_settings.tls);
                }
                auto session = std::make_shared<loft::imap::ImapSession>(stream, connector, log, imap_settings);
                loft::spawn([](std::shared_ptr<loft::imap::ImapSession> owned) -> loft::Task<void> {
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
