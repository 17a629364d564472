// The daemon's classes work through the storage interface: the same views over an mbox
// store, and COPY/MOVE between a Maildir and an mbox mailbox (read + append).
#include "temp_dir.h"
#include "storage/daemon/user_storage.h"
#include "storage/maildir/store.h"
#include "storage/mbox/store.h"

#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace loft::storage;
using namespace loft::storage::daemon;

namespace {
using loft::storage::daemon::test::TempDir;

std::string slurp(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string read_fd(loft::UniqueFd fd)
{
    std::string data;
    char buffer[4096];
    ssize_t got;
    while ((got = read(fd.get(), buffer, sizeof buffer)) > 0)
        data.append(buffer, static_cast<size_t>(got));
    return data;
}

uint32_t deliver(Mailbox& box, const std::string& text, const Flags& flags = {}, int64_t date = 0)
{
    auto append = box.begin_append(flags, date);
    append.write(text);
    return append.commit();
}

std::unique_ptr<MailStore> mbox_store(const TempDir& dir)
{
    std::filesystem::create_directories(dir.path / "spool");
    std::string location = "mbox:" + (dir.path / "mail").string() + ":INBOX=" + (dir.path / "spool/alice").string();
    return std::make_unique<MboxStore>(location, '/');
}
}  // namespace

class BackendTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BackendTest);
    CPPUNIT_TEST(views_work_over_an_mbox_store);
    CPPUNIT_TEST(copy_from_maildir_into_mbox_keeps_flags_date_and_body);
    CPPUNIT_TEST(move_from_mbox_into_maildir_expunges_only_the_moved);
    CPPUNIT_TEST_SUITE_END();

public:
    void views_work_over_an_mbox_store()
    {
        TempDir dir;
        UserStorage user("alice", mbox_store(dir));
        user.store().create("Archive");
        CPPUNIT_ASSERT(user.store().exists("Archive"));
        auto delivery = user.open("INBOX", false);
        deliver(delivery->box(), "Subject: one\n\nbody\n");
        // The INBOX= file is where the mail went, in mbox format.
        std::string spool = slurp(dir.path / "spool/alice");
        CPPUNIT_ASSERT(spool.rfind("From ", 0) == 0);
        CPPUNIT_ASSERT(spool.find("Subject: one") != std::string::npos);

        auto selected = user.open("INBOX", true);
        View view(selected, false);
        CPPUNIT_ASSERT_EQUAL(size_t(1), view.known_uids().size());
        uint32_t second = deliver(delivery->box(), "Subject: two\n\nbody\n");
        ViewDelta delta = view.take_changes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), delta.added.size());
        CPPUNIT_ASSERT_EQUAL(second, delta.added[0].uid);

        Flags deleted;
        deleted.system = Deleted;
        View other(selected, false);
        other.note_flags(selected->box().store_flags({second}, Mailbox::FlagOp::Add, deleted));
        delta = view.take_changes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), delta.changed.size());
        CPPUNIT_ASSERT(std::vector<uint32_t>{second} == selected->box().expunge());
        CPPUNIT_ASSERT(std::vector<uint32_t>{second} == view.take_changes().expunged);
    }

    void copy_from_maildir_into_mbox_keeps_flags_date_and_body()
    {
        TempDir dir;
        MaildirStore maildir((dir.path / "Maildir").string(), '/');
        auto source = maildir.open("INBOX", false);
        Flags flags;
        flags.system = Seen | Flagged;
        flags.keywords = {"$Work"};
        uint32_t uid = deliver(*source, "Subject: copied\r\n\r\nline\r\n", flags, 1700000000);
        source->sync();

        auto mbox = mbox_store(dir);
        mbox->create("Archive");
        std::unique_ptr<Mailbox> target = mbox->open("Archive", false);
        Mailbox& as_interface = *source;
        auto pairs = target->copy_from(as_interface, {uid, 999}, false);
        CPPUNIT_ASSERT_EQUAL(size_t(1), pairs.size());
        CPPUNIT_ASSERT_EQUAL(uid, pairs[0].first);
        const MessageInfo* copied = target->find(pairs[0].second);
        CPPUNIT_ASSERT(copied);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen | Flagged), copied->flags.system & ~uint32_t(Recent));
        CPPUNIT_ASSERT(std::vector<std::string>{"$Work"} == copied->flags.keywords);
        CPPUNIT_ASSERT_EQUAL(int64_t(1700000000), copied->internal_date);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: copied\n\nline\n"), read_fd(target->open_message(pairs[0].second)));
        source->sync();
        CPPUNIT_ASSERT(source->find(uid));  // COPY leaves the source alone
    }

    void move_from_mbox_into_maildir_expunges_only_the_moved()
    {
        TempDir dir;
        auto mbox = mbox_store(dir);
        auto source = mbox->open("INBOX", false);
        Flags deleted;
        deleted.system = Deleted;
        uint32_t keep_deleted = deliver(*source, "Subject: a\n\nA\n", deleted);
        uint32_t moved = deliver(*source, "Subject: b\n\nB\n");
        uint32_t stays = deliver(*source, "Subject: c\n\nC\n");

        MaildirStore maildir((dir.path / "Maildir").string(), '/');
        maildir.create("Moved");
        std::unique_ptr<Mailbox> target = static_cast<MailStore&>(maildir).open("Moved", false);
        auto pairs = target->copy_from(*source, {moved}, true);
        CPPUNIT_ASSERT_EQUAL(size_t(1), pairs.size());
        target->sync();
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: b\n\nB\n"), read_fd(target->open_message(pairs[0].second)));

        source->sync();
        CPPUNIT_ASSERT(!source->find(moved));
        CPPUNIT_ASSERT(source->find(stays));
        // A message that was \Deleted before the MOVE is neither expunged nor undeleted.
        const MessageInfo* still = source->find(keep_deleted);
        CPPUNIT_ASSERT(still);
        CPPUNIT_ASSERT(still->flags.system & Deleted);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BackendTest);
