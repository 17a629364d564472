// Dovecot's typed setting values: validating them as Dovecot does and printing them in
// doveconf's canonical form ("10M" -> "10 M", "300s" -> "5 mins").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/registry.h"

namespace loft::config {

// Each throws std::invalid_argument with Dovecot's message for a bad value.
bool parse_bool(std::string_view text);
uint64_t parse_uint(std::string_view text);        // fits 32 bits, as Dovecot's unsigned int
uint64_t parse_octal(std::string_view text);       // "0600"; without a leading 0 it is decimal
uint64_t parse_size(std::string_view text);        // bytes
uint64_t parse_time_ms(std::string_view text, bool milliseconds_allowed);
uint16_t parse_port(std::string_view text);
void check_enum(std::string_view text, std::string_view allowed);  // allowed "a:b:c"

// Validates text for def and returns it in doveconf's printed form.
std::string normalize_value(const SettingDef& def, std::string_view text);

std::string format_size(uint64_t bytes);
std::string format_time_ms(uint64_t ms, bool milliseconds);

}  // namespace loft::config
