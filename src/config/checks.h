// The consistency checks Dovecot runs on a parsed config before accepting it
// (doveconf fails on them too): value lists, cross-setting rules, required fields.
#pragma once

#include <vector>

#include "config/config.h"

namespace loft::config {

class ConfigData;

// Checks the effective settings of every scope; each problem is reported once, at the
// line that set the offending value when there is one.
std::vector<ConfigErrorItem> check_settings(const std::shared_ptr<const ConfigData>& data, bool check_users);

}  // namespace loft::config
