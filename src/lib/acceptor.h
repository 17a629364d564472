// Accepting client connections on a listening socket inherited from loftd.
#pragma once

#include "lib/unique_fd.h"

#include <event2/listener.h>

#include <functional>
#include <memory>

namespace loft {

class Acceptor {
public:
    Acceptor(event_base* base, int listen_fd, std::function<void(UniqueFd)> on_connection);
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;
    void pause();
    void resume();

private:
    struct ListenerFree {
        void operator()(evconnlistener* listener) const { evconnlistener_free(listener); }
    };
    static void on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
    std::function<void(UniqueFd)> on_connection_;
    std::unique_ptr<evconnlistener, ListenerFree> listener_;
};

}  // namespace loft
