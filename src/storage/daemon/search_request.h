// SEARCH, SORT and THREAD requests as the storage daemon runs them: the client's
// arguments (IMAP syntax) parsed with the IMAP grammar, evaluated by the search engine
// over one view's messages in the client's sequence order.
#pragma once

#include "storage/search/search.h"

#include <string>
#include <vector>

namespace loft::storage::daemon {

struct SearchResult {
    std::vector<uint32_t> uids;
    std::string thread;
    uint64_t highest_modseq = 0;
    std::vector<uint64_t> modseqs;  // with a MODSEQ key: modseqs[i] belongs to uids[i]
};

// Throws imap::protocol::CommandError for arguments that do not parse (the worker
// answers BAD), search::SearchError for programs the engine refuses.
SearchResult run_search(search::MessageSet& messages, const std::string& kind, const std::string& arguments,
                        bool uid_threads);

}  // namespace loft::storage::daemon
