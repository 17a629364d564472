#include "storage/maildir/dotlock.h"
#include "storage/mbox/format.h"
#include "storage/mbox/store.h"
#include "storage/storage_error.h"
#include "../storage/test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

using namespace loft::storage;
using storage_test::read_fd;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

const std::string mta_mbox =
    "From a@b.example  Mon Jan  1 10:00:00 2024\nSubject: one\n\nbody one\n\n"
    "From c@d.example  Tue Jan  2 11:00:00 2024\nSubject: two\nStatus: R\n\nbody two\n\n";

uint32_t append(MboxMailbox& box, const std::string& text, const Flags& flags = {}, int64_t date = 0)
{
    auto append = box.begin_append(flags, date);
    append.write(text);
    return append.commit();
}

std::string location_of(const TempDir& dir)
{
    return dir.path() + "/mail:INBOX=" + dir.path() + "/inbox";
}

mbox::MboxOptions quick_locks()
{
    mbox::MboxOptions options;
    options.locks.lock_timeout = std::chrono::seconds(1);
    return options;
}

std::vector<std::string> names(const std::vector<MailboxListEntry>& entries)
{
    std::vector<std::string> out;
    for (const auto& entry : entries)
        out.push_back(entry.name + ((entry.attributes & NoSelect) ? "/" : ""));
    return out;
}

}  // namespace

class MboxMailboxTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MboxMailboxTest);
    CPPUNIT_TEST(mta_messages_get_uids_written_back);
    CPPUNIT_TEST(read_only_open_does_not_write);
    CPPUNIT_TEST(lazy_writes_wait_for_the_next_change);
    CPPUNIT_TEST(append_store_expunge);
    CPPUNIT_TEST(expunging_everything_keeps_uidnext_in_pseudo_message);
    CPPUNIT_TEST(external_rewrite_is_noticed);
    CPPUNIT_TEST(broken_uid_order_is_renumbered);
    CPPUNIT_TEST(copy_and_move);
    CPPUNIT_TEST(dotlock_held_elsewhere_blocks_writes);
    CPPUNIT_TEST(fcntl_lock_held_elsewhere_blocks_writes);
    CPPUNIT_TEST(store_tree_operations);
    CPPUNIT_TEST(subscriptions);
    CPPUNIT_TEST(appends_append_without_rewriting);
    CPPUNIT_TEST(dirty_sync_reads_only_what_an_mta_appended);
    CPPUNIT_TEST(dirty_sync_notices_a_rewrite_of_the_same_prefix_size);
    CPPUNIT_TEST(modseqs_survive_reopening_and_count_outside_changes);
    CPPUNIT_TEST(index_min_size_and_memory_index);
    CPPUNIT_TEST(torn_append_is_cut_off_by_the_next_writer);
    CPPUNIT_TEST_SUITE_END();

public:
    void mta_messages_get_uids_written_back()
    {
        TempDir dir;
        write_file(dir / "inbox", mta_mbox);
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(1u, box->messages()[0].uid);
        CPPUNIT_ASSERT_EQUAL(2u, box->messages()[1].uid);
        CPPUNIT_ASSERT_EQUAL(3u, box->uidnext());
        CPPUNIT_ASSERT(box->messages()[0].flags.system & Recent);
        CPPUNIT_ASSERT(box->messages()[1].flags.system & Seen);
        std::string text = read_file(dir / "inbox");
        CPPUNIT_ASSERT(text.find("X-IMAPbase: " + std::to_string(box->uidvalidity()) + " 0000000002\n") !=
                       std::string::npos);
        CPPUNIT_ASSERT(text.find("X-UID: 2\n") != std::string::npos);
        CPPUNIT_ASSERT(text.find("From c@d.example  Tue Jan  2 11:00:00 2024\n") != std::string::npos);
        // A new session sees the same UIDs and UIDVALIDITY; \Recent was used up.
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(box->uidvalidity(), again->uidvalidity());
        CPPUNIT_ASSERT_EQUAL(2u, again->messages()[1].uid);
        CPPUNIT_ASSERT(!(again->messages()[0].flags.system & Recent));
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: one\n\nbody one\n"), again->message_text(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t(26), again->messages()[0].virtual_size);  // CRLF size
    }

    void read_only_open_does_not_write()
    {
        TempDir dir;
        write_file(dir / "inbox", mta_mbox);
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(2u, box->messages()[1].uid);
        CPPUNIT_ASSERT_EQUAL(mta_mbox, read_file(dir / "inbox"));
        CPPUNIT_ASSERT_THROW(box->expunge(), StorageError);
    }

    void lazy_writes_wait_for_the_next_change()
    {
        TempDir dir;
        std::string text = "From a  Mon Jan  1 10:00:00 2024\nX-IMAPbase: 9 0000000004\nX-UID: 4\nStatus: RO\n\na\n\n"
                           "From mta  Mon Jan  1 10:00:00 2024\nSubject: new\n\nb\n\n";
        write_file(dir / "inbox", text);
        {
            MboxStore store(location_of(dir));
            auto box = store.open("INBOX", false);
            CPPUNIT_ASSERT_EQUAL(5u, box->messages().at(1).uid);
            CPPUNIT_ASSERT_EQUAL(text, read_file(dir / "inbox"));
            box->store_flags({4}, MboxMailbox::FlagOp::Add, Flags{Flagged, {}});
            CPPUNIT_ASSERT(read_file(dir / "inbox").find("X-UID: 5\n") != std::string::npos);
        }
        write_file(dir / "inbox", text);
        mbox::MboxOptions eager;
        eager.lazy_writes = false;
        MboxStore store(location_of(dir), '/', eager);
        auto box = store.open("INBOX", false);
        CPPUNIT_ASSERT(read_file(dir / "inbox").find("X-UID: 5\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(9u, box->uidvalidity());
    }

    void append_store_expunge()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        CPPUNIT_ASSERT(box->messages().empty());
        Flags seen;
        seen.system = Seen;
        seen.keywords = {"$Forwarded"};
        CPPUNIT_ASSERT_EQUAL(1u, append(*box, "Subject: a\r\n\r\nbody a\r\n", seen, 1706778000));
        CPPUNIT_ASSERT_EQUAL(2u, append(*box, "Subject: b\r\n\r\nno newline"));
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), box->find(1)->internal_date);
        CPPUNIT_ASSERT_EQUAL(uint64_t(26), box->find(2)->virtual_size);  // as Dovecot: newline added
        auto fd = box->open_message(2);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: b\n\nno newline\n"), read_fd(fd.get()));

        uint64_t before = box->highest_modseq();
        Flags flagged;
        flagged.system = Flagged | Deleted;
        flagged.keywords = {"Junk"};
        auto changed = box->store_flags({2}, MboxMailbox::FlagOp::Add, flagged);
        CPPUNIT_ASSERT_EQUAL(size_t(1), changed.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(Flagged | Deleted), changed[0].flags.system & ~uint32_t(Recent));
        CPPUNIT_ASSERT(box->highest_modseq() > before);
        std::string text = read_file(dir / "inbox");
        CPPUNIT_ASSERT(text.find("X-Status: FD\n") != std::string::npos);
        CPPUNIT_ASSERT(text.find("X-Keywords: Junk ") != std::string::npos);
        CPPUNIT_ASSERT(text.find("From ") == 0);

        auto reopened = store.open("INBOX", true);
        CPPUNIT_ASSERT(reopened->find(1)->flags.keywords == std::vector<std::string>{"$Forwarded"});
        CPPUNIT_ASSERT(reopened->find(1)->flags.system & Seen);

        CPPUNIT_ASSERT(box->expunge() == std::vector<uint32_t>{2});
        CPPUNIT_ASSERT(box->find(2) == nullptr);
        bool complete = false;
        CPPUNIT_ASSERT(box->expunged_since(before, complete) == std::vector<uint32_t>{2});
        CPPUNIT_ASSERT_EQUAL(3u, box->uidnext());
        CPPUNIT_ASSERT_EQUAL(3u, append(*box, "Subject: c\n\nc\n"));
    }

    void expunging_everything_keeps_uidnext_in_pseudo_message()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        Flags deleted;
        deleted.system = Deleted;
        append(*box, "Subject: x\n\nx\n", deleted);
        append(*box, "Subject: y\n\ny\n", deleted);
        uint32_t uidvalidity = box->uidvalidity();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->expunge().size());
        std::string text = read_file(dir / "inbox");
        CPPUNIT_ASSERT(text.find("X-IMAP: " + std::to_string(uidvalidity) + " 0000000002 ") != std::string::npos);
        auto again = store.open("INBOX", false);
        CPPUNIT_ASSERT(again->messages().empty());
        CPPUNIT_ASSERT_EQUAL(3u, again->uidnext());
        CPPUNIT_ASSERT_EQUAL(uidvalidity, again->uidvalidity());
        CPPUNIT_ASSERT_EQUAL(3u, append(*again, "Subject: z\n\nz\n"));
        auto parsed = mbox::parse_mbox(read_file(dir / "inbox"));
        CPPUNIT_ASSERT(parsed.has_pseudo);
        CPPUNIT_ASSERT_EQUAL(size_t(1), parsed.messages.size());
    }

    void external_rewrite_is_noticed()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        append(*box, "Subject: 1\n\n1\n");
        append(*box, "Subject: 2\n\n2\n");
        // mutt deletes message 1 by rewriting the file without it; the MTA adds one.
        auto parsed = mbox::parse_mbox(read_file(dir / "inbox"));
        parsed.messages.erase(parsed.messages.begin());
        std::string text = mbox::format_mbox(parsed, {}, "h") + "From x@y  Mon Jan  1 10:00:00 2024\nSubject: 3\n\n3\n\n";
        sleep_for_mtime();
        write_file(dir / "inbox", text);
        box->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        CPPUNIT_ASSERT(box->find(1) == nullptr);
        CPPUNIT_ASSERT(box->find(2) != nullptr);
        CPPUNIT_ASSERT_EQUAL(3u, box->messages()[1].uid);
        bool complete = false;
        CPPUNIT_ASSERT(box->expunged_since(0, complete) == std::vector<uint32_t>{1});
    }

    void broken_uid_order_is_renumbered()
    {
        TempDir dir;
        write_file(dir / "inbox",
                   "From a  Mon Jan  1 10:00:00 2024\nX-IMAPbase: 5 0000000009\nX-UID: 4\n\na\n\n"
                   "From a  Mon Jan  1 10:00:00 2024\nX-UID: 3\n\nb\n\n"
                   "From a  Mon Jan  1 10:00:00 2024\nX-UID: 7\n\nc\n\n");
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", true);
        std::vector<uint32_t> uids;
        for (const auto& info : box->messages())
            uids.push_back(info.uid);
        CPPUNIT_ASSERT((uids == std::vector<uint32_t>{4, 10, 11}));
        CPPUNIT_ASSERT_EQUAL(12u, box->uidnext());
        CPPUNIT_ASSERT_EQUAL(5u, box->uidvalidity());
    }

    void copy_and_move()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        store.create("Archive");
        auto inbox = store.open("INBOX", false);
        Flags flags;
        flags.system = Answered;
        flags.keywords = {"Work"};
        append(*inbox, "Subject: 1\n\n1\n", flags, 1700000000);
        append(*inbox, "Subject: 2\n\n2\n");
        auto archive = store.open("Archive", false);
        auto pairs = archive->copy_from(*inbox, {1, 2, 99});
        CPPUNIT_ASSERT_EQUAL(size_t(2), pairs.size());
        CPPUNIT_ASSERT(archive->find(1)->flags.keywords == std::vector<std::string>{"Work"});
        CPPUNIT_ASSERT_EQUAL(int64_t(1700000000), archive->find(1)->internal_date);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: 1\n\n1\n"), archive->message_text(1));
        auto moved = archive->copy_from(*inbox, {2}, true);
        CPPUNIT_ASSERT_EQUAL(3u, moved.at(0).second);
        CPPUNIT_ASSERT(inbox->find(2) == nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t(1), store.open("INBOX", true)->messages().size());
    }

    void dotlock_held_elsewhere_blocks_writes()
    {
        TempDir dir;
        MboxStore store(location_of(dir), '/', quick_locks());
        auto box = store.open("INBOX", false);
        append(*box, "Subject: 1\n\n1\n");
        auto held = maildir::Dotlock::acquire(dir / "inbox");
        try {
            append(*box, "Subject: 2\n\n2\n");
            CPPUNIT_FAIL("wrote without the dotlock");
        } catch (const StorageError& e) {
            CPPUNIT_ASSERT(e.kind() == StorageError::Kind::Locked);
        }
        held.release();
        CPPUNIT_ASSERT_EQUAL(2u, append(*box, "Subject: 2\n\n2\n"));
    }

    void fcntl_lock_held_elsewhere_blocks_writes()
    {
        TempDir dir;
        MboxStore store(location_of(dir), '/', quick_locks());
        auto box = store.open("INBOX", false);
        append(*box, "Subject: 1\n\n1\n");
        int ready[2];
        CPPUNIT_ASSERT(::pipe(ready) == 0);
        pid_t child = ::fork();
        if (child == 0) {
            int fd = ::open((dir / "inbox").c_str(), O_RDWR);
            struct flock fl {};
            fl.l_type = F_WRLCK;
            fl.l_whence = SEEK_SET;
            if (::fcntl(fd, F_SETLK, &fl) < 0)
                ::_exit(1);
            (void)!::write(ready[1], "x", 1);
            ::sleep(3);
            ::_exit(0);
        }
        char c;
        CPPUNIT_ASSERT_EQUAL(ssize_t(1), ::read(ready[0], &c, 1));
        bool locked = false;
        try {
            append(*box, "Subject: 2\n\n2\n");
        } catch (const StorageError& e) {
            locked = e.kind() == StorageError::Kind::Locked;
        }
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        ::close(ready[0]);
        ::close(ready[1]);
        CPPUNIT_ASSERT(locked);
        CPPUNIT_ASSERT_EQUAL(2u, append(*box, "Subject: 2\n\n2\n"));
    }

    void store_tree_operations()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        store.create("Drafts");
        store.create("Archive/2024");
        store.create("Lists/");
        store.create("Entwürfe");
        CPPUNIT_ASSERT(storage_test::read_file(dir / "mail/Drafts").empty());
        CPPUNIT_ASSERT(::access((dir / "mail/Entw&APw-rfe").c_str(), F_OK) == 0);
        try {
            store.create("Drafts/Child");
            CPPUNIT_FAIL("an mbox file got a child");
        } catch (const StorageError& e) {
            CPPUNIT_ASSERT(e.kind() == StorageError::Kind::NotAllowed);
        }
        CPPUNIT_ASSERT_THROW(store.create("Drafts"), StorageError);
        CPPUNIT_ASSERT_THROW(store.create(".imap"), StorageError);
        write_file(dir / "mail/Drafts.lock", "");
        auto listed = names(store.list());
        CPPUNIT_ASSERT((listed == std::vector<std::string>{"INBOX", "Archive/", "Archive/2024", "Drafts", "Entwürfe",
                                                            "Lists/"}));
        auto entries = store.list();
        CPPUNIT_ASSERT(entries[1].attributes & HasChildren);
        CPPUNIT_ASSERT(entries[5].attributes & HasNoChildren);

        auto box = store.open("Archive/2024", false);
        append(*box, "Subject: keep\n\nkeep\n");
        uint32_t uidvalidity = box->uidvalidity();
        box.reset();
        store.rename("Archive/2024", "Old/2024");
        CPPUNIT_ASSERT(!store.exists("Archive/2024"));
        CPPUNIT_ASSERT_EQUAL(uidvalidity, store.status("Old/2024").uidvalidity);
        CPPUNIT_ASSERT_EQUAL(1u, store.status("Old/2024").messages);
        CPPUNIT_ASSERT_THROW(store.remove("Old"), StorageError);  // has children
        store.remove("Old/2024");
        store.remove("Old");
        CPPUNIT_ASSERT_THROW(store.remove("INBOX"), StorageError);
        CPPUNIT_ASSERT_THROW(store.open("Nope", true), StorageError);
    }

    void subscriptions()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        store.create("Entwürfe");
        store.subscribe("Entwürfe");
        store.subscribe("INBOX");
        CPPUNIT_ASSERT((store.subscriptions() == std::vector<std::string>{"Entwürfe", "INBOX"}));
        CPPUNIT_ASSERT(read_file(dir / "mail/.subscriptions").find("Entw&APw-rfe") != std::string::npos);
        store.subscribe("Entwürfe", false);
        CPPUNIT_ASSERT((store.subscriptions() == std::vector<std::string>{"INBOX"}));
    }

private:
    static void sleep_for_mtime() { ::usleep(20'000); }

    void appends_append_without_rewriting()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        uint32_t first = append(*box, "Subject: one\r\n\r\nbody\r\n");
        std::string before = read_file(dir / "inbox");
        struct stat st_before;
        CPPUNIT_ASSERT_EQUAL(0, ::stat((dir / "inbox").c_str(), &st_before));
        Flags flags;
        flags.system = Seen;
        uint32_t second = append(*box, "Subject: two\n\nbody two\n", flags, 1700000000);
        std::string after = read_file(dir / "inbox");
        struct stat st_after;
        CPPUNIT_ASSERT_EQUAL(0, ::stat((dir / "inbox").c_str(), &st_after));
        CPPUNIT_ASSERT_EQUAL(first + 1, second);
        // Same file (no rename), old bytes untouched, the new message after them.
        CPPUNIT_ASSERT_EQUAL(st_before.st_ino, st_after.st_ino);
        CPPUNIT_ASSERT_EQUAL(before, after.substr(0, before.size()));
        CPPUNIT_ASSERT(after.find("X-UID: " + std::to_string(second) + "\n", before.size()) != std::string::npos);
        // Another reader (a fresh parse) agrees on UIDs, flags and UIDNEXT.
        MboxStore other(location_of(dir));
        auto again = other.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(size_t(2), again->messages().size());
        CPPUNIT_ASSERT_EQUAL(second, again->messages()[1].uid);
        CPPUNIT_ASSERT(again->messages()[1].flags.system & Seen);
        CPPUNIT_ASSERT_EQUAL(second + 1, again->uidnext());
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: two\n\nbody two\n"), again->message_text(second));
        // A keyword the X-IMAPbase does not list yet makes it a rewrite (the list is updated).
        Flags keyword;
        keyword.keywords = {"$New"};
        append(*box, "Subject: three\n\nx\n", keyword);
        std::string rewritten = read_file(dir / "inbox");
        auto base = rewritten.find("X-IMAP");  // X-IMAP (pseudo message) or X-IMAPbase
        CPPUNIT_ASSERT(base != std::string::npos);
        CPPUNIT_ASSERT(rewritten.substr(base, rewritten.find('\n', base) - base).find(" $New") != std::string::npos);
    }

    void dirty_sync_reads_only_what_an_mta_appended()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        append(*box, "Subject: one\n\nbody\n");
        std::string content = read_file(dir / "inbox");
        std::string mta = "From mta@example.org  Mon Jan  1 10:00:00 2024\nSubject: mta\n\nfrom the MTA\n\n";
        write_file(dir / "inbox", content + mta);
        box->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(2u, box->messages()[1].uid);
        CPPUNIT_ASSERT(box->messages()[1].flags.system & Recent);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: mta\n\nfrom the MTA\n"), box->message_text(2));
        // Lazy writes: the UID is given but not written yet; the next change writes it.
        CPPUNIT_ASSERT_EQUAL(content + mta, read_file(dir / "inbox"));
        Flags seen;
        seen.system = Seen;
        box->store_flags({2}, Mailbox::FlagOp::Add, seen);
        CPPUNIT_ASSERT(read_file(dir / "inbox").find("X-UID: 2\n") != std::string::npos);
    }

    void dirty_sync_notices_a_rewrite_of_the_same_prefix_size()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        append(*box, "Subject: one\n\nbody\n");
        std::string content = read_file(dir / "inbox");
        // Someone changed a byte of the old part and appended: a full read must follow.
        std::string changed = content;
        changed.replace(changed.find("Subject: one"), 12, "Subject: uno");
        write_file(dir / "inbox", changed + "From x  Mon Jan  1 10:00:00 2024\nSubject: mta\n\nx\n\n");
        box->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: uno\n\nbody\n"), box->message_text(1));
    }

    void modseqs_survive_reopening_and_count_outside_changes()
    {
        TempDir dir;
        uint64_t modseq_after_store;
        {
            MboxStore store(location_of(dir));
            auto box = store.open("INBOX", false);
            append(*box, "Subject: one\n\nbody\n");
            append(*box, "Subject: two\n\nbody\n");
            Flags flagged;
            flagged.system = Flagged;
            box->store_flags({1}, Mailbox::FlagOp::Add, flagged);
            Flags deleted;
            deleted.system = Deleted;
            box->store_flags({2}, Mailbox::FlagOp::Add, deleted);
            box->expunge();
            modseq_after_store = box->highest_modseq();
            CPPUNIT_ASSERT(modseq_after_store > 1);
        }
        CPPUNIT_ASSERT(storage_test::read_file(dir / "mail/.imap/INBOX/loft.mbox-index").find("loft-mbox-index 1\n") == 0);
        {
            MboxStore store(location_of(dir));
            auto box = store.open("INBOX", false);
            CPPUNIT_ASSERT_EQUAL(modseq_after_store, box->highest_modseq());
            bool complete = false;
            CPPUNIT_ASSERT(std::vector<uint32_t>{2} == box->expunged_since(1, complete));
            CPPUNIT_ASSERT(complete);
        }
        // Another program (Dovecot, mutt) sets \Seen while Loft is not looking.
        std::string text = read_file(dir / "inbox");
        auto status = text.find("Status: O\n");
        CPPUNIT_ASSERT(status != std::string::npos);
        text.replace(status, 10, "Status: RO\n");
        write_file(dir / "inbox", text);
        {
            MboxStore store(location_of(dir));
            auto box = store.open("INBOX", true);
            CPPUNIT_ASSERT(box->highest_modseq() > modseq_after_store);
            CPPUNIT_ASSERT_EQUAL(box->highest_modseq(), box->find(1)->modseq);
        }
        // The index is Loft's own cache: deleting it only restarts the modseqs.
        ::unlink((dir / "mail/.imap/INBOX/loft.mbox-index").c_str());
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), box->highest_modseq());
        CPPUNIT_ASSERT(box->find(1)->flags.system & Seen);
    }

    void index_min_size_and_memory_index()
    {
        TempDir dir;
        {
            auto options = quick_locks();
            options.min_index_size = 1 << 20;
            MboxStore store(location_of(dir), '/', options);
            auto box = store.open("INBOX", false);
            append(*box, "Subject: small\n\nbody\n");
        }
        CPPUNIT_ASSERT(::access((dir / "mail/.imap/INBOX/loft.mbox-index").c_str(), F_OK) != 0);
        {
            MboxStore store(location_of(dir) + ":INDEX=MEMORY");
            auto box = store.open("INBOX", false);
            append(*box, "Subject: memory\n\nbody\n");
        }
        CPPUNIT_ASSERT(::access((dir / "mail/.imap/INBOX/loft.mbox-index").c_str(), F_OK) != 0);
    }

    void torn_append_is_cut_off_by_the_next_writer()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        {
            auto box = store.open("INBOX", false);
            append(*box, "Subject: whole\n\nbody\n");
        }
        std::string whole = read_file(dir / "inbox");
        struct stat st;
        CPPUNIT_ASSERT_EQUAL(0, ::stat((dir / "inbox").c_str(), &st));
        // What a writer killed in the middle of an append leaves behind.
        std::string torn = "From someone  Mon Jan  1 10:00:00 2024\nSubject: half\nX-UID: 2\n\nhalf a bo";
        write_file(dir / "inbox", whole + torn);
        write_file(dir / ".inbox.loft-append", "loft-append " + std::to_string(st.st_dev) + " " +
                                                   std::to_string(st.st_ino) + " " + std::to_string(whole.size()) +
                                                   " " + std::to_string(whole.size() + 500) + "\n");
        auto box = store.open("INBOX", false);
        uint32_t uid = append(*box, "Subject: next\n\nbody\n");
        std::string after = read_file(dir / "inbox");
        CPPUNIT_ASSERT_EQUAL(whole, after.substr(0, whole.size()));
        CPPUNIT_ASSERT(after.find("half a bo") == std::string::npos);
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-append").c_str(), F_OK) != 0);
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: next\n\nbody\n"), box->message_text(uid));
        CPPUNIT_ASSERT_EQUAL(3u, uid);  // this session saw UID 2 (the torn message): never reused
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MboxMailboxTest);
