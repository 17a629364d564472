// loft-auth-worker: runs the blocking passdb/userdb look-ups (pam, shadow, sql,
// checkpassword) for loft-auth, one at a time, on the connection loftd handed it. It runs
// as root only when a pam or shadow passdb needs it; it never listens to the network.
#include "auth/worker/worker_pool.h"
#include "auth/worker/worker_protocol.h"
#include "auth/worker/worker_service.h"
#include "lib/child_args.h"
#include "lib/log.h"
#include "lib/privilege.h"
#include "lib/process.h"
#include "lib/system_error.h"
#include "master/child_startup.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace {

// false at a clean EOF before the first byte; throws on errors and mid-frame EOF.
bool read_exact(int fd, char* data, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            loft::throw_errno("read from loft-auth");
        if (n == 0) {
            if (done == 0)
                return false;
            throw std::runtime_error("loft-auth closed the connection in the middle of a request");
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

void write_all(int fd, std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            loft::throw_errno("write to loft-auth");
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

int main(int argc, char** argv)
{
    loft::Logger log("auth-worker");
    try {
        loft::ChildArgs args = loft::parse_child_args(argc, argv);
        int connection = -1;
        for (const loft::InheritedListener& listener : args.listeners) {
            if (listener.name == "auth-worker")
                connection = listener.fd;
        }
        if (connection < 0)
            throw std::runtime_error("no --listener auth-worker=FD given (loftd starts this program)");
        // checkpassword programs and PAM helpers this process starts must not hold it.
        fcntl(connection, F_SETFD, FD_CLOEXEC);
        auto config = loft::master::read_config_from_loftd();
        auto settings = config.resolve(loft::config::Filter{});
        loft::master::configure_log(log, settings, "auth_debug");
        signal(SIGPIPE, SIG_IGN);
        // loftd gives no --run-as only when a pam or shadow passdb needs root here; any
        // other configuration must drop privileges like every other child.
        bool stays_root = loft::running_as_root() && args.run_as.empty();
        if (stays_root && !loft::auth::worker::WorkerService::needs_root(settings))
            throw std::runtime_error("started as root without --run-as, but no passdb needs root");
        if (stays_root)
            log.debug("running as root for passdb pam/shadow");
        else
            loft::enter_sandbox(args, log);
        loft::auth::worker::WorkerService service(settings);
        // loft-auth gives up on a request after request_timeout; a look-up still stuck
        // (a PAM module waiting forever) ends this process a little later.
        loft::auth::worker::WorkerPoolLimits limits;
        unsigned alarm_secs = static_cast<unsigned>(
            std::chrono::duration_cast<std::chrono::seconds>(limits.request_timeout + loft::auth::worker::kWorkerAlarmGrace)
                .count());
        std::string header(loft::auth::worker::kFrameHeader, '\0');
        while (read_exact(connection, header.data(), header.size())) {
            std::string body(loft::auth::worker::frame_length(header), '\0');
            if (!read_exact(connection, body.data(), body.size()))
                throw std::runtime_error("loft-auth closed the connection in the middle of a request");
            loft::auth::worker::WorkerRequest request = loft::auth::worker::decode_request(body);
            alarm(alarm_secs);
            loft::auth::worker::WorkerReply reply = service.handle(request);
            alarm(0);
            write_all(connection, loft::auth::worker::encode_reply(reply));
            if (service.exhausted()) {
                log.debug("PAM max_requests reached, exiting so that loftd starts a fresh worker");
                break;
            }
        }
        return 0;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
