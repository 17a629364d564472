#include "config/var_expand.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "lib/strings.h"

namespace loft::config {
namespace {

constexpr size_t kMaxModifiers = 10;
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
    while (static_cast<int>(out.size()) < st.offset)
        out.insert(out.begin(), '0');
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

std::string long_variable(std::string_view key, const VarTable& vars)
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
    if (func == "env") {
        const char* env = std::getenv(std::string(data).c_str());
        return env != nullptr ? env : "";
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

std::string expand(std::string_view templ, const VarTable& vars)
{
    std::string out;
    size_t i = 0;
    const size_t n = templ.size();
    auto digits = [&](int& target) {
        while (i < n && templ[i] >= '0' && templ[i] <= '9') {
            if (target < 100000)
                target = target * 10 + (templ[i] - '0');
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
            value = long_variable(templ.substr(start, end - start), vars);
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
        if (st.offset < 0) {
            size_t from_end = static_cast<size_t>(-st.offset);
            if (v.size() > from_end)
                v.remove_prefix(v.size() - from_end);
        } else {
            v.remove_prefix(std::min(v.size(), static_cast<size_t>(st.offset)));
        }
        if (st.width == 0) {
            out += v;
        } else if (!st.zero_padding) {
            long width = st.width;
            if (width < 0)
                width = static_cast<long>(v.size()) + width;
            // Dovecot passes a still negative width on as a huge size_t: no limit.
            out += width < 0 ? v : v.substr(0, static_cast<size_t>(width));
        } else {
            for (long pad = st.width - static_cast<long>(v.size()); pad > 0; pad--)
                out += '0';
            out += v;
        }
        if (out.size() > kMaxOutput)
            throw VarExpandError("Variable expansion result is too long");
    }
    return out;
}

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
