#include "lib/acceptor.h"

#include <stdexcept>

namespace loft {

Acceptor::Acceptor(event_base* base, int listen_fd, std::function<void(UniqueFd)> on_connection)
    : on_connection_(std::move(on_connection)),
      listener_(evconnlistener_new(base, &Acceptor::on_accept, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                                   listen_fd))
{
    if (!listener_)
        throw std::runtime_error("evconnlistener_new failed");
}

void Acceptor::pause() { evconnlistener_disable(listener_.get()); }

void Acceptor::resume() { evconnlistener_enable(listener_.get()); }

void Acceptor::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self)
{
    static_cast<Acceptor*>(self)->on_connection_(UniqueFd(fd));
}

}  // namespace loft
