// loft-lmtp: the LMTP worker. Runs unprivileged and chrooted, accepts clients on the
// listeners loftd bound, and delivers through loft-auth and the storage daemons.
#include "config/config.h"
#include "lib/acceptor.h"
#include "lib/child_args.h"
#include "lib/control.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/process.h"
#include "lib/stream.h"
#include "lmtp/lmtp_session.h"
#include "master/child_startup.h"
#include "master/tls_setup.h"
#include "rpc/connector.h"

#include <signal.h>
#include <unistd.h>

#include <list>

int main(int argc, char** argv)
{
    loft::Logger log("lmtp");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        auto config = loft::master::read_config_from_loftd();
        auto settings = config.resolve(loft::config::Filter{"lmtp", "", "", ""});
        loft::master::configure_log(log, settings, "mail_debug");

        loft::lmtp::LmtpSettings lmtp_settings;
        lmtp_settings.hostname = settings.get("hostname");
        if (lmtp_settings.hostname.empty()) {
            char host[256] = "";
            gethostname(host, sizeof(host) - 1);
            lmtp_settings.hostname = host;
        }
        lmtp_settings.recipient_delimiter = settings.get("recipient_delimiter");
        lmtp_settings.tls = loft::master::make_tls_context(settings);

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
                stream->set_idle_timeout(std::chrono::minutes(5));
                if (listener.ssl) {
                    if (!lmtp_settings.tls)
                        return;
                    stream->start_tls(*lmtp_settings.tls);
                }
                loft::Logger session_log = log.with_prefix("lmtp(" + std::to_string(getpid()) + ")");
                auto session = std::make_shared<loft::lmtp::LmtpSession>(stream, connector, session_log, lmtp_settings);
                loft::spawn([](std::shared_ptr<loft::lmtp::LmtpSession> owned) -> loft::Task<void> {
                    co_await owned->run();
                }(session), [session_log](std::exception_ptr failure) {
                    try {
                        std::rethrow_exception(failure);
                    } catch (const std::exception& error) {
                        session_log.error(std::string("session failed: ") + error.what());
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
