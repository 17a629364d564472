#include "storage/maildir/subscriptions.h"

#include "lib/strings.h"
#include "storage/maildir/dotlock.h"
#include "storage/maildir/fs_util.h"
#include "storage/storage_error.h"

#include <algorithm>

namespace loft::storage::maildir {

namespace {
constexpr size_t max_subscriptions = 1'000'000;
constexpr size_t max_subscription_length = 8192;
}  // namespace

std::vector<std::string> parse_subscriptions(std::string_view content, char separator)
{
    auto lines = split(content, '\n');
    size_t first = 0;
    bool version2 = !lines.empty() && lines[0] == "V\t2";
    if (version2)
        first = 1;
    std::vector<std::string> names;
    for (size_t i = first; i < lines.size(); i++) {
        std::string name = lines[i];
        if (!name.empty() && name.back() == '\r')
            name.pop_back();
        if (name.empty() || name.size() > max_subscription_length)
            continue;
        if (version2)
            std::replace(name.begin(), name.end(), '\t', separator);
        if (std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(std::move(name));
        if (names.size() > max_subscriptions)
            throw StorageError(StorageError::Kind::Limit, "too many subscriptions");
    }
    return names;
}

std::string format_subscriptions(const std::vector<std::string>& names, char separator)
{
    std::string text = "V\t2\n\n";
    for (std::string name : names) {
        std::replace(name.begin(), name.end(), separator, '\t');
        text += name + "\n";
    }
    return text;
}

std::vector<std::string> read_subscriptions(const std::string& path, char separator)
{
    auto content = read_file_if_exists(path);
    if (!content)
        return {};
    return parse_subscriptions(*content, separator);
}

void set_subscribed(const std::string& path, char separator, std::string_view name, bool subscribed)
{
    if (name.empty() || name.size() > max_subscription_length || name.find('\n') != std::string_view::npos ||
        name.find('\t') != std::string_view::npos)
        throw StorageError(StorageError::Kind::BadName, "Invalid mailbox name for subscription");
    Dotlock lock = Dotlock::acquire(path);
    auto names = read_subscriptions(path, separator);
    auto it = std::find(names.begin(), names.end(), name);
    if (subscribed == (it != names.end()))
        return;
    if (subscribed)
        names.emplace_back(name);
    else
        names.erase(it);
    lock.replace_target(format_subscriptions(names, separator));
}

}  // namespace loft::storage::maildir
