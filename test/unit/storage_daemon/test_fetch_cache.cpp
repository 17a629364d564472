// The fetch cache keeps computed FETCH strings in memory (bounded) and in loft.cache,
// and treats a missing, foreign or damaged file as empty.
#include "temp_dir.h"
#include "storage/daemon/fetch_cache.h"
#include "storage/daemon/user_storage.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace loft::storage;
using namespace loft::storage::daemon;

namespace {
using loft::storage::daemon::test::TempDir;

MessageStructure sample(uint32_t uid, size_t padding = 0)
{
    MessageStructure s;
    s.envelope = "(NIL \"subject " + std::to_string(uid) + "\" NIL NIL NIL NIL NIL NIL NIL NIL)";
    s.body = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" " + std::to_string(uid) + " 1)";
    s.bodystructure = s.body + std::string(padding, ' ');
    return s;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& path, const std::string& data)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}
}  // namespace

class FetchCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FetchCacheTest);
    CPPUNIT_TEST(structure_round_trips);
    CPPUNIT_TEST(entries_survive_in_the_file);
    CPPUNIT_TEST(memory_is_bounded_but_file_answers);
    CPPUNIT_TEST(other_uidvalidity_starts_over);
    CPPUNIT_TEST(damaged_tail_is_dropped);
    CPPUNIT_TEST(garbage_file_is_replaced);
    CPPUNIT_TEST(expunged_records_are_compacted_away);
    CPPUNIT_TEST(memory_only_cache_works);
    CPPUNIT_TEST(open_mailboxes_share_the_cache_file);
    CPPUNIT_TEST_SUITE_END();

public:
    void structure_round_trips()
    {
        MessageStructure s = sample(7);
        MessageStructure back = decode_structure(encode_structure(s));
        CPPUNIT_ASSERT_EQUAL(s.envelope, back.envelope);
        CPPUNIT_ASSERT_EQUAL(s.body, back.body);
        CPPUNIT_ASSERT_EQUAL(s.bodystructure, back.bodystructure);
        std::string data = encode_structure(s);
        CPPUNIT_ASSERT_THROW(decode_structure(data.substr(0, data.size() - 1)), std::runtime_error);
        CPPUNIT_ASSERT_THROW(decode_structure(data + "x"), std::runtime_error);
    }

    void entries_survive_in_the_file()
    {
        TempDir dir;
        auto path = (dir.path / "loft.cache").string();
        {
            FetchCache cache(path);
            CPPUNIT_ASSERT(cache.find(100, 1) == nullptr);
            cache.insert(100, 1, sample(1));
            cache.insert(100, 2, sample(2));
        }
        FetchCache cache(path);
        const MessageStructure* found = cache.find(100, 2);
        CPPUNIT_ASSERT(found != nullptr);
        CPPUNIT_ASSERT_EQUAL(sample(2).envelope, found->envelope);
        CPPUNIT_ASSERT_EQUAL(size_t(2), cache.file_entries());
        CPPUNIT_ASSERT(cache.find(100, 3) == nullptr);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache.hits());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache.misses());
    }

    void memory_is_bounded_but_file_answers()
    {
        TempDir dir;
        FetchCache cache((dir.path / "loft.cache").string(), 4096);
        for (uint32_t uid = 1; uid <= 200; uid++)
            cache.insert(5, uid, sample(uid, 100));
        cache.flush();
        CPPUNIT_ASSERT(cache.memory_bytes() <= 4096);
        CPPUNIT_ASSERT(cache.memory_entries() < 200);
        const MessageStructure* oldest = cache.find(5, 1);
        CPPUNIT_ASSERT(oldest != nullptr);
        CPPUNIT_ASSERT_EQUAL(sample(1, 100).bodystructure, oldest->bodystructure);
    }

    void other_uidvalidity_starts_over()
    {
        TempDir dir;
        auto path = (dir.path / "loft.cache").string();
        {
            FetchCache cache(path);
            cache.insert(100, 1, sample(1));
        }
        {
            FetchCache cache(path);
            CPPUNIT_ASSERT(cache.find(101, 1) == nullptr);
            cache.insert(101, 1, sample(9));
        }
        FetchCache again(path);
        const MessageStructure* found = again.find(101, 1);
        CPPUNIT_ASSERT(found != nullptr);
        CPPUNIT_ASSERT_EQUAL(sample(9).envelope, found->envelope);
    }

    void damaged_tail_is_dropped()
    {
        TempDir dir;
        auto path = dir.path / "loft.cache";
        {
            FetchCache cache(path.string());
            cache.insert(3, 1, sample(1));
            cache.insert(3, 2, sample(2));
        }
        std::string data = read_file(path);
        data[data.size() - 5] ^= 0x55;  // inside record 2
        write_file(path, data);
        {
            FetchCache cache(path.string());
            CPPUNIT_ASSERT(cache.find(3, 1) != nullptr);
            CPPUNIT_ASSERT(cache.find(3, 2) == nullptr);
            cache.insert(3, 2, sample(2));
        }
        FetchCache cache(path.string());
        CPPUNIT_ASSERT(cache.find(3, 2) != nullptr);
        CPPUNIT_ASSERT_EQUAL(sample(2).body, cache.find(3, 2)->body);
        CPPUNIT_ASSERT_EQUAL(sample(1).body, cache.find(3, 1)->body);
    }

    void garbage_file_is_replaced()
    {
        TempDir dir;
        auto path = dir.path / "loft.cache";
        write_file(path, "this is not a cache file at all");
        {
            FetchCache cache(path.string());
            CPPUNIT_ASSERT(cache.find(1, 1) == nullptr);
            cache.insert(1, 1, sample(1));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("LOFTCACHE\x01"), read_file(path).substr(0, 10));
        FetchCache cache(path.string());
        CPPUNIT_ASSERT(cache.find(1, 1) != nullptr);
    }

    void expunged_records_are_compacted_away()
    {
        TempDir dir;
        auto path = dir.path / "loft.cache";
        {
            FetchCache cache(path.string());
            for (uint32_t uid = 1; uid <= 400; uid++)
                cache.insert(8, uid, sample(uid, 300));
        }
        auto before = std::filesystem::file_size(path);
        {
            FetchCache cache(path.string());
            CPPUNIT_ASSERT(!cache.retained(8));
            cache.retain(8, {1, 2, 3, 399, 400});
            CPPUNIT_ASSERT(cache.retained(8));
            CPPUNIT_ASSERT(!cache.retained(9));
            CPPUNIT_ASSERT_EQUAL(size_t(5), cache.file_entries());
            CPPUNIT_ASSERT(cache.find(8, 200) == nullptr);
        }
        CPPUNIT_ASSERT(std::filesystem::file_size(path) < before / 10);
        FetchCache cache(path.string());
        CPPUNIT_ASSERT(cache.find(8, 399) != nullptr);
        CPPUNIT_ASSERT_EQUAL(sample(399, 300).bodystructure, cache.find(8, 399)->bodystructure);
        CPPUNIT_ASSERT(cache.find(8, 2) != nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t(5), cache.file_entries());
    }

    void memory_only_cache_works()
    {
        FetchCache cache("");
        CPPUNIT_ASSERT(cache.find(1, 1) == nullptr);
        cache.insert(1, 1, sample(1));
        cache.flush();
        CPPUNIT_ASSERT(cache.find(1, 1) != nullptr);
        CPPUNIT_ASSERT_EQUAL(size_t(0), cache.file_entries());
    }

    void open_mailboxes_share_the_cache_file()
    {
        TempDir dir;
        UserStorage user("alice", (dir.path / "Maildir").string(), '/');
        auto read_only = user.open("INBOX", false);
        auto read_write = user.open("INBOX", true);
        CPPUNIT_ASSERT(&read_only->fetch_cache() == &read_write->fetch_cache());
        read_only->fetch_cache().insert(read_only->box().uidvalidity(), 1, sample(1));
        read_only->fetch_cache().flush();
        CPPUNIT_ASSERT(std::filesystem::exists(dir.path / "Maildir" / "loft.cache"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FetchCacheTest);
