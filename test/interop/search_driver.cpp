// Differential-test driver: evaluates SEARCH/SORT/THREAD command lines (stdin, one per
// line) over the messages of a manifest with libloft_search and prints the untagged
// reply Dovecot would give ("* SEARCH 1 2", "* SORT ...", "* THREAD ...") per line.
// Usage: search_driver MANIFEST [TZ_OFFSET_MINUTES]
// MANIFEST lines: uid<TAB>modseq<TAB>path<TAB>flags (space separated, \Recent included).
#include "imap/protocol/search_key.h"
#include "lib/strings.h"
#include "mail/message.h"
#include "storage/search/search.h"
#include "storage/search/sort.h"
#include "storage/search/thread.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace loft;
using namespace loft::storage::search;
using imap::protocol::Arg;
using imap::protocol::ArgList;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream data;
    data << in.rdbuf();
    return data.str();
}

// Just enough IMAP argument syntax for test queries: atoms, "quoted", (lists).
ArgList parse_args(std::string_view line, size_t& pos, bool in_list)
{
    ArgList args;
    while (pos < line.size()) {
        char c = line[pos];
        if (c == ' ') {
            ++pos;
        } else if (c == '(') {
            ++pos;
            args.push_back(Arg::list(parse_args(line, pos, true)));
        } else if (c == ')') {
            ++pos;
            if (in_list)
                return args;
        } else if (c == '"') {
            std::string text;
            for (++pos; pos < line.size() && line[pos] != '"'; ++pos) {
                if (line[pos] == '\\' && pos + 1 < line.size())
                    ++pos;
                text += line[pos];
            }
            ++pos;
            args.push_back(Arg::quoted(text));
        } else {
            size_t end = line.find_first_of(" ()", pos);
            if (end == std::string_view::npos)
                end = line.size();
            args.push_back(Arg::atom(std::string(line.substr(pos, end - pos))));
            pos = end;
        }
    }
    return args;
}

std::string numbers(const std::vector<uint32_t>& values)
{
    std::string out;
    for (uint32_t v : values)
        out += " " + std::to_string(v);
    return out;
}

std::string run(MessageSet& set, const std::string& line)
{
    size_t pos = 0;
    ArgList args = parse_args(line, pos, false);
    size_t i = 0;
    bool uid = !args.empty() && args[0].is_atom("UID");
    if (uid)
        ++i;
    std::string command = to_upper(args.at(i++).value);
    if (command == "SEARCH") {
        auto program = imap::protocol::parse_search(args, i);
        auto seqs = set.matching_sequences(program);
        std::string reply = "* SEARCH" + numbers(uid ? set.to_uids(seqs) : seqs);
        // CONDSTORE: a MODSEQ key makes the reply end with the highest modseq found.
        if (imap::protocol::describe(program.root).find("MODSEQ") != std::string::npos && !seqs.empty()) {
            uint64_t highest = 0;
            for (uint32_t seq : seqs)
                highest = std::max(highest, set.view(seq).info().modseq);
            reply += " (MODSEQ " + std::to_string(highest) + ")";
        }
        return reply;
    }
    if (command == "SORT") {
        std::vector<std::string> atoms;
        for (const auto& a : args.at(i).children)
            atoms.push_back(a.value);
        auto criteria = parse_sort_criteria(atoms);
        i += 2;  // criteria list, charset
        auto program = imap::protocol::parse_search(args, i);
        auto seqs = sort_messages(set, criteria, set.matching_sequences(program));
        return "* SORT" + numbers(uid ? set.to_uids(seqs) : seqs);
    }
    if (command == "THREAD") {
        auto algorithm = parse_thread_algorithm(args.at(i).value);
        if (!algorithm)
            throw std::runtime_error("unknown thread algorithm");
        i += 2;
        auto program = imap::protocol::parse_search(args, i);
        return "* THREAD " + thread_messages(set, *algorithm, set.matching_sequences(program), uid);
    }
    throw std::runtime_error("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: search_driver MANIFEST [TZ_OFFSET_MINUTES]\n";
        return 2;
    }
    SearchOptions options;
    if (argc > 2)
        options.tz_offset_minutes = std::stoi(argv[2]);
    std::vector<SearchMessage> messages;
    std::ifstream manifest(argv[1]);
    std::string row;
    while (std::getline(manifest, row)) {
        auto fields = split(row, '\t');
        if (fields.size() < 4)
            continue;
        SearchMessage message;
        message.info.uid = static_cast<uint32_t>(std::stoul(fields[0]));
        message.info.modseq = std::stoull(fields[1]);
        std::string path = fields[2];
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
            throw std::runtime_error("cannot stat " + path);
        message.info.internal_date = st.st_mtime;
        message.info.virtual_size = mail::crlf_size(read_file(path));
        for (const auto& flag : split_words(fields[3])) {
            std::string upper = to_upper(flag);
            if (upper == "\\ANSWERED") message.info.flags.system |= storage::Answered;
            else if (upper == "\\FLAGGED") message.info.flags.system |= storage::Flagged;
            else if (upper == "\\DELETED") message.info.flags.system |= storage::Deleted;
            else if (upper == "\\SEEN") message.info.flags.system |= storage::Seen;
            else if (upper == "\\DRAFT") message.info.flags.system |= storage::Draft;
            else if (upper == "\\RECENT") message.info.flags.system |= storage::Recent;
            else message.info.flags.keywords.push_back(flag);
        }
        message.load = [path] { return read_file(path); };
        messages.push_back(std::move(message));
    }
    MessageSet set(std::move(messages), options);
    std::string line;
    while (std::getline(std::cin, line)) {
        try {
            std::cout << run(set, line) << "\n";
        } catch (const std::exception& e) {
            std::cout << "ERROR " << e.what() << "\n";
        }
    }
    return 0;
}
