#include "storage/mbox/location.h"

#include "lib/strings.h"
#include "storage/storage_error.h"

namespace loft::storage::mbox {

namespace {

std::string without_trailing_slash(std::string path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}

}  // namespace

MboxLocation MboxLocation::parse(std::string_view location)
{
    if (starts_with_nocase(location, "mbox:"))
        location.remove_prefix(5);
    // "::" stands for a literal ':' in a path, as in Dovecot.
    std::vector<std::string> parts;
    std::string current;
    for (size_t i = 0; i < location.size(); i++) {
        if (location[i] == ':') {
            if (i + 1 < location.size() && location[i + 1] == ':') {
                current += ':';
                i++;
                continue;
            }
            parts.push_back(std::move(current));
            current.clear();
        } else {
            current += location[i];
        }
    }
    parts.push_back(std::move(current));

    MboxLocation result;
    result.root = without_trailing_slash(parts[0]);
    if (result.root.empty() || result.root[0] != '/')
        throw StorageError(StorageError::Kind::BadConfig, "mbox mail_location needs an absolute root: " + std::string(location));
    for (size_t i = 1; i < parts.size(); i++) {
        const std::string& part = parts[i];
        auto eq = part.find('=');
        std::string key = to_upper(part.substr(0, eq));
        std::string value = eq == std::string::npos ? std::string() : part.substr(eq + 1);
        if (key == "INBOX")
            result.inbox = value;
        else if (key == "INDEX") {
            result.index_in_memory = value == "MEMORY";
            result.index = result.index_in_memory ? std::string() : without_trailing_slash(value);
        }
        else if (key == "CONTROL")
            result.control = without_trailing_slash(value);
        else if (key == "LAYOUT") {
            if (value != "fs")
                throw StorageError(StorageError::Kind::BadConfig, "mbox supports only LAYOUT=fs, not " + value);
        } else if (key == "SUBSCRIPTIONS" || key == "DIRNAME" || key == "ALT" || key == "FULLDIRNAME" ||
                   key == "VOLATILEDIR" || key == "ITERINDEX" || key == "NO-NOSELECT" || key == "UTF-8") {
            // Accepted for compatibility; they do not change where mbox files live.
        } else if (!part.empty()) {
            throw StorageError(StorageError::Kind::BadConfig, "unknown mail_location option: " + part);
        }
    }
    if (result.inbox.empty())
        result.inbox = result.root + "/inbox";
    return result;
}

}  // namespace loft::storage::mbox
