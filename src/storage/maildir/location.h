// mail_location for Maildir ("PATH[:KEY=VALUE...]", already %- and ~-expanded, without
// the "maildir:" prefix) parsed into the directories and options Dovecot would use.
#pragma once

#include <string>
#include <string_view>

namespace loft::storage::maildir {

struct MaildirLocation {
    std::string root;             // Maildir root (INBOX unless INBOX= says otherwise)
    bool layout_fs = false;       // LAYOUT=fs; default Maildir++
    std::string inbox;            // INBOX=; empty: the root
    std::string index;            // INDEX=; Loft's own index files live here (or root)
    std::string control;          // CONTROL=; uidlist, keywords, subscriptions, uidvalidity
    std::string volatile_dir;     // VOLATILEDIR=; lock files that need no durability
    std::string subscriptions_file = "subscriptions";  // SUBSCRIPTIONS=
    bool utf8 = false;            // :UTF-8, folder names stored as UTF-8, not mUTF-7
    bool no_noselect = false;     // :NO-NOSELECT

    static MaildirLocation parse(std::string_view location);
};

}  // namespace loft::storage::maildir
