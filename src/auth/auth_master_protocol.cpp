#include "auth/auth_master_protocol.h"

#include "auth/auth_client_protocol.h"
#include "lib/strings.h"

namespace loft::auth {

namespace {

std::optional<unsigned> parse_id(std::string_view text)
{
    auto value = parse_uint(text);
    if (!value || *value > UINT32_MAX)
        return std::nullopt;
    return static_cast<unsigned>(*value);
}

void append_fields(std::string& out, const FieldMap& fields)
{
    for (const auto& [key, value] : fields)
        out += "\t" + tab_escape(key) + "=" + tab_escape(value);
}

}  // namespace

std::optional<AuthMasterSocket> auth_master_socket_kind(std::string_view path)
{
    std::string_view name = path.substr(path.rfind('/') + 1);
    size_t dash = name.rfind('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    std::string_view suffix = name.substr(dash + 1);
    if (suffix == "userdb")
        return AuthMasterSocket::Userdb;
    if (suffix == "master")
        return AuthMasterSocket::Master;
    return std::nullopt;
}

std::optional<AuthMasterLine> parse_auth_master_line(std::string_view line, std::string& error)
{
    if (line.size() > max_auth_master_line) {
        error = "line too long";
        return std::nullopt;
    }
    std::vector<std::string> args;
    for (const std::string& raw : split(line, '\t')) {
        auto unescaped = tab_unescape(raw);
        if (!unescaped) {
            error = "broken tab escaping";
            return std::nullopt;
        }
        args.push_back(std::move(*unescaped));
    }
    AuthMasterLine parsed;
    parsed.command = args[0];
    if (args[0] == "VERSION") {
        parsed.kind = AuthMasterLine::Kind::Version;
        auto major = args.size() > 1 ? parse_id(args[1]) : std::nullopt;
        if (!major) {
            error = "broken VERSION";
            return std::nullopt;
        }
        parsed.major = *major;
        if (args.size() > 2)
            parsed.minor = parse_id(args[2]).value_or(0);
        return parsed;
    }
    static const std::pair<const char*, AuthMasterLine::Kind> kCommands[] = {
        {"USER", AuthMasterLine::Kind::User},
        {"PASS", AuthMasterLine::Kind::Pass},
        {"LIST", AuthMasterLine::Kind::List},
        {"CACHE-FLUSH", AuthMasterLine::Kind::CacheFlush},
    };
    for (const auto& [name, kind] : kCommands) {
        if (args[0] == name)
            parsed.kind = kind;
    }
    if (parsed.kind == AuthMasterLine::Kind::Unknown)
        return parsed;
    auto id = args.size() > 1 ? parse_id(args[1]) : std::nullopt;
    if (!id) {
        error = "Master sent broken " + args[0];
        return std::nullopt;
    }
    parsed.id = *id;
    size_t first_param = 2;
    if (parsed.kind == AuthMasterLine::Kind::User || parsed.kind == AuthMasterLine::Kind::Pass) {
        if (args.size() < 3) {
            error = "Master sent broken " + args[0];
            return std::nullopt;
        }
        parsed.user = args[2];
        first_param = 3;
    }
    for (size_t i = first_param; i < args.size(); i++) {
        size_t equals = args[i].find('=');
        std::string key = args[i].substr(0, equals);
        std::string value = equals == std::string::npos ? std::string() : args[i].substr(equals + 1);
        if (parsed.kind == AuthMasterLine::Kind::List && key == "user")
            parsed.user = value;
        else
            parsed.params[key] = value;
    }
    return parsed;
}

AuthRequest auth_request_from(const AuthMasterLine& line)
{
    AuthRequest request;
    request.user = line.user;
    auto get = [&](const char* key) {
        auto found = line.params.find(key);
        return found == line.params.end() ? std::string() : found->second;
    };
    request.service = get("service");
    request.local_ip = get("lip");
    request.remote_ip = get("rip");
    request.secured = line.params.count("secured") > 0;
    return request;
}

std::string format_master_handshake(uint64_t server_pid)
{
    return "VERSION\t" + std::to_string(auth_master_major) + "\t" + std::to_string(auth_master_minor) + "\nSPID\t" +
           std::to_string(server_pid) + "\n";
}

std::string format_master_user(unsigned id, std::string_view user, const FieldMap& fields)
{
    std::string out = "USER\t" + std::to_string(id) + "\t" + tab_escape(user);
    append_fields(out, fields);
    return out + "\n";
}

std::string format_master_pass(unsigned id, std::string_view user, const FieldMap& fields)
{
    std::string out = "PASS\t" + std::to_string(id) + "\tuser=" + tab_escape(user);
    append_fields(out, fields);
    return out + "\n";
}

std::string format_master_notfound(unsigned id) { return "NOTFOUND\t" + std::to_string(id) + "\n"; }

std::string format_master_fail(unsigned id, std::string_view reason)
{
    std::string out = "FAIL\t" + std::to_string(id);
    if (!reason.empty())
        out += "\treason=" + tab_escape(reason);
    return out + "\n";
}

std::string format_master_list(unsigned id, std::string_view user)
{
    return "LIST\t" + std::to_string(id) + "\t" + tab_escape(user) + "\n";
}

std::string format_master_done(unsigned id, bool failed)
{
    return "DONE\t" + std::to_string(id) + "\t" + (failed ? "fail" : "") + "\n";
}

}  // namespace loft::auth
