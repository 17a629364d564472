#include "rpc/server.h"

#include "rpc/framing.h"

#include <event2/buffer.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

namespace loft::rpc {

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TMemoryBuffer;

struct FrameServer::Connection {
    FrameServer* server;
    ConnectionId id;
    BufferEventPtr bev;
    std::shared_ptr<apache::thrift::async::TAsyncProcessor> processor;
    bool open = true;
};

FrameServer::FrameServer(event_base* base, const Logger& log, ProcessorFactory factory)
    : base_(base), log_(log), factory_(std::move(factory))
{
}

FrameServer::~FrameServer()
{
    for (auto& [id, connection] : connections_)
        connection->open = false;
}

FrameServer::ConnectionId FrameServer::add_connection(UniqueFd fd)
{
    evutil_make_socket_nonblocking(fd.get());
    auto connection = std::make_shared<Connection>();
    connection->server = this;
    connection->id = next_id_++;
    connection->bev.reset(bufferevent_socket_new(base_, fd.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!connection->bev)
        throw std::runtime_error("bufferevent_socket_new failed");
    fd.release();
    connection->processor = factory_(connection->id);
    bufferevent_setcb(connection->bev.get(), &FrameServer::on_read, nullptr, &FrameServer::on_event,
                      connection.get());
    bufferevent_enable(connection->bev.get(), EV_READ | EV_WRITE);
    connections_.emplace(connection->id, connection);
    return connection->id;
}

void FrameServer::close_connection(ConnectionId id)
{
    auto found = connections_.find(id);
    if (found == connections_.end())
        return;
    found->second->open = false;
    bufferevent_disable(found->second->bev.get(), EV_READ | EV_WRITE);
    connections_.erase(found);
    if (on_closed_)
        on_closed_(id);
}

void FrameServer::close_all()
{
    while (!connections_.empty())
        close_connection(connections_.begin()->first);
}

void FrameServer::on_read(bufferevent* bev, void* connection_ptr)
{
    auto* raw = static_cast<Connection*>(connection_ptr);
    FrameServer* server = raw->server;
    std::shared_ptr<Connection> connection = server->connections_.at(raw->id);
    while (connection->open) {
        std::optional<std::string> frame;
        try {
            frame = take_frame(bufferevent_get_input(bev));
        } catch (const FrameError& error) {
            server->log_.error(std::string("RPC connection closed: ") + error.what());
            server->close_connection(connection->id);
            return;
        }
        if (!frame)
            return;
        auto input = std::make_shared<TMemoryBuffer>(reinterpret_cast<uint8_t*>(frame->data()),
                                                     static_cast<uint32_t>(frame->size()), TMemoryBuffer::COPY);
        auto output = std::make_shared<TMemoryBuffer>();
        auto input_protocol = std::make_shared<TBinaryProtocol>(input);
        auto output_protocol = std::make_shared<TBinaryProtocol>(output);
        std::weak_ptr<Connection> weak = connection;
        auto reply = [weak, input, output, input_protocol, output_protocol](bool) {
            auto alive = weak.lock();
            if (!alive || !alive->open)
                return;
            uint8_t* data;
            uint32_t size;
            output->getBuffer(&data, &size);
            if (size > 0)
                append_frame(bufferevent_get_output(alive->bev.get()), data, size);
        };
        try {
            connection->processor->process(reply, input_protocol, output_protocol);
        } catch (const std::exception& error) {
            // A frame the processor cannot even decode: the peer is broken or hostile.
            server->log_.error(std::string("RPC connection closed after a malformed call: ") + error.what());
            server->close_connection(connection->id);
            return;
        }
    }
}

void FrameServer::on_event(bufferevent*, short what, void* connection_ptr)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        auto* raw = static_cast<Connection*>(connection_ptr);
        raw->server->close_connection(raw->id);
    }
}

}  // namespace loft::rpc
