// Messages with an attached file descriptor over a SOCK_SEQPACKET socket (SCM_RIGHTS):
// how loftd hands connections to workers and daemons that cannot open them themselves.
#pragma once

#include "lib/unique_fd.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace loft {

inline constexpr size_t kMaxControlMessage = 8192;

// Sends one message, with fd attached when fd >= 0. Throws on failure.
void send_message(int socket, std::string_view message, int fd = -1);

struct ReceivedMessage {
    std::string text;
    UniqueFd fd;
    bool end_of_stream = false;
};
// Receives one message; nullopt when the socket is non-blocking and nothing is there.
std::optional<ReceivedMessage> receive_message(int socket);

// A connected SOCK_SEQPACKET pair (close-on-exec).
std::pair<UniqueFd, UniqueFd> make_seqpacket_pair();
// A connected SOCK_STREAM pair (close-on-exec), for RPC connections.
std::pair<UniqueFd, UniqueFd> make_stream_pair();

}  // namespace loft
