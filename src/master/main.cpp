// loftd: reads the configuration, binds the listeners, and runs the master that starts
// and supervises loft-auth, the protocol workers and the storage daemons.
#include "config.h"
#include "auth/auth_master_protocol.h"
#include "auth/worker/worker_service.h"
#include "config/config.h"
#include "lib/log.h"
#include "lib/privilege.h"
#include "lib/strings.h"
#include "lib/system_error.h"
#include "master/demo.h"
#include "master/listeners.h"
#include "master/log_sink.h"
#include "master/master.h"
#include "master/tls_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

// A group given by name or number, as Dovecot accepts mail_privileged_group.
std::optional<gid_t> lookup_group(const std::string& group)
{
    struct group entry;
    struct group* found = nullptr;
    std::vector<char> buffer(16384);
    if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->gr_gid;
    if (!group.empty() && group.find_first_not_of("0123456789") == std::string::npos)
        return static_cast<gid_t>(std::stoul(group));
    return std::nullopt;
}

struct Arguments {
    bool foreground = false;
    bool stop = false;
    std::string config_path;
    std::string demo_dir;
    bool demo = false;  // run the embedded demo even if a system config exists
};

void usage()
{
    std::cerr << "Usage: loftd [-F] [-c CONFIG] [--demo] [--demo-dir DIR]\n"
                 "       loftd stop [-c CONFIG]\n"
                 "With no -c, loftd reads " LOFT_SYSCONFDIR "/loft/loft.conf, else /etc/dovecot/dovecot.conf,\n"
                 "else runs the embedded demo (IMAP on 127.0.0.1:10143, LMTP on 127.0.0.1:10024).\n";
}

bool file_exists(const std::string& path)
{
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& path, mode_t mode)
{
    for (size_t slash = 1; slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string prefix = path.substr(0, slash);
        if (!prefix.empty())
            mkdir(prefix.c_str(), mode);
    }
    if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        loft::throw_errno("mkdir " + path);
}

// A zombie (exited, not yet reaped by its parent) counts as stopped.
bool process_alive(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

pid_t read_pid(const std::string& pid_file)
{
    std::ifstream in(pid_file);
    long pid = 0;
    if (in >> pid && pid > 0 && process_alive(static_cast<pid_t>(pid)))
        return static_cast<pid_t>(pid);
    return 0;
}

std::string base_dir_of(const loft::config::Settings& settings)
{
    std::string dir = settings.get("base_dir");
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    return dir;
}

int stop_running(const std::string& base_dir, const loft::Logger& log)
{
    std::string pid_file = base_dir + "/master.pid";
    pid_t pid = read_pid(pid_file);
    if (pid == 0) {
        log.error("loftd is not running (no live pid in " + pid_file + ")");
        return 1;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 150 && process_alive(pid); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (process_alive(pid)) {
        log.error("loftd (pid " + std::to_string(pid) + ") did not stop within 15 seconds");
        return 1;
    }
    return 0;
}

bool is_secret_key(std::string_view key)
{
    return key.find("ssl") != std::string_view::npos && key.find("key") != std::string_view::npos;
}

}  // namespace

int main(int argc, char** argv)
{
    loft::Logger log("master");
    Arguments args;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (arg == "-F")
            args.foreground = true;
        else if (arg == "-c" && i + 1 < argc)
            args.config_path = argv[++i];
        else if (arg == "--demo-dir" && i + 1 < argc)
            args.demo_dir = argv[++i];
        else if (arg == "--demo")
            args.demo = true;
        else if (arg == "stop")
            args.stop = true;
        else if (arg == "--version") {
            std::cout << PACKAGE_VERSION << "\n";
            return 0;
        } else {
            usage();
            return 64;
        }
    }

    std::optional<loft::master::DemoSetup> demo;
    std::optional<loft::config::Config> config;
    try {
        if (args.config_path.empty() && args.demo_dir.empty() && !args.demo) {
            for (std::string candidate : {std::string(LOFT_SYSCONFDIR) + "/loft/loft.conf",
                                          std::string("/etc/dovecot/dovecot.conf")}) {
                if (file_exists(candidate)) {
                    args.config_path = candidate;
                    break;
                }
            }
        }
        if (args.config_path.empty()) {
            demo = loft::master::prepare_demo(args.demo_dir.empty() ? loft::master::default_demo_directory()
                                                                     : args.demo_dir);
            config = loft::config::Config::load_string(demo->config_text, "<embedded demo>", demo->directory);
        } else {
            config = loft::config::Config::load_file(args.config_path);
        }
    } catch (const loft::config::ConfigError& error) {
        for (const auto& line : loft::split(error.what(), '\n'))
            if (!line.empty())
                log.fatal("Error in configuration file " + line);
        return 89;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }

    loft::config::Settings settings = config->resolve({});
    std::string base_dir = base_dir_of(settings);
    if (args.stop)
        return stop_running(base_dir, log);

    try {
        make_dirs(base_dir, 0755);
        std::string pid_file = base_dir + "/master.pid";
        if (pid_t running = read_pid(pid_file)) {
            log.fatal("loftd is already running with PID " + std::to_string(running) + " (read from " + pid_file + ")");
            return 89;
        }

        loft::master::MasterOptions options;
        options.base_dir = base_dir;
        options.config_text = config->serialize();
        options.storage_config_text = config->serialize(is_secret_key);
        options.protocols = loft::split_words(settings.get("protocols"));
        options.login_user = settings.get("default_login_user");
        options.internal_user = settings.get("default_internal_user");
        options.storage_mode = settings.get("loft_storage_mode");
        options.worker_chroot = settings.get("loft_worker_chroot");
        if (options.storage_mode == "shared") {
            log.fatal("loft_storage_mode = shared is not supported yet (use user or uid)");
            return 89;
        }
        options.first_valid_uid = settings.get_uint("first_valid_uid");
        options.last_valid_uid = settings.get_uint("last_valid_uid");
        if (std::string group = settings.get("mail_privileged_group"); !group.empty()) {
            options.privileged_gid = lookup_group(group);
            if (!options.privileged_gid) {
                log.fatal("mail_privileged_group: Unknown group name: " + group);
                return 89;
            }
        }
        // Dovecot's service auth-worker runs as root unless its user is set; Loft keeps
        // that only where a passdb needs it (pam, shadow) and otherwise uses the
        // internal user: sql and checkpassword look-ups need no privileges.
        if (const loft::config::Section* auth_worker = settings.section("service", "auth-worker")) {
            std::string user = auth_worker->value("user");
            if (user.empty() || user == "root")
                user = loft::auth::worker::WorkerService::needs_root(settings) ? "" : options.internal_user;
            options.auth_worker_user = user;
            uint64_t limit = auth_worker->get_uint("process_limit");
            options.auth_worker_process_limit = limit ? limit : settings.get_uint("default_process_limit");
        }
        for (const std::string& variable : loft::split_words(settings.get("import_environment"))) {
            if (variable.find('=') != std::string::npos)
                options.auth_worker_environment.push_back(variable);
            else if (const char* value = getenv(variable.c_str()))
                options.auth_worker_environment.push_back(variable + "=" + value);
        }
        if (loft::running_as_root()) {
            for (const std::string& user : {options.login_user, options.internal_user}) {
                if (!loft::lookup_user(user)) {
                    log.fatal("User doesn't exist: " + user + " (see default_login_user and default_internal_user)");
                    return 89;
                }
            }
        }

        // Bind before any privilege is given up, for the protocols that are enabled.
        std::map<std::string, std::vector<loft::master::Listener>> listeners;
        std::string listen = settings.get("listen");
        std::vector<std::string> serving;
        for (const std::string& protocol : options.protocols) {
            std::string service_name = protocol == "lmtp" ? "lmtp" : protocol + "-login";
            if (protocol != "imap" && protocol != "pop3" && protocol != "lmtp") {
                log.warning("protocol " + protocol + " is not supported yet: not listening for it");
                continue;
            }
            const loft::config::Section* service = settings.section("service", service_name);
            if (!service)
                continue;
            // The workers cannot read key files (they are chrooted): loftd read them with
            // the config, and checks here that they make a usable TLS context.
            auto protocol_settings = config->resolve(loft::config::Filter{protocol, "", "", ""});
            bool ssl_enabled = protocol_settings.get("ssl") != "no";
            try {
                loft::master::make_tls_context(protocol_settings);
            } catch (const loft::TlsError& error) {
                // Dovecot's wording; Dovecot finds out per connection, loftd at start.
                log.fatal("Failed to initialize SSL server context for " + protocol + ": " + error.what());
                return 89;
            }
            auto bound = loft::master::bind_listeners(*service, listen, base_dir, log);
            std::vector<loft::master::Listener> usable;
            for (auto& listener : bound) {
                // As Dovecot: with ssl = no the ssl listeners are not served.
                if (listener.ssl && !ssl_enabled)
                    continue;
                usable.push_back(std::move(listener));
            }
            for (auto& listener : usable)
                serving.push_back(protocol + " on " + listener.description);
            listeners[protocol] = std::move(usable);
        }
        // SASL clients such as Postfix reach loft-auth through service auth's auth-client sockets.
        if (const loft::config::Section* auth = settings.section("service", "auth")) {
            // ... and local tools (dovecot-lda, doveadm) its auth-userdb/auth-master sockets.
            auto wanted = [](const std::string& path) {
                return loft::master::is_auth_client_socket(path) || loft::auth::auth_master_socket_kind(path);
            };
            auto bound = loft::master::bind_listeners(*auth, listen, base_dir, log, wanted);
            for (auto& listener : bound)
                serving.push_back((loft::auth::auth_master_socket_kind(listener.description) ? "auth-userdb on "
                                                                                              : "auth-client on ") +
                                  listener.description);
            listeners["auth"] = std::move(bound);
        }

        loft::master::route_logs(settings.get("log_path"), settings.get("syslog_facility"), args.foreground, log,
                                 settings.get("instance_name"), settings.get("info_log_path"),
                                 settings.get("debug_log_path"));
        if (!args.foreground) {
            if (daemon(0, 1) != 0)
                loft::throw_errno("daemon");
            int null_fd = open("/dev/null", O_RDWR);
            dup2(null_fd, 0);
            dup2(null_fd, 1);
            close(null_fd);
        }
        {
            std::ofstream out(pid_file, std::ios::trunc);
            out << getpid() << "\n";
        }

        log.info(std::string("Loft v" PACKAGE_VERSION " starting up for ") + settings.get("protocols"));
        if (!loft::running_as_root())
            log.info("Running as user " + loft::current_identity().user +
                     ", not root: privilege drops and chroot are skipped");
        if (demo) {
            std::string message = "Loft demo: ";
            for (size_t i = 0; i < serving.size(); i++)
                message += (i ? ", " : "") + serving[i];
            message += "; log in as demo / demo; mail is kept in " + demo->directory + "/home/demo/Maildir";
            if (args.foreground)
                std::cout << message << "\nStop with Ctrl-C." << std::endl;
            log.info(message);
        }

        int result;
        {
            loft::master::Master master(log, std::move(options), std::move(listeners));
            result = master.run();
        }
        unlink(pid_file.c_str());
        log.info("Stopped");
        return result;
    } catch (const std::exception& error) {
        log.fatal(error.what());
        return 89;
    }
}
