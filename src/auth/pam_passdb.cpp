#include "auth/pam_passdb.h"

#include "auth/errors.h"
#include "lib/strings.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

namespace loft::auth {

namespace {

struct Conversation {
    std::string user, password;
    std::string message;  // the last error/info text a module showed
};

// PAM owns the reply array and its strings, so they must come from malloc().
int converse(int count, const pam_message** messages, pam_response** replies, void* data)
{
    auto* conversation = static_cast<Conversation*>(data);
    if (count <= 0 || count > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<size_t>(count), sizeof(pam_response)));
    if (out == nullptr)
        return PAM_BUF_ERR;
    for (int i = 0; i < count; i++) {
        const char* answer = nullptr;
        switch (messages[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            answer = conversation->password.c_str();
            break;
        case PAM_PROMPT_ECHO_ON:
            answer = conversation->user.c_str();
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            if (messages[i]->msg)
                conversation->message = messages[i]->msg;
            break;
        default:
            for (int j = 0; j < i; j++)
                std::free(out[j].resp);
            std::free(out);
            return PAM_CONV_ERR;
        }
        if (answer != nullptr && (out[i].resp = strdup(answer)) == nullptr) {
            for (int j = 0; j < i; j++)
                std::free(out[j].resp);
            std::free(out);
            return PAM_BUF_ERR;
        }
    }
    *replies = out;
    return PAM_SUCCESS;
}

// pam_end() on every path out.
class PamHandle {
public:
    PamHandle(const std::string& service, const std::string& user, const pam_conv* conv)
    {
        status_ = pam_start(service.c_str(), user.c_str(), conv, &handle_);
    }
    PamHandle(const PamHandle&) = delete;
    PamHandle& operator=(const PamHandle&) = delete;
    ~PamHandle()
    {
        if (handle_)
            pam_end(handle_, status_);
    }
    pam_handle_t* get() const { return handle_; }
    int& status() { return status_; }
    std::string error_text(int code) const { return pam_strerror(handle_, code); }

private:
    pam_handle_t* handle_ = nullptr;
    int status_ = PAM_SUCCESS;
};

PassdbReply reply(PassdbStatus status, std::string error)
{
    PassdbReply out;
    out.status = status;
    out.error = std::move(error);
    return out;
}

}  // namespace

PamArgs parse_pam_args(std::string_view args)
{
    PamArgs parsed;
    bool service_given = false;
    for (const std::string& word : split_words(args)) {
        if (word == "session=yes")
            parsed.session = true;
        else if (word == "setcred=yes")
            parsed.setcred = true;
        else if (word == "failure_show_msg=yes")
            parsed.failure_show_msg = true;
        else if (word.starts_with("max_requests=")) {
            auto value = parse_uint(std::string_view(word).substr(13));
            if (!value || *value == 0 || *value > 1'000'000)
                throw AuthError("pam: invalid " + word);
            parsed.max_requests = static_cast<unsigned>(*value);
        } else if (word.starts_with("cache_key="))
            parsed.cache_key = word.substr(10);
        else if (word.find('=') != std::string::npos || service_given)
            throw AuthError("pam: unknown argument '" + word + "'");
        else {
            parsed.service = word;
            service_given = true;
        }
    }
    return parsed;
}

PamPassdb::PamPassdb(std::string_view args) : args_(parse_pam_args(args)) {}

PassdbReply PamPassdb::lookup_credentials(const AuthRequest&, std::string_view)
{
    return reply(PassdbStatus::SchemeNotAvailable, "pam cannot look up credentials");
}

PassdbReply PamPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    if (request.user.empty() || request.user.find('\0') != std::string::npos ||
        password.find('\0') != std::string_view::npos)
        return reply(PassdbStatus::PasswordMismatch, "Password mismatch");
    std::string service = args_.service == "*" ? request.service : args_.service;
    if (service.empty() || service.find('/') != std::string::npos)
        return reply(PassdbStatus::InternalFailure, "pam: invalid service name '" + service + "'");

    Conversation conversation{request.user, std::string(password), {}};
    pam_conv conv{converse, &conversation};
    PamHandle pam(service, request.user, &conv);
    if (pam.status() != PAM_SUCCESS)
        return reply(PassdbStatus::InternalFailure, "pam_start() failed: " + pam.error_text(pam.status()));
    if (!request.remote_ip.empty())
        pam_set_item(pam.get(), PAM_RHOST, request.remote_ip.c_str());
    pam_set_item(pam.get(), PAM_TTY, "dovecot");

    auto failed = [&](const char* call, int code) {
        pam.status() = code;
        std::string text = std::string(call) + " failed: " + pam.error_text(code);
        if (args_.failure_show_msg && !conversation.message.empty())
            text += " (" + conversation.message + ")";
        // As Dovecot: every PAM error but an unknown user is a refused login, not a
        // temporary failure (a failing session stack included).
        if (code == PAM_USER_UNKNOWN)
            return reply(PassdbStatus::UserUnknown, "unknown user");
        return reply(PassdbStatus::PasswordMismatch, text);
    };

    int code = pam_authenticate(pam.get(), PAM_SILENT);
    if (code != PAM_SUCCESS)
        return failed("pam_authenticate()", code);
    code = pam_acct_mgmt(pam.get(), PAM_SILENT);
    if (code != PAM_SUCCESS)
        return failed("pam_acct_mgmt()", code);
    if (args_.setcred && (code = pam_setcred(pam.get(), PAM_ESTABLISH_CRED)) != PAM_SUCCESS)
        return failed("pam_setcred()", code);
    if (args_.session) {
        if ((code = pam_open_session(pam.get(), 0)) != PAM_SUCCESS)
            return failed("pam_open_session()", code);
        if ((code = pam_close_session(pam.get(), 0)) != PAM_SUCCESS)
            return failed("pam_close_session()", code);
    }
    return reply(PassdbStatus::Ok, {});
}

}  // namespace loft::auth
