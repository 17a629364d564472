// mail_location for mbox ("[mbox:]ROOT[:INBOX=PATH][:INDEX=..][:CONTROL=..][:LAYOUT=fs]",
// already %- and ~-expanded) parsed into the paths Dovecot would use.
#pragma once

#include <string>
#include <string_view>

namespace loft::storage::mbox {

struct MboxLocation {
    std::string root;     // folders live here as files, hierarchies as directories
    std::string inbox;    // INBOX file; ROOT/inbox when INBOX= is not given
    std::string index;    // INDEX=; empty: ROOT/.imap
    std::string control;  // CONTROL=; empty: ROOT (subscriptions)
    bool index_in_memory = false;  // INDEX=MEMORY: no index files at all

    static MboxLocation parse(std::string_view location);

    std::string index_root() const { return index.empty() ? root + "/.imap" : index; }
    std::string subscriptions_path() const { return (control.empty() ? root : control) + "/.subscriptions"; }
};

}  // namespace loft::storage::mbox
