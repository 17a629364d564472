#include "storage/daemon/store_factory.h"

#include "config/var_expand.h"
#include "lib/strings.h"
#include "storage/maildir/store.h"
#include "storage/mbox/store.h"
#include "storage/storage_error.h"

#include <chrono>

namespace loft::storage::daemon {

mbox::MboxOptions mbox_options_from(const config::Settings& settings)
{
    mbox::MboxOptions options;
    options.locks.read_locks = mbox::parse_lock_methods(settings.get("mbox_read_locks"));
    options.locks.write_locks = mbox::parse_lock_methods(settings.get("mbox_write_locks"));
    options.locks.lock_timeout =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(settings.get_time_ms("mbox_lock_timeout")));
    options.locks.dotlock_change_timeout = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::milliseconds(settings.get_time_ms("mbox_dotlock_change_timeout")));
    options.lazy_writes = settings.get_bool("mbox_lazy_writes");
    options.dirty_syncs = settings.get_bool("mbox_dirty_syncs");
    options.very_dirty_syncs = settings.get_bool("mbox_very_dirty_syncs");
    options.min_index_size = settings.get_size("mbox_min_index_size");
    return options;
}

std::string location_format(std::string_view location)
{
    auto colon = location.find(':');
    std::string format = colon == std::string_view::npos ? std::string() : to_lower(location.substr(0, colon));
    if (format != "maildir" && format != "mbox")
        throw StorageError(StorageError::Kind::BadConfig,
                           "mail_location format '" + format + "' is not supported (maildir: or mbox:)");
    return format;
}

std::string expand_location_home(std::string_view location, std::string_view home)
{
    std::string out;
    size_t start = 0;
    // Options are separated by single ':' ("::" is a literal colon inside a path).
    while (start <= location.size()) {
        size_t end = start;
        while (end < location.size()) {
            if (location[end] == ':') {
                if (end + 1 < location.size() && location[end + 1] == ':') {
                    end += 2;
                    continue;
                }
                break;
            }
            end++;
        }
        std::string_view part = location.substr(start, end - start);
        auto eq = part.find('=');
        if (start == 0 || eq == std::string_view::npos)
            out += config::expand_home(part, home);
        else
            out += std::string(part.substr(0, eq + 1)) + config::expand_home(part.substr(eq + 1), home);
        if (end >= location.size())
            break;
        out += ':';
        start = end + 1;
    }
    return out;
}

char default_separator(std::string_view location)
{
    if (location_format(location) == "mbox")
        return '/';
    return location.find(":LAYOUT=fs") != std::string_view::npos ? '/' : '.';
}

std::unique_ptr<MailStore> make_store(std::string_view location, std::string_view home, char separator,
                                      const config::Settings& settings)
{
    std::string format = location_format(location);
    std::string path = expand_location_home(location.substr(format.size() + 1), home);
    if (format == "mbox")
        return std::make_unique<MboxStore>(path, separator, mbox_options_from(settings));
    return std::make_unique<MaildirStore>(path, separator);
}

}  // namespace loft::storage::daemon
