#include "lib/event_loop.h"

#include "lib/system_error.h"

#include <stdexcept>

namespace loft {

EventBasePtr make_event_base()
{
    EventBasePtr base(event_base_new());
    if (!base)
        throw std::runtime_error("event_base_new failed");
    return base;
}

timeval to_timeval(std::chrono::milliseconds duration)
{
    timeval tv;
    tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
    return tv;
}

Timer::Timer(event_base* base, std::function<void()> callback, bool periodic)
    : callback_(std::move(callback)), event_(event_new(base, -1, periodic ? EV_PERSIST : 0, &Timer::fire, this))
{
    if (!event_)
        throw std::runtime_error("evtimer_new failed");
}

void Timer::start(std::chrono::milliseconds delay)
{
    timeval tv = to_timeval(delay);
    evtimer_add(event_.get(), &tv);
}

void Timer::stop() { evtimer_del(event_.get()); }

bool Timer::pending() const { return evtimer_pending(event_.get(), nullptr) != 0; }

void Timer::fire(evutil_socket_t, short, void* self)
{
    // Copy first: the callback may destroy this timer.
    auto callback = static_cast<Timer*>(self)->callback_;
    callback();
}

ReadWatcher::ReadWatcher(event_base* base, int fd, std::function<void()> callback)
    : callback_(std::move(callback)), event_(event_new(base, fd, EV_READ | EV_PERSIST, &ReadWatcher::fire, this))
{
    if (!event_)
        throw std::runtime_error("event_new failed");
    event_add(event_.get(), nullptr);
}

void ReadWatcher::fire(evutil_socket_t, short, void* self)
{
    auto callback = static_cast<ReadWatcher*>(self)->callback_;
    callback();
}

Task<void> sleep_for(event_base* base, std::chrono::milliseconds delay)
{
    std::unique_ptr<Timer> timer;
    co_await CallbackAwaiter<bool>([&](CallbackAwaiter<bool>::Resolver resolve) {
        timer = std::make_unique<Timer>(base, [resolve] { resolve(true); });
        timer->start(delay);
    });
}

}  // namespace loft
