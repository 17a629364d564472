// Benchmark (mbox in-place writes): how long Loft takes to STORE one flag on one message
// of a large mbox, the way an IMAP session does it (mailbox already open and synced).
//
// usage: mbox_store LOCATION UID ROUNDS
// LOCATION is an mbox mail_location without "mbox:" (e.g. ~/mail:INBOX=~/inbox). Toggles
// \Flagged on UID ROUNDS times; prints "name seconds" lines and whether the inode stayed.
#include "storage/mbox/store.h"

#include <sys/stat.h>

#include <chrono>
#include <iostream>
#include <string>

using namespace loft::storage;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        std::cerr << "usage: mbox_store LOCATION UID ROUNDS\n";
        return 2;
    }
    try {
        MboxStore store(argv[1]);
        auto uid = static_cast<uint32_t>(std::stoul(argv[2]));
        int rounds = std::stoi(argv[3]);
        auto start = Clock::now();
        auto box = store.open("INBOX", false);
        std::cout << "open " << seconds_since(start) << "\n";
        const MessageInfo* info = box->find(uid);
        if (!info) {
            std::cerr << "no message with uid " << uid << "\n";
            return 1;
        }
        struct stat before {};
        ::stat(store.paths_for("INBOX").file.c_str(), &before);
        Flags flagged;
        flagged.system = Flagged;
        start = Clock::now();
        for (int i = 0; i < rounds; i++) {
            box->sync();
            box->store_flags({uid}, i % 2 ? Mailbox::FlagOp::Remove : Mailbox::FlagOp::Add, flagged);
        }
        std::cout << "store " << seconds_since(start) / rounds << "\n";
        struct stat after {};
        ::stat(store.paths_for("INBOX").file.c_str(), &after);
        std::cout << "same_inode " << (before.st_ino == after.st_ino ? "yes" : "no") << "\n";
    } catch (const std::exception& error) {
        std::cerr << "mbox_store: " << error.what() << "\n";
        return 1;
    }
    return 0;
}
