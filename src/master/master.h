// loftd's running state: the children it started, the listeners they inherit, and
// the broker that hands workers their connections to loft-auth and to storage daemons.
#pragma once

#include "config/config.h"
#include "lib/event_loop.h"
#include "lib/log.h"
#include "lib/privilege.h"
#include "lib/unique_fd.h"
#include "master/listeners.h"

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace loft::master {

struct MasterOptions {
    std::string config_text;   // what children receive (serialized config)
    std::string storage_config_text;  // the same without secrets
    std::string base_dir;
    std::string login_user;     // workers run as this user (chrooted)
    std::string internal_user;  // loft-auth runs as this user
    std::string storage_mode;   // "user" or "uid"
    std::string worker_chroot;  // loft_worker_chroot, relative to base_dir
    uint64_t first_valid_uid = 500;
    uint64_t last_valid_uid = 0;
    std::optional<gid_t> privileged_gid;  // mail_privileged_group, for storage daemons
    std::vector<std::string> protocols;
    // loft-auth-worker: whom to run as ("" = stay as loftd, i.e. root: pam/shadow need
    // it) and how many may run at once (service auth-worker { process_limit }).
    std::string auth_worker_user;
    size_t auth_worker_process_limit = 100;
    // import_environment, as "NAME=value": what PAM modules may need (e.g. pam_wrapper's).
    std::vector<std::string> auth_worker_environment;
};

class Master {
public:
    Master(const Logger& log, MasterOptions options, std::map<std::string, std::vector<Listener>> listeners);
    ~Master();
    Master(const Master&) = delete;
    Master& operator=(const Master&) = delete;

    // Starts loft-auth and the protocol workers, then runs until SIGTERM/SIGINT.
    int run();

private:
    enum class Role { Auth, Worker, Storage, AuthWorker };
    struct Child;

    void start_child(const std::string& service);
    std::shared_ptr<Child> spawn(const std::string& service, Role role, std::vector<std::string> args,
                                 std::vector<std::pair<int, int>> extra_fds, std::optional<Identity> run_as,
                                 const std::string& config_text);
    void on_child_exit(pid_t pid, int status);
    void on_control_message(const std::shared_ptr<Child>& child);
    void handle_request(const std::shared_ptr<Child>& child, uint64_t id, const std::string& request);
    void hand_auth_connection(const std::shared_ptr<Child>& worker, uint64_t id);
    // loft-auth asked for a blocking-look-up worker: start one, hand over a socketpair.
    void hand_auth_worker(const std::shared_ptr<Child>& auth, uint64_t id);
    void hand_storage_connection(const std::shared_ptr<Child>& worker, uint64_t id, const std::string& token);
    std::shared_ptr<Child> storage_for(const std::string& key, const Identity& identity, const std::string& user);
    void shutdown();
    static void on_signal(evutil_socket_t signal_number, short, void* self);

    Logger log_;
    MasterOptions options_;
    std::map<std::string, std::vector<Listener>> listeners_;  // by service: imap, lmtp
    std::string secret_;
    EventBasePtr base_;
    std::vector<EventPtr> signal_events_;
    std::map<pid_t, std::shared_ptr<Child>> children_;
    std::map<std::string, std::shared_ptr<Child>> storage_by_key_;
    std::map<std::string, std::unique_ptr<Timer>> restart_timers_;
    std::map<std::string, std::chrono::steady_clock::time_point> last_start_;
    std::string empty_dir_;
    bool stopping_ = false;
};

}  // namespace loft::master
