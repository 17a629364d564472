#include "rpc/channel.h"

#include "rpc/framing.h"

#include <event2/buffer.h>
#include <thrift/transport/TBufferTransports.h>

#include <stdexcept>

namespace loft::rpc {

using apache::thrift::transport::TMemoryBuffer;

RpcChannel::RpcChannel(event_base* base, UniqueFd fd) : base_(base)
{
    evutil_make_socket_nonblocking(fd.get());
    bev_.reset(bufferevent_socket_new(base, fd.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!bev_)
        throw std::runtime_error("bufferevent_socket_new failed");
    fd.release();
    bufferevent_setcb(bev_.get(), &RpcChannel::on_read, nullptr, &RpcChannel::on_event, this);
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

RpcChannel::~RpcChannel()
{
    // Nobody can be waiting any more (each call holds the channel alive), so
    // dropping the records resumes nothing.
    pending_.clear();
}

void RpcChannel::sendMessage(const VoidCallback&, TMemoryBuffer*)
{
    throw std::logic_error("RpcChannel supports request/reply calls only");
}

void RpcChannel::recvMessage(const VoidCallback&, TMemoryBuffer*)
{
    throw std::logic_error("RpcChannel supports request/reply calls only");
}

void RpcChannel::sendAndRecvMessage(const VoidCallback& cob, TMemoryBuffer* send_buffer, TMemoryBuffer* receive_buffer)
{
    auto timeout = std::exchange(next_timeout_, kDefaultTimeout);
    if (closed_) {
        receive_buffer->resetBuffer();
        cob();
        return;
    }
    uint8_t* data;
    uint32_t size;
    send_buffer->getBuffer(&data, &size);
    int32_t seqid = next_seqid_;
    next_seqid_ = next_seqid_ == INT32_MAX ? 1 : next_seqid_ + 1;
    // Generated clients always send seqid 0; ours must be unique per connection.
    if (size > kMaxFrameSize || !write_seqid(data, size, seqid)) {
        receive_buffer->resetBuffer();
        cob();
        return;
    }
    auto pending = std::make_unique<Pending>();
    pending->channel = this;
    pending->seqid = seqid;
    pending->done = cob;
    pending->reply = receive_buffer;
    pending->timer.reset(evtimer_new(base_, &RpcChannel::on_timeout, pending.get()));
    timeval tv = to_timeval(timeout);
    evtimer_add(pending->timer.get(), &tv);
    pending_.emplace(seqid, std::move(pending));
    append_frame(bufferevent_get_output(bev_.get()), data, size);
}

void RpcChannel::complete(int32_t seqid, std::string* reply)
{
    auto found = pending_.find(seqid);
    if (found == pending_.end())
        return;  // timed out earlier: the late reply is dropped
    std::unique_ptr<Pending> pending = std::move(found->second);
    pending_.erase(found);
    if (reply)
        pending->reply->resetBuffer(reinterpret_cast<uint8_t*>(reply->data()), static_cast<uint32_t>(reply->size()),
                                    TMemoryBuffer::COPY);
    else
        pending->reply->resetBuffer();
    pending->done();
}

void RpcChannel::on_read(bufferevent* bev, void* self_ptr)
{
    auto* self = static_cast<RpcChannel*>(self_ptr);
    auto keep_alive = self->shared_from_this();
    try {
        while (!self->closed_) {
            auto frame = take_frame(bufferevent_get_input(bev));
            if (!frame)
                break;
            auto seqid = read_seqid(reinterpret_cast<const uint8_t*>(frame->data()), frame->size());
            if (!seqid)
                throw FrameError("malformed RPC reply header");
            self->complete(*seqid, &*frame);
        }
    } catch (const FrameError&) {
        self->close();
    }
}

void RpcChannel::on_event(bufferevent*, short what, void* self_ptr)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        auto* self = static_cast<RpcChannel*>(self_ptr);
        auto keep_alive = self->shared_from_this();
        self->close();
    }
}

void RpcChannel::on_timeout(evutil_socket_t, short, void* pending_ptr)
{
    auto* pending = static_cast<Pending*>(pending_ptr);
    RpcChannel* self = pending->channel;
    auto keep_alive = self->shared_from_this();
    self->timed_out_ = true;
    self->complete(pending->seqid, nullptr);
}

void RpcChannel::fail_all()
{
    while (!pending_.empty())
        complete(pending_.begin()->first, nullptr);
}

void RpcChannel::close()
{
    if (closed_)
        return;
    closed_ = true;
    bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
    fail_all();
    if (on_close_) {
        auto callback = std::move(on_close_);
        callback();
    }
}

}  // namespace loft::rpc
