// IMAP THREAD (RFC 5256 ORDEREDSUBJECT and REFERENCES, Dovecot's REFS) built the way
// Dovecot 2.3 builds it, written as the IMAP thread list "(1 2)(3 (4)(5))".
#pragma once

#include "storage/search/search.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::search {

enum class ThreadAlgorithm { OrderedSubject, References, Refs };

// "ORDEREDSUBJECT", "REFERENCES", "REFS" (case-insensitive); nullopt otherwise.
std::optional<ThreadAlgorithm> parse_thread_algorithm(std::string_view name);

// Message-IDs in a Message-ID/References/In-Reply-To value, the way Dovecot extracts
// them ("<left@right>" with blanks removed; entries without '@' skipped).
std::vector<std::string> extract_message_ids(std::string_view value, size_t max_ids = 1000);

// Threads the given messages (sequence numbers of the matching messages) and returns the
// thread list without the "* THREAD " prefix; numbers are UIDs when `uids` is set.
std::string thread_messages(MessageSet& messages, ThreadAlgorithm algorithm,
                            const std::vector<uint32_t>& sequences, bool uids);

}  // namespace loft::storage::search
