// Small string helpers shared by every layer (splitting, trimming, case-folding, numbers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft {

std::vector<std::string> split(std::string_view text, char separator);
// Splits on runs of spaces and tabs, dropping empty fields.
std::vector<std::string> split_words(std::string_view text);
std::string_view trim(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool starts_with_nocase(std::string_view text, std::string_view prefix);
// Whole-string unsigned decimal; nullopt on anything else or on overflow.
std::optional<uint64_t> parse_uint(std::string_view text);
// The value of one hex digit (either case) or of one base64 digit (RFC 4648's
// alphabet, + and /), -1 for any other character.
int hex_digit_value(char c);
int base64_digit_value(char c);

}  // namespace loft
