// Builds in-memory message sets for the search engine tests.
#pragma once

#include "imap/protocol/search_key.h"
#include "storage/search/search.h"

#include <string>
#include <vector>

namespace search_test {

struct TestMessage {
    std::string text;
    uint32_t flags = 0;
    int64_t internal_date = 0;
    std::vector<std::string> keywords = {};
    uint64_t modseq = 1;
};

inline loft::storage::search::MessageSet make_set(const std::vector<TestMessage>& messages,
                                                  loft::storage::search::SearchOptions options = {})
{
    std::vector<loft::storage::search::SearchMessage> list;
    uint32_t uid = 10;
    for (const auto& m : messages) {
        loft::storage::search::SearchMessage message;
        message.info.uid = uid;
        uid += 10;
        message.info.flags.system = m.flags;
        message.info.flags.keywords = m.keywords;
        message.info.internal_date = m.internal_date;
        message.info.modseq = m.modseq;
        message.info.virtual_size = m.text.size();
        std::string text = m.text;
        message.load = [text] { return text; };
        list.push_back(std::move(message));
    }
    return loft::storage::search::MessageSet(std::move(list), options);
}

// Parses "FROM alice NOT SEEN" style programs (atoms and "quoted" strings, lists in parens).
loft::imap::protocol::SearchProgram program(const std::string& text);

}  // namespace search_test
