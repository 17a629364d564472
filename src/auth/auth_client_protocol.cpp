#include "auth/auth_client_protocol.h"

#include "lib/strings.h"

namespace loft::auth {

namespace {

std::optional<unsigned> parse_u32_field(std::string_view text)
{
    std::optional<uint64_t> value = parse_uint(text);
    if (!value || *value > 0xffffffffULL)
        return std::nullopt;
    return static_cast<unsigned>(*value);
}

std::string field(std::string_view key, std::string_view value)
{
    return "\t" + std::string(key) + "=" + tab_escape(value);
}

}  // namespace

std::string tab_escape(std::string_view text)
{
    std::string out;
    for (char c : text) {
        switch (c) {
        case '\001':
            out += "\0011";
            break;
        case '\t':
            out += "\001t";
            break;
        case '\r':
            out += "\001r";
            break;
        case '\n':
            out += "\001n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::optional<std::string> tab_unescape(std::string_view text)
{
    std::string out;
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] != '\001') {
            out += text[i];
            continue;
        }
        if (++i >= text.size())
            return std::nullopt;
        switch (text[i]) {
        case '1':
            out += '\001';
            break;
        case 't':
            out += '\t';
            break;
        case 'r':
            out += '\r';
            break;
        case 'n':
            out += '\n';
            break;
        default:
            return std::nullopt;
        }
    }
    return out;
}

std::optional<AuthClientLine> parse_auth_client_line(std::string_view line, std::string& error)
{
    if (line.size() > max_auth_client_line) {
        error = "line too long";
        return std::nullopt;
    }
    if (line.ends_with('\n'))
        line.remove_suffix(1);
    std::vector<std::string> args = split(line, '\t');
    AuthClientLine parsed;
    const std::string& command = args[0];
    if (command == "VERSION") {
        auto major = args.size() >= 3 ? parse_u32_field(args[1]) : std::nullopt;
        auto minor = args.size() >= 3 ? parse_u32_field(args[2]) : std::nullopt;
        if (!major || !minor) {
            error = "invalid VERSION line";
            return std::nullopt;
        }
        parsed.kind = AuthClientLine::Kind::Version;
        parsed.major = *major;
        parsed.minor = *minor;
        return parsed;
    }
    if (command == "CPID") {
        auto pid = args.size() == 2 ? parse_uint(args[1]) : std::nullopt;
        if (!pid) {
            error = "invalid CPID line";
            return std::nullopt;
        }
        parsed.kind = AuthClientLine::Kind::Cpid;
        parsed.pid = *pid;
        return parsed;
    }
    if (command == "AUTH") {
        auto id = args.size() >= 3 ? parse_u32_field(args[1]) : std::nullopt;
        if (!id || args[2].empty()) {
            error = "invalid AUTH line";
            return std::nullopt;
        }
        parsed.kind = AuthClientLine::Kind::Auth;
        parsed.id = *id;
        parsed.mechanism = to_upper(args[2]);
        for (size_t i = 3; i < args.size(); i++) {
            size_t equals = args[i].find('=');
            std::string key = args[i].substr(0, equals);
            std::optional<std::string> value =
                equals == std::string::npos ? std::string() : tab_unescape(args[i].substr(equals + 1));
            if (key.empty() || !value) {
                error = "invalid AUTH parameter";
                return std::nullopt;
            }
            if (key == "resp")
                parsed.response = *value;
            else
                parsed.params[key] = *value;
        }
        return parsed;
    }
    if (command == "CONT") {
        auto id = args.size() == 3 ? parse_u32_field(args[1]) : std::nullopt;
        if (!id) {
            error = "invalid CONT line";
            return std::nullopt;
        }
        parsed.kind = AuthClientLine::Kind::Cont;
        parsed.id = *id;
        parsed.response = args[2];
        return parsed;
    }
    error = "unknown command " + command.substr(0, 32);
    return std::nullopt;
}

MechanismInfo mechanism_info(std::string_view name)
{
    std::string upper = to_upper(name);
    if (upper == "PLAIN" || upper == "LOGIN")
        return {upper, {"plaintext"}};
    if (upper == "ANONYMOUS")
        return {upper, {"anonymous"}};
    if (upper == "CRAM-MD5")
        return {upper, {"dictionary", "active"}};
    if (upper == "DIGEST-MD5")
        return {upper, {"dictionary", "active", "mutual-auth"}};
    if (upper == "SCRAM-SHA-1" || upper == "SCRAM-SHA-256")
        return {upper, {"mutual-auth"}};
    return {upper, {}};
}

std::string format_auth_handshake(const std::vector<MechanismInfo>& mechanisms, uint64_t server_pid,
                                  unsigned connection_id, std::string_view cookie_hex)
{
    std::string out = "VERSION\t" + std::to_string(auth_protocol_major) + "\t" +
                      std::to_string(auth_protocol_minor) + "\n";
    for (const MechanismInfo& mechanism : mechanisms) {
        out += "MECH\t" + tab_escape(mechanism.name);
        for (const std::string& flag : mechanism.flags)
            out += "\t" + flag;
        out += "\n";
    }
    out += "SPID\t" + std::to_string(server_pid) + "\n";
    out += "CUID\t" + std::to_string(connection_id) + "\n";
    out += "COOKIE\t" + std::string(cookie_hex) + "\n";
    out += "DONE\n";
    return out;
}

std::string format_auth_cont(unsigned id, std::string_view data_base64)
{
    return "CONT\t" + std::to_string(id) + "\t" + std::string(data_base64) + "\n";
}

std::string format_auth_ok(unsigned id, std::string_view user, const FieldMap& extra)
{
    std::string out = "OK\t" + std::to_string(id) + field("user", user);
    for (const auto& [key, value] : extra)
        out += value.empty() ? "\t" + tab_escape(key) : field(key, value);
    return out + "\n";
}

std::string format_auth_fail(unsigned id, std::string_view user, std::string_view reason, bool temp)
{
    std::string out = "FAIL\t" + std::to_string(id);
    if (!user.empty())
        out += field("user", user);
    if (temp)
        out += "\ttemp";
    if (!reason.empty())
        out += field("reason", reason);
    return out + "\n";
}

AuthRequest auth_request_from(const AuthClientLine& line)
{
    AuthRequest request;
    auto get = [&](const char* key) {
        auto found = line.params.find(key);
        return found == line.params.end() ? std::string() : found->second;
    };
    request.service = get("service");
    request.local_ip = get("lip");
    request.remote_ip = get("rip");
    request.secured = line.params.contains("secured");
    return request;
}

}  // namespace loft::auth
