// Stands in for loft-imap to play a compromised worker: it holds everything a real
// worker holds (control socket, listeners, a chroot) and tries to reach mail it was
// not vouched for. Each attempt is logged as "ROGUE: <what>: ok|FAIL".
#include "auth/session_grant.h"
#include "lib/child_args.h"
#include "lib/control.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/privilege.h"
#include "lib/process.h"
#include "rpc/call.h"
#include "rpc/connector.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace {

struct Report {
    const loft::Logger& log;
    int failures = 0;
    void expect(bool ok, const std::string& what)
    {
        log.info("ROGUE: " + what + (ok ? ": ok" : ": FAIL"));
        failures += ok ? 0 : 1;
    }
};

loft::Task<bool> storage_refused(loft::rpc::Connector& connector, std::string grant)
{
    try {
        co_await connector.storage(grant);
        co_return false;
    } catch (const loft::ControlUnavailable&) {
        co_return true;
    }
}

loft::Task<bool> call_denied(loft::Task<void> attempt)
{
    try {
        co_await attempt;
        co_return false;
    } catch (const loft::rpc::StorageError& error) {
        co_return error.kind == loft::rpc::ErrorKind::DENIED || error.kind == loft::rpc::ErrorKind::NO_SESSION;
    }
}

loft::Task<void> attack(loft::rpc::Connector& connector, Report& report, event_base* base, bool sandboxed)
{
    // 1. Nothing on disk is reachable from the chroot (there is none without root).
    if (sandboxed)
        report.expect(open("/etc/passwd", O_RDONLY) < 0, "no files visible in the chroot");
    else
        report.log.info("ROGUE: no chroot when not started as root: skipped");

    // 2. loftd refuses garbage and forged grants.
    report.expect(co_await storage_refused(connector, "garbage"), "garbage grant refused by loftd");
    loft::auth::SessionGrant forged{"bob", 5000, 5000, "/tmp", "", "imap", "x", time(nullptr) + 3600};
    report.expect(co_await storage_refused(connector, loft::auth::sign_grant(forged, std::string(32, 'k'))),
                  "grant signed with a guessed key refused by loftd");

    // 3. A real login for alice works...
    auto auth = co_await connector.auth();
    loft::rpc::AuthRequest request;
    request.mechanism = "PLAIN";
    request.client.protocol = "lmtp";  // lying about the protocol must not help
    request.client.remote_ip = request.client.local_ip = "127.0.0.1";
    request.client.secured = true;
    request.__set_initial_response(std::string("\0alice\0secret", 13));
    loft::rpc::AuthReply reply = co_await auth->start(request);
    report.expect(reply.status == loft::rpc::AuthStatus::OK, "alice's real login succeeds");
    auto alice = co_await connector.storage(reply.grant);
    int64_t session = co_await alice->open_session(reply.grant);
    auto list = co_await alice->list_mailboxes(session);
    report.expect(!list.mailboxes.empty(), "alice's mailboxes are reachable with her grant");

    // 4. ... but her grant does not open bob's mail, edited or not.
    std::string tampered = reply.grant;
    char& victim = tampered[tampered.size() / 2];
    victim = victim == 'A' ? 'B' : 'A';
    report.expect(co_await call_denied([](std::shared_ptr<loft::rpc::AsyncStorageClient> c,
                                          std::string g) -> loft::Task<void> { co_await c->open_session(g); }(
                      alice, tampered)),
                  "a tampered grant is refused by the storage daemon");
    report.expect(co_await storage_refused(connector, tampered), "a tampered grant is refused by loftd");

    // 5. An IMAP worker gets no password-less grants (those are for LMTP delivery).
    loft::rpc::ClientInfo client;
    client.protocol = "lmtp";
    auto lookup = co_await auth->lookup("bob", client);
    report.expect(lookup.status != loft::rpc::AuthStatus::OK && lookup.grant.empty(),
                  "user lookups are refused to a non-LMTP worker");

    // 6. Session ids from another connection are worthless.
    auto second = co_await connector.storage(reply.grant);
    report.expect(co_await call_denied([](std::shared_ptr<loft::rpc::AsyncStorageClient> c,
                                          int64_t s) -> loft::Task<void> { co_await c->list_mailboxes(s); }(
                      second, session)),
                  "a session opened on one connection cannot be used on another");
    report.log.info("ROGUE: done, " + std::to_string(report.failures) + " failures");
    event_base_loopexit(base, nullptr);
}

}  // namespace

int main(int argc, char** argv)
{
    loft::Logger log("rogue");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        bool sandboxed = loft::running_as_root();
        loft::read_all(loft::child_fd::kConfig, 64 << 20);
        loft::enter_sandbox(args, log);
        auto base = loft::make_event_base();
        loft::ControlClient control(base.get(), loft::UniqueFd(loft::child_fd::kControl));
        loft::rpc::Connector connector(base.get(), control);
        Report report{log};
        loft::spawn(attack(connector, report, base.get(), sandboxed), [&](std::exception_ptr failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& error) {
                log.error(std::string("ROGUE: attack aborted: ") + error.what());
            }
            event_base_loopexit(base.get(), nullptr);
        });
        event_base_dispatch(base.get());
        // Stay alive (as a worker would) so loftd does not restart us in a loop.
        pause();
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
