// Test driver for the mbox interop tests: prints the state Loft sees in an mbox tree
// (mailboxes, UIDs, flags, sizes, subscriptions) and applies changes through the
// storage library, so a Python script can compare with what Dovecot shows over IMAP.
//
// usage: mbox_dump [--as-owner] LOCATION COMMAND ARGS...
//   dump                                  all mailboxes, messages and subscriptions
//   append MAILBOX FILE [FLAG...] [@DATE] message from FILE (CRLF or LF)
//   store MAILBOX UID(,UID)* +|-|= [FLAG...]
//   expunge MAILBOX
//   fetch MAILBOX UID                      the message as IMAP shows it (LF line ends)
//   stress MAILBOX ROUNDS                  appends and expunges in a loop (crash test)
//   flagstress MAILBOX ROUNDS              flag/keyword changes (some too long for the
//                                          padding), expunges and appends (crash test)
//   sync MAILBOX                           open read-write: new UIDs are written to the file
//   copy|move FROM TO UID(,UID)*           prints "<source uid> <new uid>" lines
//   create|delete|subscribe|unsubscribe MAILBOX
//   rename FROM TO
// FLAG is \Seen, \Answered, \Flagged, \Deleted, \Draft or a keyword. Mailbox names
// are UTF-8. --as-owner switches to the uid/gid owning the mbox root first, like
// the storage daemon does, so files stay usable for Dovecot.
#include "lib/strings.h"
#include "storage/mbox/store.h"
#include "storage/storage_error.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace loft::storage;

namespace {

std::string flag_names(const Flags& flags)
{
    std::vector<std::string> names;
    static const std::pair<uint32_t, const char*> system[] = {
        {Answered, "\\Answered"}, {Flagged, "\\Flagged"}, {Deleted, "\\Deleted"}, {Seen, "\\Seen"}, {Draft, "\\Draft"}};
    for (const auto& [bit, name] : system)
        if (flags.system & bit)
            names.emplace_back(name);
    for (const auto& keyword : flags.keywords)
        names.push_back(keyword);
    std::sort(names.begin(), names.end());
    std::string text;
    for (const auto& name : names)
        text += (text.empty() ? "" : " ") + name;
    return text;
}

Flags parse_flags(const std::vector<std::string>& words)
{
    Flags flags;
    for (const auto& word : words) {
        if (loft::iequals(word, "\\Seen")) flags.system |= Seen;
        else if (loft::iequals(word, "\\Answered")) flags.system |= Answered;
        else if (loft::iequals(word, "\\Flagged")) flags.system |= Flagged;
        else if (loft::iequals(word, "\\Deleted")) flags.system |= Deleted;
        else if (loft::iequals(word, "\\Draft")) flags.system |= Draft;
        else flags.keywords.push_back(word);
    }
    return flags;
}

void dump(MboxStore& store)
{
    for (const auto& entry : store.list()) {
        std::cout << "MAILBOX\t" << entry.name << "\t" << entry.attributes;
        if (entry.attributes & NoSelect) {
            std::cout << "\n";
            continue;
        }
        auto box = store.open(entry.name, true);
        std::cout << "\t" << box->uidvalidity() << "\t" << box->uidnext() << "\n";
        for (const auto& info : box->messages())
            std::cout << "MSG\t" << entry.name << "\t" << info.uid << "\t" << flag_names(info.flags) << "\t"
                      << info.virtual_size << "\t" << info.internal_date << "\n";
    }
    for (const auto& name : store.subscriptions())
        std::cout << "SUB\t" << name << "\n";
}

void become_owner(const std::string& root)
{
    struct stat st;
    if (::stat(root.c_str(), &st) < 0)
        return;
    if (::setgroups(0, nullptr) < 0 || ::setgid(st.st_gid) < 0 || ::setuid(st.st_uid) < 0)
        throw std::runtime_error("cannot switch to the mbox owner");
}

int run(std::vector<std::string> args)
{
    bool as_owner = false;
    if (!args.empty() && args[0] == "--as-owner") {
        as_owner = true;
        args.erase(args.begin());
    }
    if (args.size() < 2) {
        std::cerr << "usage: mbox_dump [--as-owner] LOCATION COMMAND ARGS...\n";
        return 2;
    }
    MboxStore store(args[0]);
    if (as_owner)
        become_owner(store.location().inbox.substr(0, store.location().inbox.rfind('/')));
    const std::string& command = args[1];
    auto need = [&](size_t n) {
        if (args.size() < n)
            throw std::runtime_error("missing arguments for " + command);
    };
    if (command == "dump") {
        dump(store);
    } else if (command == "append") {
        need(4);
        std::ifstream in(args[3], std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        std::vector<std::string> words(args.begin() + 4, args.end());
        int64_t date = 0;
        if (!words.empty() && words.back()[0] == '@') {
            date = std::stoll(words.back().substr(1));
            words.pop_back();
        }
        auto box = store.open(args[2], false);
        auto append = box->begin_append(parse_flags(words), date);
        std::string text = content.str();
        // Feed in odd-sized chunks to exercise CRLF handling across chunk borders.
        for (size_t pos = 0; pos < text.size(); pos += 7)
            append.write(std::string_view(text).substr(pos, 7));
        std::cout << append.commit() << "\n";
    } else if (command == "store") {
        need(5);
        std::vector<uint32_t> uids;
        for (const auto& uid : loft::split(args[3], ','))
            uids.push_back(static_cast<uint32_t>(std::stoul(uid)));
        auto op = args[4] == "+" ? MboxMailbox::FlagOp::Add
                  : args[4] == "-" ? MboxMailbox::FlagOp::Remove
                                   : MboxMailbox::FlagOp::Replace;
        auto box = store.open(args[2], false);
        for (const auto& info : box->store_flags(uids, op, parse_flags({args.begin() + 5, args.end()})))
            std::cout << info.uid << "\t" << flag_names(info.flags) << "\n";
    } else if (command == "fetch") {
        need(4);
        auto box = store.open(args[2], true);
        std::cout << box->message_text(static_cast<uint32_t>(std::stoul(args[3])));
    } else if (command == "stress") {
        // Appends and expunges in a loop until killed or done: the crash test kill -9s us.
        need(4);
        int rounds = std::stoi(args[3]);
        auto box = store.open(args[2], false);
        for (int i = 0; i < rounds; i++) {
            std::string text = "Subject: stress " + std::to_string(i) + "\n\n";
            for (int line = 0; line < 20 + i % 50; line++)
                text += "line " + std::to_string(i) + "\n";
            text += "From here on a line that looks like a separator " + std::to_string(i) + "\n";
            text += "end " + std::to_string(i) + "\n";
            auto append = box->begin_append({}, 0);
            append.write(text);
            append.commit();
            if (i % 3 == 2) {
                std::vector<uint32_t> uids;
                for (const auto& info : box->messages())
                    if (info.uid % 2 == 0)
                        uids.push_back(info.uid);
                box->store_flags(uids, MboxMailbox::FlagOp::Add, parse_flags({"\\Deleted"}));
                box->expunge();
            }
        }
    } else if (command == "flagstress") {
        // In-place header rewrites, moves and expunges until killed or done.
        need(4);
        int rounds = std::stoi(args[3]);
        auto box = store.open(args[2], false);
        std::vector<std::string> many;
        for (int k = 0; k < 8; k++)
            many.push_back("$LongerKeywordNumber" + std::to_string(k));
        for (int i = 0; i < rounds; i++) {
            std::vector<uint32_t> uids;
            for (const auto& info : box->messages())
                if ((info.uid + static_cast<uint32_t>(i)) % 4 == 0)
                    uids.push_back(info.uid);
            Flags flags = parse_flags({i % 2 ? "\\Seen" : "\\Flagged", "kw" + std::to_string(i % 5)});
            if (i % 4 == 1)
                flags.keywords.insert(flags.keywords.end(), many.begin(), many.end());
            box->store_flags(uids, i % 3 == 2 ? MboxMailbox::FlagOp::Remove : MboxMailbox::FlagOp::Add, flags);
            if (i % 7 == 6) {
                std::vector<uint32_t> doomed;
                for (const auto& info : box->messages())
                    if (info.uid % 5 == static_cast<uint32_t>(i) % 5)
                        doomed.push_back(info.uid);
                box->store_flags(doomed, MboxMailbox::FlagOp::Add, parse_flags({"\\Deleted"}));
                box->expunge();
                for (size_t n = 0; n < doomed.size(); n++) {
                    std::string text = "Subject: stress " + std::to_string(i) + "\n\n";
                    for (int line = 0; line < 20 + i % 50; line++)
                        text += "line " + std::to_string(i) + "\n";
                    text += "From here on a line that looks like a separator " + std::to_string(i) + "\n";
                    text += "end " + std::to_string(i) + "\n";
                    auto append = box->begin_append({}, 0);
                    append.write(text);
                    append.commit();
                }
            }
        }
    } else if (command == "sync") {
        need(3);
        store.open(args[2], false);
    } else if (command == "expunge") {
        need(3);
        auto box = store.open(args[2], false);
        for (uint32_t uid : box->expunge())
            std::cout << uid << "\n";
    } else if (command == "copy" || command == "move") {
        need(5);
        std::vector<uint32_t> uids;
        for (const auto& uid : loft::split(args[4], ','))
            uids.push_back(static_cast<uint32_t>(std::stoul(uid)));
        auto source = store.open(args[2], command == "copy");
        auto dest = store.open(args[3], false);
        for (const auto& [from, to] : dest->copy_from(*source, uids, command == "move"))
            std::cout << from << " " << to << "\n";
    } else if (command == "create") {
        need(3);
        store.create(args[2]);
    } else if (command == "delete") {
        need(3);
        store.remove(args[2]);
    } else if (command == "rename") {
        need(4);
        store.rename(args[2], args[3]);
    } else if (command == "subscribe" || command == "unsubscribe") {
        need(3);
        store.subscribe(args[2], command == "subscribe");
    } else {
        std::cerr << "unknown command " << command << "\n";
        return 2;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        std::cerr << "mbox_dump: " << e.what() << "\n";
        return 1;
    }
}
