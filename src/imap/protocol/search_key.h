// SEARCH programs as a tree of keys (all RFC 3501 keys plus CONDSTORE MODSEQ,
// WITHIN OLDER/YOUNGER and SAVEDATE) with CHARSET. RETURN options: search_return.h.
#pragma once

#include "imap/protocol/arg.h"
#include "imap/protocol/imap_date.h"
#include "imap/protocol/sequence_set.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loft::imap::protocol {

struct SearchKey {
    enum class Kind {
        All,
        And,          // children: a parenthesised group or the top level
        Or,           // children: exactly two
        Not,          // children: exactly one
        SequenceSet,  // set (message sequence numbers)
        Uid,          // set (UIDs)
        Flag,         // flag: has this system flag (ANSWERED, SEEN, RECENT ...)
        NoFlag,       // flag: lacks it (UNANSWERED, UNSEEN ...)
        Keyword,      // value
        NoKeyword,    // value
        New,          // RECENT and not SEEN
        Old,          // not RECENT
        Before, On, Since,              // date vs INTERNALDATE
        SentBefore, SentOn, SentSince,  // date vs the Date: header
        SavedBefore, SavedOn, SavedSince, SaveDateSupported,
        Larger, Smaller,                // number: RFC822.SIZE
        Header,       // field + value; also BCC/CC/FROM/SUBJECT/TO (field upper-cased)
        Body,         // value
        Text,         // value
        ModSeq,       // number (+ optional entry_name/entry_type)
        Older, Younger,  // number: seconds (WITHIN)
    };
    Kind kind = Kind::All;
    std::vector<SearchKey> children;
    SequenceSet set;
    uint8_t flag = 0;          // SystemFlag bit
    std::string field;         // Header
    // HEADER <field>: Dovecot matches the decoded field as written; FROM/TO/CC/BCC match
    // the normalized address list and SUBJECT with whitespace runs compressed.
    bool raw_header = false;
    std::string value;         // Header/Body/Text/Keyword
    Date date;
    uint64_t number = 0;
    std::string entry_name;    // MODSEQ "/flags/\\seen" all
    std::string entry_type;    // priv | shared | all
};

struct SearchProgram {
    std::optional<std::string> charset;
    SearchKey root;                          // Kind::And of the top-level keys
};

// Parses SEARCH arguments (args[first...]) after any RETURN (...); UID SEARCH passes the same.
// Throws CommandError with Dovecot's texts ("Unknown argument X", "Missing argument",
// "Missing parameter for search key (for search key: FROM)").
SearchProgram parse_search(const ArgList& args, size_t first = 0);

// Compact debug form: "(AND (FLAG \Seen) (HEADER FROM \"x\"))".
std::string describe(const SearchKey& key);

}  // namespace loft::imap::protocol
