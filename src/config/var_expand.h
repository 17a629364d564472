// The one implementation of Dovecot's % variable language (%u, %{user}, %Ln, %1.2u,
// %{env:X} ...), used by every setting and passdb/userdb field that takes variables.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loft::config {

class VarExpandError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The variables known for one expansion: each has a one-letter name (or '\0') and a
// long name (or ""), e.g. ('u', "user"), ('n', "username"), ('\0', "session").
class VarTable {
public:
    void set(char short_name, std::string_view long_name, std::string value);
    const std::string* find_short(char name) const;
    const std::string* find_long(std::string_view name) const;
    // Applied to each variable's final value (after modifiers), e.g. SQL quoting for
    // passdb/userdb queries, as Dovecot's escape function.
    void set_escape(std::function<std::string(std::string_view)> escape) { escape_ = std::move(escape); }
    std::string escaped(std::string_view value) const { return escape_ ? escape_(value) : std::string(value); }

private:
    struct Var {
        char short_name;
        std::string long_name;
        std::string value;
    };
    std::vector<Var> vars_;
    std::function<std::string(std::string_view)> escape_;
};

// Expands templ. Modifiers: L lower, U upper, E backslash-escape, X decimal to hex,
// R reverse, H/N hash, M md5, D domain to LDAP dc=, T trim; [-][0]offset.width;
// %% is '%'; %{env:NAME}, %{pid}, %{uid}, %{gid}, %{hostname} are built in.
// An unknown variable throws VarExpandError naming it.
std::string expand(std::string_view templ, const VarTable& vars);

// mail_location's "~": "~" -> home, "~/x" -> home + "/x"; anything else unchanged.
std::string expand_home(std::string_view path, std::string_view home);

}  // namespace loft::config
