#include "auth/checkpassword_db.h"

#include "auth/auth_client_protocol.h"
#include "auth/errors.h"
#include "lib/process.h"
#include "lib/strings.h"
#include "lib/system_error.h"
#include "lib/unique_fd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace loft::auth {

namespace {

constexpr size_t kMaxRequest = 512;        // user\0password\0\0, Dovecot's limit
constexpr size_t kMaxReply = 64u << 10;    // what the program may write to fd 4

struct Pipe {
    UniqueFd read, write;
};

Pipe make_pipe()
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw_errno("pipe2");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Kills and reaps the program on every path out, unless it was already reaped.
class ChildProcess {
public:
    explicit ChildProcess(pid_t pid) : pid_(pid) {}
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess()
    {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            int ignored;
            while (waitpid(pid_, &ignored, 0) < 0 && errno == EINTR) {
            }
        }
    }
    pid_t pid() const { return pid_; }
    // The wait status, or nullopt if it has not exited yet.
    std::optional<int> try_wait()
    {
        int status = 0;
        pid_t done = waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
            pid_ = -1;
            return status;
        }
        if (done < 0 && errno != EINTR)
            throw_errno("waitpid");
        return std::nullopt;
    }

private:
    pid_t pid_;
};

std::vector<std::string> environment_for(const AuthRequest& request, bool authenticate, std::string_view scheme)
{
    std::vector<std::string> env;
    // Like Dovecot's auth process, whose environment holds little more than TZ: nothing
    // of the caller's (loftadm's USER, HOME, ...) may leak into the reply helper's fields.
    for (const char* inherited : {"TZ", "PATH"}) {
        if (const char* value = getenv(inherited))
            env.push_back(std::string(inherited) + "=" + value);
    }
    if (!authenticate) {
        // The program must skip the password check and set AUTHORIZED=2 for the reply helper.
        env.push_back("AUTHORIZED=1");
        if (!scheme.empty()) {
            env.push_back("CREDENTIALS_LOOKUP=1");
            env.push_back("SCHEME=" + std::string(scheme));
        }
    }
    env.push_back("PROTO=TCP");
    env.push_back("ORIG_UID=" + std::to_string(getuid()));
    env.push_back("SERVICE=" + request.service);
    if (!request.local_ip.empty()) {
        env.push_back("TCPLOCALIP=" + request.local_ip);
        env.push_back("LOCAL_IP=" + request.local_ip);
    }
    if (!request.remote_ip.empty()) {
        env.push_back("TCPREMOTEIP=" + request.remote_ip);
        env.push_back("REMOTE_IP=" + request.remote_ip);
    }
    auto put = [&](const char* name, const std::string& value) { env.push_back(std::string("AUTH_") + name + "=" + value); };
    put("USER", request.user);
    put("USERNAME", std::string(username_part(request.user)));
    put("DOMAIN", std::string(domain_part(request.user)));
    put("SERVICE", request.service);
    if (!request.home.empty())
        put("HOME", request.home);
    if (!request.local_ip.empty())
        put("LIP", request.local_ip);
    if (!request.remote_ip.empty())
        put("RIP", request.remote_ip);
    put("SECURED", request.secured ? "secured" : "");
    put("ORIG_USER", request.user);
    put("ORIG_USERNAME", std::string(username_part(request.user)));
    put("ORIG_DOMAIN", std::string(domain_part(request.user)));
    for (std::string& entry : env) {
        // A value with NUL cannot be passed; cut it there rather than fail the login.
        entry.erase(std::min(entry.find('\0'), entry.size()));
    }
    return env;
}

}  // namespace

std::vector<std::string> split_tab_escaped(std::string_view text)
{
    std::vector<std::string> out;
    for (const std::string& field : split(text, '\t')) {
        auto unescaped = tab_unescape(field);
        out.push_back(unescaped ? std::move(*unescaped) : field);
    }
    return out;
}

std::string default_checkpassword_reply_path()
{
    return find_helper("loft-checkpassword-reply", LOFT_PKGLIBEXECDIR);
}

CheckpasswordProgram::CheckpasswordProgram(std::string args, std::string reply_helper,
                                           std::chrono::milliseconds timeout)
    : args_(std::move(args)), reply_helper_(std::move(reply_helper)), timeout_(timeout)
{
    if (std::string(trim(args_)).empty())
        throw AuthError("checkpassword: missing the program path in args");
}

CheckpasswordOutcome CheckpasswordProgram::run(const AuthRequest& request,
                                               const std::optional<std::string_view>& password,
                                               std::string_view scheme) const
{
    CheckpasswordOutcome outcome;
    std::string input = request.user;
    input += '\0';
    if (password)
        input += *password;
    input += '\0';
    input += '\0';  // the timestamp, used only by APOP
    if (input.size() > kMaxRequest) {
        outcome.status = CheckpasswordOutcome::Status::Failure;
        outcome.error = "Username+password combination too long (" + std::to_string(input.size()) + " bytes)";
        return outcome;
    }

    ChildSpec spec;
    std::vector<std::string> words = split(expand_auth_variables(args_, request) + " " + reply_helper_, ' ');
    for (std::string& word : words) {
        if (word.empty())
            continue;
        if (spec.program.empty())
            spec.program = std::move(word);
        else
            spec.args.push_back(std::move(word));
    }
    spec.environment = environment_for(request, password.has_value(), scheme);

    Pipe to_program = make_pipe();
    Pipe from_program = make_pipe();
    spec.fds = {{3, to_program.read.get()}, {4, from_program.write.get()}};
    // The whole request fits the pipe buffer: write it before the program runs.
    if (write(to_program.write.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size()))
        throw_errno("checkpassword: write");
    to_program.write.reset();
    ChildProcess child(spawn_child(spec));
    to_program.read.reset();
    from_program.write.reset();

    auto deadline = std::chrono::steady_clock::now() + timeout_;
    auto remaining_ms = [&] {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return static_cast<int>(std::max<int64_t>(0, left.count()));
    };
    std::string reply;
    fcntl(from_program.read.get(), F_SETFL, O_NONBLOCK);
    for (;;) {
        pollfd wait{from_program.read.get(), POLLIN, 0};
        int ready = poll(&wait, 1, remaining_ms());
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            outcome.error = "Child " + std::to_string(child.pid()) + " did not finish in time, killed";
            return outcome;
        }
        char buffer[4096];
        ssize_t got = read(from_program.read.get(), buffer, sizeof(buffer));
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0) {
            outcome.error = std::string("read() failed: ") + strerror(errno);
            return outcome;
        }
        if (got == 0)
            break;
        reply.append(buffer, static_cast<size_t>(got));
        if (reply.size() > kMaxReply) {
            outcome.error = "checkpassword reply too long";
            return outcome;
        }
    }
    std::optional<int> status;
    while (!(status = child.try_wait())) {
        if (remaining_ms() == 0) {
            outcome.error = "Child " + std::to_string(child.pid()) + " did not finish in time, killed";
            return outcome;
        }
        usleep(2000);
    }
    if (WIFSIGNALED(*status)) {
        outcome.error = "Child died with signal " + std::to_string(WTERMSIG(*status));
        return outcome;
    }
    int code = WEXITSTATUS(*status);
    if (reply.find('\n') != std::string::npos) {
        outcome.error = "LF characters in checkpassword reply";
        return outcome;
    }
    bool got_reply = !reply.empty();
    if (got_reply) {
        for (std::string& field : split_tab_escaped(reply)) {
            if (!field.empty())
                outcome.fields.push_back(std::move(field));
        }
    }
    if (password) {
        switch (code) {
        case 0:
            if (!got_reply) {
                outcome.error = "Received no input";
                return outcome;
            }
            outcome.status = CheckpasswordOutcome::Status::Ok;
            return outcome;
        case 1: case 3: case 12: case 13: case 15: case 20: case 21: case 22: case 23:
            // 1: checkpassword's "wrong password"; the others are vpopmail's.
            outcome.status = CheckpasswordOutcome::Status::Failure;
            outcome.error = "Login failed (status=" + std::to_string(code) + ")";
            return outcome;
        case 2:
            outcome.error = "Child exited with status 2 (tried to use userdb-only checkpassword program for passdb?)";
            return outcome;
        default:
            outcome.error = "Child exited with status " + std::to_string(code);
            return outcome;
        }
    }
    switch (code) {
    case 3:
        outcome.status = CheckpasswordOutcome::Status::Failure;
        outcome.error = "User unknown";
        return outcome;
    case 2:
        // Not 0: the reply helper exits 2 when the program confirmed AUTHORIZED=2.
        if (!got_reply) {
            outcome.error = "Received no input";
            return outcome;
        }
        outcome.status = CheckpasswordOutcome::Status::Ok;
        return outcome;
    default:
        outcome.error = "Child exited with status " + std::to_string(code);
        return outcome;
    }
}

namespace {

void split_field(const std::string& field, std::string& key, std::string& value)
{
    size_t equals = field.find('=');
    key = field.substr(0, equals);
    value = equals == std::string::npos ? std::string() : field.substr(equals + 1);
}

// Runs the program for a passdb/userdb reply: an exception becomes an internal failure
// with its message, so both drivers report errors the same way.
CheckpasswordOutcome run_for_reply(const CheckpasswordProgram& program, const AuthRequest& request,
                                   const std::optional<std::string_view>& password)
{
    try {
        return program.run(request, password);
    } catch (const std::exception& failure) {
        CheckpasswordOutcome outcome;
        outcome.status = CheckpasswordOutcome::Status::InternalFailure;
        outcome.error = failure.what();
        return outcome;
    }
}

}  // namespace

CheckpasswordPassdb::CheckpasswordPassdb(std::string_view args, std::string reply_helper)
    : program_(std::string(trim(args)), std::move(reply_helper))
{
    default_scheme_ = "PLAIN";
}

PassdbReply CheckpasswordPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    PassdbReply reply;
    CheckpasswordOutcome outcome = run_for_reply(program_, request, password);
    reply.error = outcome.error;
    if (outcome.status == CheckpasswordOutcome::Status::InternalFailure)
        return reply;
    if (outcome.status == CheckpasswordOutcome::Status::Failure) {
        reply.status = PassdbStatus::PasswordMismatch;
        return reply;
    }
    for (const std::string& field : outcome.fields) {
        std::string key, value;
        split_field(field, key, value);
        if (key != "password" && !key.empty())
            reply.fields[key] = value;
    }
    reply.status = PassdbStatus::Ok;
    return reply;
}

PassdbReply CheckpasswordPassdb::lookup_credentials(const AuthRequest& request, std::string_view scheme)
{
    pending_scheme_ = scheme;
    PassdbReply reply = Passdb::lookup_credentials(request, scheme);
    pending_scheme_.clear();
    return reply;
}

std::optional<PassdbEntry> CheckpasswordPassdb::lookup(const AuthRequest& request)
{
    CheckpasswordOutcome outcome = program_.run(request, std::nullopt, pending_scheme_);
    if (outcome.status == CheckpasswordOutcome::Status::InternalFailure)
        throw AuthError(outcome.error);
    if (outcome.status == CheckpasswordOutcome::Status::Failure)
        return std::nullopt;
    PassdbEntry entry;
    for (const std::string& field : outcome.fields) {
        std::string key, value;
        split_field(field, key, value);
        if (key == "password")
            entry.password = value;
        else if (!key.empty())
            entry.fields[key] = value;
    }
    return entry;
}

CheckpasswordUserdb::CheckpasswordUserdb(std::string_view args, std::string reply_helper)
    : program_(std::string(trim(args)), std::move(reply_helper))
{
}

UserdbReply CheckpasswordUserdb::lookup(const AuthRequest& request)
{
    UserdbReply reply;
    CheckpasswordOutcome outcome = run_for_reply(program_, request, std::nullopt);
    reply.error = outcome.error;
    if (outcome.status == CheckpasswordOutcome::Status::InternalFailure)
        return reply;
    if (outcome.status == CheckpasswordOutcome::Status::Failure) {
        reply.status = UserdbStatus::UserUnknown;
        return reply;
    }
    for (const std::string& field : outcome.fields) {
        std::string key, value;
        split_field(field, key, value);
        if (key.starts_with("userdb_") && key.size() > 7)
            reply.fields[key.substr(7)] = value;
    }
    reply.status = UserdbStatus::Ok;
    return reply;
}

}  // namespace loft::auth
