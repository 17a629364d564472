#include "mail/message_cache.h"
#include "mail/section.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::mail;

namespace {

const std::string kMessage =
    "Subject: cached\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\none\n--q\n"
    "Content-Type: message/rfc822\n\nSubject: inner\n\ntwo\n--q--\n";

}  // namespace

class MessageCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MessageCacheTest);
    CPPUNIT_TEST(round_trip_keeps_strings_and_geometry);
    CPPUNIT_TEST(sections_from_cached_parts_match);
    CPPUNIT_TEST(corrupt_records_are_rejected);
    CPPUNIT_TEST_SUITE_END();

public:
    void round_trip_keeps_strings_and_geometry()
    {
        MessageCacheRecord record = build_cache_record(kMessage);
        MessageCacheRecord copy = deserialize_cache_record(serialize_cache_record(record));
        CPPUNIT_ASSERT_EQUAL(record.rfc822_size, copy.rfc822_size);
        CPPUNIT_ASSERT_EQUAL(record.envelope, copy.envelope);
        CPPUNIT_ASSERT_EQUAL(record.body, copy.body);
        CPPUNIT_ASSERT_EQUAL(record.bodystructure, copy.bodystructure);
        CPPUNIT_ASSERT_EQUAL(size_t(2), copy.parts->children.size());
        CPPUNIT_ASSERT(copy.parts->children[1]->has(kPartMessageRfc822));
        CPPUNIT_ASSERT(copy.parts->children[1]->children[0]->parent == copy.parts->children[1].get());
        CPPUNIT_ASSERT_EQUAL(serialize_cache_record(record), serialize_cache_record(copy));
    }
    void sections_from_cached_parts_match()
    {
        MessageCacheRecord record = build_cache_record(kMessage);
        MessageCacheRecord copy = deserialize_cache_record(serialize_cache_record(record));
        for (const char* text : {"1", "2", "2.HEADER", "2.TEXT", "1.MIME", "TEXT", ""}) {
            auto section = parse_section(text);
            CPPUNIT_ASSERT_EQUAL(fetch_section(kMessage, *record.parts, *section),
                                 fetch_section(kMessage, *copy.parts, *section));
        }
    }
    void corrupt_records_are_rejected()
    {
        std::string data = serialize_cache_record(build_cache_record(kMessage));
        for (size_t cut = 0; cut < data.size(); cut++)
            CPPUNIT_ASSERT_THROW(deserialize_cache_record(data.substr(0, cut)), CacheRecordError);
        CPPUNIT_ASSERT_THROW(deserialize_cache_record(data + "x"), CacheRecordError);
        std::string wrong = data;
        wrong[0] = 'X';
        CPPUNIT_ASSERT_THROW(deserialize_cache_record(wrong), CacheRecordError);
        std::string huge = "LFTM1";
        huge += std::string(10, '\xff');
        CPPUNIT_ASSERT_THROW(deserialize_cache_record(huge), CacheRecordError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MessageCacheTest);
