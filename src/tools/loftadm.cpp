// loftadm: the doveadm commands a Loft site needs without a running server: pw (make and
// check password hashes), auth test and user (the passdb/userdb chains, run in-process).
// Options, output and exit codes follow doveadm so scripts keep working.
#include "config.h"  // autoconf: PACKAGE_VERSION, LOFT_SYSCONFDIR

#include <fnmatch.h>
#include <getopt.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "auth/errors.h"
#include "auth/password_scheme.h"
#include "auth/service/auth_settings.h"
#include "config/config.h"
#include "lib/strings.h"

namespace {

using loft::auth::service::AuthSetup;

constexpr size_t kMaxPasswordLength = 4096;

[[noreturn]] void fatal(const std::string& message, int code = EX_TEMPFAIL)
{
    std::cout.flush();
    std::cerr << "Fatal: " << message << "\n";
    std::exit(code);
}

[[noreturn]] void usage()
{
    std::cerr << "usage: loftadm pw [-l] [-p plaintext] [-r rounds] [-s scheme] [-t hash] [-u user] [-V]\n"
                 "       loftadm auth test [-c config] <user> [<password>]\n"
                 "       loftadm user [-c config] <user> [...]\n"
                 "       (-c config may also come before the command)\n";
    std::exit(EX_USAGE);
}

// Keeps the terminal's echo off while a password is typed, restoring it on every exit path.
class EchoOff {
public:
    EchoOff()
    {
        if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
            termios quiet = saved_;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    ~EchoOff()
    {
        if (active_) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
            std::cerr << "\n";
        }
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

std::string read_password(const char* prompt)
{
    std::cerr << prompt << std::flush;
    EchoOff echo_off;
    std::string line;
    if (!std::getline(std::cin, line))
        fatal("EOF while reading password");
    if (line.size() > kMaxPasswordLength)
        fatal("Password too long");
    return line;
}

std::string prompt_new_password()
{
    std::string first = read_password("Enter new password: ");
    if (first.empty())
        fatal("Empty passwords are not allowed");
    std::string second = read_password("Retype new password: ");
    if (first != second)
        fatal("Passwords don't match!");
    return first;
}

int cmd_pw(int argc, char** argv)
{
    std::string scheme = "CRYPT", plaintext, test_hash;
    bool have_plaintext = false, list = false, reverse_verify = false;
    loft::auth::HashOptions options;
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "lp:r:s:t:u:V")) != -1) {
        switch (c) {
        case 'l': list = true; break;
        case 'p': plaintext = optarg; have_plaintext = true; break;
        case 'r': {
            auto rounds = loft::parse_uint(optarg);
            if (!rounds || *rounds > 1u << 30)
                fatal(std::string("Invalid number of rounds: ") + optarg, EX_USAGE);
            options.rounds = static_cast<unsigned>(*rounds);
            break;
        }
        case 's': scheme = optarg; break;
        case 't': test_hash = optarg; reverse_verify = true; break;
        case 'u': options.user = optarg; break;
        case 'V': reverse_verify = true; break;
        default: usage();
        }
    }
    if (optind != argc)
        usage();
    if (list) {
        for (const std::string& name : loft::auth::password_scheme_names())
            std::cout << name << ' ';
        std::cout << "\n";
        return 0;
    }
    scheme = loft::to_upper(scheme);
    if (!test_hash.empty()) {
        auto split = loft::auth::split_password_scheme(test_hash);
        if (!split)
            fatal("Missing {scheme} prefix from hash");
        scheme = split->scheme;
    }
    if (!loft::auth::is_known_password_scheme(scheme))
        fatal(test_hash.empty() ? "Unknown scheme: " + scheme : "reverse decode check failed: Unknown scheme");
    if (!have_plaintext)
        plaintext = test_hash.empty() ? prompt_new_password() : read_password("Enter password to verify: ");

    std::string hash;
    if (!test_hash.empty()) {
        hash = test_hash;
    } else {
        try {
            hash = loft::auth::hash_password(scheme, plaintext, options);
        } catch (const std::exception& error) {
            fatal(error.what());
        }
    }
    if (reverse_verify) {
        auto result = loft::auth::verify_password(hash, plaintext, "CRYPT", options.user);
        if (!result.ok)
            fatal("reverse password verification check failed: " +
                  (result.error.empty() ? std::string("Password mismatch") : result.error));
        std::cout << hash << " (verified)\n";
    } else {
        std::cout << hash << "\n";
    }
    return 0;
}

bool file_exists(const std::string& path)
{
    struct stat info;
    return stat(path.c_str(), &info) == 0;
}

// -c FILE, else Loft's own config, else the Dovecot one it replaces (as loftd chooses).
std::string choose_config_path(const std::string& given)
{
    if (!given.empty())
        return given;
    if (const char* env = std::getenv("LOFT_CONFIG"))
        return env;
    std::string loft_conf = std::string(LOFT_SYSCONFDIR) + "/loft/loft.conf";
    return file_exists(loft_conf) ? loft_conf : "/etc/dovecot/dovecot.conf";
}

loft::config::Settings load_settings(const std::string& path, const loft::config::Filter& filter)
{
    try {
        loft::config::ParseOptions options;
        options.check_settings = false;
        return loft::config::Config::load_file(path, options).resolve(filter);
    } catch (const loft::config::ConfigError& error) {
        std::cerr << "Error: " << error.what() << "\n";
        fatal("Invalid configuration in " + path, 89);
    }
}

AuthSetup load_setup(const loft::config::Settings& settings)
{
    try {
        return loft::auth::service::load_auth_setup(settings);
    } catch (const std::exception& error) {
        fatal(std::string("auth setup: ") + error.what(), 89);
    }
}

loft::auth::AuthRequest request_for(const std::string& user, const std::string& service)
{
    loft::auth::AuthRequest request;
    request.user = user;
    request.service = service;
    request.local_ip = "127.0.0.1";  // in-process, like a local client of the auth server
    request.remote_ip = "127.0.0.1";
    request.secured = true;
    return request;
}

// The options doveadm's auth commands accept; -a (socket path), -x (auth info) and -f
// (one field) are read so that scripts work, -x service=NAME is honoured.
struct AuthCommandArgs {
    std::string config_path;
    std::string service = "doveadm";
    std::string show_field;
    std::vector<std::string> positional;
};

AuthCommandArgs parse_auth_args(int argc, char** argv, std::string config_path)
{
    AuthCommandArgs args;
    args.config_path = std::move(config_path);
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "a:c:f:M:ux:")) != -1) {
        switch (c) {
        case 'a': break;
        case 'c': args.config_path = optarg; break;
        case 'f': args.show_field = optarg; break;
        case 'M': fatal("loftadm: -M (master user) is not supported", EX_USAGE);
        case 'u': break;
        case 'x': {
            std::string info = optarg;
            if (info.rfind("service=", 0) == 0)
                args.service = info.substr(8);
            break;
        }
        default: usage();
        }
    }
    args.positional.assign(argv + optind, argv + argc);
    return args;
}

int cmd_auth_test(int argc, char** argv, const std::string& config_path)
{
    AuthCommandArgs args = parse_auth_args(argc, argv, config_path);
    if (args.positional.empty() || args.positional.size() > 2)
        usage();
    std::string login = args.positional[0];
    std::string password = args.positional.size() == 2 ? args.positional[1] : read_password("Password: ");
    auto settings = load_settings(choose_config_path(args.config_path), loft::config::Filter{});
    AuthSetup setup = load_setup(settings);

    std::string error, user = login;
    auto name = loft::auth::normalize_login(login, setup.username, error);
    loft::auth::PassdbChainResult result;
    if (name) {
        user = name->user;
        try {
            if (name->master_user.empty())
                result = setup.passdbs.verify_plain(request_for(name->user, args.service), password);
            else
                result = setup.passdbs.verify_master_plain(request_for(name->master_user, args.service),
                                                           request_for(name->user, args.service), password);
        } catch (const std::exception& failure) {
            std::cerr << "Error: passdb(" << user << "): " << failure.what() << "\n";
            result.status = loft::auth::PassdbStatus::InternalFailure;
        }
        for (const auto& step : result.steps) {
            if (!step.error.empty())
                std::cerr << "Info: " << step.driver << "(" << user << "): " << step.error << "\n";
        }
    } else {
        std::cerr << "Info: " << error << "\n";
        result.status = loft::auth::PassdbStatus::UserUnknown;
    }
    if (auto renamed = result.fields.find("user"); renamed != result.fields.end())
        user = renamed->second;
    bool ok = result.status == loft::auth::PassdbStatus::Ok;
    std::cout << "passdb: " << login << " auth " << (ok ? "succeeded" : "failed") << "\n";
    std::cout << "extra fields:\n  user=" << user << "\n";
    for (const auto& [key, value] : result.fields) {
        // As the auth-client reply doveadm prints: userdb_ fields go to the userdb
        // reply, nopassword is hidden.
        if (key != "user" && !key.starts_with("userdb_") && key != "nopassword")
            std::cout << "  " << key << "=" << value << "\n";
    }
    // doveadm reports an internal failure as a failed login with code=temp_fail.
    if (result.status == loft::auth::PassdbStatus::InternalFailure)
        std::cout << "  code=temp_fail\n";
    if (user != login)
        std::cout << "  original_user=" << login << "\n";
    return ok ? 0 : EX_NOPERM;
}

std::string field_or(const loft::auth::FieldMap& fields, const std::string& key, const std::string& fallback)
{
    auto found = fields.find(key);
    return found == fields.end() ? fallback : found->second;
}

// One user: what the userdbs say, with the settings that fill the gaps (mail_uid,
// mail_gid, mail_home, mail_location), in doveadm user's order.
int show_user(const std::string& login, const AuthCommandArgs& args, const loft::config::Settings& settings,
              const AuthSetup& setup)
{
    auto print = [&](const std::string& key, const std::string& value) {
        if (args.show_field.empty())
            std::cout << key << "\t" << value << "\n";
        else if (args.show_field == key)
            std::cout << value << "\n";
    };
    std::string error;
    auto name = loft::auth::normalize_username(login, setup.username, error);
    if (!name) {
        // doveadm prints this as part of its table output, on stdout.
        std::cout << "\nuserdb lookup: user " << login << " doesn't exist\n";
        return EX_NOUSER;
    }
    loft::auth::AuthRequest request = request_for(*name, args.service);
    loft::auth::UserdbChainResult result;
    try {
        result = setup.userdbs.lookup(request);
    } catch (const std::exception& failure) {
        result.status = loft::auth::UserdbStatus::InternalFailure;
        result.errors.push_back(failure.what());
    }
    if (result.status == loft::auth::UserdbStatus::UserUnknown) {
        // doveadm prints this as part of its table output, on stdout.
        std::cout << "\nuserdb lookup: user " << login << " doesn't exist\n";
        return EX_NOUSER;
    }
    if (result.status != loft::auth::UserdbStatus::Ok) {
        std::cout.flush();
        std::cerr << "Error: userdb lookup(" << login << "): "
                  << (result.errors.empty() ? std::string("Internal failure") : result.errors.back()) << "\n";
        return EX_TEMPFAIL;
    }
    const auto& fields = result.fields;
    request.user = field_or(fields, "user", *name);
    request.home = field_or(fields, "home", settings.get("mail_home"));
    if (!fields.count("home") && !request.home.empty())
        request.home = loft::auth::expand_auth_variables(request.home, request);
    std::string mail = fields.count("mail") ? fields.at("mail")
                                            : loft::auth::expand_auth_variables(settings.get("mail_location"), request);
    if (request.user != login)
        print("user", request.user);
    print("uid", field_or(fields, "uid", settings.get("mail_uid")));
    print("gid", field_or(fields, "gid", settings.get("mail_gid")));
    print("home", request.home);
    print("mail", mail);
    for (const auto& [key, value] : fields) {
        if (key != "uid" && key != "gid" && key != "home" && key != "mail" && key != "user")
            print(key, value);
    }
    return 0;
}

// "user '*'" and other masks: the user names the userdbs list, one per line, as doveadm
// prints them (it asks the auth server's LIST).
int list_users(const std::string& mask, const AuthCommandArgs& args, const AuthSetup& setup)
{
    std::string error;
    auto status = setup.userdbs.iterate(
        request_for(mask, args.service),
        [&](const std::string& user) {
            if (fnmatch(mask.c_str(), user.c_str(), 0) == 0)
                std::cout << user << "\n";
        },
        error);
    if (status == loft::auth::UserdbChain::IterateStatus::Done)
        return 0;
    std::cout.flush();
    std::cerr << "Error: User listing returned failure: " << error << "\n";
    return EX_TEMPFAIL;
}

int cmd_user(int argc, char** argv, const std::string& config_path)
{
    AuthCommandArgs args = parse_auth_args(argc, argv, config_path);
    if (args.positional.empty())
        usage();
    auto settings = load_settings(choose_config_path(args.config_path), loft::config::Filter{});
    AuthSetup setup = load_setup(settings);
    bool masks = false;
    for (const std::string& login : args.positional)
        masks = masks || login.find_first_of("*?") != std::string::npos;
    if (masks) {
        int status = 0;
        for (const std::string& mask : args.positional) {
            if (int code = list_users(mask, args, setup))
                status = code;
        }
        return status;
    }
    if (args.show_field.empty())
        std::cout << "field\tvalue\n";
    int status = 0;
    for (const std::string& login : args.positional) {
        int code = show_user(login, args, settings, setup);
        if (code != 0)
            status = code;
    }
    return status;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string config_path;
    int first = 1;
    // Global options before the command, as doveadm takes them: -c FILE, -D, -v.
    while (first < argc && argv[first][0] == '-') {
        std::string option = argv[first];
        if (option == "-c" && first + 1 < argc) {
            config_path = argv[first + 1];
            first += 2;
        } else if (option == "-D" || option == "-v") {
            ++first;
        } else if (option == "--version") {
            std::cout << PACKAGE_VERSION << "\n";
            return 0;
        } else {
            usage();
        }
    }
    if (first >= argc)
        usage();
    std::string command = argv[first];
    try {
        if (command == "pw")
            return cmd_pw(argc - first, argv + first);
        if (command == "user")
            return cmd_user(argc - first, argv + first, config_path);
        if (command == "auth" && first + 1 < argc && std::string(argv[first + 1]) == "test")
            return cmd_auth_test(argc - first - 1, argv + first + 1, config_path);
    } catch (const std::exception& error) {
        fatal(error.what());
    }
    usage();
}
