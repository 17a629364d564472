// The search engine: evaluates a parsed IMAP SEARCH program (RFC 3501 keys, CONDSTORE
// MODSEQ, WITHIN OLDER/YOUNGER) over one session's view of a mailbox, with Dovecot 2.3's
// matching rules. Pure computation: the caller supplies the messages and their bytes.
#pragma once

#include "imap/protocol/search_key.h"
#include "storage/search/message_view.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace loft::storage::search {

class SearchError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SearchOptions {
    int tz_offset_minutes = 0;  // the server's zone, for BEFORE/ON/SINCE on INTERNALDATE
    int64_t now = 0;            // unix seconds, for OLDER/YOUNGER (0: the current time)
    size_t max_depth = 1000;    // nesting of NOT/OR/() the evaluator accepts
};

// The session's mailbox view: messages in sequence order (message i has sequence i+1),
// which is also the session's seq -> uid map. Parses each message at most once.
class MessageSet {
public:
    explicit MessageSet(std::vector<SearchMessage> messages, SearchOptions options = {});

    uint32_t count() const { return static_cast<uint32_t>(views_.size()); }
    MessageView& view(uint32_t seq) { return views_.at(seq - 1); }
    uint32_t uid(uint32_t seq) const { return views_.at(seq - 1).info().uid; }
    const SearchOptions& options() const { return options_; }
    // The UIDs "$" stands for (SEARCHRES); any order.
    void set_saved_result(std::vector<uint32_t> uids);

    // Sequence numbers (ascending) of the messages matching the program.
    std::vector<uint32_t> matching_sequences(const imap::protocol::SearchProgram& program);
    // Their UIDs (ascending): the SEARCH / UID SEARCH result set.
    std::vector<uint32_t> search(const imap::protocol::SearchProgram& program);
    std::vector<uint32_t> to_uids(const std::vector<uint32_t>& sequences) const;

private:
    bool matches(const imap::protocol::SearchKey& key, uint32_t seq, size_t depth);
    bool match_header(const imap::protocol::SearchKey& key, MessageView& message);

    std::vector<MessageView> views_;
    SearchOptions options_;
    std::vector<uint32_t> saved_uids_;  // sorted
};

}  // namespace loft::storage::search
