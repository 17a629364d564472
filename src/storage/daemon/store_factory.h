// Picks the storage backend for a user's mail_location ("maildir:..." or "mbox:...")
// and turns the mbox_* settings into the mbox backend's options.
#pragma once

#include "config/config.h"
#include "storage/mail_store.h"
#include "storage/mbox/mailbox.h"

#include <memory>
#include <string>
#include <string_view>

namespace loft::storage::daemon {

// mbox_read_locks, mbox_write_locks, mbox_lock_timeout, mbox_dotlock_change_timeout,
// mbox_lazy_writes, mbox_dirty_syncs, mbox_very_dirty_syncs, mbox_min_index_size.
// Throws StorageError(BadConfig) for lock methods it does not know.
mbox::MboxOptions mbox_options_from(const config::Settings& settings);

// "maildir" or "mbox" (lowercase) from a %-expanded mail_location; throws
// StorageError(BadConfig) for other formats or a location without one.
std::string location_format(std::string_view location);

// Expands a leading "~/" in the root and in every KEY=~/... option.
std::string expand_location_home(std::string_view location, std::string_view home);

// The hierarchy separator Dovecot uses when the inbox namespace does not set one:
// Maildir++ shows its on-disk '.', LAYOUT=fs and mbox use '/'.
char default_separator(std::string_view location);

// location: %-expanded mail_location with its format prefix.
std::unique_ptr<MailStore> make_store(std::string_view location, std::string_view home, char separator,
                                      const config::Settings& settings);

}  // namespace loft::storage::daemon
