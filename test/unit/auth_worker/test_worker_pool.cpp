#include "auth/auth_chain.h"
#include "auth/worker/worker_db.h"
#include "auth/worker/worker_pool.h"
#include "lib/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cppunit/extensions/HelperMacros.h>
#include <map>

using namespace loft;
using namespace loft::auth;
using namespace loft::auth::worker;

namespace {

Task<UniqueFd> ready(UniqueFd fd)
{
    co_return fd;
}

// loft-auth-worker's side, in this process on the same loop: answers by user name.
// "slow" after 300 ms, "never" not at all, "die" by closing, "last" with worker_exits.
class FakeWorkers {
public:
    explicit FakeWorkers(event_base* base) : base_(base) {}

    UniqueFd connect()
    {
        auto [ours, theirs] = make_stream_pair();
        auto worker = std::make_unique<Worker>();
        Worker* raw = worker.get();
        worker->fd = std::move(ours);
        worker->watcher = std::make_unique<ReadWatcher>(base_, raw->fd.get(), [this, raw] { on_request(*raw); });
        workers_.push_back(std::move(worker));
        started++;
        return std::move(theirs);
    }

    int started = 0;
    std::vector<std::string> served;  // users, in the order answered

private:
    struct Worker {
        UniqueFd fd;
        std::unique_ptr<ReadWatcher> watcher;
        std::string input;
        std::vector<std::unique_ptr<Timer>> timers;
    };

    // Like a process exit, but the fd number stays taken while the watcher exists.
    static void hang_up(Worker& worker) { shutdown(worker.fd.get(), SHUT_RDWR); }

    void on_request(Worker& worker)
    {
        char buffer[4096];
        ssize_t n = read(worker.fd.get(), buffer, sizeof(buffer));
        if (n <= 0)
            return;
        worker.input.append(buffer, static_cast<size_t>(n));
        if (worker.input.size() < kFrameHeader)
            return;
        size_t length = frame_length(worker.input.substr(0, kFrameHeader));
        if (worker.input.size() < kFrameHeader + length)
            return;
        WorkerRequest request = decode_request(worker.input.substr(kFrameHeader, length));
        worker.input.erase(0, kFrameHeader + length);
        const std::string& user = request.request.user;
        if (user == "die") {
            hang_up(worker);
            return;
        }
        if (user == "never")
            return;
        WorkerReply reply;
        reply.id = request.id;
        bool right = request.op != WorkerOp::PassdbVerify || request.secret == "pw";
        reply.status = static_cast<int>(right ? PassdbStatus::Ok : PassdbStatus::PasswordMismatch);
        reply.fields = {{"seen_index", std::to_string(request.db_index)}};
        reply.worker_exits = user == "last";
        std::string frame = encode_reply(reply);
        Worker* raw = &worker;
        auto answer = [this, raw, frame, user] {
            served.push_back(user);
            if (write(raw->fd.get(), frame.data(), frame.size()) < 0 || user == "last")
                hang_up(*raw);
        };
        if (user == "slow") {
            auto timer = std::make_unique<Timer>(base_, answer);
            timer->start(std::chrono::milliseconds(300));
            worker.timers.push_back(std::move(timer));
        } else {
            answer();
        }
    }

    event_base* base_;
    std::vector<std::unique_ptr<Worker>> workers_;
};

struct Harness {
    EventBasePtr base = make_event_base();
    FakeWorkers workers{base.get()};
    WorkerPool pool;
    Logger log{"test"};

    explicit Harness(WorkerPoolLimits limits)
        : pool(base.get(), [this]() { return ready(workers.connect()); }, limits, log)
    {
    }

    // Runs the loop until done() or the deadline.
    template <typename Done>
    void run_until(Done done, std::chrono::milliseconds deadline = std::chrono::milliseconds(3000))
    {
        auto until = std::chrono::steady_clock::now() + deadline;
        while (!done() && std::chrono::steady_clock::now() < until) {
            event_base_loop(base.get(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
            usleep(1000);
        }
    }
};

Task<void> verify(Passdb& passdb, std::string user, std::string password, std::optional<PassdbReply>& out)
{
    AuthRequest request;
    request.user = std::move(user);
    PassdbReply reply = co_await passdb.verify_plain_async(request, std::move(password));
    out = std::move(reply);
}

// A stand-in whose local driver is never used here: every awaited look-up goes to the pool.
std::unique_ptr<WorkerPassdb> remote_passdb(WorkerPool& pool, uint32_t index = 0)
{
    return std::make_unique<WorkerPassdb>(make_passdb("static", "password=unused"), index, pool);
}

}  // namespace

class WorkerPoolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WorkerPoolTest);
    CPPUNIT_TEST(a_slow_lookup_does_not_hold_up_others);
    CPPUNIT_TEST(a_dead_worker_fails_only_its_request);
    CPPUNIT_TEST(worker_exits_after_max_requests_without_failing);
    CPPUNIT_TEST(a_stuck_worker_times_out);
    CPPUNIT_TEST(queue_and_process_limits);
    CPPUNIT_TEST(chain_awaits_the_worker);
    CPPUNIT_TEST(which_drivers_run_in_a_worker);
    CPPUNIT_TEST_SUITE_END();

public:
    void a_slow_lookup_does_not_hold_up_others()
    {
        Harness h(WorkerPoolLimits{});
        auto passdb = remote_passdb(h.pool, 2);
        std::optional<PassdbReply> slow, quick;
        spawn(verify(*passdb, "slow", "pw", slow), nullptr);
        spawn(verify(*passdb, "alice", "bad", quick), nullptr);
        h.run_until([&] { return quick.has_value(); });
        CPPUNIT_ASSERT(quick && !slow);
        CPPUNIT_ASSERT(quick->status == PassdbStatus::PasswordMismatch);
        h.run_until([&] { return slow.has_value(); });
        CPPUNIT_ASSERT(slow && slow->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(std::string("2"), slow->fields.at("seen_index"));
        CPPUNIT_ASSERT_EQUAL(2, h.workers.started);  // one request per worker at a time
        CPPUNIT_ASSERT_EQUAL(std::string("alice"), h.workers.served.front());
    }

    void a_dead_worker_fails_only_its_request()
    {
        Harness h(WorkerPoolLimits{});
        auto passdb = remote_passdb(h.pool);
        std::optional<PassdbReply> died, next;
        spawn(verify(*passdb, "die", "pw", died), nullptr);
        h.run_until([&] { return died.has_value(); });
        CPPUNIT_ASSERT(died && died->status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(died->error.find("died") != std::string::npos);
        spawn(verify(*passdb, "alice", "pw", next), nullptr);
        h.run_until([&] { return next.has_value(); });
        CPPUNIT_ASSERT(next && next->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(2, h.workers.started);
    }

    void worker_exits_after_max_requests_without_failing()
    {
        WorkerPoolLimits limits;
        limits.process_limit = 1;
        Harness h(limits);
        auto passdb = remote_passdb(h.pool);
        std::optional<PassdbReply> last, after;
        spawn(verify(*passdb, "last", "pw", last), nullptr);
        spawn(verify(*passdb, "alice", "pw", after), nullptr);
        h.run_until([&] { return last && after; });
        CPPUNIT_ASSERT(last && last->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(after && after->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(2, h.workers.started);
    }

    void a_stuck_worker_times_out()
    {
        WorkerPoolLimits limits;
        limits.request_timeout = std::chrono::milliseconds(100);
        Harness h(limits);
        auto passdb = remote_passdb(h.pool);
        std::optional<PassdbReply> stuck;
        auto start = std::chrono::steady_clock::now();
        spawn(verify(*passdb, "never", "pw", stuck), nullptr);
        h.run_until([&] { return stuck.has_value(); });
        auto took = std::chrono::steady_clock::now() - start;
        CPPUNIT_ASSERT(stuck && stuck->status == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(stuck->error.find("timed out") != std::string::npos);
        CPPUNIT_ASSERT(took >= std::chrono::milliseconds(90) && took < std::chrono::milliseconds(2000));
    }

    void queue_and_process_limits()
    {
        WorkerPoolLimits limits;
        limits.process_limit = 1;
        limits.max_queued = 1;
        Harness h(limits);
        auto passdb = remote_passdb(h.pool);
        std::optional<PassdbReply> first, second, third;
        spawn(verify(*passdb, "slow", "pw", first), nullptr);
        h.run_until([&] { return h.workers.started == 1 && h.pool.connections() == 1; });
        spawn(verify(*passdb, "alice", "pw", second), nullptr);  // waits for the only worker
        spawn(verify(*passdb, "alice", "pw", third), nullptr);   // no room left to wait
        CPPUNIT_ASSERT(third && third->status == PassdbStatus::InternalFailure);
        h.run_until([&] { return first && second; });
        CPPUNIT_ASSERT(first && first->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT(second && second->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(1, h.workers.started);
    }

    void chain_awaits_the_worker()
    {
        Harness h(WorkerPoolLimits{});
        PassdbChain chain;
        PassdbRule go_on;
        go_on.on_failure = ChainAction::Continue;
        chain.add(make_passdb("static", "password=other"), go_on);
        chain.add(remote_passdb(h.pool, 1), PassdbRule{});
        std::optional<PassdbChainResult> result;
        auto run = [](const PassdbChain& c, std::optional<PassdbChainResult>& out) -> Task<void> {
            AuthRequest request;
            request.user = "slow";
            std::string password = "pw";
            PassdbChainResult got = co_await c.verify_plain_async(request, password);
            out = std::move(got);
        };
        spawn(run(chain, result), nullptr);
        CPPUNIT_ASSERT(!result);  // suspended on the worker
        h.run_until([&] { return result.has_value(); });
        CPPUNIT_ASSERT(result && result->status == PassdbStatus::Ok);
        CPPUNIT_ASSERT_EQUAL(size_t(2), result->steps.size());
        CPPUNIT_ASSERT_EQUAL(std::string("1"), result->fields.at("seen_index"));
    }

    void which_drivers_run_in_a_worker()
    {
        for (const char* driver : {"pam", "shadow", "sql", "checkpassword"})
            CPPUNIT_ASSERT(passdb_runs_in_worker(driver));
        for (const char* driver : {"passwd-file", "static", "passwd"})
            CPPUNIT_ASSERT(!passdb_runs_in_worker(driver));
        CPPUNIT_ASSERT(userdb_runs_in_worker("sql") && userdb_runs_in_worker("checkpassword"));
        CPPUNIT_ASSERT(!userdb_runs_in_worker("passwd") && !userdb_runs_in_worker("prefetch"));
        CPPUNIT_ASSERT(passdb_needs_root("pam") && passdb_needs_root("shadow"));
        CPPUNIT_ASSERT(!passdb_needs_root("sql") && !passdb_needs_root("checkpassword") && !passdb_needs_root("passwd"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WorkerPoolTest);
