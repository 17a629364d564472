// The auth failure penalty per client IP that slows down password guessing, with
// Dovecot's numbers (2, 4, 8, 15 seconds; forgotten after 29 quiet seconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace loft::auth {

// Dovecot's auth-penalty constants.
constexpr unsigned auth_penalty_init_secs = 2;
constexpr unsigned auth_penalty_max_secs = 15;
constexpr unsigned auth_penalty_max_penalty = 4;
constexpr unsigned auth_penalty_timeout = auth_penalty_init_secs + 4 + 8 + auth_penalty_max_secs;

// Seconds to hold a request back at a given penalty (Dovecot's auth_penalty_to_secs).
unsigned auth_penalty_to_secs(unsigned penalty);

// Not thread-safe. Time is passed in so callers (and tests) control the clock.
class AuthPenalty {
public:
    explicit AuthPenalty(size_t max_clients = 100000);

    // Penalty of the client now, 0 if none; it decays as time passes without failures.
    unsigned lookup(std::string_view remote_ip, int64_t now) const;
    // After a failed login. Retrying the same user and password does not raise the
    // penalty (clients that retry on their own are not attackers). The password itself
    // is not kept: only a keyed hash of it.
    void record_failure(std::string_view remote_ip, std::string_view user, std::string_view password,
                        int64_t now);
    void record_success(std::string_view remote_ip);
    size_t tracked_clients() const { return clients_.size(); }

private:
    struct Client {
        unsigned penalty = 0;
        int64_t last_update = 0;
        std::vector<std::string> recent_attempts;  // keyed hashes of user+password
    };
    // IPv6 clients are tracked per /48, so one host cannot flood the table with addresses.
    static std::string client_key(std::string_view remote_ip);
    void forget_expired(int64_t now);

    size_t max_clients_;
    std::string attempt_key_;
    std::unordered_map<std::string, Client> clients_;
};

}  // namespace loft::auth
