// RAII owners for libevent objects, a timer, and a co_await-able sleep.
#pragma once

#include "lib/task.h"

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <functional>
#include <memory>

namespace loft {

struct EventBaseFree {
    void operator()(event_base* base) const { event_base_free(base); }
};
struct EventFree {
    void operator()(event* ev) const { event_free(ev); }
};
struct BufferEventFree {
    void operator()(bufferevent* bev) const { bufferevent_free(bev); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseFree>;
using EventPtr = std::unique_ptr<event, EventFree>;
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventFree>;

EventBasePtr make_event_base();
timeval to_timeval(std::chrono::milliseconds duration);

// A timer on the loop: one-shot (may be re-armed) or, if periodic, firing every
// interval until stopped.
class Timer {
public:
    Timer(event_base* base, std::function<void()> callback, bool periodic = false);
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    void start(std::chrono::milliseconds delay);
    void stop();
    bool pending() const;

private:
    static void fire(evutil_socket_t, short, void* self);
    std::function<void()> callback_;
    EventPtr event_;
};

// Runs callback whenever fd becomes readable, until destroyed.
class ReadWatcher {
public:
    ReadWatcher(event_base* base, int fd, std::function<void()> callback);
    ReadWatcher(const ReadWatcher&) = delete;
    ReadWatcher& operator=(const ReadWatcher&) = delete;

private:
    static void fire(evutil_socket_t, short, void* self);
    std::function<void()> callback_;
    EventPtr event_;
};

// Resumes the awaiting coroutine after delay, on the loop.
Task<void> sleep_for(event_base* base, std::chrono::milliseconds delay);

}  // namespace loft
