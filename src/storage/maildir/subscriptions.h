// The "subscriptions" file (version 2: "V\t2", a blank line, then one name per line
// with TAB as the hierarchy separator; version 1: plain names), updated under Dovecot's
// dotlock so concurrent SUBSCRIBEs in Dovecot and Loft do not lose each other's lines.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::maildir {

// Names use `separator` for the hierarchy and are as stored (mUTF-7 unless :UTF-8).
std::vector<std::string> read_subscriptions(const std::string& path, char separator);
// Adds (at the end, as Dovecot does) or removes one name; no-op if already in that state.
void set_subscribed(const std::string& path, char separator, std::string_view name, bool subscribed);

std::vector<std::string> parse_subscriptions(std::string_view content, char separator);
std::string format_subscriptions(const std::vector<std::string>& names, char separator);

}  // namespace loft::storage::maildir
