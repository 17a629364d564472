#include "lib/fd_passing.h"

#include "lib/system_error.h"

#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace loft {

void send_message(int socket, std::string_view message, int fd)
{
    if (message.size() > kMaxControlMessage)
        throw std::length_error("control message too long");
    iovec iov;
    iov.iov_base = const_cast<char*>(message.data());
    iov.iov_len = message.size();
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (fd >= 0) {
        header.msg_control = control;
        header.msg_controllen = sizeof(control);
        cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    while (true) {
        ssize_t sent = sendmsg(socket, &header, MSG_NOSIGNAL);
        if (sent >= 0)
            return;
        if (errno != EINTR)
            throw_errno("sendmsg");
    }
}

std::optional<ReceivedMessage> receive_message(int socket)
{
    ReceivedMessage received;
    received.text.resize(kMaxControlMessage);
    iovec iov;
    iov.iov_base = received.text.data();
    iov.iov_len = received.text.size();
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    ssize_t length;
    do {
        length = recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return std::nullopt;
        if (errno == ECONNRESET) {
            // The peer died with messages unread: the same as an orderly end.
            received.text.clear();
            received.end_of_stream = true;
            return received;
        }
        throw_errno("recvmsg");
    }
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg; cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
            received.fd.reset(fd);
        }
    }
    if (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        throw std::runtime_error("control message truncated");
    received.text.resize(static_cast<size_t>(length));
    received.end_of_stream = length == 0 && !received.fd;
    return received;
}

std::pair<UniqueFd, UniqueFd> make_seqpacket_pair()
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw_errno("socketpair(SOCK_SEQPACKET)");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::pair<UniqueFd, UniqueFd> make_stream_pair()
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        throw_errno("socketpair(SOCK_STREAM)");
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace loft
