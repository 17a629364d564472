#include "storage/maildir/fs_util.h"
#include "storage/maildir/index_file.h"
#include "storage/maildir/store.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

uint32_t append(MaildirMailbox& box, const std::string& text, uint32_t system = 0)
{
    Flags flags;
    flags.system = system;
    auto a = box.begin_append(flags, 0);
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

class IndexTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(IndexTest);
    CPPUNIT_TEST(index_round_trips);
    CPPUNIT_TEST(damaged_index_is_rejected);
    CPPUNIT_TEST(modseq_rises_on_changes_only);
    CPPUNIT_TEST(outside_change_gets_modseq);
    CPPUNIT_TEST(expunges_are_remembered_for_vanished);
    CPPUNIT_TEST(index_survives_reopen);
    CPPUNIT_TEST(index_is_disposable);
    CPPUNIT_TEST_SUITE_END();

public:
    void index_round_trips()
    {
        IndexData data;
        data.cur = {1, 2, 3, 4, 5, 6, 7};
        data.uidvalidity = 99;
        data.next_uid = 5;
        data.highest_modseq = 12;
        data.expunge_floor = 3;
        data.guid = "00112233445566778899aabbccddeeff";
        data.messages.push_back({1, 1700000000, 10, 12, 4, "cur/a,S=10:2,S"});
        data.messages.push_back({4, 1700000001, 5, 6, 12, "new/b"});
        data.expunged.push_back({9, 2});
        data.first_recent_uid = 4;
        data.extra_keyword_names = {"kw26", "Later"};
        data.extra_keywords.push_back({4, {"kw26", "Later"}});
        auto parsed = parse_index(format_index(data));
        CPPUNIT_ASSERT(parsed.has_value());
        CPPUNIT_ASSERT(parsed->cur == data.cur);
        CPPUNIT_ASSERT_EQUAL(uint64_t(12), parsed->highest_modseq);
        CPPUNIT_ASSERT_EQUAL(data.guid, parsed->guid);
        CPPUNIT_ASSERT_EQUAL(size_t(2), parsed->messages.size());
        CPPUNIT_ASSERT_EQUAL(std::string("cur/a,S=10:2,S"), parsed->messages[0].filename);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), parsed->expunged[0].second);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), parsed->first_recent_uid);
        CPPUNIT_ASSERT(data.extra_keyword_names == parsed->extra_keyword_names);
        CPPUNIT_ASSERT(data.extra_keywords == parsed->extra_keywords);
        // The \Recent mark can be read from the head of the file alone.
        TempDir dir;
        CPPUNIT_ASSERT(save_index_file(dir / "loft.index", data));
        auto mark = load_index_recent_mark(dir / "loft.index");
        CPPUNIT_ASSERT(mark.has_value());
        CPPUNIT_ASSERT_EQUAL(uint32_t(99), mark->uidvalidity);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), mark->first_recent_uid);
        CPPUNIT_ASSERT(!load_index_recent_mark(dir / "missing").has_value());
    }
    void damaged_index_is_rejected()
    {
        IndexData data;
        data.messages.push_back({1, 1, 1, 1, 1, "cur/x"});
        std::string text = format_index(data);
        CPPUNIT_ASSERT(!parse_index(text.substr(0, text.size() - 5)).has_value());  // torn
        CPPUNIT_ASSERT(!parse_index("garbage\n").has_value());
        std::string bad_path = text;
        bad_path.replace(bad_path.find("cur/x"), 5, "../..");
        CPPUNIT_ASSERT(!parse_index(bad_path).has_value());
    }
    void modseq_rises_on_changes_only()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "a\n");
        append(*box, "b\n");
        uint64_t m1 = box->messages()[0].modseq, m2 = box->messages()[1].modseq;
        CPPUNIT_ASSERT(m2 > m1);
        CPPUNIT_ASSERT_EQUAL(m2, box->highest_modseq());
        auto changed = box->store_flags({1}, MaildirMailbox::FlagOp::Add, system_flags(Seen));
        CPPUNIT_ASSERT(changed[0].modseq > m2);
        uint64_t high = box->highest_modseq();
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, system_flags(Seen));  // no change
        CPPUNIT_ASSERT_EQUAL(high, box->highest_modseq());
        box->sync();
        CPPUNIT_ASSERT_EQUAL(high, box->highest_modseq());
        CPPUNIT_ASSERT_EQUAL(high, box->status().highest_modseq);
    }
    void outside_change_gets_modseq()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "a\n", Seen);
        uint64_t before = box->highest_modseq();
        std::string name = (*list_dir(dir / "Maildir/cur"))[0];
        std::string base = name.substr(0, name.find(':'));
        ::rename((dir / "Maildir/cur/" + name).c_str(), (dir / "Maildir/cur/" + base + ":2,FS").c_str());
        box->sync();
        CPPUNIT_ASSERT(box->messages()[0].modseq > before);
        CPPUNIT_ASSERT(box->messages()[0].flags.system & Flagged);
    }
    void expunges_are_remembered_for_vanished()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 4; i++)
            append(*box, "m\n");
        uint64_t mark = box->highest_modseq();
        box->store_flags({2}, MaildirMailbox::FlagOp::Add, system_flags(Deleted));
        box->expunge();
        // Someone else deletes uid 3.
        ::unlink((dir / "Maildir/" + box->find(3)->path_hint).c_str());
        box->sync();
        bool complete = false;
        auto gone = box->expunged_since(mark, complete);
        CPPUNIT_ASSERT(complete);
        CPPUNIT_ASSERT((std::vector<uint32_t>{2, 3}) == gone);
        CPPUNIT_ASSERT(box->expunged_since(box->highest_modseq(), complete).empty());
    }
    void index_survives_reopen()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        uint64_t high;
        std::vector<uint64_t> modseqs;
        {
            auto box = store.open("INBOX", false);
            for (int i = 0; i < 3; i++)
                append(*box, "m\n");
            box->store_flags({2}, MaildirMailbox::FlagOp::Add, system_flags(Flagged));
            box->sync();
            high = box->highest_modseq();
            for (const auto& info : box->messages())
                modseqs.push_back(info.modseq);
        }
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/loft.index"));
        auto box = store.open("INBOX", false);
        CPPUNIT_ASSERT_EQUAL(high, box->highest_modseq());
        CPPUNIT_ASSERT_EQUAL(size_t(3), box->messages().size());
        for (size_t i = 0; i < 3; i++)
            CPPUNIT_ASSERT_EQUAL(modseqs[i], box->messages()[i].modseq);
        CPPUNIT_ASSERT(box->messages()[1].flags.system & Flagged);
        CPPUNIT_ASSERT_EQUAL(size_t(32), box->guid().size());
    }
    void index_is_disposable()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir:INDEX=" + dir / "idx");
        store.create("Box");
        {
            auto box = store.open("Box", false);
            append(*box, "m\n");
        }
        CPPUNIT_ASSERT(path_exists(dir / "idx/.Box/loft.index"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/.Box/loft.index"));
        write_file(dir / "idx/.Box/loft.index", "LOFT-MAILDIR-INDEX 1\nM broken\n");
        auto box = store.open("Box", false);
        CPPUNIT_ASSERT_EQUAL(size_t(1), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->messages()[0].uid);
        remove_tree(dir / "idx");
        auto again = store.open("Box", true);
        CPPUNIT_ASSERT_EQUAL(size_t(1), again->messages().size());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(IndexTest);
