// The daemon side of RPC: serves framed Thrift calls on connections handed over by
// loftd, on one libevent loop, answering each call whenever its handler completes
// (so a long poll does not hold up the calls behind it).
#pragma once

#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/unique_fd.h"

#include <thrift/async/TAsyncProcessor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace loft::rpc {

class FrameServer {
public:
    using ConnectionId = uint64_t;
    // Builds the processor for one connection; handlers keep per-connection state
    // (open sessions) and learn of the end through on_closed.
    using ProcessorFactory =
        std::function<std::shared_ptr<apache::thrift::async::TAsyncProcessor>(ConnectionId)>;

    FrameServer(event_base* base, const Logger& log, ProcessorFactory factory);
    ~FrameServer();
    FrameServer(const FrameServer&) = delete;
    FrameServer& operator=(const FrameServer&) = delete;

    ConnectionId add_connection(UniqueFd fd);
    // Drops every connection (shutdown); peers see EOF and fail their pending calls.
    void close_all();
    void set_on_closed(std::function<void(ConnectionId)> on_closed) { on_closed_ = std::move(on_closed); }
    size_t connection_count() const { return connections_.size(); }

private:
    struct Connection;
    void close_connection(ConnectionId id);
    static void on_read(bufferevent* bev, void* connection);
    static void on_event(bufferevent* bev, short what, void* connection);

    event_base* base_;
    const Logger& log_;
    ProcessorFactory factory_;
    std::function<void(ConnectionId)> on_closed_;
    std::map<ConnectionId, std::shared_ptr<Connection>> connections_;
    ConnectionId next_id_ = 1;
};

}  // namespace loft::rpc
