#include "storage/maildir/location.h"

#include "lib/strings.h"
#include "storage/storage_error.h"

#include <vector>

namespace loft::storage::maildir {

namespace {

constexpr size_t max_location_length = 8192;

// Splits on ':' where "::" stands for a literal colon, as Dovecot does.
std::vector<std::string> split_location(std::string_view text)
{
    std::vector<std::string> parts(1);
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == ':') {
            if (i + 1 < text.size() && text[i + 1] == ':') {
                parts.back() += ':';
                i++;
            } else {
                parts.emplace_back();
            }
        } else {
            parts.back() += text[i];
        }
    }
    return parts;
}

std::string strip_trailing_slashes(std::string path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}

}  // namespace

MaildirLocation MaildirLocation::parse(std::string_view location)
{
    if (location.size() > max_location_length)
        throw StorageError(StorageError::Kind::BadConfig, "mail_location is too long");
    if (starts_with_nocase(location, "maildir:"))
        location.remove_prefix(8);
    auto parts = split_location(location);
    MaildirLocation parsed;
    parsed.root = strip_trailing_slashes(parts[0]);
    if (parsed.root.empty() || parsed.root[0] != '/')
        throw StorageError(StorageError::Kind::BadConfig,
                           "Maildir root must be an absolute path: '" + parsed.root + "'");
    for (size_t i = 1; i < parts.size(); i++) {
        const std::string& part = parts[i];
        size_t eq = part.find('=');
        std::string key = to_upper(part.substr(0, eq));
        std::string value = eq == std::string::npos ? std::string() : part.substr(eq + 1);
        if (key == "LAYOUT") {
            std::string layout = to_lower(value);
            if (layout == "fs")
                parsed.layout_fs = true;
            else if (layout == "maildir++")
                parsed.layout_fs = false;
            else
                throw StorageError(StorageError::Kind::BadConfig, "Unsupported Maildir LAYOUT=" + value);
        } else if (key == "INBOX") {
            parsed.inbox = strip_trailing_slashes(value);
        } else if (key == "INDEX") {
            parsed.index = strip_trailing_slashes(value);
        } else if (key == "CONTROL") {
            parsed.control = strip_trailing_slashes(value);
        } else if (key == "VOLATILEDIR") {
            parsed.volatile_dir = strip_trailing_slashes(value);
        } else if (key == "SUBSCRIPTIONS") {
            if (value.empty() || value.find('/') != std::string::npos)
                throw StorageError(StorageError::Kind::BadConfig, "Invalid SUBSCRIPTIONS=" + value);
            parsed.subscriptions_file = value;
        } else if (key == "UTF-8" && eq == std::string::npos) {
            parsed.utf8 = true;
        } else if (key == "NO-NOSELECT" && eq == std::string::npos) {
            parsed.no_noselect = true;
        } else if (key == "INDEXPVT" || key == "INDEXCACHE" || key == "LISTINDEX" || key == "ITERINDEX" ||
                   key == "FULLDIRNAME" || key == "DIRNAME" || key == "ALT") {
            // Dovecot-only index options: accepted so site configs keep working, unused here.
        } else {
            throw StorageError(StorageError::Kind::BadConfig, "Unknown mail_location setting: " + part);
        }
    }
    if (parsed.index == "MEMORY")
        parsed.index.clear();
    return parsed;
}

}  // namespace loft::storage::maildir
