// Typed values: Dovecot's accepted spellings, its error texts, doveconf's printed forms.
#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

#include "config/registry.h"
#include "config/values.h"

using namespace loft::config;

class ValuesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ValuesTest);
    CPPUNIT_TEST(booleans);
    CPPUNIT_TEST(sizes);
    CPPUNIT_TEST(times);
    CPPUNIT_TEST(numbers_ports_enums);
    CPPUNIT_TEST(normalize);
    CPPUNIT_TEST(registry);
    CPPUNIT_TEST_SUITE_END();

public:
    void booleans()
    {
        CPPUNIT_ASSERT(parse_bool("yes") && parse_bool("YES") && parse_bool("y") && parse_bool("1"));
        CPPUNIT_ASSERT(!parse_bool("no") && !parse_bool("No"));
        CPPUNIT_ASSERT_THROW(parse_bool("0"), std::invalid_argument);
        try {
            parse_bool("maybe");
            CPPUNIT_FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("Invalid boolean value: maybe (use yes or no)"), std::string(e.what()));
        }
    }
    void sizes()
    {
        CPPUNIT_ASSERT_EQUAL(uint64_t(10 * 1024 * 1024), parse_size("10M"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(10 * 1024 * 1024), parse_size("10 M"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(64 * 1024), parse_size("64 kiB"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), parse_size("5"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), parse_size("5B"));
        CPPUNIT_ASSERT_THROW(parse_size("5X"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_size("x"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_size("99999999999999999999"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_size("17179869184T"), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::string("1 M"), format_size(1024 * 1024));
        CPPUNIT_ASSERT_EQUAL(std::string("1025 B"), format_size(1025));
        CPPUNIT_ASSERT_EQUAL(std::string("18446744073709551615 B"), format_size(UINT64_MAX));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), format_size(0));
    }
    void times()
    {
        CPPUNIT_ASSERT_EQUAL(uint64_t(300000), parse_time_ms("5 mins", false));
        CPPUNIT_ASSERT_EQUAL(uint64_t(300000), parse_time_ms("5m", false));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2000), parse_time_ms("2s", false));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2000), parse_time_ms("2000 ms", false));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1500), parse_time_ms("1500ms", true));
        CPPUNIT_ASSERT_THROW(parse_time_ms("1500ms", false), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), parse_time_ms("0", false));
        CPPUNIT_ASSERT_EQUAL(uint64_t(7ULL * 86400 * 1000), parse_time_ms("1 weeks", false));
        try {
            parse_time_ms("5", false);
            CPPUNIT_FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("Time interval '5' is missing units (add e.g. 's' for seconds)"),
                                 std::string(e.what()));
        }
        CPPUNIT_ASSERT_THROW(parse_time_ms("5 fortnights", false), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_time_ms("5 secsx", false), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_time_ms("4294967296 s", false), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::string("1 hours"), format_time_ms(3600000, false));
        CPPUNIT_ASSERT_EQUAL(std::string("2 weeks"), format_time_ms(14ULL * 86400000, false));
        CPPUNIT_ASSERT_EQUAL(std::string("90 secs"), format_time_ms(90000, false));
        CPPUNIT_ASSERT_EQUAL(std::string("250 ms"), format_time_ms(250, true));
    }
    void numbers_ports_enums()
    {
        CPPUNIT_ASSERT_EQUAL(uint64_t(42), parse_uint("42"));
        CPPUNIT_ASSERT_THROW(parse_uint("-1"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(parse_uint("4294967296"), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0600), parse_octal("0600"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(600), parse_octal("600"));
        CPPUNIT_ASSERT_THROW(parse_octal("0680"), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(uint16_t(993), parse_port("993"));
        CPPUNIT_ASSERT_THROW(parse_port("65536"), std::invalid_argument);
        check_enum("required", "yes:no:required");
        CPPUNIT_ASSERT_THROW(check_enum("maybe", "yes:no:required"), std::invalid_argument);
    }
    void normalize()
    {
        const SettingDef* d = find_setting("", "default_vsz_limit");
        CPPUNIT_ASSERT(d != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("512 M"), normalize_value(*d, "512M"));
        d = find_setting("unix_listener", "mode");
        CPPUNIT_ASSERT(d != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("0660"), normalize_value(*d, "0660"));
        CPPUNIT_ASSERT_EQUAL(std::string("01130"), normalize_value(*d, "600"));
    }
    void registry()
    {
        CPPUNIT_ASSERT(find_setting("", "mail_location") != nullptr);
        CPPUNIT_ASSERT(find_setting("", "no_such_setting") == nullptr);
        CPPUNIT_ASSERT(find_setting("", "loft_storage_mode") != nullptr);
        CPPUNIT_ASSERT(find_setting("", "loft_storage_mode")->type == SettingType::Enum);
        CPPUNIT_ASSERT(find_setting("service", "process_limit")->type == SettingType::Uint);
        CPPUNIT_ASSERT(find_setting("inet_listener", "port")->type == SettingType::Port);
        CPPUNIT_ASSERT(find_setting("", "ssl")->type == SettingType::Enum);
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), std::string(find_setting("", "ssl")->default_value));
        CPPUNIT_ASSERT(find_setting("", "auth_cache_ttl")->type == SettingType::Time);
        CPPUNIT_ASSERT(find_setting("namespace", "inbox")->type == SettingType::Bool);
        CPPUNIT_ASSERT(settings_of("").size() > 300);
        CPPUNIT_ASSERT(is_section_allowed("service", "inet_listener"));
        CPPUNIT_ASSERT(!is_section_allowed("", "inet_listener"));
        CPPUNIT_ASSERT(builtin_services_text().find("service imap-login {") != std::string_view::npos);
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ValuesTest);
