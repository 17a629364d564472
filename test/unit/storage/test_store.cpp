#include "storage/maildir/fs_util.h"
#include "storage/maildir/store.h"
#include "storage/maildir/uidlist.h"
#include "storage/storage_error.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <functional>
#include <map>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

std::map<std::string, uint32_t> listing(const MaildirStore& store)
{
    std::map<std::string, uint32_t> result;
    for (const auto& entry : store.list())
        result[entry.name] = entry.attributes;
    return result;
}

StorageError::Kind error_kind(const std::function<void()>& action)
{
    try {
        action();
    } catch (const StorageError& e) {
        return e.kind();
    }
    CPPUNIT_FAIL("expected a StorageError");
    return StorageError::Kind::Io;
}

}  // namespace

class StoreTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StoreTest);
    CPPUNIT_TEST(lists_maildirplusplus_tree_like_dovecot);
    CPPUNIT_TEST(create_allocates_increasing_uidvalidity);
    CPPUNIT_TEST(create_existing_fails);
    CPPUNIT_TEST(bad_names_are_rejected);
    CPPUNIT_TEST(rename_keeps_uidvalidity_and_children);
    CPPUNIT_TEST(delete_removes_mailbox);
    CPPUNIT_TEST(subscriptions_in_dovecot_format);
    CPPUNIT_TEST(layout_fs_uses_directories);
    CPPUNIT_TEST(control_dir_holds_uidlist);
    CPPUNIT_TEST(utf8_option_stores_raw_names);
    CPPUNIT_TEST(status_counts);
    CPPUNIT_TEST(inbox_children_and_trailing_separator);
    CPPUNIT_TEST(rename_inbox_is_refused);
    CPPUNIT_TEST(special_use_for_existing_mailboxes);
    CPPUNIT_TEST(maildirsize_is_created_with_quota);
    CPPUNIT_TEST_SUITE_END();

public:
    void lists_maildirplusplus_tree_like_dovecot()
    {
        TempDir dir;
        std::string root = dir / "Maildir";
        storage_test::make_maildir(root);
        for (const char* name : {".Archive", ".Archive.2024", ".Work.Projects.Alpha", ".Entw&APw-rfe", ".Test &- Co"})
            storage_test::make_maildir(root + "/" + name);
        ::mkdir((root + "/..DOVECOT-TRASHED").c_str(), 0700);
        MaildirStore store(root);
        auto l = listing(store);
        CPPUNIT_ASSERT_EQUAL(size_t(8), l.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasChildren), l["Archive"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["Archive/2024"]);
        // Parents without a folder of their own: \Noselect, and \NonExistent for LIST-EXTENDED.
        CPPUNIT_ASSERT_EQUAL(uint32_t(NoSelect | NonExistent | HasChildren), l["Work"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(NoSelect | NonExistent | HasChildren), l["Work/Projects"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["Work/Projects/Alpha"]);
        CPPUNIT_ASSERT(l.count("Entw\xC3\xBC" "rfe"));
        CPPUNIT_ASSERT(l.count("Test & Co"));
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["INBOX"]);
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX"), store.list()[0].name);
    }
    void create_allocates_increasing_uidvalidity()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Drafts");
        store.create("Archive/2024");
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/.Archive.2024/cur"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/.Archive"));
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/.Drafts/maildirfolder"));
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/maildirfolder"));
        auto inbox = parse_uidlist(read_file(dir / "Maildir/dovecot-uidlist"), "t").header.uidvalidity;
        auto drafts = parse_uidlist(read_file(dir / "Maildir/.Drafts/dovecot-uidlist"), "t").header.uidvalidity;
        auto archive = parse_uidlist(read_file(dir / "Maildir/.Archive.2024/dovecot-uidlist"), "t").header.uidvalidity;
        CPPUNIT_ASSERT_EQUAL(inbox + 1, drafts);
        CPPUNIT_ASSERT_EQUAL(drafts + 1, archive);
        CPPUNIT_ASSERT_EQUAL(archive, store.open("Archive/2024", true)->uidvalidity());
        CPPUNIT_ASSERT_EQUAL(uint32_t(NoSelect | NonExistent | HasChildren), listing(store)["Archive"]);
    }
    void create_existing_fails()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("A");
        CPPUNIT_ASSERT(error_kind([&] { store.create("A"); }) == StorageError::Kind::Exists);
        CPPUNIT_ASSERT(error_kind([&] { store.create("inbox"); }) == StorageError::Kind::Exists);
        CPPUNIT_ASSERT(error_kind([&] { store.open("Nope", false); }) == StorageError::Kind::NotFound);
    }
    void bad_names_are_rejected()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        for (const char* name : {"a.b", "a//b", "../x", "", "a/\t", "\xC3", "~tilde"})
            CPPUNIT_ASSERT(error_kind([&] { store.create(name); }) == StorageError::Kind::BadName);
        CPPUNIT_ASSERT(error_kind([&] { store.create(std::string(300, 'x')); }) == StorageError::Kind::BadName);
    }
    void rename_keeps_uidvalidity_and_children()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Old");
        store.create("Old/Child");
        uint32_t uv = store.open("Old", true)->uidvalidity();
        {
            auto box = store.open("Old", false);
            auto a = box->begin_append({}, 0);
            a.write("x\n");
            a.commit();
        }
        store.rename("Old", "New/Name");
        auto box = store.open("New/Name", false);
        CPPUNIT_ASSERT_EQUAL(uv, box->uidvalidity());
        CPPUNIT_ASSERT_EQUAL(size_t(1), box->messages().size());
        CPPUNIT_ASSERT(store.exists("New/Name/Child"));
        CPPUNIT_ASSERT(!store.exists("Old"));
        CPPUNIT_ASSERT(!store.exists("Old/Child"));
        CPPUNIT_ASSERT(error_kind([&] { store.rename("New/Name", "New/Name/Sub"); }) == StorageError::Kind::NotAllowed);
        store.create("Other");
        CPPUNIT_ASSERT(error_kind([&] { store.rename("Other", "New/Name"); }) == StorageError::Kind::Exists);
        CPPUNIT_ASSERT(error_kind([&] { store.rename("Missing", "X"); }) == StorageError::Kind::NotFound);
        CPPUNIT_ASSERT(error_kind([&] { store.rename("Other", "inbox"); }) == StorageError::Kind::Exists);
    }
    void delete_removes_mailbox()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Temp");
        store.remove("Temp");
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/.Temp"));
        CPPUNIT_ASSERT_EQUAL(size_t(1), store.list().size());
        auto names = list_dir(dir / "Maildir");
        for (const auto& name : *names)
            CPPUNIT_ASSERT(name.find("loft-deleted") == std::string::npos);
        CPPUNIT_ASSERT(error_kind([&] { store.remove("Temp"); }) == StorageError::Kind::NotFound);
        CPPUNIT_ASSERT(error_kind([&] { store.remove("INBOX"); }) == StorageError::Kind::NotAllowed);
    }
    void subscriptions_in_dovecot_format()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Archive/2024");
        store.subscribe("Drafts");
        store.subscribe("Archive/2024");
        store.subscribe("Entw\xC3\xBC" "rfe");
        store.subscribe("Trash");
        store.subscribe("Trash", false);
        store.subscribe("Trash");
        CPPUNIT_ASSERT_EQUAL(std::string("V\t2\n\nDrafts\nArchive\t2024\nEntw&APw-rfe\nTrash\n"),
                             read_file(dir / "Maildir/subscriptions"));
        auto subs = store.subscriptions();
        CPPUNIT_ASSERT_EQUAL(size_t(4), subs.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Archive/2024"), subs[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("Entw\xC3\xBC" "rfe"), subs[2]);
    }
    void layout_fs_uses_directories()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir:LAYOUT=fs");
        store.create("A/B");
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/A/B/cur"));
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/cur"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/A/B/maildirfolder"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/maildirfolder"));
        auto l = listing(store);
        CPPUNIT_ASSERT_EQUAL(uint32_t(NoSelect | HasChildren), l["A"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["A/B"]);
        store.rename("A/B", "C");
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/C/cur"));
        store.create("C/D");
        store.remove("C");  // has a child: only the mail goes
        l = listing(store);
        CPPUNIT_ASSERT_EQUAL(uint32_t(NoSelect | HasChildren), l["C"]);
        CPPUNIT_ASSERT(store.exists("C/D"));
    }
    void control_dir_holds_uidlist()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir:CONTROL=" + dir / "control");
        store.create("Box");
        store.subscribe("Box");
        CPPUNIT_ASSERT(path_exists(dir / "control/.Box/dovecot-uidlist"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/.Box/dovecot-uidlist"));
        CPPUNIT_ASSERT(path_exists(dir / "control/dovecot-uidlist"));
        CPPUNIT_ASSERT(path_exists(dir / "control/subscriptions"));
        CPPUNIT_ASSERT(path_exists(dir / "control/dovecot-uidvalidity"));
        uint32_t uv = store.open("Box", true)->uidvalidity();
        store.rename("Box", "Moved");
        CPPUNIT_ASSERT_EQUAL(uv, store.open("Moved", true)->uidvalidity());
    }
    void utf8_option_stores_raw_names()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir:UTF-8");
        store.create("Entw\xC3\xBC" "rfe");
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/.Entw\xC3\xBC" "rfe"));
        CPPUNIT_ASSERT(listing(store).count("Entw\xC3\xBC" "rfe"));
    }
    void status_counts()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        {
            auto box = store.open("INBOX", false);
            Flags seen;
            seen.system = Seen;
            for (int i = 0; i < 3; i++) {
                auto a = box->begin_append(i == 0 ? seen : Flags{}, 0);
                a.write("x\n");
                a.commit();
            }
        }
        auto st = store.status("INBOX");
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), st.messages);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), st.unseen);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), st.uidnext);
    }
    void inbox_children_and_trailing_separator()
    {
        // As Dovecot 2.3 does: "inbox/Lower" is INBOX's child in ".INBOX.Lower", and
        // "x/" creates the mailbox x.
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("inbox/Lower");
        store.create("x/");
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/.INBOX.Lower/cur"));
        CPPUNIT_ASSERT(is_directory(dir / "Maildir/.x/cur"));
        auto l = listing(store);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasChildren), l["INBOX"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["INBOX/Lower"]);
        CPPUNIT_ASSERT_EQUAL(uint32_t(HasNoChildren), l["x"]);
    }
    void rename_inbox_is_refused()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("INBOX/Child");
        {
            auto box = store.open("INBOX", false);
            for (int i = 0; i < 2; i++) {
                auto a = box->begin_append({}, 0);
                a.write("m\n");
                a.commit();
            }
        }
        // Dovecot 2.3 refuses to rename a Maildir INBOX (NO [CANNOT]); nothing moves.
        CPPUNIT_ASSERT(error_kind([&] { store.rename("INBOX", "Old Inbox"); }) == StorageError::Kind::BadName);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), store.status("INBOX").messages);
        CPPUNIT_ASSERT(!store.exists("Old Inbox"));
        CPPUNIT_ASSERT(store.exists("INBOX/Child"));
    }
    void maildirsize_is_created_with_quota()
    {
        QuotaLimits limits = MaildirStore::parse_quota_rule("*:storage=100M:messages=50");
        CPPUNIT_ASSERT_EQUAL(uint64_t(104857600), limits.storage_bytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(50), limits.messages);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2048), MaildirStore::parse_quota_rule("*:storage=2").storage_bytes);  // kB
        CPPUNIT_ASSERT(error_kind([] { MaildirStore::parse_quota_rule("*:storage=5X"); }) ==
                       StorageError::Kind::BadName);
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Sent");
        write_file(dir / "Maildir/.Sent/cur/1.M1P1.h,S=100,W=104:2,S", std::string(100, 'x'));
        write_file(dir / "Maildir/new/2.M1P1.h,S=7,W=8", "abcdef\n");
        store.set_quota(QuotaLimits{1000, 0});
        {
            auto box = store.open("INBOX", false);
            CPPUNIT_ASSERT_EQUAL(std::string("1000S\n107 2\n"), read_file(dir / "Maildir/maildirsize"));
            auto a = box->begin_append({}, 0);
            a.write("hello\n");
            a.commit();
        }
        // Later saves log their deltas, as Dovecot's quota does.
        CPPUNIT_ASSERT_EQUAL(std::string("1000S\n107 2\n6 1\n"), read_file(dir / "Maildir/maildirsize"));
    }
    void special_use_for_existing_mailboxes()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.set_special_use({{"Sent", "\\Sent"}, {"Trash", "\\Trash"}});
        store.create("Sent");
        std::string sent_use, trash_seen;
        for (const auto& entry : store.list()) {
            if (entry.name == "Sent")
                sent_use = entry.special_use;
            if (entry.name == "Trash")
                trash_seen = "listed";
        }
        CPPUNIT_ASSERT_EQUAL(std::string("\\Sent"), sent_use);
        CPPUNIT_ASSERT(trash_seen.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreTest);
