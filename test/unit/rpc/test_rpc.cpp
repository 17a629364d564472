// The RPC shape end to end on a real socketpair: coroutine client, frame server,
// generated async processor, out-of-order replies, errors and broken connections.
#include "lib/event_loop.h"
#include "lib/log.h"
#include "rpc/call.h"
#include "rpc/framing.h"
#include "rpc/server.h"
#include "rpc/storage_client.h"

#include <cppunit/extensions/HelperMacros.h>
#include <event2/buffer.h>
#include <sys/socket.h>
#include <thrift/TApplicationException.h>

#include <memory>
#include <vector>

using namespace loft;
using namespace loft::rpc;

namespace {

// A toy storage: open_session echoes the grant's length, wait_changes answers only
// when release_waiters() is called, begin_append with mailbox "bad" fails.
class ToyStorage : public StorageCobSvNull {
public:
    std::vector<std::function<void()>> waiters;

    void open_session(std::function<void(int64_t const&)> cob,
                      std::function<void(apache::thrift::TDelayedException*)>, const std::string& grant) override
    {
        cob(static_cast<int64_t>(grant.size()));
    }
    void wait_changes(std::function<void(ViewChanges const&)> cob,
                      std::function<void(apache::thrift::TDelayedException*)>, int64_t, int64_t view, int32_t) override
    {
        waiters.push_back([cob, view] {
            ViewChanges changes;
            changes.expunged.push_back(static_cast<int32_t>(view));
            cob(changes);
        });
    }
    void begin_append(std::function<void(int64_t const&)> cob,
                      std::function<void(apache::thrift::TDelayedException*)> exn_cob, int64_t,
                      const std::string& mailbox, const Flags&, int64_t) override
    {
        if (mailbox == "bad") {
            StorageError error;
            error.kind = ErrorKind::NOT_FOUND;
            error.message = "no such mailbox";
            // The processor takes ownership: throw_it() deletes the wrapper.
            exn_cob(apache::thrift::TDelayedException::delayException(error));
            return;
        }
        cob(42);
    }
    void release_waiters()
    {
        auto pending = std::move(waiters);
        for (auto& waiter : pending)
            waiter();
    }
};

struct Harness {
    EventBasePtr base = make_event_base();
    Logger log{"test", 2};
    std::shared_ptr<ToyStorage> handler = std::make_shared<ToyStorage>();
    FrameServer server{base.get(), log,
                       [this](FrameServer::ConnectionId) { return std::make_shared<StorageAsyncProcessor>(handler); }};
    std::shared_ptr<RpcChannel> channel;
    FrameServer::ConnectionId server_side = 0;

    Harness()
    {
        int fds[2];
        CPPUNIT_ASSERT_EQUAL(0, socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
        server_side = server.add_connection(UniqueFd(fds[0]));
        channel = std::make_shared<RpcChannel>(base.get(), UniqueFd(fds[1]));
    }
    void run_until(const std::function<bool()>& done)
    {
        for (int i = 0; i < 10000 && !done(); i++)
            event_base_loop(base.get(), EVLOOP_ONCE);
        CPPUNIT_ASSERT(done());
    }
};

}  // namespace

class RpcTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RpcTest);
    CPPUNIT_TEST(many_calls_in_flight_reach_their_callers);
    CPPUNIT_TEST(long_poll_does_not_block_later_calls);
    CPPUNIT_TEST(declared_errors_arrive_as_exceptions);
    CPPUNIT_TEST(broken_connection_fails_pending_calls);
    CPPUNIT_TEST(oversized_frame_closes_connection);
    CPPUNIT_TEST(seqid_rewrite);
    CPPUNIT_TEST_SUITE_END();

public:
    void many_calls_in_flight_reach_their_callers()
    {
        Harness h;
        AsyncStorageClient client(h.channel);
        constexpr int kCalls = 64;
        std::vector<int64_t> answers(kCalls, -1);
        int finished = 0;
        for (int i = 0; i < kCalls; i++) {
            spawn(
                [](AsyncStorageClient& c, int64_t& answer, int& done, int n) -> Task<void> {
                    answer = co_await c.open_session(std::string(static_cast<size_t>(n), 'x'));
                    done++;
                }(client, answers[i], finished, i),
                {});
        }
        CPPUNIT_ASSERT(h.channel->calls_in_flight() == kCalls);
        h.run_until([&] { return finished == kCalls; });
        for (int i = 0; i < kCalls; i++)
            CPPUNIT_ASSERT_EQUAL(int64_t(i), answers[i]);
    }

    void long_poll_does_not_block_later_calls()
    {
        Harness h;
        AsyncStorageClient client(h.channel);
        std::vector<std::string> order;
        spawn(
            [](AsyncStorageClient& c, std::vector<std::string>& log) -> Task<void> {
                auto changes = co_await c.wait_changes(1, 7, std::chrono::milliseconds(5000));
                log.push_back("changes:" + std::to_string(changes.expunged.at(0)));
            }(client, order),
            {});
        spawn(
            [](AsyncStorageClient& c, std::vector<std::string>& log) -> Task<void> {
                co_await c.open_session("abc");
                log.push_back("session");
            }(client, order),
            {});
        h.run_until([&] { return order.size() == 1; });
        CPPUNIT_ASSERT_EQUAL(std::string("session"), order[0]);
        h.handler->release_waiters();
        h.run_until([&] { return order.size() == 2; });
        CPPUNIT_ASSERT_EQUAL(std::string("changes:7"), order[1]);
    }

    void declared_errors_arrive_as_exceptions()
    {
        Harness h;
        AsyncStorageClient client(h.channel);
        std::string outcome;
        spawn(
            [](AsyncStorageClient& c, std::string& result) -> Task<void> {
                try {
                    co_await c.begin_append(1, "bad", Flags(), 0);
                    result = "no error";
                } catch (const StorageError& error) {
                    result = error.message;
                }
                auto id = co_await c.begin_append(1, "INBOX", Flags(), 0);
                result += "/" + std::to_string(id);
            }(client, outcome),
            {});
        h.run_until([&] { return !outcome.empty() && outcome.find('/') != std::string::npos; });
        CPPUNIT_ASSERT_EQUAL(std::string("no such mailbox/42"), outcome);
    }

    void broken_connection_fails_pending_calls()
    {
        Harness h;
        AsyncStorageClient client(h.channel);
        std::string outcome;
        spawn(
            [](AsyncStorageClient& c, std::string& result) -> Task<void> {
                try {
                    co_await c.wait_changes(1, 1, std::chrono::milliseconds(60000));
                    result = "answered";
                } catch (const RpcUnavailable& error) {
                    result = error.what();
                }
            }(client, outcome),
            {});
        h.run_until([&] { return !h.handler->waiters.empty(); });
        // The daemon goes away: drop the server side of the connection.
        h.server.close_all();
        h.run_until([&] { return !outcome.empty(); });
        CPPUNIT_ASSERT_EQUAL(std::string("connection lost"), outcome);
        CPPUNIT_ASSERT(!client.connected());
    }

    void oversized_frame_closes_connection()
    {
        EventBasePtr base = make_event_base();
        Logger log("test", 2);
        int closed = 0;
        FrameServer server(base.get(), log,
                           [](FrameServer::ConnectionId) { return std::make_shared<StorageAsyncProcessor>(
                                                                std::make_shared<ToyStorage>()); });
        server.set_on_closed([&](FrameServer::ConnectionId) { closed++; });
        int fds[2];
        CPPUNIT_ASSERT_EQUAL(0, socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
        UniqueFd client_end(fds[1]);
        server.add_connection(UniqueFd(fds[0]));
        uint32_t huge = htonl(kMaxFrameSize + 1);
        CPPUNIT_ASSERT_EQUAL(ssize_t(4), write(client_end.get(), &huge, 4));
        for (int i = 0; i < 100 && closed == 0; i++)
            event_base_loop(base.get(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
        CPPUNIT_ASSERT_EQUAL(1, closed);
        CPPUNIT_ASSERT_EQUAL(size_t(0), server.connection_count());
    }

    void seqid_rewrite()
    {
        // version|CALL, name "ab", seqid 0
        uint8_t message[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0};
        CPPUNIT_ASSERT(write_seqid(message, sizeof(message), 0x01020304));
        CPPUNIT_ASSERT_EQUAL(int32_t(0x01020304), *read_seqid(message, sizeof(message)));
        uint8_t truncated[] = {0x80, 0x01, 0x00, 0x01, 0, 0, 0, 9, 'a'};
        CPPUNIT_ASSERT(!read_seqid(truncated, sizeof(truncated)).has_value());
        uint8_t old_style[] = {0, 0, 0, 2, 'a', 'b', 1, 0, 0, 0, 0, 0};
        CPPUNIT_ASSERT(!read_seqid(old_style, sizeof(old_style)).has_value());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RpcTest);
