#include "lib/async_signal.h"
#include "lib/event_loop.h"
#include "lib/task.h"

#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

using loft::AsyncSignal;
using loft::CallbackAwaiter;
using loft::Task;

namespace {
Task<int> add(int a, int b) { co_return a + b; }

Task<int> nested(int depth)
{
    if (depth == 0)
        co_return 0;
    co_return 1 + co_await nested(depth - 1);
}

Task<void> fail() { throw std::runtime_error("boom"); co_return; }
}  // namespace

class TaskTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TaskTest);
    CPPUNIT_TEST(values_flow_through_awaits);
    CPPUNIT_TEST(deep_chains_do_not_overflow);
    CPPUNIT_TEST(exceptions_reach_the_spawner);
    CPPUNIT_TEST(callbacks_may_complete_synchronously_or_later);
    CPPUNIT_TEST(signal_wakes_every_waiter);
    CPPUNIT_TEST(sleep_resumes_on_the_loop);
    CPPUNIT_TEST_SUITE_END();

public:
    void values_flow_through_awaits()
    {
        int result = 0;
        loft::spawn([](int& out) -> Task<void> { out = co_await add(2, 3) * co_await add(1, 1); }(result), {});
        CPPUNIT_ASSERT_EQUAL(10, result);
    }
    void deep_chains_do_not_overflow()
    {
        int result = 0;
        loft::spawn([](int& out) -> Task<void> { out = co_await nested(100000); }(result), {});
        CPPUNIT_ASSERT_EQUAL(100000, result);
    }
    void exceptions_reach_the_spawner()
    {
        std::string message;
        loft::spawn(fail(), [&](std::exception_ptr error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                message = e.what();
            }
        });
        CPPUNIT_ASSERT_EQUAL(std::string("boom"), message);
    }
    void callbacks_may_complete_synchronously_or_later()
    {
        std::function<void(int)> later;
        std::vector<int> seen;
        loft::spawn(
            [](std::function<void(int)>& pending, std::vector<int>& out) -> Task<void> {
                out.push_back(co_await CallbackAwaiter<int>([](auto resolve) { resolve(1); }));
                out.push_back(co_await CallbackAwaiter<int>([&](auto resolve) { pending = resolve; }));
            }(later, seen),
            {});
        CPPUNIT_ASSERT_EQUAL(size_t(1), seen.size());
        later(2);
        CPPUNIT_ASSERT_EQUAL(size_t(2), seen.size());
        CPPUNIT_ASSERT_EQUAL(2, seen[1]);
    }
    void signal_wakes_every_waiter()
    {
        AsyncSignal signal;
        int woken = 0;
        for (int i = 0; i < 3; i++)
            loft::spawn([](AsyncSignal& s, int& n) -> Task<void> { co_await s.wait(); n++; }(signal, woken), {});
        CPPUNIT_ASSERT_EQUAL(0, woken);
        signal.set();
        CPPUNIT_ASSERT_EQUAL(3, woken);
        loft::spawn([](AsyncSignal& s, int& n) -> Task<void> { co_await s.wait(); n++; }(signal, woken), {});
        CPPUNIT_ASSERT_EQUAL(4, woken);
    }
    void sleep_resumes_on_the_loop()
    {
        auto base = loft::make_event_base();
        bool done = false;
        loft::spawn([](event_base* b, bool& flag) -> Task<void> {
            co_await loft::sleep_for(b, std::chrono::milliseconds(20));
            flag = true;
        }(base.get(), done), {});
        CPPUNIT_ASSERT(!done);
        event_base_dispatch(base.get());
        CPPUNIT_ASSERT(done);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TaskTest);
