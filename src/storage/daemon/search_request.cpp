#include "storage/daemon/search_request.h"

#include "imap/protocol/command_reader.h"
#include "imap/protocol/search_key.h"
#include "lib/strings.h"
#include "storage/search/sort.h"
#include "storage/search/thread.h"

namespace loft::storage::daemon {

namespace {

imap::protocol::ArgList parse_arguments(const std::string& arguments)
{
    imap::protocol::CommandReader reader;
    reader.feed("s X " + arguments + "\r\n");
    while (true) {
        auto event = reader.next();
        switch (event.kind) {
        case imap::protocol::ReaderEvent::Kind::Continuation: continue;
        case imap::protocol::ReaderEvent::Kind::Command: return std::move(event.command.args);
        case imap::protocol::ReaderEvent::Kind::Error: throw imap::protocol::CommandError(event.message);
        default: throw imap::protocol::CommandError("Invalid arguments");
        }
    }
}

bool uses_modseq(const imap::protocol::SearchProgram& program)
{
    return imap::protocol::describe(program.root).find("(MODSEQ ") != std::string::npos;
}

// With a MODSEQ key the reply carries each message's modseq (ESEARCH reports the
// highest of the ones it returns) and the highest of all (plain SEARCH).
void add_modseqs(search::MessageSet& messages, const std::vector<uint32_t>& sequences, SearchResult& result)
{
    for (uint32_t seq : sequences) {
        uint64_t modseq = messages.view(seq).info().modseq;
        result.modseqs.push_back(modseq);
        result.highest_modseq = std::max(result.highest_modseq, modseq);
    }
}

}  // namespace

SearchResult run_search(search::MessageSet& messages, const std::string& kind, const std::string& arguments,
                        bool uid_threads)
{
    imap::protocol::ArgList args = parse_arguments(arguments);
    SearchResult result;
    size_t first = 0;
    if (kind == "SEARCH") {
        auto program = imap::protocol::parse_search(args, first);
        auto sequences = messages.matching_sequences(program);
        result.uids = messages.to_uids(sequences);
        if (uses_modseq(program))
            add_modseqs(messages, sequences, result);
        return result;
    }
    if (args.size() < 2)
        throw imap::protocol::CommandError("Missing arguments");
    if (kind == "SORT") {
        if (!args[0].is_list())
            throw imap::protocol::CommandError("Invalid sort argument");
        std::vector<std::string> atoms;
        for (const auto& item : args[0].children)
            atoms.push_back(item.value);
        auto criteria = search::parse_sort_criteria(atoms);
        auto program = imap::protocol::parse_search(args, 2);  // after the criteria and the charset
        auto sorted = search::sort_messages(messages, criteria, messages.matching_sequences(program));
        result.uids = messages.to_uids(sorted);
        if (uses_modseq(program))
            add_modseqs(messages, sorted, result);
        return result;
    }
    if (kind == "THREAD") {
        auto algorithm = search::parse_thread_algorithm(to_upper(args[0].value));
        if (!algorithm)
            throw imap::protocol::CommandError("Unknown thread algorithm");
        auto program = imap::protocol::parse_search(args, 2);
        result.thread = search::thread_messages(messages, *algorithm, messages.matching_sequences(program), uid_threads);
        return result;
    }
    throw imap::protocol::CommandError("Unknown command " + kind);
}

}  // namespace loft::storage::daemon
