// C++20 coroutine tasks for single-threaded event loops: Task<T> is a lazily started,
// awaitable coroutine; spawn() runs one to completion without an awaiting parent.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>
#include <variant>

namespace loft {

template <typename T>
class Task;

namespace task_detail {

// Resumes whoever awaited the task once it finishes (symmetric transfer, so deep
// chains of awaits do not grow the stack).
struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) noexcept
    {
        auto continuation = done.promise().continuation;
        return continuation ? continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
};

struct PromiseBase {
    std::coroutine_handle<> continuation;
    std::exception_ptr error;
    std::suspend_always initial_suspend() noexcept { return {}; }
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T>
struct Promise : PromiseBase {
    std::optional<T> value;
    Task<T> get_return_object();
    template <typename U>
    void return_value(U&& result)
    {
        value.emplace(std::forward<U>(result));
    }
};

template <>
struct Promise<void> : PromiseBase {
    Task<void> get_return_object();
    void return_void() noexcept {}
};

}  // namespace task_detail

template <typename T = void>
class [[nodiscard]] Task {
public:
    using promise_type = task_detail::Promise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    explicit Task(Handle handle) : handle_(handle) {}
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Task& operator=(Task&& other) noexcept
    {
        if (this != &other) {
            if (handle_)
                handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task()
    {
        if (handle_)
            handle_.destroy();
    }

    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept
    {
        handle_.promise().continuation = awaiting;
        return handle_;
    }
    T await_resume()
    {
        auto& promise = handle_.promise();
        if (promise.error)
            std::rethrow_exception(promise.error);
        if constexpr (!std::is_void_v<T>)
            return std::move(*promise.value);
    }

private:
    Handle handle_;
};

namespace task_detail {
template <typename T>
Task<T> Promise<T>::get_return_object()
{
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object()
{
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// A coroutine nobody awaits: starts at once and frees itself when it ends.
struct Detached {
    struct promise_type {
        Detached get_return_object() noexcept { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
};
}  // namespace task_detail

// Runs task to completion in the background; on_error sees any exception it ends with.
inline void spawn(Task<void> task, std::function<void(std::exception_ptr)> on_error)
{
    [](Task<void> owned, std::function<void(std::exception_ptr)> report) -> task_detail::Detached {
        std::exception_ptr failure;
        try {
            co_await owned;
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure && report)
            report(failure);
    }(std::move(task), std::move(on_error));
}

// Bridges a callback API into co_await. start(resolve) begins the operation; resolve(value)
// may be called later from the event loop, or at once from inside start.
template <typename T>
class CallbackAwaiter {
public:
    using Resolver = std::function<void(T)>;
    explicit CallbackAwaiter(std::function<void(Resolver)> start) : start_(std::move(start)) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> waiting)
    {
        waiting_ = waiting;
        start_([this](T value) {
            result_.emplace(std::move(value));
            if (suspended_)
                waiting_.resume();
        });
        // Completed synchronously: do not suspend at all.
        if (result_)
            return false;
        suspended_ = true;
        return true;
    }
    T await_resume() { return std::move(*result_); }

private:
    std::function<void(Resolver)> start_;
    std::coroutine_handle<> waiting_;
    std::optional<T> result_;
    bool suspended_ = false;
};

}  // namespace loft
