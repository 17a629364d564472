// The worker side of RPC: many calls in flight on one connection from one libevent
// loop, replies matched by seqid, a timeout per call, and every pending call failed
// when the connection breaks.
#pragma once

#include "lib/event_loop.h"
#include "lib/unique_fd.h"

#include <thrift/async/TAsyncChannel.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>

namespace loft::rpc {

class RpcChannel final : public apache::thrift::async::TAsyncChannel,
                         public std::enable_shared_from_this<RpcChannel> {
public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{60000};

    RpcChannel(event_base* base, UniqueFd fd);
    ~RpcChannel() override;

    bool good() const override { return !closed_; }
    bool error() const override { return closed_; }
    bool timedOut() const override { return timed_out_; }

    void sendMessage(const VoidCallback& cob, apache::thrift::transport::TMemoryBuffer* message) override;
    void recvMessage(const VoidCallback& cob, apache::thrift::transport::TMemoryBuffer* message) override;
    void sendAndRecvMessage(const VoidCallback& cob, apache::thrift::transport::TMemoryBuffer* send_buffer,
                            apache::thrift::transport::TMemoryBuffer* receive_buffer) override;

    // The timeout for the next sendAndRecvMessage only (long polls need more).
    void set_next_timeout(std::chrono::milliseconds timeout) { next_timeout_ = timeout; }
    // Called once when the connection is lost (after pending calls have failed).
    void set_on_close(std::function<void()> on_close) { on_close_ = std::move(on_close); }
    void close();
    size_t calls_in_flight() const { return pending_.size(); }

private:
    struct Pending {
        RpcChannel* channel;
        int32_t seqid;
        VoidCallback done;
        apache::thrift::transport::TMemoryBuffer* reply;
        EventPtr timer;
    };
    static void on_read(bufferevent* bev, void* self);
    static void on_event(bufferevent* bev, short what, void* self);
    static void on_timeout(evutil_socket_t, short, void* pending);
    void fail_all();
    void complete(int32_t seqid, std::string* reply);

    event_base* base_;
    BufferEventPtr bev_;
    std::map<int32_t, std::unique_ptr<Pending>> pending_;
    int32_t next_seqid_ = 1;
    std::chrono::milliseconds next_timeout_ = kDefaultTimeout;
    bool closed_ = false;
    bool timed_out_ = false;
    std::function<void()> on_close_;
};

}  // namespace loft::rpc
