// The one exception type the storage layer throws, with a kind the protocol layers map
// to IMAP response codes (NONEXISTENT, ALREADYEXISTS, ...) without parsing messages.
#pragma once

#include <stdexcept>
#include <string>

namespace loft::storage {

class StorageError : public std::runtime_error {
public:
    enum class Kind {
        NotFound,     // mailbox or message does not exist (any more)
        Exists,       // create/rename target already there
        BadName,      // mailbox name not allowed on this layout
        NotAllowed,   // e.g. deleting INBOX, renaming to a child of itself
        Corrupted,    // a Dovecot file we cannot parse
        Locked,       // dotlock not obtained within the timeout
        Limit,        // an input limit was exceeded (keyword count, sizes, ...)
        BadConfig,    // mail_location we do not understand
        Io,           // the file system failed
    };

    StorageError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

}  // namespace loft::storage
