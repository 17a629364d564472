#include "auth/worker/worker_pool.h"

#include <event2/util.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace loft::auth::worker {

struct WorkerPool::Connection {
    UniqueFd fd;
    std::unique_ptr<ReadWatcher> watcher;
    std::unique_ptr<Timer> timeout;
    std::string input;
    std::optional<Job> job;
    bool closing = false;  // the worker said it exits after this reply
};

WorkerPool::WorkerPool(event_base* base, Connector connect, WorkerPoolLimits limits, const Logger& log)
    : base_(base), connect_(std::move(connect)), limits_(limits), log_(log), alive_(std::make_shared<bool>(true))
{
    reaper_ = std::make_unique<Timer>(base_, [this] { retired_.clear(); });
}

WorkerPool::~WorkerPool()
{
    *alive_ = false;
}

Task<WorkerReply> WorkerPool::ask(WorkerRequest request)
{
    request.id = next_id_++;
    auto answer = std::make_shared<Answer>();
    co_await CallbackAwaiter<bool>([&](CallbackAwaiter<bool>::Resolver resolve) {
        enqueue(Job{std::move(request), [answer, resolve](Answer result) {
                        *answer = std::move(result);
                        resolve(true);
                    }});
    });
    if (!answer->reply)
        throw WorkerUnavailable(answer->error);
    co_return std::move(*answer->reply);
}

void WorkerPool::enqueue(Job job)
{
    if (queue_.size() >= limits_.max_queued) {
        job.resolve(Answer{std::nullopt, "too many look-ups waiting for an auth worker"});
        return;
    }
    queue_.push_back(std::move(job));
    dispatch();
}

void WorkerPool::dispatch()
{
    for (auto& connection : connections_) {
        if (queue_.empty())
            return;
        if (connection->job || connection->closing)
            continue;
        Job job = std::move(queue_.front());
        queue_.pop_front();
        send(*connection, std::move(job));
    }
    // Start workers for what still waits, up to the limit.
    size_t limit = std::max<size_t>(limits_.process_limit, 1);
    while (opening_ < queue_.size() && connections_.size() + opening_ < limit) {
        opening_++;
        spawn(open_connection(), nullptr);
    }
}

Task<void> WorkerPool::open_connection()
{
    std::shared_ptr<bool> alive = alive_;
    UniqueFd fd;
    std::string error;
    try {
        fd = co_await connect_();
    } catch (const std::exception& failure) {
        error = failure.what();
    }
    if (!*alive)
        co_return;
    opening_--;
    if (!fd) {
        log_.error("auth-worker: cannot start a worker: " + error);
        // Nothing else would ever take the waiting look-ups.
        if (connections_.empty() && opening_ == 0) {
            auto waiting = std::move(queue_);
            for (Job& job : waiting)
                job.resolve(Answer{std::nullopt, "no auth worker: " + error});
        }
        co_return;
    }
    evutil_make_socket_nonblocking(fd.get());
    auto connection = std::make_unique<Connection>();
    Connection* raw = connection.get();
    connection->fd = std::move(fd);
    connection->watcher = std::make_unique<ReadWatcher>(base_, raw->fd.get(), [this, raw] { on_readable(*raw); });
    connection->timeout = std::make_unique<Timer>(base_, [this, raw] {
        retire(*raw, "auth worker timed out after " + std::to_string(limits_.request_timeout.count() / 1000) + " s");
    });
    connections_.push_back(std::move(connection));
    dispatch();
}

namespace {

// Frames are small and the worker reads one request at a time, so the socket buffer
// takes the whole frame at once; waiting for room is bounded anyway.
bool write_frame(int fd, std::string_view frame)
{
    size_t written = 0;
    while (written < frame.size()) {
        ssize_t n = write(fd, frame.data() + written, frame.size() - written);
        if (n > 0) {
            written += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            pollfd wait{fd, POLLOUT, 0};
            if (poll(&wait, 1, 1000) == 1)
                continue;
        }
        return false;
    }
    return true;
}

}  // namespace

void WorkerPool::send(Connection& connection, Job job)
{
    std::string frame;
    try {
        frame = encode_request(job.request);
    } catch (const std::exception& failure) {
        job.resolve(Answer{std::nullopt, failure.what()});
        return;
    }
    connection.job = std::move(job);
    if (!write_frame(connection.fd.get(), frame)) {
        retire(connection, "cannot write to the auth worker");
        return;
    }
    connection.timeout->start(limits_.request_timeout);
}

void WorkerPool::on_readable(Connection& connection)
{
    char buffer[16384];
    ssize_t n;
    while ((n = read(connection.fd.get(), buffer, sizeof(buffer))) < 0 && errno == EINTR) {
    }
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        retire(connection, "auth worker died");
        return;
    }
    connection.input.append(buffer, static_cast<size_t>(n));
    while (connection.input.size() >= kFrameHeader) {
        WorkerReply reply;
        try {
            size_t length = frame_length(std::string_view(connection.input).substr(0, kFrameHeader));
            if (connection.input.size() < kFrameHeader + length)
                return;
            reply = decode_reply(std::string_view(connection.input).substr(kFrameHeader, length));
            connection.input.erase(0, kFrameHeader + length);
        } catch (const std::exception& failure) {
            retire(connection, std::string("bad reply from the auth worker: ") + failure.what());
            return;
        }
        if (!connection.job || connection.job->request.id != reply.id) {
            retire(connection, "unexpected reply from the auth worker");
            return;
        }
        connection.timeout->stop();
        Job job = std::move(*connection.job);
        connection.job.reset();
        connection.closing = reply.worker_exits;
        if (connection.closing)
            retire(connection, "");
        job.resolve(Answer{std::move(reply), ""});
        if (connection.closing)
            return;
        dispatch();
    }
}

void WorkerPool::retire(Connection& connection, const std::string& why)
{
    auto found = std::find_if(connections_.begin(), connections_.end(),
                              [&](const auto& held) { return held.get() == &connection; });
    if (found == connections_.end())
        return;
    std::unique_ptr<Connection> gone = std::move(*found);
    connections_.erase(found);
    gone->timeout->stop();
    std::optional<Job> job = std::move(gone->job);
    gone->job.reset();
    // Closed when reaped (watcher first): a worker stuck in a look-up then sees EOF after
    // it, or its alarm ends it.
    retired_.push_back(std::move(gone));
    reaper_->start(std::chrono::milliseconds(0));
    if (job) {
        log_.error("auth-worker: " + why + " (request for " + job->request.request.user + " failed)");
        job->resolve(Answer{std::nullopt, why});
    }
    // Waiting look-ups need another worker.
    dispatch();
}

}  // namespace loft::auth::worker
