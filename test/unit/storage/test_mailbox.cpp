#include "storage/maildir/filename.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/store.h"
#include "storage/maildir/uidlist.h"
#include "storage/storage_error.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::read_fd;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

std::vector<std::string> files_in(const std::string& dir)
{
    auto names = list_dir(dir);
    std::vector<std::string> result = names ? *names : std::vector<std::string>();
    std::sort(result.begin(), result.end());
    return result;
}

uint32_t append(MaildirMailbox& box, const std::string& text, const Flags& flags = {}, int64_t date = 0)
{
    auto append = box.begin_append(flags, date);
    append.write(text);
    return append.commit();
}

Flags keywords_flags(uint32_t system, std::vector<std::string> keywords)
{
    Flags flags;
    flags.system = system;
    flags.keywords = std::move(keywords);
    return flags;
}

}  // namespace

class MailboxTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MailboxTest);
    CPPUNIT_TEST(opening_inbox_creates_maildir_and_uidlist);
    CPPUNIT_TEST(append_stores_lf_and_sizes);
    CPPUNIT_TEST(append_split_crlf_and_bare_cr);
    CPPUNIT_TEST(append_with_flags_goes_to_cur);
    CPPUNIT_TEST(aborted_append_leaves_nothing);
    CPPUNIT_TEST(external_delivery_gets_next_uid_and_recent);
    CPPUNIT_TEST(read_only_sync_leaves_new_alone);
    CPPUNIT_TEST(recent_taken_by_another_server_is_noticed);
    CPPUNIT_TEST(fresh_index_takes_numbered_mail_as_seen);
    CPPUNIT_TEST(existing_dovecot_uidlist_is_respected);
    CPPUNIT_TEST(pop3_identities_come_from_uidlist);
    CPPUNIT_TEST(store_flags_renames_in_ascii_order);
    CPPUNIT_TEST(outside_rename_is_followed);
    CPPUNIT_TEST(outside_flag_change_is_seen_on_sync);
    CPPUNIT_TEST(expunge_removes_deleted_only);
    CPPUNIT_TEST(uidlist_is_compacted_after_many_expunges);
    CPPUNIT_TEST(files_without_sizes_get_computed_sizes);
    CPPUNIT_TEST(keywords_beyond_26_live_in_loft_index);
    CPPUNIT_TEST(stale_tmp_files_are_removed);
    CPPUNIT_TEST(broken_uidlist_is_reported);
    CPPUNIT_TEST(copy_hard_links_and_maps_keywords);
    CPPUNIT_TEST(copy_twice_into_one_folder_gets_new_name);
    CPPUNIT_TEST(move_unlinks_source);
    CPPUNIT_TEST(quota_log_is_appended_when_present);
    CPPUNIT_TEST(partial_uidlist_line_is_cut_before_appending);
    CPPUNIT_TEST(new_keyword_waits_for_uidlist_lock);
    CPPUNIT_TEST(leftover_keywords_lock_is_replaced_under_uidlist_lock);
    CPPUNIT_TEST_SUITE_END();

public:
    void opening_inbox_creates_maildir_and_uidlist()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (const char* sub : {"cur", "new", "tmp"})
            CPPUNIT_ASSERT(is_directory(dir / "Maildir/" + sub));
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/maildirfolder"));
        auto list = parse_uidlist(read_file(dir / "Maildir/dovecot-uidlist"), "t");
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), list.header.next_uid);
        CPPUNIT_ASSERT_EQUAL(box->uidvalidity(), list.header.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->uidnext());
        CPPUNIT_ASSERT(box->messages().empty());
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/dovecot-uidvalidity"));
        struct stat st;
        ::stat((dir / "Maildir/cur").c_str(), &st);
        CPPUNIT_ASSERT_EQUAL(0700u, static_cast<unsigned>(st.st_mode & 0777));
    }
    void append_stores_lf_and_sizes()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        uint32_t uid = append(*box, "Subject: hi\r\n\r\nbody\r\n", {}, 1706778000);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), uid);
        auto names = files_in(dir / "Maildir/new");
        CPPUNIT_ASSERT_EQUAL(size_t(1), names.size());
        auto parsed = parse_maildir_filename(names[0]);
        CPPUNIT_ASSERT_EQUAL(uint64_t(18), *parsed.size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(21), *parsed.vsize);
        CPPUNIT_ASSERT(!parsed.has_info);
        CPPUNIT_ASSERT(names[0].find(".M") != std::string::npos && names[0].find("P" + std::to_string(::getpid()) + ".") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: hi\n\nbody\n"), read_file(dir / "Maildir/new/" + names[0]));
        struct stat st;
        ::stat((dir / "Maildir/new/" + names[0]).c_str(), &st);
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), int64_t(st.st_mtime));
        std::string uidlist = read_file(dir / "Maildir/dovecot-uidlist");
        CPPUNIT_ASSERT(uidlist.find("\n1 :" + names[0] + "\n") != std::string::npos);
        CPPUNIT_ASSERT(files_in(dir / "Maildir/tmp").empty());
        CPPUNIT_ASSERT_EQUAL(size_t(1), box->messages().size());
        const MessageInfo& info = box->messages()[0];
        CPPUNIT_ASSERT_EQUAL(uint64_t(21), info.virtual_size);
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), info.internal_date);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), info.flags.system);  // \Recent belongs to sessions, not files
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->status().recent);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), box->uidnext());
        auto fd = box->open_message(1);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: hi\n\nbody\n"), read_fd(fd.get()));
        CPPUNIT_ASSERT_THROW(box->open_message(2), StorageError);
    }
    void append_split_crlf_and_bare_cr()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        auto a = box->begin_append({}, 0);
        a.write("A\r");
        a.write("\nB\rC\r");  // a bare CR inside and one at the very end stay
        uint32_t uid = a.commit();
        auto fd = box->open_message(uid);
        CPPUNIT_ASSERT_EQUAL(std::string("A\nB\rC\r"), read_fd(fd.get()));
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), box->messages()[0].physical_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(7), box->messages()[0].virtual_size);
    }
    void append_with_flags_goes_to_cur()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "a\n", keywords_flags(Seen | Flagged | Recent, {"$Forwarded", "Junk"}));
        auto names = files_in(dir / "Maildir/cur");
        CPPUNIT_ASSERT_EQUAL(size_t(1), names.size());
        CPPUNIT_ASSERT(names[0].size() > 7 && names[0].substr(names[0].size() - 7) == ":2,FSab");
        CPPUNIT_ASSERT_EQUAL(std::string("0 $Forwarded\n1 Junk\n"), read_file(dir / "Maildir/dovecot-keywords"));
        const auto& info = box->messages()[0];
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen | Flagged), info.flags.system);
        CPPUNIT_ASSERT_EQUAL(size_t(2), info.flags.keywords.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Junk"), info.flags.keywords[1]);
    }
    void aborted_append_leaves_nothing()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        {
            auto a = box->begin_append({}, 0);
            a.write("partial");
            CPPUNIT_ASSERT_EQUAL(size_t(1), files_in(dir / "Maildir/tmp").size());
        }
        CPPUNIT_ASSERT(files_in(dir / "Maildir/tmp").empty());
        CPPUNIT_ASSERT(files_in(dir / "Maildir/new").empty());
        box->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->uidnext());
    }
    void external_delivery_gets_next_uid_and_recent()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "one\n");
        write_file(dir / "Maildir/new/1800000000.M2P9.other,S=4,W=5", "two\n");
        write_file(dir / "Maildir/new/1800000000.M1P9.other,S=6,W=7", "three\n");
        box->sync();
        // Files are numbered in time order, and a read-write sync moves new/ to cur/.
        CPPUNIT_ASSERT_EQUAL(size_t(3), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), box->messages()[1].uid);
        CPPUNIT_ASSERT_EQUAL(uint64_t(7), box->messages()[1].virtual_size);
        CPPUNIT_ASSERT_EQUAL(std::string("cur/1800000000.M1P9.other,S=6,W=7:2,"), box->messages()[1].path_hint);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), box->messages()[2].uid);
        CPPUNIT_ASSERT(files_in(dir / "Maildir/new").empty());
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), box->status().recent);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), box->status().unseen);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), box->status().uidnext);
        // The first read-write SELECT takes them all; after that nobody sees them as \Recent.
        CPPUNIT_ASSERT(std::vector<uint32_t>({1, 2, 3}) == box->claim_recent());
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), box->status().recent);
        CPPUNIT_ASSERT(box->claim_recent().empty());
        box->save_index();
        auto other = store.open("INBOX", false);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), other->status().recent);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), other->messages()[2].uid);
        // A later delivery is \Recent again, for the next SELECT only.
        write_file(dir / "Maildir/new/1800000001.M1P9.other,S=5,W=6", "four\n");
        other->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), other->status().recent);
        CPPUNIT_ASSERT(std::vector<uint32_t>({4}) == other->claim_recent());
        other->save_index();
        box->sync();  // picks up the other object's claim from loft.index
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), box->status().recent);
    }
    void recent_taken_by_another_server_is_noticed()
    {
        // Dovecot SELECTing the folder moves new/ to cur/: from then on those messages are
        // not \Recent for Loft's sessions either.
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.open("INBOX", false);
        write_file(dir / "Maildir/new/1800000000.M1P9.other,S=2,W=3", "x\n");
        write_file(dir / "Maildir/new/1800000000.M2P9.other,S=2,W=3", "y\n");
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), box->status().recent);
        ::rename((dir / "Maildir/new/1800000000.M1P9.other,S=2,W=3").c_str(),
                 (dir / "Maildir/cur/1800000000.M1P9.other,S=2,W=3:2,").c_str());
        box->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->status().recent);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), box->first_recent_uid());
    }
    void fresh_index_takes_numbered_mail_as_seen()
    {
        // Without loft.index: mail that already has UIDs and sits in cur/ is not \Recent;
        // mail still in new/ (no SELECT moved it) and mail numbered now is.
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        {
            auto box = store.open("INBOX", false);
            append(*box, "a\n", keywords_flags(Seen, {}));
            append(*box, "b\n", keywords_flags(Seen, {}));
        }
        ::unlink((dir / "Maildir/loft.index").c_str());
        write_file(dir / "Maildir/new/1800000000.M1P9.other,S=2,W=3", "x\n");
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), uint32_t(box->messages().size()));
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->status().recent);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), box->first_recent_uid());
        {
            auto writer = store.open("INBOX", false);
            append(*writer, "c\n");  // new/, UID 4
            writer->claim_recent();
        }
        ::unlink((dir / "Maildir/loft.index").c_str());
        auto again = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), again->first_recent_uid());
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), again->status().recent);
    }
    void read_only_sync_leaves_new_alone()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.open("INBOX", false);
        write_file(dir / "Maildir/new/1800000000.M1P9.other,S=2,W=3", "x\n");
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(size_t(1), files_in(dir / "Maildir/new").size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(1), box->messages()[0].uid);
        CPPUNIT_ASSERT_THROW(box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(Seen, {})),
                             StorageError);
    }
    void existing_dovecot_uidlist_is_respected()
    {
        TempDir dir;
        storage_test::make_maildir(dir / "Maildir");
        write_file(dir / "Maildir/dovecot-uidlist",
                   "3 V1796005290 N1 G50ec2a25aadd0c6b8054000083ecc375\n"
                   "8 :1796005290.M1P1.vm,S=2,W=3\n"
                   "9 :1796005290.M2P1.vm,S=2,W=3\n"
                   "13 :1796005290.M3P1.vm,S=2,W=3\n");
        write_file(dir / "Maildir/cur/1796005290.M1P1.vm,S=2,W=3:2,S", "a\n");
        write_file(dir / "Maildir/cur/1796005290.M2P1.vm,S=2,W=3:2,T", "b\n");
        write_file(dir / "Maildir/new/1796005290.M3P1.vm,S=2,W=3", "c\n");
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", true);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1796005290), box->uidvalidity());
        CPPUNIT_ASSERT_EQUAL(uint32_t(14), box->uidnext());
        CPPUNIT_ASSERT_EQUAL(size_t(3), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(8), box->messages()[0].uid);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen), box->messages()[0].flags.system);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Deleted), box->messages()[1].flags.system);
        CPPUNIT_ASSERT_EQUAL(uint32_t(13), box->messages()[2].uid);
        CPPUNIT_ASSERT_EQUAL(std::string("50ec2a25aadd0c6b8054000083ecc375"), box->guid());
        auto rw = store.open("INBOX", false);
        uint32_t uid = append(*rw, "d\n");
        CPPUNIT_ASSERT_EQUAL(uint32_t(14), uid);
        std::string uidlist = read_file(dir / "Maildir/dovecot-uidlist");
        // Appended, header untouched (N stays stale exactly as Dovecot leaves it).
        CPPUNIT_ASSERT_EQUAL(0, uidlist.compare(0, 51, "3 V1796005290 N1 G50ec2a25aadd0c6b8054000083ecc375\n"));
        CPPUNIT_ASSERT(uidlist.find("\n14 :") != std::string::npos);
    }
    // POP3 UIDLs a migration stored (P), an empty P meaning the base name, and G as GUID.
    void pop3_identities_come_from_uidlist()
    {
        TempDir dir;
        storage_test::make_maildir(dir / "Maildir");
        write_file(dir / "Maildir/dovecot-uidlist",
                   "3 V1796005290 N1 G50ec2a25aadd0c6b8054000083ecc375\n"
                   "8 Pold-uidl-8 W3 :1796005290.M1P1.vm,S=2\n"
                   "9 P :1796005290.M2P1.vm,S=2\n"
                   "13 Gguid13 :1796005290.M3P1.vm,S=2\n");
        write_file(dir / "Maildir/cur/1796005290.M1P1.vm,S=2:2,S", "a\n");
        write_file(dir / "Maildir/cur/1796005290.M2P1.vm,S=2:2,", "b\n");
        write_file(dir / "Maildir/cur/1796005290.M3P1.vm,S=2:2,", "c\n");
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        auto ids = box->pop3_identities({8, 9, 13, 99});
        CPPUNIT_ASSERT_EQUAL(size_t(4), ids.size());
        CPPUNIT_ASSERT_EQUAL(std::string("old-uidl-8"), ids[0].backend_uidl);
        CPPUNIT_ASSERT_EQUAL(std::string("1796005290.M1P1.vm,S=2"), ids[0].file_name);
        CPPUNIT_ASSERT_EQUAL(std::string("1796005290.M2P1.vm,S=2"), ids[1].backend_uidl);
        CPPUNIT_ASSERT_EQUAL(std::string(""), ids[2].backend_uidl);
        CPPUNIT_ASSERT_EQUAL(std::string("guid13"), ids[2].guid);
        CPPUNIT_ASSERT_EQUAL(std::string("1796005290.M1P1.vm,S=2"), ids[0].guid);
        CPPUNIT_ASSERT_EQUAL(std::string(""), ids[3].file_name);
    }
    // Dovecot deletes any dovecot-keywords.lock it finds while it holds dovecot-uidlist.lock,
    // so adding a keyword must wait for the uidlist lock, not just the keywords one.
    void new_keyword_waits_for_uidlist_lock()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n");
        std::string uidlist_lock = dir / "Maildir/dovecot-uidlist.lock";
        // Held by another live local process (our parent), as Dovecot's would be.
        write_file(uidlist_lock, std::to_string(::getppid()) + ":" + plain_hostname());
        std::atomic<bool> done{false};
        std::exception_ptr failure;
        std::thread worker([&] {
            try {
                box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(0, {"NewKeyword"}));
            } catch (...) {
                failure = std::current_exception();
            }
            done = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        bool finished_while_locked = done;
        bool keywords_written_while_locked = path_exists(dir / "Maildir/dovecot-keywords");
        ::unlink(uidlist_lock.c_str());
        worker.join();
        if (failure)
            std::rethrow_exception(failure);
        CPPUNIT_ASSERT(!finished_while_locked);
        CPPUNIT_ASSERT(!keywords_written_while_locked);
        CPPUNIT_ASSERT_EQUAL(std::string("0 NewKeyword\n"), read_file(dir / "Maildir/dovecot-keywords"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/dovecot-keywords.lock"));
    }
    // With the uidlist lock held, a dovecot-keywords.lock can only be a leftover: Dovecot
    // replaces it at once, whatever PID it names, and so do we.
    void leftover_keywords_lock_is_replaced_under_uidlist_lock()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n");
        write_file(dir / "Maildir/dovecot-keywords.lock", std::to_string(::getppid()) + ":" + plain_hostname());
        auto started = std::chrono::steady_clock::now();
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(0, {"Other"}));
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
        CPPUNIT_ASSERT_EQUAL(std::string("0 Other\n"), read_file(dir / "Maildir/dovecot-keywords"));
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/dovecot-keywords.lock"));
    }
    void store_flags_renames_in_ascii_order()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n");
        using Op = MaildirMailbox::FlagOp;
        auto changed = box->store_flags({1}, Op::Add, keywords_flags(Seen | Answered, {"$label1"}));
        CPPUNIT_ASSERT_EQUAL(size_t(1), changed.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen | Answered), changed[0].flags.system);
        box->store_flags({1}, Op::Add, keywords_flags(Flagged, {"$Forwarded"}));
        auto names = files_in(dir / "Maildir/cur");
        CPPUNIT_ASSERT_EQUAL(size_t(1), names.size());
        CPPUNIT_ASSERT(files_in(dir / "Maildir/new").empty());
        CPPUNIT_ASSERT_EQUAL(std::string(":2,FRSab"), names[0].substr(names[0].find(':')));
        box->store_flags({1}, Op::Remove, keywords_flags(Answered, {"$label1"}));
        names = files_in(dir / "Maildir/cur");
        CPPUNIT_ASSERT_EQUAL(std::string(":2,FSb"), names[0].substr(names[0].find(':')));
        changed = box->store_flags({1, 99}, Op::Replace, keywords_flags(Draft, {}));
        CPPUNIT_ASSERT_EQUAL(size_t(1), changed.size());
        names = files_in(dir / "Maildir/cur");
        CPPUNIT_ASSERT_EQUAL(std::string(":2,D"), names[0].substr(names[0].find(':')));
        CPPUNIT_ASSERT(box->messages()[0].flags.keywords.empty());
    }
    void outside_rename_is_followed()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "body\n", keywords_flags(Seen, {}));
        std::string old_name = files_in(dir / "Maildir/cur")[0];
        std::string base = std::string(maildir_base_name(old_name));
        ::rename((dir / "Maildir/cur/" + old_name).c_str(), (dir / "Maildir/cur/" + base + ":2,FS").c_str());
        auto fd = box->open_message(1);
        CPPUNIT_ASSERT_EQUAL(std::string("body\n"), read_fd(fd.get()));
        // The other party's \Flagged survives our change.
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(Answered, {}));
        CPPUNIT_ASSERT_EQUAL(base + ":2,FRS", files_in(dir / "Maildir/cur")[0]);
        ::unlink((dir / "Maildir/cur/" + base + ":2,FRS").c_str());
        CPPUNIT_ASSERT_THROW(box->open_message(1), StorageError);
        CPPUNIT_ASSERT(box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(Draft, {})).empty());
        box->sync();
        CPPUNIT_ASSERT(box->messages().empty());
    }
    void outside_flag_change_is_seen_on_sync()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n", keywords_flags(0, {"Junk"}));
        std::string name = files_in(dir / "Maildir/cur")[0];
        std::string base = std::string(maildir_base_name(name));
        write_file(dir / "Maildir/dovecot-keywords", "0 Junk\n1 NonJunk\n");
        ::rename((dir / "Maildir/cur/" + name).c_str(), (dir / "Maildir/cur/" + base + ":2,Sb").c_str());
        box->sync();
        const auto& info = box->messages()[0];
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen), info.flags.system);
        CPPUNIT_ASSERT(std::vector<std::string>{"NonJunk"} == info.flags.keywords);
    }
    void expunge_removes_deleted_only()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 8; i++)
            append(*box, "m" + std::to_string(i) + "\n");
        box->store_flags({2, 4}, MaildirMailbox::FlagOp::Add, keywords_flags(Deleted, {}));
        auto gone = box->expunge();
        CPPUNIT_ASSERT((std::vector<uint32_t>{2, 4}) == gone);
        CPPUNIT_ASSERT_EQUAL(size_t(6), box->messages().size());
        CPPUNIT_ASSERT_EQUAL(size_t(6), files_in(dir / "Maildir/new").size() + files_in(dir / "Maildir/cur").size());
        box->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), box->messages()[1].uid);
        CPPUNIT_ASSERT_EQUAL(uint32_t(9), box->uidnext());
        // Records of expunged mail stay (append-only) while >= 75% are still live.
        auto list = parse_uidlist(read_file(dir / "Maildir/dovecot-uidlist"), "t");
        CPPUNIT_ASSERT_EQUAL(size_t(8), list.records.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(9), append(*box, "again\n"));
    }
    void uidlist_is_compacted_after_many_expunges()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        for (int i = 0; i < 8; i++)
            append(*box, "m\n");
        box->store_flags({1, 2, 3, 4, 5, 6}, MaildirMailbox::FlagOp::Add, keywords_flags(Deleted, {}));
        box->expunge();
        box->sync();
        auto list = parse_uidlist(read_file(dir / "Maildir/dovecot-uidlist"), "t");
        CPPUNIT_ASSERT_EQUAL(size_t(2), list.records.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(7), list.records[0].uid);
        CPPUNIT_ASSERT_EQUAL(uint32_t(9), list.header.next_uid);
        CPPUNIT_ASSERT_EQUAL(uint32_t(9), box->uidnext());
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/dovecot-uidlist.lock"));
    }
    void files_without_sizes_get_computed_sizes()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.open("INBOX", false);
        write_file(dir / "Maildir/cur/123.456_7.host:2,S", "a\nb\r\nc");
        auto box = store.open("INBOX", false);
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), box->messages()[0].physical_size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(7), box->messages()[0].virtual_size);
    }
    void keywords_beyond_26_live_in_loft_index()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n");
        std::vector<std::string> many;
        for (int i = 0; i < 27; i++)
            many.push_back("kw" + std::to_string(i));
        // Like Dovecot: the first 26 get letters, the rest live in loft.index only.
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(0, many));
        CPPUNIT_ASSERT(many == box->messages()[0].flags.keywords);
        std::string name = files_in(dir / "Maildir/cur")[0];
        CPPUNIT_ASSERT_EQUAL(std::string(":2,abcdefghijklmnopqrstuvwxyz"), name.substr(name.find(':')));
        append(*box, "y\n", keywords_flags(Seen, {"kw26", "kw0", "Fresh"}));
        CPPUNIT_ASSERT((std::vector<std::string>{"kw0", "kw26", "Fresh"}) == box->messages()[1].flags.keywords);
        box->store_flags({1}, MaildirMailbox::FlagOp::Remove, keywords_flags(0, {"kw26", "kw3"}));
        box->save_index();
        {
            auto again = store.open("INBOX", false);
            auto expected = many;
            expected.erase(expected.begin() + 26);
            expected.erase(expected.begin() + 3);
            CPPUNIT_ASSERT(expected == again->messages()[0].flags.keywords);
            CPPUNIT_ASSERT((std::vector<std::string>{"kw0", "kw26", "Fresh"}) == again->messages()[1].flags.keywords);
            // A copy into another folder gets letters there again.
            store.create("Other");
            auto other = store.open("Other", false);
            other->copy_from(*again, {2});
            CPPUNIT_ASSERT((std::vector<std::string>{"kw0", "kw26", "Fresh"}) == other->messages()[0].flags.keywords);
            CPPUNIT_ASSERT_EQUAL(std::string("0 kw0\n1 kw26\n2 Fresh\n"), read_file(dir / "Maildir/.Other/dovecot-keywords"));
        }
        box->store_flags({1}, MaildirMailbox::FlagOp::Replace, keywords_flags(0, {"kw27"}));
        CPPUNIT_ASSERT(std::vector<std::string>{"kw27"} == box->messages()[0].flags.keywords);
        CPPUNIT_ASSERT_THROW(box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(0, {"bad kw"})),
                             StorageError);
    }
    void stale_tmp_files_are_removed()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.open("INBOX", false);
        write_file(dir / "Maildir/tmp/young", "x");
        // An old atime on tmp/ means "not scanned for a week": the scan runs and touches it.
        time_t old = ::time(nullptr) - 8 * 24 * 3600;
        struct timespec times[2] = {{old, 0}, {old, 0}};
        ::utimensat(AT_FDCWD, (dir / "Maildir/tmp").c_str(), times, 0);
        store.open("INBOX", false);
        struct stat st;
        ::stat((dir / "Maildir/tmp").c_str(), &st);
        CPPUNIT_ASSERT(st.st_atime > old + 3600);
        // ctime cannot be faked, so a file old enough to delete cannot be made here.
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/tmp/young"));
    }
    void broken_uidlist_is_reported()
    {
        TempDir dir;
        storage_test::make_maildir(dir / "Maildir");
        write_file(dir / "Maildir/dovecot-uidlist", "3 V1 N1\n5 :a\n4 :b\n");
        MaildirStore store(dir / "Maildir");
        try {
            store.open("INBOX", false);
            CPPUNIT_FAIL("expected Corrupted");
        } catch (const StorageError& e) {
            CPPUNIT_ASSERT(e.kind() == StorageError::Kind::Corrupted);
        }
    }
    void copy_hard_links_and_maps_keywords()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Dest");
        auto dest = store.open("Dest", false);
        auto a = dest->begin_append(keywords_flags(0, {"Other"}), 0);
        a.write("dest\n");
        a.commit();
        auto box = store.open("INBOX", false);
        append(*box, "plain\n", {}, 1700000000);
        append(*box, "flagged\n", keywords_flags(Seen, {"$label1"}), 1700000001);
        auto mapping = dest->copy_from(*box, {1, 2, 77});
        CPPUNIT_ASSERT_EQUAL(size_t(2), mapping.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), mapping[0].second);
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), mapping[1].first);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), mapping[1].second);
        // Same inode and base name; the keyword has letter b in Dest, a in INBOX.
        std::string src_name = files_in(dir / "Maildir/cur")[0];
        std::string base = std::string(maildir_base_name(src_name));
        CPPUNIT_ASSERT_EQUAL(std::string(":2,Sa"), src_name.substr(src_name.find(':')));
        CPPUNIT_ASSERT(path_exists(dir / "Maildir/.Dest/cur/" + base + ":2,Sb"));
        struct stat st;
        ::stat((dir / "Maildir/cur/" + src_name).c_str(), &st);
        CPPUNIT_ASSERT_EQUAL(nlink_t(2), st.st_nlink);
        CPPUNIT_ASSERT_EQUAL(size_t(1), files_in(dir / "Maildir/.Dest/new").size());
        dest->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(3), dest->messages().size());
        CPPUNIT_ASSERT_EQUAL(int64_t(1700000000), dest->messages()[1].internal_date);
        CPPUNIT_ASSERT(std::vector<std::string>{"$label1"} == dest->messages()[2].flags.keywords);
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
    }
    void copy_twice_into_one_folder_gets_new_name()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "x\n");
        auto mapping = box->copy_from(*box, {1});
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), mapping.at(0).second);
        box->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(2), box->messages().size());
        auto fd = box->open_message(2);
        CPPUNIT_ASSERT_EQUAL(std::string("x\n"), read_fd(fd.get()));
        auto list = parse_uidlist(read_file(dir / "Maildir/dovecot-uidlist"), "t");
        CPPUNIT_ASSERT(list.records[0].base_name != list.records[1].base_name);
        CPPUNIT_ASSERT_THROW(box->copy_from(*box, {1}, true), StorageError);
    }
    void move_unlinks_source()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Trash");
        auto box = store.open("INBOX", false);
        auto trash = store.open("Trash", false);
        append(*box, "a\n");
        append(*box, "b\n", keywords_flags(Seen, {}));
        auto mapping = trash->copy_from(*box, {2}, true);
        CPPUNIT_ASSERT_EQUAL(size_t(1), mapping.size());
        CPPUNIT_ASSERT_EQUAL(size_t(1), box->messages().size());
        CPPUNIT_ASSERT(files_in(dir / "Maildir/cur").empty());
        box->sync();
        CPPUNIT_ASSERT_EQUAL(size_t(1), box->messages().size());
        trash->sync();
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen), trash->messages()[0].flags.system & ~uint32_t(Recent));
        auto fd = trash->open_message(mapping[0].second);
        CPPUNIT_ASSERT_EQUAL(std::string("b\n"), read_fd(fd.get()));
    }
    void quota_log_is_appended_when_present()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        store.create("Trash");
        auto box = store.open("INBOX", false);
        append(*box, "no quota file yet\n");
        CPPUNIT_ASSERT(!path_exists(dir / "Maildir/maildirsize"));
        write_file(dir / "Maildir/maildirsize", "104857600S\n0 0\n");
        append(*box, "1234\r\n");
        auto trash = store.open("Trash", false);
        trash->copy_from(*box, {2}, true);
        box->store_flags({1}, MaildirMailbox::FlagOp::Add, keywords_flags(Deleted, {}));
        box->expunge();
        CPPUNIT_ASSERT_EQUAL(std::string("104857600S\n0 0\n5 1\n5 1\n-5 -1\n-18 -1\n"),
                             read_file(dir / "Maildir/maildirsize"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), box->status().size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), trash->status().size);
    }
    void partial_uidlist_line_is_cut_before_appending()
    {
        TempDir dir;
        MaildirStore store(dir / "Maildir");
        auto box = store.open("INBOX", false);
        append(*box, "a\n");
        std::string path = dir / "Maildir/dovecot-uidlist";
        std::string before = read_file(path);
        write_file(path, before + "2 :1796000000.M5P9.crashed-wri");  // a writer died here
        CPPUNIT_ASSERT_EQUAL(uint32_t(2), append(*box, "b\n"));
        std::string after = read_file(path);
        CPPUNIT_ASSERT(after.find("crashed") == std::string::npos);
        auto list = parse_uidlist(after, "t");
        CPPUNIT_ASSERT_EQUAL(size_t(2), list.records.size());
        CPPUNIT_ASSERT_EQUAL(0, after.compare(0, before.size(), before));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MailboxTest);
