// In-place mbox writes: flag changes use the X-Keywords padding, longer headers move the
// rest of the file, expunges move later messages down and truncate; the inode stays; a
// redo journal left by a killed writer is finished by the next one.
#include "storage/mbox/format.h"
#include "storage/mbox/redo_journal.h"
#include "storage/mbox/store.h"
#include "../storage/test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace loft::storage;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

std::string location_of(const TempDir& dir)
{
    return dir.path() + "/mail:INBOX=" + dir.path() + "/inbox";
}

uint32_t append(MboxMailbox& box, const std::string& text, const Flags& flags = {})
{
    auto append = box.begin_append(flags, 1706778000);
    append.write(text);
    return append.commit();
}

struct stat stat_of(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0)
        throw std::runtime_error("stat " + path);
    return st;
}

std::string body_of(int n)
{
    std::string body;
    for (int i = 0; i < 20 + n; i++)
        body += "line " + std::to_string(i) + " of message " + std::to_string(n) + "\n";
    return body;
}

std::string text_of(int n)
{
    return "Subject: message " + std::to_string(n) + "\n\n" + body_of(n);
}

// An mbox written by Loft with `count` messages; returns the open mailbox.
std::unique_ptr<Mailbox> filled(MboxStore& store, int count)
{
    auto box = store.open("INBOX", false);
    auto* mbox = dynamic_cast<MboxMailbox*>(box.get());
    for (int n = 1; n <= count; n++)
        append(*mbox, text_of(n));
    return box;
}

// Where message n (by its Subject) starts in an mbox text.
size_t offset_of(const std::string& text, int n)
{
    return text.rfind("\nFrom ", text.find("Subject: message " + std::to_string(n) + "\n")) + 1;
}

Flags with(uint32_t system, std::vector<std::string> keywords = {})
{
    Flags flags;
    flags.system = system;
    flags.keywords = std::move(keywords);
    return flags;
}

// Every message as a fresh reader sees it: uid -> (text, flags).
void assert_messages(MboxStore& store, const std::vector<uint32_t>& uids, const std::vector<int>& numbers)
{
    auto box = store.open("INBOX", true);
    auto* mbox = dynamic_cast<MboxMailbox*>(box.get());
    CPPUNIT_ASSERT_EQUAL(uids.size(), box->messages().size());
    for (size_t i = 0; i < uids.size(); i++) {
        CPPUNIT_ASSERT_EQUAL(uids[i], box->messages()[i].uid);
        CPPUNIT_ASSERT_EQUAL(text_of(numbers[i]), mbox->message_text(uids[i]));
    }
}

}  // namespace

class MboxInPlaceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MboxInPlaceTest);
    CPPUNIT_TEST(appended_messages_reserve_padding);
    CPPUNIT_TEST(flag_change_uses_padding);
    CPPUNIT_TEST(new_keyword_in_imapbase_fits_in_first_message);
    CPPUNIT_TEST(exhausted_padding_moves_the_rest);
    CPPUNIT_TEST(expunge_first);
    CPPUNIT_TEST(expunge_middle);
    CPPUNIT_TEST(expunge_last);
    CPPUNIT_TEST(expunge_all_leaves_pseudo_message);
    CPPUNIT_TEST(mta_mail_gets_uids_in_place);
    CPPUNIT_TEST(unterminated_last_message_gets_separator);
    CPPUNIT_TEST(redo_journal_is_finished_by_next_writer);
    CPPUNIT_TEST(incomplete_redo_journal_is_dropped);
    CPPUNIT_TEST(redo_journal_of_a_file_changed_since_is_dropped);
    CPPUNIT_TEST(redo_journal_keeps_later_appends);
    CPPUNIT_TEST_SUITE_END();

public:
    void appended_messages_reserve_padding()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 2);
        std::string text = read_file(dir / "inbox");
        CPPUNIT_ASSERT(text.find("X-Keywords:" + std::string(mbox::kHeaderPadding, ' ') + "\n") != std::string::npos);
    }

    void flag_change_uses_padding()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 3);
        box->store_flags({1, 2, 3}, Mailbox::FlagOp::Add, with(0, {"$label1"}));  // known keyword from now on
        std::string before = read_file(dir / "inbox");
        struct stat st = stat_of(dir / "inbox");
        box->store_flags({2}, Mailbox::FlagOp::Add, with(Seen | Flagged | Answered));
        std::string after = read_file(dir / "inbox");
        struct stat st2 = stat_of(dir / "inbox");
        CPPUNIT_ASSERT_EQUAL(st.st_ino, st2.st_ino);
        CPPUNIT_ASSERT_EQUAL(before.size(), after.size());
        // Only message 2's header block changed.
        size_t second = offset_of(before, 2);
        size_t third = offset_of(before, 3);
        CPPUNIT_ASSERT_EQUAL(before.substr(0, second), after.substr(0, second));
        CPPUNIT_ASSERT_EQUAL(before.substr(third), after.substr(third));
        std::string block = after.substr(second, third - second);
        CPPUNIT_ASSERT(block.find("Status: RO\n") != std::string::npos);
        CPPUNIT_ASSERT(block.find("X-Status: AF\n") != std::string::npos);
        CPPUNIT_ASSERT(block.find("X-Keywords: $label1 ") != std::string::npos);
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen | Flagged | Answered), again->find(2)->flags.system);
        CPPUNIT_ASSERT(again->find(2)->flags.keywords == std::vector<std::string>{"$label1"});
        assert_messages(store, {1, 2, 3}, {1, 2, 3});
    }

    void new_keyword_in_imapbase_fits_in_first_message()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 3);
        box->store_flags({1}, Mailbox::FlagOp::Add, with(0));  // the X-IMAPbase is up to date now
        std::string before = read_file(dir / "inbox");
        box->store_flags({3}, Mailbox::FlagOp::Add, with(0, {"Junk"}));
        std::string after = read_file(dir / "inbox");
        CPPUNIT_ASSERT_EQUAL(before.size(), after.size());
        CPPUNIT_ASSERT(after.find(" 0000000003 Junk ") != std::string::npos);
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT(again->find(3)->flags.keywords == std::vector<std::string>{"Junk"});
        assert_messages(store, {1, 2, 3}, {1, 2, 3});
    }

    void exhausted_padding_moves_the_rest()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 4);
        ino_t inode = stat_of(dir / "inbox").st_ino;
        size_t size = read_file(dir / "inbox").size();
        std::vector<std::string> many;
        for (int i = 0; i < 12; i++)
            many.push_back("LongKeyword" + std::to_string(i));
        box->store_flags({2}, Mailbox::FlagOp::Add, with(Flagged, many));
        std::string after = read_file(dir / "inbox");
        CPPUNIT_ASSERT_EQUAL(inode, stat_of(dir / "inbox").st_ino);
        CPPUNIT_ASSERT(after.size() > size);
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT(again->find(2)->flags.keywords == many);
        CPPUNIT_ASSERT(again->find(2)->flags.system & Flagged);
        assert_messages(store, {1, 2, 3, 4}, {1, 2, 3, 4});
        // The moved message got fresh padding: the next change fits again.
        size = after.size();
        box->store_flags({2}, Mailbox::FlagOp::Add, with(Seen, {"$label1"}));
        CPPUNIT_ASSERT_EQUAL(size, read_file(dir / "inbox").size());
        // And this session's memory of the moved offsets is right.
        box->store_flags({4}, Mailbox::FlagOp::Add, with(Deleted));
        box->store_flags({3}, Mailbox::FlagOp::Add, with(Draft));
        auto third = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Draft), third->find(3)->flags.system & ~uint32_t(Recent));
        CPPUNIT_ASSERT_EQUAL(uint32_t(Deleted), third->find(4)->flags.system & ~uint32_t(Recent));
        assert_messages(store, {1, 2, 3, 4}, {1, 2, 3, 4});
    }

    void expunge_case(std::vector<uint32_t> doomed, std::vector<uint32_t> kept_uids, std::vector<int> kept)
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 4);
        ino_t inode = stat_of(dir / "inbox").st_ino;
        size_t size = read_file(dir / "inbox").size();
        box->store_flags(doomed, Mailbox::FlagOp::Add, with(Deleted));
        CPPUNIT_ASSERT(box->expunge() == doomed);
        std::string after = read_file(dir / "inbox");
        CPPUNIT_ASSERT_EQUAL(inode, stat_of(dir / "inbox").st_ino);
        CPPUNIT_ASSERT(after.size() < size);
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
        auto parsed = mbox::parse_mbox(after);
        CPPUNIT_ASSERT_EQUAL(kept.size(), parsed.messages.size());
        CPPUNIT_ASSERT(parsed.uidvalidity != 0);  // the (new) first message holds X-IMAPbase
        CPPUNIT_ASSERT_EQUAL(5u, parsed.next_uid);
        assert_messages(store, kept_uids, kept);
        // The session goes on with the right offsets.
        box->store_flags({kept_uids.back()}, Mailbox::FlagOp::Add, with(Flagged));
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT(again->find(kept_uids.back())->flags.system & Flagged);
        assert_messages(store, kept_uids, kept);
    }

    void expunge_first() { expunge_case({1}, {2, 3, 4}, {2, 3, 4}); }
    void expunge_middle() { expunge_case({2, 3}, {1, 4}, {1, 4}); }
    void expunge_last() { expunge_case({4}, {1, 2, 3}, {1, 2, 3}); }

    void expunge_all_leaves_pseudo_message()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        auto box = filled(store, 2);
        ino_t inode = stat_of(dir / "inbox").st_ino;
        box->store_flags({1, 2}, Mailbox::FlagOp::Add, with(Deleted));
        box->expunge();
        CPPUNIT_ASSERT_EQUAL(inode, stat_of(dir / "inbox").st_ino);
        auto parsed = mbox::parse_mbox(read_file(dir / "inbox"));
        CPPUNIT_ASSERT(parsed.has_pseudo);
        CPPUNIT_ASSERT(parsed.messages.empty());
        CPPUNIT_ASSERT_EQUAL(3u, parsed.next_uid);
    }

    void mta_mail_gets_uids_in_place()
    {
        TempDir dir;
        std::string mta = "From a@b.example  Mon Jan  1 10:00:00 2024\nSubject: message 1\n\n" + body_of(1) + "\n" +
                          "From c@d.example  Tue Jan  2 11:00:00 2024\nSubject: message 2\n\n" + body_of(2) + "\n";
        write_file(dir / "inbox", mta);
        ino_t inode = stat_of(dir / "inbox").st_ino;
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        box->store_flags({2}, Mailbox::FlagOp::Add, with(Seen));
        CPPUNIT_ASSERT_EQUAL(inode, stat_of(dir / "inbox").st_ino);
        std::string after = read_file(dir / "inbox");
        CPPUNIT_ASSERT(after.find("X-UID: 2\n") != std::string::npos);
        assert_messages(store, {1, 2}, {1, 2});
    }

    void unterminated_last_message_gets_separator()
    {
        TempDir dir;
        // The last message ends without the blank line; an append must not glue onto it.
        std::string mta = "From a@b.example  Mon Jan  1 10:00:00 2024\nSubject: message 1\n\n" + body_of(1);
        write_file(dir / "inbox", mta);
        MboxStore store(location_of(dir));
        auto box = store.open("INBOX", false);
        auto* mbox = dynamic_cast<MboxMailbox*>(box.get());
        append(*mbox, text_of(2));
        box->store_flags({1}, Mailbox::FlagOp::Add, with(Seen));
        assert_messages(store, {1, 2}, {1, 2});
    }

    void redo_journal_is_finished_by_next_writer()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        filled(store, 3);
        std::string before = read_file(dir / "inbox");
        struct stat st = stat_of(dir / "inbox");
        // A writer that died after its journal was complete, halfway through the moves:
        // its record says "drop message 2"; the file shows half of that.
        size_t second = offset_of(before, 2);
        size_t third = offset_of(before, 3);
        mbox::RedoRecord record;
        record.dev = st.st_dev;
        record.ino = st.st_ino;
        record.old_size = before.size();
        record.new_size = before.size() - (third - second);
        record.patches.push_back({second, before.substr(third)});
        {
            loft::UniqueFd fd(::open((dir / "inbox").c_str(), O_RDONLY));
            record.guard = mbox::prefix_fingerprint(fd.get(), second, "inbox");
        }
        mbox::write_redo_journal(dir / ".inbox.loft-redo", dir / ".inbox.loft-tmp.redo.1", record);
        std::string torn = before.substr(0, second) + before.substr(third, 100) + before.substr(second + 100);
        write_file(dir / "inbox", torn);
        assert_messages(store, {1, 3}, {1, 3});  // a reader finishes it first
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
        CPPUNIT_ASSERT_EQUAL(before.substr(0, second) + before.substr(third), read_file(dir / "inbox"));
    }

    void incomplete_redo_journal_is_dropped()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        filled(store, 2);
        std::string before = read_file(dir / "inbox");
        struct stat st = stat_of(dir / "inbox");
        write_file(dir / ".inbox.loft-redo", "loft-redo 1 " + std::to_string(st.st_dev) + " " +
                                                 std::to_string(st.st_ino) + " 10 5 0 1\n0 5\nXXXXX");  // no trailer
        assert_messages(store, {1, 2}, {1, 2});
        CPPUNIT_ASSERT_EQUAL(before, read_file(dir / "inbox"));
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
    }

    void redo_journal_of_a_file_changed_since_is_dropped()
    {
        TempDir dir;
        MboxStore store(location_of(dir));
        filled(store, 3);
        std::string before = read_file(dir / "inbox");
        struct stat st = stat_of(dir / "inbox");
        size_t second = offset_of(before, 2);
        mbox::RedoRecord record;
        record.dev = st.st_dev;
        record.ino = st.st_ino;
        record.old_size = before.size();
        record.new_size = second;
        record.guard = 12345;  // not the fingerprint of what is there now
        mbox::write_redo_journal(dir / ".inbox.loft-redo", dir / ".inbox.loft-tmp.redo.1", record);
        assert_messages(store, {1, 2, 3}, {1, 2, 3});
        CPPUNIT_ASSERT_EQUAL(before, read_file(dir / "inbox"));
        CPPUNIT_ASSERT(::access((dir / ".inbox.loft-redo").c_str(), F_OK) != 0);
    }

    void redo_journal_keeps_later_appends()
    {
        TempDir dir;
        std::string path = dir / "file";
        write_file(path, "0123456789" "ABCDEF");  // 10 old bytes, then what someone appended
        mbox::RedoRecord record;
        record.old_size = 10;
        record.new_size = 6;
        record.patches.push_back({2, "abcd"});
        loft::UniqueFd fd(::open(path.c_str(), O_RDWR));
        mbox::apply_redo(fd.get(), record, path);
        CPPUNIT_ASSERT_EQUAL(std::string("01abcdABCDEF"), read_file(path));
        mbox::FilePatch small{4090, "abc"}, spanning{4094, "abc"};
        CPPUNIT_ASSERT(!mbox::patch_may_tear(small));
        CPPUNIT_ASSERT(mbox::patch_may_tear(spanning));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MboxInPlaceTest);
