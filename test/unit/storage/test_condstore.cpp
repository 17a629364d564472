// Modseq rules the CONDSTORE/QRESYNC commands rely on: one modseq per operation,
// STORE UNCHANGEDSINCE checked per message, UID EXPUNGE touching nothing else.
#include "storage/maildir/fs_util.h"
#include "storage/maildir/store.h"
#include "storage/storage_error.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::TempDir;

namespace {

uint32_t append(MaildirMailbox& box, const std::string& text)
{
    auto a = box.begin_append(Flags{}, 0);
    a.write(text);
    return a.commit();
}

Flags system_flags(uint32_t system)
{
    Flags flags;
    flags.system = system;
    return flags;
}

}  // namespace

class CondstoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CondstoreTest);
    CPPUNIT_TEST(one_store_is_one_modseq);
    CPPUNIT_TEST(unchanged_since_checks_each_message);
    CPPUNIT_TEST(unchanged_since_yields_to_an_outside_rename);
    CPPUNIT_TEST(uid_expunge_leaves_other_messages_alone);
    CPPUNIT_TEST(writable_later_keeps_modseqs);
    CPPUNIT_TEST_SUITE_END();

public:
    void one_store_is_one_modseq()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 3; i++)
            append(*box, "m\n");
        uint64_t before = box->highest_modseq();
        auto changed = box->store_flags({1, 2, 3}, MaildirMailbox::FlagOp::Add, system_flags(Flagged));
        CPPUNIT_ASSERT_EQUAL(size_t(3), changed.size());
        for (const auto& info : changed)
            CPPUNIT_ASSERT_EQUAL(before + 1, info.modseq);
        CPPUNIT_ASSERT_EQUAL(before + 1, box->highest_modseq());
        // Expunging two messages is one change too.
        box->store_flags({1, 3}, MaildirMailbox::FlagOp::Add, system_flags(Deleted));
        uint64_t mark = box->highest_modseq();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->expunge().size());
        CPPUNIT_ASSERT_EQUAL(mark + 1, box->highest_modseq());
        bool complete = false;
        CPPUNIT_ASSERT((std::vector<uint32_t>{1, 3}) == box->expunged_since(mark, complete));
    }
    void unchanged_since_checks_each_message()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 3; i++)
            append(*box, "m\n");
        uint64_t limit = box->highest_modseq();
        box->store_flags({2}, MaildirMailbox::FlagOp::Add, system_flags(Seen));
        std::vector<uint32_t> modified;
        auto changed = box->store_flags_unchanged_since({1, 2, 3}, MaildirMailbox::FlagOp::Add,
                                                        system_flags(Answered), limit, modified);
        CPPUNIT_ASSERT((std::vector<uint32_t>{2}) == modified);
        CPPUNIT_ASSERT_EQUAL(size_t(2), changed.size());
        CPPUNIT_ASSERT(box->find(1)->flags.system & Answered);
        CPPUNIT_ASSERT(!(box->find(2)->flags.system & Answered));
        CPPUNIT_ASSERT(box->find(3)->flags.system & Answered);
        // UNCHANGEDSINCE 0 never succeeds for a message that exists.
        modified.clear();
        box->store_flags_unchanged_since({3}, MaildirMailbox::FlagOp::Add, system_flags(Seen), 0, modified);
        CPPUNIT_ASSERT((std::vector<uint32_t>{3}) == modified);
        CPPUNIT_ASSERT(!(box->find(3)->flags.system & Seen));
    }
    void unchanged_since_yields_to_an_outside_rename()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "m\n");
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, system_flags(Seen));
        uint64_t limit = box->highest_modseq();
        // Another program sets \Flagged without this instance having synced.
        std::string name = (*list_dir(dir / "Maildir/cur"))[0];
        std::string base = name.substr(0, name.find(':'));
        CPPUNIT_ASSERT_EQUAL(0, std::rename((dir / "Maildir/cur/" + name).c_str(),
                                            (dir / "Maildir/cur/" + base + ":2,FS").c_str()));
        std::vector<uint32_t> modified;
        box->store_flags_unchanged_since({1}, MaildirMailbox::FlagOp::Add, system_flags(Draft), limit, modified);
        CPPUNIT_ASSERT((std::vector<uint32_t>{1}) == modified);
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/cur/" + base + ":2,FS"));
        box->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(Flagged | Seen), box->find(1)->flags.system & ~uint32_t(Recent));
        CPPUNIT_ASSERT(box->find(1)->modseq > limit);
    }
    void uid_expunge_leaves_other_messages_alone()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 3; i++)
            append(*box, "m\n");
        box->store_flags({1, 2}, MaildirMailbox::FlagOp::Add, system_flags(Deleted));
        uint64_t kept_modseq = box->find(1)->modseq;
        uint64_t mark = box->highest_modseq();
        CPPUNIT_ASSERT((std::vector<uint32_t>{2}) == box->expunge_uids({2, 3}));
        CPPUNIT_ASSERT(box->find(1) != nullptr);
        CPPUNIT_ASSERT_EQUAL(kept_modseq, box->find(1)->modseq);
        CPPUNIT_ASSERT(box->find(3) != nullptr);
        CPPUNIT_ASSERT_EQUAL(mark + 1, box->highest_modseq());
    }
    void writable_later_keeps_modseqs()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        {
            auto box = store.open("INBOX", false);
            append(*box, "m\n");
        }
        auto box = store.open("INBOX", true);
        box->sync();
        uint64_t before = box->highest_modseq();
        CPPUNIT_ASSERT_THROW(box->store_flags({1}, MaildirMailbox::FlagOp::Add, system_flags(Seen)), StorageError);
        box->make_writable();
        box->sync();
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, system_flags(Seen));
        CPPUNIT_ASSERT_EQUAL(before + 1, box->highest_modseq());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CondstoreTest);
