// The daemon picks the backend from mail_location and maps the mbox_* settings.
#include "temp_dir.h"
#include "storage/daemon/store_factory.h"
#include "storage/maildir/store.h"
#include "storage/mbox/store.h"
#include "storage/storage_error.h"

#include <cppunit/extensions/HelperMacros.h>

#include <filesystem>

using namespace loft::storage;
using namespace loft::storage::daemon;

namespace {
loft::config::Settings settings_of(const std::string& text)
{
    auto config = loft::config::Config::load_string(text, "test.conf", "/tmp");
    return config.resolve({});
}

using loft::storage::daemon::test::TempDir;
}  // namespace

class StoreFactoryTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StoreFactoryTest);
    CPPUNIT_TEST(mbox_settings_become_backend_options);
    CPPUNIT_TEST(dovecot_defaults_map_to_the_same_defaults);
    CPPUNIT_TEST(unknown_lock_method_is_a_config_error);
    CPPUNIT_TEST(location_picks_the_backend);
    CPPUNIT_TEST(home_is_expanded_in_every_path_option);
    CPPUNIT_TEST(default_separators);
    CPPUNIT_TEST_SUITE_END();

public:
    void mbox_settings_become_backend_options()
    {
        auto options = mbox_options_from(settings_of("mbox_read_locks = dotlock flock\n"
                                                     "mbox_write_locks = lockf\n"
                                                     "mbox_lock_timeout = 30 secs\n"
                                                     "mbox_dotlock_change_timeout = 1 min\n"
                                                     "mbox_lazy_writes = no\n"
                                                     "mbox_dirty_syncs = no\n"
                                                     "mbox_very_dirty_syncs = yes\n"
                                                     "mbox_min_index_size = 10k\n"));
        CPPUNIT_ASSERT(options.locks.read_locks ==
                       (std::vector<mbox::LockMethod>{mbox::LockMethod::Dotlock, mbox::LockMethod::Flock}));
        CPPUNIT_ASSERT(options.locks.write_locks == std::vector<mbox::LockMethod>{mbox::LockMethod::Lockf});
        CPPUNIT_ASSERT_EQUAL(int64_t(30), static_cast<int64_t>(options.locks.lock_timeout.count()));
        CPPUNIT_ASSERT_EQUAL(int64_t(60), static_cast<int64_t>(options.locks.dotlock_change_timeout.count()));
        CPPUNIT_ASSERT(!options.lazy_writes);
        CPPUNIT_ASSERT(!options.dirty_syncs);
        CPPUNIT_ASSERT(options.very_dirty_syncs);
        CPPUNIT_ASSERT_EQUAL(uint64_t(10240), options.min_index_size);
    }

    void dovecot_defaults_map_to_the_same_defaults()
    {
        auto options = mbox_options_from(settings_of(""));
        CPPUNIT_ASSERT(options.locks.read_locks == std::vector<mbox::LockMethod>{mbox::LockMethod::Fcntl});
        CPPUNIT_ASSERT_EQUAL(size_t(2), options.locks.write_locks.size());
        CPPUNIT_ASSERT_EQUAL(int64_t(300), static_cast<int64_t>(options.locks.lock_timeout.count()));
        CPPUNIT_ASSERT_EQUAL(int64_t(120), static_cast<int64_t>(options.locks.dotlock_change_timeout.count()));
        CPPUNIT_ASSERT(options.lazy_writes);
        CPPUNIT_ASSERT(options.dirty_syncs);
        CPPUNIT_ASSERT(!options.very_dirty_syncs);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), options.min_index_size);
    }

    void unknown_lock_method_is_a_config_error()
    {
        CPPUNIT_ASSERT_THROW(mbox_options_from(settings_of("mbox_write_locks = dotlock carrier-pigeon\n")),
                             StorageError);
    }

    void location_picks_the_backend()
    {
        TempDir dir;
        auto settings = settings_of("");
        std::string home = dir.path.string();
        std::filesystem::create_directories(dir.path / "spool");
        auto mbox = make_store("mbox:~/mail:INBOX=" + home + "/spool/alice", home, '/', settings);
        CPPUNIT_ASSERT(dynamic_cast<MboxStore*>(mbox.get()));
        auto inbox = mbox->open("INBOX", false);
        CPPUNIT_ASSERT(std::filesystem::is_regular_file(dir.path / "spool/alice"));
        auto maildir = make_store("maildir:~/Maildir:LAYOUT=fs", home, '/', settings);
        CPPUNIT_ASSERT(dynamic_cast<MaildirStore*>(maildir.get()));
        CPPUNIT_ASSERT_EQUAL(std::string("maildir"), location_format("MAILDIR:/x"));
        CPPUNIT_ASSERT_THROW(location_format("sdbox:~/dbox"), StorageError);
        CPPUNIT_ASSERT_THROW(location_format("/var/mail/%u"), StorageError);
    }

    void home_is_expanded_in_every_path_option()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("/h/a/mail:INBOX=/var/mail/a:INDEX=/h/a/idx:LAYOUT=fs"),
                             expand_location_home("~/mail:INBOX=/var/mail/a:INDEX=~/idx:LAYOUT=fs", "/h/a"));
        CPPUNIT_ASSERT_EQUAL(std::string("/h/a/x::y:CONTROL=/h/a"), expand_location_home("~/x::y:CONTROL=~", "/h/a"));
    }

    void default_separators()
    {
        CPPUNIT_ASSERT_EQUAL('/', default_separator("mbox:~/mail"));
        CPPUNIT_ASSERT_EQUAL('.', default_separator("maildir:~/Maildir"));
        CPPUNIT_ASSERT_EQUAL('/', default_separator("maildir:~/Maildir:LAYOUT=fs"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreFactoryTest);
