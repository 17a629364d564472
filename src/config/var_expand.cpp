#include "config/var_expand.h"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <regex.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "lib/strings.h"

namespace loft::config {
namespace {

constexpr size_t kMaxModifiers = 10;
constexpr unsigned kMaxDepth = 16;
constexpr int kMaxWidth = 65536;  // %Nu widths and offsets; far beyond any real use
constexpr size_t kMaxOutput = 1024 * 1024;

std::string md5_bytes(std::string_view text)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_md5(), nullptr) != 1)
        throw VarExpandError("MD5 digest failed");
    return std::string(reinterpret_cast<char*>(digest), len);
}

std::string hex(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Dovecot's str_hash() (the ASU hash from glib), which %H relies on.
unsigned int asu_hash(std::string_view text)
{
    unsigned int h = 0;
    for (unsigned char c : text) {
        h = (h << 4) + c;
        unsigned int g = h & 0xf0000000U;
        if (g != 0) {
            h ^= g >> 24;
            h ^= g;
        }
    }
    return h;
}

struct FieldState {
    int offset = 0;
    int width = 0;
    bool zero_padding = false;
};

std::string to_hex_string(unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llx", v);
    return buf;
}

std::string hashed(unsigned long long value, FieldState& st)
{
    if (st.width != 0) {
        value %= static_cast<unsigned long long>(st.width < 0 ? -st.width : st.width);
        st.width = 0;
    }
    std::string out = to_hex_string(static_cast<unsigned int>(value));
    if (static_cast<int>(out.size()) < st.offset)
        out.insert(0, static_cast<size_t>(st.offset) - out.size(), '0');
    st.offset = 0;
    return out;
}

std::string apply_modifier(char m, std::string v, FieldState& st)
{
    switch (m) {
    case 'L': return to_lower(v);
    case 'U': return to_upper(v);
    case 'E': {
        std::string out;
        for (char c : v) {
            if (c == '"' || c == '\'' || c == '\\')
                out += '\\';
            out += c;
        }
        return out;
    }
    case 'X': {
        auto n = loft::parse_uint(v);
        return to_hex_string(n ? *n : 0);
    }
    case 'R': return std::string(v.rbegin(), v.rend());
    case 'H': return hashed(asu_hash(v), st);
    case 'N': {
        std::string d = md5_bytes(v);
        uint64_t value = 0;
        for (int i = 0; i < 8; i++)
            value = (value << 8) | static_cast<unsigned char>(d[static_cast<size_t>(i)]);
        return hashed(value, st);
    }
    case 'M': return hex(md5_bytes(v));
    case 'D': {
        std::string out;
        for (char c : v) {
            if (c == '.')
                out += ",dc=";
            else
                out += c;
        }
        return out;
    }
    case 'T': {
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
            v.pop_back();
        return v;
    }
    default: return v;
    }
}

bool is_modifier(char c) { return std::strchr("LUEXRHNMDT", c) != nullptr && c != '\0'; }

std::string hostname()
{
    char buf[256];
    if (gethostname(buf, sizeof(buf) - 1) != 0)
        return "localhost";
    buf[sizeof(buf) - 1] = '\0';
    return buf;
}

std::string expand_template(std::string_view templ, const VarTable& vars, unsigned depth);

// %{if;lhs;op;rhs;then[;else]}: Dovecot's conditional. Parameters are split on ';'
// outside nested %{...}, '\' escapes, and each is expanded before comparing.
std::string if_function(std::string_view spec, const VarTable& vars, unsigned depth)
{
    std::vector<std::string> params;
    std::string cur;
    bool escape = false, maybe_var = false;
    unsigned nesting = 0;
    size_t i = spec.find(';');
    if (i == std::string_view::npos)
        throw VarExpandError("if: missing parameter(s)");
    for (i++; i < spec.size(); i++) {
        char c = spec[i];
        if (c == '\\') {
            escape = true;
            continue;
        }
        if (escape) {
            cur += c;
            escape = false;
            continue;
        }
        if (c == '%') {
            maybe_var = true;
        } else if (maybe_var && c == '{') {
            nesting++;
            maybe_var = false;
        } else if (nesting > 0 && c == '}') {
            nesting--;
        } else if (nesting == 0 && c == ';') {
            params.push_back(std::move(cur));
            cur.clear();
            continue;
        } else if (nesting == 0 && c == ':') {
            break;
        }
        cur += c;
    }
    if (!cur.empty())
        params.push_back(std::move(cur));
    if (params.size() == 4)
        params.emplace_back();
    if (params.size() != 5)
        throw VarExpandError("if: requires four or five parameters, got " + std::to_string(params.size()));
    for (auto& p : params)
        p = expand_template(p, vars, depth + 1);
    const std::string &lhs = params[0], &op = params[1], &rhs = params[2];
    bool result = false;
    static constexpr std::string_view numeric_ops[] = {"==", "<", "<=", ">", ">=", "!="};
    bool numeric = std::find(std::begin(numeric_ops), std::end(numeric_ops), op) != std::end(numeric_ops);
    if (numeric) {
        auto to_num = [](const std::string& text, const char* side) {
            char* end = nullptr;
            errno = 0;
            long long v = std::strtoll(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || errno != 0)
                throw VarExpandError("if: " + text + " (" + side + ") is not a number");
            return v;
        };
        long long a = to_num(lhs, "lhs"), b = to_num(rhs, "rhs");
        result = op == "==" ? a == b : op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b
               : op == ">=" ? a >= b : a != b;
    } else if (op == "eq") {
        result = lhs == rhs;
    } else if (op == "ne") {
        result = lhs != rhs;
    } else if (op == "lt") {
        result = lhs < rhs;
    } else if (op == "le") {
        result = lhs <= rhs;
    } else if (op == "gt") {
        result = lhs > rhs;
    } else if (op == "ge") {
        result = lhs >= rhs;
    } else if (op == "*" || op == "!*") {
        result = (fnmatch(rhs.c_str(), lhs.c_str(), 0) == 0) == (op == "*");
    } else if (op == "~" || op == "!~") {
        regex_t re;
        int rc = regcomp(&re, rhs.c_str(), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char buf[256];
            regerror(rc, &re, buf, sizeof(buf));
            throw VarExpandError(std::string("if: regex failed: ") + buf);
        }
        bool matched = regexec(&re, lhs.c_str(), 0, nullptr, 0) == 0;
        regfree(&re);
        result = matched == (op == "~");
    } else {
        throw VarExpandError("if: Unsupported comparator '" + op + "'");
    }
    return result ? params[3] : params[4];
}

// %{sha256:user}, %{md5;rounds=2,truncate=32,salt=%d,format=base64:user}: a digest
// of the named variable's value.
std::string hash_function(std::string_view key, std::string_view field, const VarTable& vars, unsigned depth)
{
    std::string algo(key.substr(0, key.find(';')));
    const EVP_MD* md = EVP_get_digestbyname(algo.c_str());
    if (md == nullptr)
        return {};
    std::string value;
    if (const std::string* v = vars.find_long(field))
        value = *v;
    else
        throw VarExpandError("Unknown variable '%" + std::string(field) + "'");
    unsigned rounds = 1, truncbits = 0;
    std::string salt, format = "hex";
    if (key.find(';') != std::string_view::npos) {
        for (const auto& arg : split(key.substr(key.find(';') + 1), ',')) {
            auto eq = arg.find('=');
            if (eq == std::string::npos)
                continue;
            std::string k = arg.substr(0, eq), v = arg.substr(eq + 1);
            if (k == "rounds") {
                auto n = loft::parse_uint(v);
                if (!n)
                    throw VarExpandError("Cannot parse hash arguments:'" + v + "' is not number for rounds");
                if (*n < 1)
                    throw VarExpandError("Cannot parse hash arguments:rounds must be at least 1");
                rounds = static_cast<unsigned>(std::min<uint64_t>(*n, 100000));
            } else if (k == "truncate") {
                auto n = loft::parse_uint(v);
                if (!n)
                    throw VarExpandError("Cannot parse hash arguments:'" + v + "' is not number for truncbits");
                truncbits = static_cast<unsigned>(std::min<uint64_t>(*n, 8 * EVP_MD_size(md)));
            } else if (k == "salt") {
                salt = expand_template(v, vars, depth + 1);
                break;
            } else if (k == "format") {
                if (v != "hex" && v != "hexuc" && v != "base64")
                    throw VarExpandError("Cannot parse hash arguments:'" + v + "' is not supported format");
                format = v;
            }
        }
    }
    std::string data = value;
    for (unsigned r = 0; r < rounds; r++) {
        std::string input = salt + data;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(input.data(), input.size(), digest, &len, md, nullptr) != 1)
            throw VarExpandError("digest failed");
        data.assign(reinterpret_cast<char*>(digest), len);
    }
    if (truncbits > 0) {
        // Keep the first truncbits bits, right-aligned (Dovecot's buffer_truncate_rshift_bits).
        size_t bytes = (truncbits + 7) / 8;
        data.resize(bytes);
        unsigned shift = static_cast<unsigned>(bytes * 8 - truncbits);
        if (shift > 0) {
            for (size_t i = bytes; i-- > 0;) {
                unsigned char cur = static_cast<unsigned char>(data[i]) >> shift;
                if (i > 0)
                    cur |= static_cast<unsigned char>(static_cast<unsigned char>(data[i - 1]) << (8 - shift));
                data[i] = static_cast<char>(cur);
            }
        }
    }
    if (format == "base64") {
        std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
        int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
        out.resize(static_cast<size_t>(n));
        return out;
    }
    return hex(data);  // Dovecot prints "hexuc" in lower case too
}

std::string long_variable(std::string_view key, const VarTable& vars, unsigned depth)
{
    if (const std::string* v = vars.find_long(key))
        return *v;
    if (key == "pid")
        return std::to_string(getpid());
    if (key == "uid")
        return std::to_string(geteuid());
    if (key == "gid")
        return std::to_string(getegid());
    if (key == "hostname")
        return hostname();
    auto colon = key.find(':');
    std::string_view func = key.substr(0, colon);
    std::string_view data = colon == std::string_view::npos ? std::string_view() : key.substr(colon + 1);
    std::string_view name = func.substr(0, func.find(';'));
    if (iequals(name, "if"))
        return if_function(key, vars, depth);
    if (func == "env") {
        const char* env = std::getenv(std::string(data).c_str());
        return env != nullptr ? env : "";
    }
    if (colon != std::string_view::npos) {
        std::string algo = to_lower(name);
        if (EVP_get_digestbyname(algo.c_str()) != nullptr)
            return hash_function(func, data, vars, depth);
    }
    throw VarExpandError("Unknown variable '%" + std::string(func) + "'");
}

}  // namespace

void VarTable::set(char short_name, std::string_view long_name, std::string value)
{
    for (auto& v : vars_) {
        if ((short_name != '\0' && v.short_name == short_name) ||
            (!long_name.empty() && v.long_name == long_name)) {
            v.short_name = short_name != '\0' ? short_name : v.short_name;
            if (!long_name.empty())
                v.long_name = std::string(long_name);
            v.value = std::move(value);
            return;
        }
    }
    vars_.push_back({short_name, std::string(long_name), std::move(value)});
}

const std::string* VarTable::find_short(char name) const
{
    for (const auto& v : vars_) {
        if (v.short_name == name)
            return &v.value;
    }
    return nullptr;
}

const std::string* VarTable::find_long(std::string_view name) const
{
    for (const auto& v : vars_) {
        if (!v.long_name.empty() && v.long_name == name)
            return &v.value;
    }
    return nullptr;
}

std::string expand(std::string_view templ, const VarTable& vars) { return expand_template(templ, vars, 0); }

namespace {

std::string expand_template(std::string_view templ, const VarTable& vars, unsigned depth)
{
    if (depth > kMaxDepth)
        throw VarExpandError("Variables nested too deeply");
    std::string out;
    size_t i = 0;
    const size_t n = templ.size();
    auto digits = [&](int& target) {
        while (i < n && templ[i] >= '0' && templ[i] <= '9') {
            target = target * 10 + (templ[i] - '0');
            if (target > kMaxWidth)
                throw VarExpandError("Variable width or offset is too large in: " + std::string(templ));
            i++;
        }
    };
    while (i < n) {
        char c = templ[i++];
        if (c != '%') {
            out += c;
            continue;
        }
        // %[-][0]width[.[0][-]width][modifiers]{long} or short
        FieldState st;
        int sign = 1;
        if (i < n && templ[i] == '-') {
            sign = -1;
            i++;
        }
        if (i < n && templ[i] == '0') {
            st.zero_padding = true;
            i++;
        }
        digits(st.width);
        if (i < n && templ[i] == '.') {
            st.offset = sign * st.width;
            sign = 1;
            st.width = 0;
            i++;
            st.zero_padding = false;
            if (i < n && templ[i] == '0') {
                st.zero_padding = true;
                i++;
            }
            if (i < n && templ[i] == '-') {
                sign = -1;
                i++;
            }
            digits(st.width);
            st.width *= sign;
        }
        std::string modifiers;
        while (modifiers.size() < kMaxModifiers && i < n && is_modifier(templ[i]))
            modifiers += templ[i++];
        if (i >= n)
            break;  // a trailing '%' (with modifiers) expands to nothing, as in Dovecot
        std::string value;
        if (templ[i] == '{' && templ.find('}', i) != std::string_view::npos) {
            // %{long_key}, braces nest and '\' escapes the next character.
            size_t start = i + 1, end = start;
            int depth = 1;
            bool escape = false;
            for (; end < n; end++) {
                if (escape) {
                    escape = false;
                    continue;
                }
                if (templ[end] == '\\') {
                    escape = true;
                    continue;
                }
                if (templ[end] == '{')
                    depth++;
                if (templ[end] == '}' && --depth == 0)
                    break;
            }
            value = long_variable(templ.substr(start, end - start), vars, depth);
            i = end < n ? end + 1 : n;
        } else {
            char key = templ[i++];
            if (const std::string* v = vars.find_short(key))
                value = *v;
            else if (key == '%')
                value = "%";
            else
                throw VarExpandError(std::string("Unknown variable '%") + key + "'");
        }
        for (char m : modifiers)
            value = apply_modifier(m, std::move(value), st);
        std::string_view v = value;
        std::string piece;
        if (st.offset < 0) {
            size_t from_end = static_cast<size_t>(-st.offset);
            if (v.size() > from_end)
                v.remove_prefix(v.size() - from_end);
        } else {
            v.remove_prefix(std::min(v.size(), static_cast<size_t>(st.offset)));
        }
        if (st.width == 0) {
            piece = v;
        } else if (!st.zero_padding) {
            long width = st.width;
            if (width < 0)
                width = static_cast<long>(v.size()) + width;
            // Dovecot passes a still negative width on as a huge size_t: no limit.
            piece = width < 0 ? v : v.substr(0, static_cast<size_t>(width));
        } else {
            if (st.width > static_cast<long>(v.size()))
                piece.append(static_cast<size_t>(st.width) - v.size(), '0');
            piece += v;
        }
        out += vars.escaped(piece);
        if (out.size() > kMaxOutput)
            throw VarExpandError("Variable expansion result is too long");
    }
    return out;
}

}  // namespace

std::string expand_home(std::string_view path, std::string_view home)
{
    if (path.empty() || path[0] != '~')
        return std::string(path);
    if (path.size() == 1)
        return std::string(home);
    if (path[1] != '/')
        return std::string(path);
    return std::string(home) + std::string(path.substr(1));
}

}  // namespace loft::config
