// A one-shot event coroutines can wait for on a single-threaded loop: set() resumes
// every waiter; waiting after set() does not suspend.
#pragma once

#include "lib/task.h"

#include <functional>
#include <vector>

namespace loft {

class AsyncSignal {
public:
    void set()
    {
        if (set_)
            return;
        set_ = true;
        auto waiting = std::move(waiting_);
        waiting_.clear();
        for (auto& resume : waiting)
            resume();
    }
    bool is_set() const { return set_; }
    void reset() { set_ = false; }
    Task<void> wait()
    {
        if (set_)
            co_return;
        co_await CallbackAwaiter<bool>([this](CallbackAwaiter<bool>::Resolver resolve) {
            waiting_.push_back([resolve] { resolve(true); });
        });
    }

private:
    bool set_ = false;
    std::vector<std::function<void()>> waiting_;
};

}  // namespace loft
