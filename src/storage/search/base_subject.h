// RFC 5256 base subject (the key of SORT SUBJECT and THREAD subject grouping), with
// Dovecot's details: RFC 2047 decoded, case folded, whitespace packed.
#pragma once

#include <string>
#include <string_view>

namespace loft::storage::search {

struct BaseSubject {
    std::string text;              // folded base subject
    bool reply_or_forward = false; // a "Re:", "Fwd:", "(fwd)" or "[fwd: ...]" was removed
};

// `raw_subject` is the Subject: header value as stored (encoded words allowed).
BaseSubject base_subject(std::string_view raw_subject);

}  // namespace loft::storage::search
