// A client connection for protocol workers, read and written from coroutines:
// co_await read_line(), co_await read_some(), write(), co_await drain(). Lines and
// buffered input are bounded; an idle client is disconnected.
#pragma once

#include "lib/event_loop.h"
#include "lib/task.h"
#include "lib/tls.h"
#include "lib/unique_fd.h"

#include <event2/buffer.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace loft {

struct PeerAddresses {
    std::string remote_ip, local_ip;
    int remote_port = 0, local_port = 0;
};
PeerAddresses peer_addresses(int fd);

class AsyncStream : public std::enable_shared_from_this<AsyncStream> {
public:
    enum class LineStatus { Ok, TooLong, Closed };
    struct Line {
        LineStatus status = LineStatus::Closed;
        std::string text;  // without the CRLF (or bare LF)
    };

    AsyncStream(event_base* base, UniqueFd fd);
    ~AsyncStream();
    AsyncStream(const AsyncStream&) = delete;
    AsyncStream& operator=(const AsyncStream&) = delete;

    // A line of at most max_length bytes. On TooLong the rest of that line is skipped.
    Task<Line> read_line(size_t max_length);
    // Whatever is buffered, at least one byte and at most max_bytes; empty at EOF.
    Task<std::string> read_some(size_t max_bytes);
    // Bytes buffered right now without waiting (at most max_bytes).
    std::string take_buffered(size_t max_bytes);
    // Puts bytes back in front of the input (read too far, e.g. past a DATA terminator).
    void unread(std::string_view data);
    size_t buffered() const;

    void write(std::string_view data);
    // Bytes written but not yet taken by the kernel.
    size_t output_pending() const;
    // Waits until the kernel has taken everything written so far (or the peer is gone).
    Task<void> drain();
    bool closed() const { return closed_; }
    void close();
    void set_idle_timeout(std::chrono::seconds timeout);
    const PeerAddresses& addresses() const { return addresses_; }

    // Switches the connection to TLS as the server (imaps at once; STARTTLS after the
    // tagged OK is written). Input buffered so far is discarded: plaintext sent before
    // the handshake must never be read as if it came over TLS. Output already written
    // still goes out in plaintext first. The context must outlive the stream.
    void start_tls(const TlsContext& context);
    bool tls_active() const { return tls_ != nullptr; }
    // The client's certificate, once the handshake is done.
    TlsPeer tls_peer() const;

private:
    static void on_read(bufferevent*, void* self);
    static void on_write(bufferevent*, void* self);
    static void on_event(bufferevent*, short what, void* self);
    Task<void> wait_readable();
    void wake_reader();
    void wake_writer();

    static void on_plain_output_changed(evbuffer*, const evbuffer_cb_info*, void* self);

    BufferEventPtr bev_;
    bufferevent* plain_ = nullptr;  // the socket under the TLS filter, owned by bev_
    const TlsContext* tls_ = nullptr;
    EventPtr plain_drained_;  // wakes drain() from the loop, not from inside libevent's write
    std::optional<std::chrono::seconds> idle_timeout_;
    PeerAddresses addresses_;
    bool closed_ = false;
    bool skipping_long_line_ = false;
    std::function<void()> reader_;
    std::function<void()> writer_;
};

}  // namespace loft
