#include "auth/penalty.h"

#include "auth/digest.h"
#include "auth/network.h"

#include <algorithm>

namespace loft::auth {

namespace {

constexpr size_t recent_attempts_kept = 8;

}  // namespace

unsigned auth_penalty_to_secs(unsigned penalty)
{
    unsigned secs = auth_penalty_init_secs;
    for (unsigned i = 0; i < penalty && secs < auth_penalty_max_secs; i++)
        secs *= 2;
    return std::min(secs, auth_penalty_max_secs);
}

AuthPenalty::AuthPenalty(size_t max_clients) : max_clients_(max_clients), attempt_key_(random_bytes(32)) {}

std::string AuthPenalty::client_key(std::string_view remote_ip)
{
    std::optional<IpAddress> ip = parse_ip(remote_ip);
    if (!ip)
        return {};
    bool v4 = ip->bytes[10] == 0xff && ip->bytes[11] == 0xff &&
              std::all_of(ip->bytes.begin(), ip->bytes.begin() + 10, [](uint8_t b) { return b == 0; });
    if (!v4)
        std::fill(ip->bytes.begin() + 6, ip->bytes.end(), 0);
    return std::string(ip->bytes.begin(), ip->bytes.end());
}

unsigned AuthPenalty::lookup(std::string_view remote_ip, int64_t now) const
{
    auto found = clients_.find(client_key(remote_ip));
    if (found == clients_.end())
        return 0;
    const Client& client = found->second;
    int64_t last = std::min(client.last_update, now);  // the clock went backwards
    if (now - last > auth_penalty_timeout)
        return 0;
    // Each quiet period as long as the delay at the top level drops one level.
    unsigned penalty = client.penalty;
    unsigned drop = auth_penalty_max_penalty;
    while (penalty > 0 && now - last >= auth_penalty_to_secs(drop)) {
        drop--;
        penalty--;
    }
    return penalty;
}

void AuthPenalty::record_failure(std::string_view remote_ip, std::string_view user, std::string_view password,
                                 int64_t now)
{
    std::string key = client_key(remote_ip);
    if (key.empty())
        return;  // no IP (UNIX socket clients): nothing to track
    unsigned current = lookup(remote_ip, now);
    if (!clients_.contains(key) && clients_.size() >= max_clients_)
        forget_expired(now);
    Client& client = clients_[key];
    std::string attempt = hmac(HashAlgorithm::Sha256, attempt_key_, std::string(user) + '\0' + std::string(password))
                              .substr(0, 16);
    bool repeated = std::find(client.recent_attempts.begin(), client.recent_attempts.end(), attempt) !=
                    client.recent_attempts.end();
    // As Dovecot's anvil: a repeated attempt keeps both the level and the time it was
    // reached, so a client retrying on its own still sees the penalty decay.
    client.penalty = repeated ? current : std::min(current + 1, auth_penalty_max_penalty);
    if (!repeated || client.last_update == 0)
        client.last_update = now;
    if (!repeated) {
        client.recent_attempts.push_back(attempt);
        if (client.recent_attempts.size() > recent_attempts_kept)
            client.recent_attempts.erase(client.recent_attempts.begin());
    }
}

void AuthPenalty::record_success(std::string_view remote_ip)
{
    clients_.erase(client_key(remote_ip));
}

void AuthPenalty::forget_expired(int64_t now)
{
    std::erase_if(clients_, [now](const auto& entry) {
        return now - entry.second.last_update > auth_penalty_timeout;
    });
    // Still full of active clients: drop the one quiet for longest.
    while (clients_.size() >= max_clients_ && !clients_.empty()) {
        auto oldest = std::min_element(clients_.begin(), clients_.end(), [](const auto& a, const auto& b) {
            return a.second.last_update < b.second.last_update;
        });
        clients_.erase(oldest);
    }
}

}  // namespace loft::auth
