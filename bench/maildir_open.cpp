// Benchmark (issue 4, item 7): how fast Loft opens a large Maildir folder cold (no
// loft.index) and warm (from loft.index), re-syncs an open folder, and walks every
// message's FLAGS the way a FETCH 1:* FLAGS response would be streamed.
//
// usage: maildir_open MAILDIR [MESSAGES]
// Creates MAILDIR with MESSAGES (default 100000) small messages and a Dovecot-style
// dovecot-uidlist if it does not exist yet. Prints one "name seconds" line per figure.
#include "storage/maildir/fs_util.h"
#include "storage/maildir/store.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

using namespace loft::storage;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void generate(const std::string& root, unsigned count)
{
    ::mkdir(root.c_str(), 0700);
    for (const char* sub : {"/cur", "/new", "/tmp"})
        ::mkdir((root + sub).c_str(), 0700);
    const std::string body = "From: a@example.org\nSubject: bench\n\nhello\n";
    std::string uidlist = "3 V1796000000 N1 G00112233445566778899aabbccddeeff\n";
    for (unsigned i = 1; i <= count; i++) {
        std::string base = "1796000000.M" + std::to_string(i) + "P1.bench,S=" + std::to_string(body.size()) +
                           ",W=" + std::to_string(body.size() + 4);
        std::string name = root + "/cur/" + base + (i % 3 ? ":2,S" : ":2,FS");
        int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ::write(fd, body.data(), body.size()) != static_cast<ssize_t>(body.size())) {
            std::perror(name.c_str());
            std::exit(1);
        }
        ::close(fd);
        uidlist += std::to_string(i) + " :" + base + "\n";
    }
    int fd = ::open((root + "/dovecot-uidlist").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::write(fd, uidlist.data(), uidlist.size()) != static_cast<ssize_t>(uidlist.size()))
        std::exit(1);
    ::close(fd);
}

// Formats FETCH FLAGS lines into a fixed buffer flushed to /dev/null: the response is
// streamed, never built whole.
double fetch_all_flags(const MaildirMailbox& box, size_t& bytes)
{
    int out = ::open("/dev/null", O_WRONLY);
    std::string buffer;
    buffer.reserve(64 * 1024);
    auto start = Clock::now();
    uint32_t seq = 0;
    for (const auto& info : box.messages()) {
        buffer += "* " + std::to_string(++seq) + " FETCH (UID " + std::to_string(info.uid) + " FLAGS (";
        bool first = true;
        for (auto [bit, name] : {std::pair{Answered, "\\Answered"}, {Flagged, "\\Flagged"}, {Deleted, "\\Deleted"},
                                 {Seen, "\\Seen"}, {Draft, "\\Draft"}}) {
            if (info.flags.system & bit) {
                buffer += first ? "" : " ";
                buffer += name;
                first = false;
            }
        }
        for (const auto& keyword : info.flags.keywords)
            buffer += (first ? "" : " ") + keyword, first = false;
        buffer += "))\r\n";
        if (buffer.size() > 60 * 1024) {
            bytes += buffer.size();
            (void)!::write(out, buffer.data(), buffer.size());
            buffer.clear();
        }
    }
    bytes += buffer.size();
    (void)!::write(out, buffer.data(), buffer.size());
    ::close(out);
    return seconds_since(start);
}

long max_rss_kb()
{
    struct rusage usage;
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: maildir_open MAILDIR [MESSAGES]\n";
        return 2;
    }
    std::string root = argv[1];
    unsigned count = argc > 2 ? static_cast<unsigned>(std::stoul(argv[2])) : 100000;
    if (!loft::storage::maildir::is_directory(root + "/cur")) {
        auto start = Clock::now();
        generate(root, count);
        std::cout << "generate " << seconds_since(start) << "\n";
    }
    ::unlink((root + "/loft.index").c_str());
    MaildirStore store(root);

    auto start = Clock::now();
    auto box = store.open("INBOX", true);
    std::cout << "messages " << box->messages().size() << "\n";
    std::cout << "open_cold " << seconds_since(start) << "\n";
    start = Clock::now();
    box->sync();
    std::cout << "resync_unchanged " << seconds_since(start) << "\n";
    size_t bytes = 0;
    std::cout << "fetch_flags_all " << fetch_all_flags(*box, bytes) << "\n";
    std::cout << "fetch_flags_bytes " << bytes << "\n";
    start = Clock::now();
    box.reset();  // writes loft.index
    std::cout << "close_write_index " << seconds_since(start) << "\n";
    ::sleep(2);  // let directory times settle, as they have in a real mailbox
    start = Clock::now();
    box = store.open("INBOX", true);
    std::cout << "open_warm " << seconds_since(start) << "\n";
    std::cout << "max_rss_kb " << max_rss_kb() << "\n";
    return 0;
}
