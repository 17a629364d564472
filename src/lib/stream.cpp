#include "lib/stream.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace loft {

namespace {
constexpr size_t kReadHighWatermark = 4 * 1024 * 1024;

std::string ip_of(const sockaddr_storage& address, int& port)
{
    char text[INET6_ADDRSTRLEN] = "";
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
        port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
        port = ntohs(v6->sin6_port);
        // Dovecot shows IPv4-mapped addresses as plain IPv4.
        if (std::strncmp(text, "::ffff:", 7) == 0 && std::strchr(text + 7, '.'))
            return text + 7;
    } else {
        port = 0;
        return "";  // UNIX socket: no IP, as in Dovecot
    }
    return text;
}
}  // namespace

PeerAddresses peer_addresses(int fd)
{
    PeerAddresses result;
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        result.remote_ip = ip_of(address, result.remote_port);
    length = sizeof(address);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        result.local_ip = ip_of(address, result.local_port);
    return result;
}

AsyncStream::AsyncStream(event_base* base, UniqueFd fd) : addresses_(peer_addresses(fd.get()))
{
    evutil_make_socket_nonblocking(fd.get());
    bev_.reset(bufferevent_socket_new(base, fd.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!bev_)
        throw std::runtime_error("bufferevent_socket_new failed");
    fd.release();
    bufferevent_setcb(bev_.get(), &AsyncStream::on_read, &AsyncStream::on_write, &AsyncStream::on_event, this);
    // Stop reading from a client that sends faster than we can store.
    bufferevent_setwatermark(bev_.get(), EV_READ, 0, kReadHighWatermark);
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

AsyncStream::~AsyncStream()
{
    if (plain_)
        evbuffer_remove_cb(bufferevent_get_output(plain_), &AsyncStream::on_plain_output_changed, this);
}

void AsyncStream::set_idle_timeout(std::chrono::seconds timeout)
{
    idle_timeout_ = timeout;
    timeval tv = to_timeval(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    bufferevent_set_timeouts(bev_.get(), &tv, nullptr);
}

size_t AsyncStream::buffered() const { return evbuffer_get_length(bufferevent_get_input(bev_.get())); }

void AsyncStream::wake_reader()
{
    if (reader_) {
        auto resume = std::move(reader_);
        reader_ = nullptr;
        resume();
    }
}

void AsyncStream::wake_writer()
{
    if (writer_) {
        auto resume = std::move(writer_);
        writer_ = nullptr;
        resume();
    }
}

void AsyncStream::on_read(bufferevent*, void* self) { static_cast<AsyncStream*>(self)->wake_reader(); }

void AsyncStream::on_write(bufferevent*, void* self) { static_cast<AsyncStream*>(self)->wake_writer(); }

void AsyncStream::on_event(bufferevent*, short what, void* self_ptr)
{
    auto* self = static_cast<AsyncStream*>(self_ptr);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        auto keep = self->shared_from_this();
        self->closed_ = true;
        bufferevent_disable(self->bev_.get(), EV_READ | EV_WRITE);
        if (self->plain_)
            bufferevent_disable(self->plain_, EV_READ | EV_WRITE);
        self->wake_reader();
        self->wake_writer();
    }
}

void AsyncStream::close()
{
    if (closed_)
        return;
    closed_ = true;
    bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
    if (plain_)
        bufferevent_disable(plain_, EV_READ | EV_WRITE);
    shutdown(bufferevent_getfd(plain_ ? plain_ : bev_.get()), SHUT_RDWR);
    wake_reader();
    wake_writer();
}

Task<void> AsyncStream::wait_readable()
{
    co_await CallbackAwaiter<bool>([this](CallbackAwaiter<bool>::Resolver resolve) {
        reader_ = [resolve] { resolve(true); };
    });
}

Task<AsyncStream::Line> AsyncStream::read_line(size_t max_length)
{
    auto keep = shared_from_this();
    while (true) {
        evbuffer* input = bufferevent_get_input(bev_.get());
        size_t length = 0;
        evbuffer_ptr found = evbuffer_search_eol(input, nullptr, &length, EVBUFFER_EOL_LF);
        if (found.pos >= 0) {
            size_t line_length = static_cast<size_t>(found.pos);
            if (skipping_long_line_) {
                evbuffer_drain(input, line_length + length);
                skipping_long_line_ = false;
                co_return Line{LineStatus::TooLong, ""};
            }
            if (line_length > max_length) {
                evbuffer_drain(input, line_length + length);
                co_return Line{LineStatus::TooLong, ""};
            }
            std::string text(line_length, '\0');
            evbuffer_remove(input, text.data(), line_length);
            evbuffer_drain(input, length);
            if (!text.empty() && text.back() == '\r')
                text.pop_back();
            co_return Line{LineStatus::Ok, std::move(text)};
        }
        if (evbuffer_get_length(input) > max_length) {
            // Keep memory bounded: drop what we have and skip to the end of the line.
            evbuffer_drain(input, evbuffer_get_length(input));
            skipping_long_line_ = true;
        }
        if (closed_)
            co_return Line{LineStatus::Closed, ""};
        co_await wait_readable();
    }
}

std::string AsyncStream::take_buffered(size_t max_bytes)
{
    evbuffer* input = bufferevent_get_input(bev_.get());
    size_t length = std::min(evbuffer_get_length(input), max_bytes);
    std::string data(length, '\0');
    evbuffer_remove(input, data.data(), length);
    return data;
}

void AsyncStream::unread(std::string_view data)
{
    evbuffer_prepend(bufferevent_get_input(bev_.get()), data.data(), data.size());
}

Task<std::string> AsyncStream::read_some(size_t max_bytes)
{
    auto keep = shared_from_this();
    while (buffered() == 0) {
        if (closed_)
            co_return std::string();
        co_await wait_readable();
    }
    co_return take_buffered(max_bytes);
}

size_t AsyncStream::output_pending() const
{
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev_.get()));
    if (plain_)
        pending += evbuffer_get_length(bufferevent_get_output(plain_));
    return pending;
}

void AsyncStream::write(std::string_view data)
{
    if (!closed_)
        bufferevent_write(bev_.get(), data.data(), data.size());
}

Task<void> AsyncStream::drain()
{
    auto keep = shared_from_this();
    while (!closed_ && output_pending() > 0) {
        co_await CallbackAwaiter<bool>([this](CallbackAwaiter<bool>::Resolver resolve) {
            writer_ = [resolve] { resolve(true); };
        });
    }
}

void AsyncStream::start_tls(const TlsContext& context)
{
    if (tls_)
        throw std::logic_error("TLS is already active on this connection");
    if (closed_)
        return;
    evbuffer* input = bufferevent_get_input(bev_.get());
    evbuffer_drain(input, evbuffer_get_length(input));
    skipping_long_line_ = false;
    SSL* ssl = context.new_ssl();
    bufferevent* plain = bev_.get();
    bufferevent_set_timeouts(plain, nullptr, nullptr);
    bufferevent* filter = bufferevent_openssl_filter_new(bufferevent_get_base(plain), plain, ssl,
                                                         BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!filter) {
        SSL_free(ssl);
        throw std::runtime_error("bufferevent_openssl_filter_new failed");
    }
    // The filter owns the socket bufferevent from now on.
    (void)bev_.release();
    bev_.reset(filter);
    plain_ = plain;
    tls_ = &context;
    // A client that drops the TCP connection without close_notify has just left.
    bufferevent_openssl_set_allow_dirty_shutdown(filter, 1);
    bufferevent_setcb(filter, &AsyncStream::on_read, &AsyncStream::on_write, &AsyncStream::on_event, this);
    bufferevent_setwatermark(filter, EV_READ, 0, kReadHighWatermark);
    bufferevent_enable(filter, EV_READ | EV_WRITE);
    // drain() must see ciphertext leave the socket, not just plaintext enter the filter.
    plain_drained_.reset(event_new(
        bufferevent_get_base(plain), -1, 0,
        [](evutil_socket_t, short, void* self) { static_cast<AsyncStream*>(self)->wake_writer(); }, this));
    evbuffer_add_cb(bufferevent_get_output(plain), &AsyncStream::on_plain_output_changed, this);
    if (idle_timeout_)
        set_idle_timeout(*idle_timeout_);
}

void AsyncStream::on_plain_output_changed(evbuffer* buffer, const evbuffer_cb_info*, void* self)
{
    auto* stream = static_cast<AsyncStream*>(self);
    if (evbuffer_get_length(buffer) == 0 && stream->plain_drained_)
        event_active(stream->plain_drained_.get(), EV_TIMEOUT, 1);
}

TlsPeer AsyncStream::tls_peer() const
{
    if (!tls_)
        return {};
    return tls_->peer_of(bufferevent_openssl_get_ssl(bev_.get()));
}

}  // namespace loft
