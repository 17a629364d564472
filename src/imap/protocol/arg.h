// The parsed form of an IMAP command's arguments (atoms, strings, literals, lists)
// and the error type every parsing helper in this library throws.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loft::imap::protocol {

// A command whose arguments are malformed. The message is the text the worker
// puts after "Error in IMAP command NAME: " in its BAD reply (Dovecot's wording).
class CommandError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ArgType {
    Atom,     // also NIL; see Arg::is_nil()
    Quoted,   // "..." with escapes removed
    Literal,  // {n} / {n+} / ~{n}
    List,     // ( ... )
};

struct Arg {
    ArgType type = ArgType::Atom;
    std::string value;          // atom text or string bytes; empty for a streamed literal
    std::vector<Arg> children;  // List only
    bool literal8 = false;      // ~{n}: may hold NULs and must be allowed by the command
    bool streamed = false;      // the literal's bytes went to the caller in chunks
    uint64_t literal_size = 0;  // Literal only: announced size

    bool is_atom() const { return type == ArgType::Atom; }
    bool is_list() const { return type == ArgType::List; }
    bool is_string() const { return type == ArgType::Quoted || type == ArgType::Literal; }
    bool is_nil() const;
    bool is_atom(std::string_view upper_name) const;  // case-insensitive atom match

    static Arg atom(std::string text);
    static Arg quoted(std::string text);
    static Arg literal(std::string bytes);
    static Arg list(std::vector<Arg> items);
};

using ArgList = std::vector<Arg>;

// Debug/test rendering: atoms bare, strings quoted, literals as {n}, lists in parens.
std::string describe(const Arg& arg);
std::string describe(const ArgList& args);

}  // namespace loft::imap::protocol
