#include "master/master.h"

#include "auth/session_grant.h"
#include "lib/fd_passing.h"
#include "lib/process.h"
#include "lib/strings.h"
#include "lib/system_error.h"

#include <event2/event.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace loft::master {

namespace {

UniqueFd memory_file(const std::string& name, std::string_view content)
{
    UniqueFd fd(memfd_create(name.c_str(), MFD_CLOEXEC));
    if (!fd)
        throw_errno("memfd_create");
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = write(fd.get(), content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("write memfd");
        }
        written += static_cast<size_t>(n);
    }
    lseek(fd.get(), 0, SEEK_SET);
    return fd;
}

std::string exit_description(int status)
{
    if (WIFSIGNALED(status))
        return "killed with signal " + std::to_string(WTERMSIG(status));
    return "returned error " + std::to_string(WEXITSTATUS(status));
}

constexpr std::chrono::seconds kRestartDelay{1};
constexpr std::chrono::seconds kShutdownGrace{5};

}  // namespace

struct Master::Child {
    std::string service;
    Role role = Role::Worker;
    pid_t pid = 0;
    UniqueFd control;
    std::unique_ptr<ReadWatcher> watcher;
    std::string storage_key;
};

Master::Master(const Logger& log, MasterOptions options, std::map<std::string, std::vector<Listener>> listeners)
    : log_(log), options_(std::move(options)), listeners_(std::move(listeners)), base_(make_event_base())
{
    secret_.resize(32);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret_.data()), static_cast<int>(secret_.size())) != 1)
        throw std::runtime_error("cannot generate the grant signing key");
    empty_dir_ = options_.worker_chroot.empty() || options_.worker_chroot[0] == '/'
                     ? options_.worker_chroot
                     : options_.base_dir + "/" + options_.worker_chroot;
    if (!empty_dir_.empty() && mkdir(empty_dir_.c_str(), 0755) != 0 && errno != EEXIST)
        throw_errno("mkdir " + empty_dir_);
    // An empty chroot must stay empty: workers must find nothing there.
    if (!empty_dir_.empty() && running_as_root()) {
        struct stat st;
        if (stat(empty_dir_.c_str(), &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0)
            throw std::runtime_error(empty_dir_ + " must be owned by root and not writable by others");
    }
}

Master::~Master()
{
    OPENSSL_cleanse(secret_.data(), secret_.size());
}

std::shared_ptr<Master::Child> Master::spawn(const std::string& service, Role role, std::vector<std::string> args,
                                             std::vector<std::pair<int, int>> extra_fds,
                                             std::optional<Identity> run_as, const std::string& config_text)
{
    auto [ours, theirs] = make_seqpacket_pair();
    UniqueFd config_fd = memory_file("loft-config", config_text);
    UniqueFd secret_fd;
    std::vector<std::pair<int, int>> fds = {{child_fd::kControl, theirs.get()}, {child_fd::kConfig, config_fd.get()}};
    if (role == Role::Auth || role == Role::Storage) {
        secret_fd = memory_file("loft-secret", secret_);
        fds.emplace_back(child_fd::kSecret, secret_fd.get());
    }
    for (auto& extra : extra_fds)
        fds.push_back(extra);
    ChildSpec spec;
    spec.program = find_helper("loft-" + (role == Role::Worker || role == Role::AuthWorker
                                              ? service
                                              : (role == Role::Auth ? "auth" : "storage")),
                               LOFT_PKGLIBEXECDIR);
    spec.args = std::move(args);
    spec.fds = std::move(fds);
    spec.run_as = std::move(run_as);
    if (role == Role::Storage)
        spec.privileged_gid = options_.privileged_gid;
    if (const char* debug = getenv("LOFT_DEBUG"))
        spec.environment.push_back(std::string("LOFT_DEBUG=") + debug);
    if (role == Role::AuthWorker) {
        for (const std::string& variable : options_.auth_worker_environment)
            spec.environment.push_back(variable);
    }

    auto child = std::make_shared<Child>();
    child->service = service;
    child->role = role;
    child->pid = spawn_child(spec);
    child->control = std::move(ours);
    evutil_make_socket_nonblocking(child->control.get());
    std::weak_ptr<Child> weak = child;
    child->watcher = std::make_unique<ReadWatcher>(base_.get(), child->control.get(), [this, weak] {
        if (auto alive = weak.lock())
            on_control_message(alive);
    });
    children_[child->pid] = child;
    last_start_[service] = std::chrono::steady_clock::now();
    return child;
}

void Master::start_child(const std::string& service)
{
    std::vector<std::string> args = {"--run-as", options_.login_user, "--chroot", empty_dir_};
    if (service == "auth")
        args = {"--run-as", options_.internal_user};
    std::vector<std::pair<int, int>> fds;
    int next_fd = child_fd::kFirstListener;
    for (const Listener& listener : listeners_[service]) {
        args.push_back("--listener");
        args.push_back(listener.name + "=" + std::to_string(next_fd) + (listener.ssl ? ":ssl" : ""));
        fds.emplace_back(next_fd++, listener.fd.get());
    }
    spawn(service, service == "auth" ? Role::Auth : Role::Worker, std::move(args), std::move(fds), std::nullopt,
          options_.config_text);
}

int Master::run()
{
    for (int signal_number : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
        EventPtr event(evsignal_new(base_.get(), signal_number, &Master::on_signal, this));
        event_add(event.get(), nullptr);
        signal_events_.push_back(std::move(event));
    }
    signal(SIGPIPE, SIG_IGN);
    start_child("auth");
    for (auto& [service, listeners] : listeners_) {
        if (!listeners.empty() && service != "auth")
            start_child(service);
    }
    event_base_dispatch(base_.get());
    return 0;
}

void Master::on_signal(evutil_socket_t signal_number, short, void* self_ptr)
{
    auto* self = static_cast<Master*>(self_ptr);
    if (signal_number == SIGCHLD) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            self->on_child_exit(pid, status);
        if (self->stopping_ && self->children_.empty())
            event_base_loopexit(self->base_.get(), nullptr);
        return;
    }
    if (signal_number == SIGHUP) {
        self->log_.warning("SIGHUP received: configuration reload is not supported yet, keeping the running config");
        return;
    }
    self->shutdown();
}

void Master::shutdown()
{
    if (stopping_)
        return;
    stopping_ = true;
    log_.info("Shutting down");
    restart_timers_.clear();
    for (auto& [pid, child] : children_)
        kill(pid, SIGTERM);
    if (children_.empty()) {
        event_base_loopexit(base_.get(), nullptr);
        return;
    }
    auto force = std::make_unique<Timer>(base_.get(), [this] {
        for (auto& [pid, child] : children_) {
            log_.warning("service(" + child->service + "): child " + std::to_string(pid) +
                         " did not stop, killing it");
            kill(pid, SIGKILL);
        }
    });
    force->start(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
    restart_timers_["shutdown"] = std::move(force);
}

void Master::on_child_exit(pid_t pid, int status)
{
    auto found = children_.find(pid);
    if (found == children_.end())
        return;
    std::shared_ptr<Child> child = found->second;
    children_.erase(found);
    child->watcher.reset();
    if (child->role == Role::AuthWorker) {
        // loft-auth asks for a new one when it needs it (after a death or max_requests).
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !stopping_)
            log_.error("service(auth-worker): child " + std::to_string(pid) + " " + exit_description(status));
        return;
    }
    if (child->role == Role::Storage) {
        auto by_key = storage_by_key_.find(child->storage_key);
        if (by_key != storage_by_key_.end() && by_key->second == child)
            storage_by_key_.erase(by_key);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !stopping_)
            log_.error("service(storage): child " + std::to_string(pid) + " " + exit_description(status));
        return;
    }
    if (stopping_)
        return;
    log_.error("service(" + child->service + "): child " + std::to_string(pid) + " " + exit_description(status));
    std::string service = child->service;
    auto timer = std::make_unique<Timer>(base_.get(), [this, service] {
        log_.info("service(" + service + "): restarting");
        start_child(service);
        restart_timers_.erase(service);
    });
    timer->start(std::chrono::duration_cast<std::chrono::milliseconds>(kRestartDelay));
    restart_timers_[service] = std::move(timer);
}

void Master::on_control_message(const std::shared_ptr<Child>& child)
{
    while (child->control) {
        std::optional<ReceivedMessage> message;
        try {
            message = receive_message(child->control.get());
        } catch (const std::exception& error) {
            log_.error("service(" + child->service + "): bad control message: " + error.what());
            child->watcher.reset();
            child->control.reset();
            return;
        }
        if (!message)
            return;
        if (message->end_of_stream) {
            // The child is going away; SIGCHLD does the bookkeeping.
            child->watcher.reset();
            return;
        }
        if (child->role != Role::Worker && child->role != Role::Auth)
            continue;
        size_t space = message->text.find(' ');
        auto id = parse_uint(std::string_view(message->text).substr(0, space));
        if (!id || space == std::string::npos)
            continue;
        handle_request(child, *id, message->text.substr(space + 1));
    }
}

void Master::handle_request(const std::shared_ptr<Child>& child, uint64_t id, const std::string& request)
{
    try {
        if (child->role == Role::Auth) {
            if (request == "AUTH-WORKER")
                hand_auth_worker(child, id);
            else
                send_message(child->control.get(), std::to_string(id) + " FAIL unknown request");
        } else if (request == "AUTH")
            hand_auth_connection(child, id);
        else if (request.rfind("STORAGE ", 0) == 0)
            hand_storage_connection(child, id, request.substr(8));
        else
            send_message(child->control.get(), std::to_string(id) + " FAIL unknown request");
    } catch (const std::exception& error) {
        log_.error("service(" + child->service + "): " + error.what());
        try {
            send_message(child->control.get(), std::to_string(id) + " FAIL internal error");
        } catch (const std::exception&) {
        }
    }
}

void Master::hand_auth_connection(const std::shared_ptr<Child>& worker, uint64_t id)
{
    for (auto& [pid, child] : children_) {
        if (child->role != Role::Auth || !child->control)
            continue;
        auto [auth_end, worker_end] = make_stream_pair();
        // loft-auth learns which service the connection serves, so a worker cannot
        // ask for grants of another protocol (an IMAP worker gets no delivery grants).
        send_message(child->control.get(), "CONNECTION " + worker->service, auth_end.get());
        send_message(worker->control.get(), std::to_string(id) + " OK", worker_end.get());
        return;
    }
    send_message(worker->control.get(), std::to_string(id) + " FAIL auth service unavailable");
}

void Master::hand_auth_worker(const std::shared_ptr<Child>& auth, uint64_t id)
{
    size_t running = 0;
    for (auto& [pid, child] : children_)
        running += child->role == Role::AuthWorker ? 1 : 0;
    if (stopping_ || running >= options_.auth_worker_process_limit) {
        send_message(auth->control.get(), std::to_string(id) + " FAIL auth-worker process_limit reached");
        return;
    }
    auto [auth_end, worker_end] = make_stream_pair();
    std::vector<std::string> args;
    if (!options_.auth_worker_user.empty())
        args = {"--run-as", options_.auth_worker_user};
    args.insert(args.end(), {"--listener", "auth-worker=" + std::to_string(child_fd::kFirstListener)});
    spawn("auth-worker", Role::AuthWorker, std::move(args), {{child_fd::kFirstListener, worker_end.get()}},
          std::nullopt, options_.config_text);
    send_message(auth->control.get(), std::to_string(id) + " OK", auth_end.get());
}

void Master::hand_storage_connection(const std::shared_ptr<Child>& worker, uint64_t id, const std::string& token)
{
    auto grant = auth::verify_grant(token, secret_, time(nullptr));
    if (!grant) {
        log_.error("service(" + worker->service + "): refused a storage connection for an invalid grant");
        send_message(worker->control.get(), std::to_string(id) + " FAIL invalid grant");
        return;
    }
    if (grant->uid < options_.first_valid_uid || (options_.last_valid_uid != 0 && grant->uid > options_.last_valid_uid)) {
        log_.error("Mail access for users with UID " + std::to_string(grant->uid) +
                   " not permitted (see first_valid_uid in config file, uid from userdb lookup).");
        send_message(worker->control.get(), std::to_string(id) + " FAIL uid not permitted");
        return;
    }
    Identity identity{grant->user, grant->uid, grant->gid, grant->home};
    std::string key = options_.storage_mode == "uid" ? "uid:" + std::to_string(grant->uid) : "user:" + grant->user;
    for (int attempt = 0; attempt < 2; attempt++) {
        auto storage = storage_for(key, identity, grant->user);
        auto [storage_end, worker_end] = make_stream_pair();
        try {
            send_message(storage->control.get(), "CONNECTION", storage_end.get());
        } catch (const std::system_error&) {
            // The daemon is exiting after idling; start a fresh one.
            storage_by_key_.erase(key);
            continue;
        }
        send_message(worker->control.get(), std::to_string(id) + " OK", worker_end.get());
        return;
    }
    send_message(worker->control.get(), std::to_string(id) + " FAIL storage unavailable");
}

std::shared_ptr<Master::Child> Master::storage_for(const std::string& key, const Identity& identity,
                                                   const std::string& user)
{
    auto found = storage_by_key_.find(key);
    if (found != storage_by_key_.end() && found->second->control)
        return found->second;
    std::vector<std::string> args;
    if (options_.storage_mode == "uid") {
        args = {"--uid", std::to_string(identity.uid)};
    } else {
        args = {"--user", user};
        if (running_as_root())
            args.insert(args.end(), {"--uid", std::to_string(identity.uid)});
    }
    std::optional<Identity> run_as;
    if (running_as_root()) {
        if (identity.uid == 0 || identity.gid == 0)
            throw std::runtime_error("refusing to start a storage daemon as root for user " + user);
        run_as = identity;
    }
    auto child = spawn("storage", Role::Storage, std::move(args), {}, run_as, options_.storage_config_text);
    child->storage_key = key;
    storage_by_key_[key] = child;
    return child;
}

}  // namespace loft::master
