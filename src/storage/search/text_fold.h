// Case-insensitive text for SEARCH substring matching and SORT keys: Dovecot 2.3's
// i;unicode-casemap (simple titlecase, then canonical decomposition; "é" = "E\u0301").
#pragma once

#include <string>
#include <string_view>

namespace loft::storage::search {

// Titlecases and decomposes (the fold Dovecot compares SORT keys and base subjects with).
// Invalid UTF-8 bytes are replaced with U+FFFD first.
std::string fold_case(std::string_view utf8);

// True if `needle` (already folded) occurs in fold_case(haystack). An empty needle matches.
bool contains_folded(std::string_view haystack, std::string_view folded_needle);

}  // namespace loft::storage::search
