#include "storage/maildir/dotlock.h"
#include "storage/maildir/fs_util.h"
#include "storage/storage_error.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <ctime>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::read_file;
using storage_test::TempDir;
using storage_test::write_file;

namespace {

void age(const std::string& path, time_t seconds)
{
    struct utimbuf times;
    times.actime = times.modtime = ::time(nullptr) - seconds;
    ::utime(path.c_str(), &times);
}

pid_t dead_pid()
{
    pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    int status;
    ::waitpid(child, &status, 0);
    return child;
}

}  // namespace

class DotlockTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DotlockTest);
    CPPUNIT_TEST(lock_file_holds_pid_and_host);
    CPPUNIT_TEST(second_locker_is_refused);
    CPPUNIT_TEST(dead_local_pid_is_stale);
    CPPUNIT_TEST(fresh_lock_of_dead_pid_is_respected);
    CPPUNIT_TEST(live_pid_is_respected_even_when_old);
    CPPUNIT_TEST(foreign_lock_is_stale_after_timeout);
    CPPUNIT_TEST(acquire_times_out);
    CPPUNIT_TEST(replace_target_renames_into_place);
    CPPUNIT_TEST_SUITE_END();

public:
    void lock_file_holds_pid_and_host()
    {
        TempDir dir;
        {
            Dotlock lock = Dotlock::acquire(dir / "f");
            CPPUNIT_ASSERT_EQUAL(std::to_string(::getpid()) + ":" + plain_hostname(), read_file(dir / "f.lock"));
        }
        CPPUNIT_ASSERT(!path_exists(dir / "f.lock"));
    }
    void second_locker_is_refused()
    {
        TempDir dir;
        auto lock = Dotlock::try_acquire(dir / "f");
        CPPUNIT_ASSERT(lock.has_value());
        // Our own fresh lock: too young for the PID check, so it is respected.
        CPPUNIT_ASSERT(!Dotlock::try_acquire(dir / "f").has_value());
        lock->release();
        CPPUNIT_ASSERT(Dotlock::try_acquire(dir / "f").has_value());
    }
    void dead_local_pid_is_stale()
    {
        TempDir dir;
        write_file(dir / "f.lock", std::to_string(dead_pid()) + ":" + plain_hostname());
        age(dir / "f.lock", 10);
        auto lock = Dotlock::try_acquire(dir / "f");
        CPPUNIT_ASSERT(lock.has_value());
        CPPUNIT_ASSERT_EQUAL(std::to_string(::getpid()) + ":" + plain_hostname(), read_file(dir / "f.lock"));
    }
    void fresh_lock_of_dead_pid_is_respected()
    {
        TempDir dir;
        write_file(dir / "f.lock", std::to_string(dead_pid()) + ":" + plain_hostname());
        CPPUNIT_ASSERT(!Dotlock::try_acquire(dir / "f").has_value());
    }
    void live_pid_is_respected_even_when_old()
    {
        TempDir dir;
        write_file(dir / "f.lock", std::to_string(::getppid()) + ":" + plain_hostname());
        age(dir / "f.lock", 1000);
        DotlockSettings settings;
        settings.stale_timeout = std::chrono::seconds(1);
        CPPUNIT_ASSERT(!Dotlock::try_acquire(dir / "f", settings).has_value());
    }
    void foreign_lock_is_stale_after_timeout()
    {
        // utime() cannot age a ctime, so this waits for a 1 s stale timeout for real.
        TempDir dir;
        write_file(dir / "f", "data");
        write_file(dir / "f.lock", "123:some-other-host");
        DotlockSettings settings;
        settings.stale_timeout = std::chrono::seconds(1);
        CPPUNIT_ASSERT(!Dotlock::try_acquire(dir / "f", settings).has_value());
        ::usleep(2'100'000);
        CPPUNIT_ASSERT(Dotlock::try_acquire(dir / "f", settings).has_value());
    }
    void acquire_times_out()
    {
        TempDir dir;
        write_file(dir / "f.lock", "1:other-host");
        DotlockSettings settings;
        settings.timeout = std::chrono::milliseconds(300);
        try {
            Dotlock::acquire(dir / "f", settings);
            CPPUNIT_FAIL("expected a lock timeout");
        } catch (const StorageError& e) {
            CPPUNIT_ASSERT(e.kind() == StorageError::Kind::Locked);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("1:other-host"), read_file(dir / "f.lock"));
    }
    void replace_target_renames_into_place()
    {
        TempDir dir;
        write_file(dir / "f", "old");
        Dotlock lock = Dotlock::acquire(dir / "f");
        lock.replace_target("new content\n");
        CPPUNIT_ASSERT(!lock.held());
        CPPUNIT_ASSERT_EQUAL(std::string("new content\n"), read_file(dir / "f"));
        CPPUNIT_ASSERT(!path_exists(dir / "f.lock"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DotlockTest);
