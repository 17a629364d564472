#include "imap/protocol/imap_date.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap::protocol;

class ImapDateTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ImapDateTest);
    CPPUNIT_TEST(parses_dates);
    CPPUNIT_TEST(rejects_bad_dates);
    CPPUNIT_TEST(parses_date_times_with_zones);
    CPPUNIT_TEST(rejects_bad_date_times);
    CPPUNIT_TEST(formats_internaldate);
    CPPUNIT_TEST(round_trips);
    CPPUNIT_TEST_SUITE_END();

public:
    void parses_dates()
    {
        CPPUNIT_ASSERT(parse_date("1-Feb-2024") == (Date{2024, 2, 1}));
        CPPUNIT_ASSERT(parse_date("01-feb-2024") == (Date{2024, 2, 1}));
        CPPUNIT_ASSERT(parse_date("29-FEB-2024") == (Date{2024, 2, 29}));
        CPPUNIT_ASSERT(parse_date("31-Dec-1969") == (Date{1969, 12, 31}));
        // Dovecot accepts impossible days and lets them roll over (it answered OK)
        Date rolled = *parse_date("30-Feb-2024");
        CPPUNIT_ASSERT(utc_seconds_to_date(date_to_utc_seconds(rolled)) == (Date{2024, 3, 1}));
    }
    void rejects_bad_dates()
    {
        for (const char* text : {"", "1-jan-99", "32-Jan-2024", "0-Jan-2024", "1-Foo-2024",
                                 "001-Jan-2024", "1 Jan 2024", "1-Jan-2024x", "1-Jan-20245", "-Jan-2024",
                                 "1-January-2024", "a-Jan-2024", "1-Jan-+024"})
            CPPUNIT_ASSERT_MESSAGE(text, !parse_date(text));
    }
    void parses_date_times_with_zones()
    {
        // The fact recorded in the notes: this APPEND date gave mtime 2024-02-01 09:00:00 UTC.
        auto value = parse_date_time("01-Feb-2024 10:00:00 +0100");
        CPPUNIT_ASSERT(value.has_value());
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), value->utc_seconds);
        CPPUNIT_ASSERT_EQUAL(60, value->tz_offset_minutes);
        CPPUNIT_ASSERT(parse_date_time(" 1-Feb-2024 10:00:00 +0100") == value);
        CPPUNIT_ASSERT(parse_date_time("1-Feb-2024 10:00:00 +0100") == value);
        auto west = parse_date_time("31-Dec-2023 20:30:00 -0330");
        CPPUNIT_ASSERT(west.has_value());
        CPPUNIT_ASSERT_EQUAL(-210, west->tz_offset_minutes);
        CPPUNIT_ASSERT_EQUAL(int64_t(1704067200), west->utc_seconds);  // 2024-01-01 00:00:00 UTC
    }
    void rejects_bad_date_times()
    {
        for (const char* text : {"01-Feb-2024 10:00:00", "01-Feb-2024 24:00:00 +0000", "01-Feb-2024 10:60:00 +0000",
                                 "01-Feb-2024 10:00:00 0100", "01-Feb-2024 10:00:00 +01", "01-Feb-2024 10:00 +0100",
                                 "01-Feb-2024  10:00:00 +0100", "32-Feb-2024 10:00:00 +0000", "01-Feb-2024 10:00:00 +0160",
                                 "01-Feb-2024T10:00:00 +0000", "  1-Feb-2024 10:00:00 +0100"})
            CPPUNIT_ASSERT_MESSAGE(text, !parse_date_time(text));
    }
    void formats_internaldate()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("30-Nov-2026 03:17:31 +0000"), format_date_time(1796008651));
        CPPUNIT_ASSERT_EQUAL(std::string("01-Feb-2024 10:00:00 +0100"), format_date_time(1706778000, 60));
        CPPUNIT_ASSERT_EQUAL(std::string("31-Dec-2023 20:30:00 -0330"), format_date_time(1704067200, -210));
        CPPUNIT_ASSERT_EQUAL(std::string("31-Dec-1969 23:59:59 +0000"), format_date_time(-1));
        CPPUNIT_ASSERT_EQUAL(std::string("05-Mar-2024"), format_date(Date{2024, 3, 5}));
    }
    void round_trips()
    {
        for (int64_t t : {int64_t(0), int64_t(951782400), int64_t(1709164800), int64_t(4102444799), int64_t(-86400)}) {
            for (int zone : {0, 60, -300, 345, -720, 840}) {
                auto parsed = parse_date_time(format_date_time(t, zone));
                CPPUNIT_ASSERT(parsed.has_value());
                CPPUNIT_ASSERT_EQUAL(t, parsed->utc_seconds);
                CPPUNIT_ASSERT_EQUAL(zone, parsed->tz_offset_minutes);
            }
            Date date = utc_seconds_to_date(t);
            CPPUNIT_ASSERT(date_to_utc_seconds(date) <= t && t < date_to_utc_seconds(date) + 86400);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ImapDateTest);
