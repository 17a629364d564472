// Views report to each session exactly what changed since it last looked.
#include "temp_dir.h"
#include "storage/daemon/user_storage.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <filesystem>

using namespace loft::storage;
using namespace loft::storage::daemon;

namespace {
using loft::storage::daemon::test::TempDir;

uint32_t deliver(OpenMailbox& mailbox, const std::string& text)
{
    auto append = mailbox.box().begin_append(Flags{}, 0);
    append.write(text);
    uint32_t uid = append.commit();
    mailbox.changed();
    return uid;
}
}  // namespace

class ViewTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ViewTest);
    CPPUNIT_TEST(new_messages_flags_and_expunges_are_reported_once);
    CPPUNIT_TEST(own_changes_are_not_reported_back);
    CPPUNIT_TEST(waiters_wake_on_change);
    CPPUNIT_TEST_SUITE_END();

public:
    void new_messages_flags_and_expunges_are_reported_once()
    {
        TempDir dir;
        UserStorage user("alice", (dir.path / "Maildir").string(), '/');
        auto delivery = user.open("INBOX", false);
        deliver(*delivery, "Subject: one\n\nbody\n");
        auto selected = user.open("INBOX", true);
        View view(selected, false);
        CPPUNIT_ASSERT_EQUAL(size_t(1), view.known_uids().size());
        CPPUNIT_ASSERT(view.take_changes().added.empty());

        uint32_t second = deliver(*delivery, "Subject: two\n\nbody\n");
        ViewDelta delta = view.take_changes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), delta.added.size());
        CPPUNIT_ASSERT_EQUAL(second, delta.added[0].uid);
        CPPUNIT_ASSERT(view.take_changes().added.empty());

        // Another session (another View on the same mailbox) changes flags and expunges.
        View other(selected, false);
        Flags deleted;
        deleted.system = Deleted;
        other.note_flags(selected->box().store_flags({second}, Mailbox::FlagOp::Add, deleted));
        delta = view.take_changes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), delta.changed.size());
        CPPUNIT_ASSERT(delta.changed[0].flags.system & Deleted);
        auto gone = selected->box().expunge();
        CPPUNIT_ASSERT_EQUAL(size_t(1), gone.size());
        delta = view.take_changes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), delta.expunged.size());
        CPPUNIT_ASSERT_EQUAL(second, delta.expunged[0]);
        CPPUNIT_ASSERT_EQUAL(size_t(1), view.known_uids().size());
    }

    void own_changes_are_not_reported_back()
    {
        TempDir dir;
        UserStorage user("alice", (dir.path / "Maildir").string(), '/');
        auto selected = user.open("INBOX", true);
        uint32_t uid = deliver(*user.open("INBOX", false), "Subject: x\n\ny\n");
        View view(selected, false);
        Flags seen;
        seen.system = Seen;
        view.note_flags(selected->box().store_flags({uid}, Mailbox::FlagOp::Add, seen));
        CPPUNIT_ASSERT(view.take_changes().changed.empty());
    }

    void waiters_wake_on_change()
    {
        TempDir dir;
        UserStorage user("alice", (dir.path / "Maildir").string(), '/');
        auto selected = user.open("INBOX", true);
        View view(selected, false);
        int woken = 0;
        view.set_waiter([&] { woken++; });
        deliver(*user.open("INBOX", false), "Subject: x\n\ny\n");
        user.mailbox_changed("inbox");
        CPPUNIT_ASSERT_EQUAL(1, woken);
        user.mailbox_changed("INBOX");
        CPPUNIT_ASSERT_EQUAL(1, woken);  // a waiter fires once
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ViewTest);
