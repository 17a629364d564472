#include "imap/protocol/store_args.h"

#include "lib/strings.h"

namespace loft::imap::protocol {

StoreRequest parse_store(const ArgList& args, size_t first)
{
    StoreRequest request;
    size_t index = first;
    if (index < args.size() && args[index].is_list()) {
        const ArgList& modifiers = args[index].children;
        for (size_t i = 0; i < modifiers.size(); i += 2) {
            if (!modifiers[i].is_atom() || i + 1 >= modifiers.size() || !modifiers[i + 1].is_atom())
                throw CommandError("Invalid STORE modifiers");
            if (!modifiers[i].is_atom("UNCHANGEDSINCE"))
                throw CommandError("Unknown STORE modifier");
            auto modseq = parse_mod_sequence(modifiers[i + 1].value, true);
            if (!modseq)
                throw CommandError("Invalid modseq");
            request.unchanged_since = modseq;
        }
        ++index;
    }
    if (index >= args.size() || !args[index].is_atom())
        throw CommandError("Invalid arguments");
    std::string item = to_upper(args[index].value);
    std::string_view name = item;
    if (name.starts_with('+')) {
        request.mode = StoreRequest::Mode::Add;
        name.remove_prefix(1);
    } else if (name.starts_with('-')) {
        request.mode = StoreRequest::Mode::Remove;
        name.remove_prefix(1);
    }
    if (name.ends_with(".SILENT")) {
        request.silent = true;
        name.remove_suffix(7);
    }
    if (name != "FLAGS")
        throw CommandError("Invalid arguments");
    ++index;
    // Dovecot accepts no flags at all, and ignores anything after a flag list.
    if (index < args.size() && args[index].is_list())
        request.flags = parse_flag_list(args[index]);
    else
        request.flags = parse_flags(ArgList(args.begin() + ptrdiff_t(index), args.end()));
    return request;
}

}  // namespace loft::imap::protocol
