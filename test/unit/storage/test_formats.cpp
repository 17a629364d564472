#include "storage/mail_types.h"
#include "storage/maildir/filename.h"
#include "storage/maildir/keywords.h"
#include "storage/maildir/location.h"
#include "storage/maildir/mutf7.h"
#include "storage/maildir/subscriptions.h"
#include "storage/maildir/uidlist.h"
#include "storage/maildir/uidvalidity.h"
#include "storage/storage_error.h"
#include "test_helpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <ctime>

using namespace loft::storage;
using namespace loft::storage::maildir;
using storage_test::TempDir;

class FormatsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FormatsTest);
    CPPUNIT_TEST(filename_parses_sizes_and_flags);
    CPPUNIT_TEST(filename_without_info_has_no_flags);
    CPPUNIT_TEST(info_is_ascii_sorted);
    CPPUNIT_TEST(sort_uses_seconds_then_usecs);
    CPPUNIT_TEST(uidlist_reads_dovecot_file);
    CPPUNIT_TEST(uidlist_next_uid_ignores_stale_n);
    CPPUNIT_TEST(uidlist_keeps_extensions_and_ignores_partial_line);
    CPPUNIT_TEST(uidlist_rejects_broken_files);
    CPPUNIT_TEST(uidlist_formats_like_dovecot);
    CPPUNIT_TEST(uidlist_reads_version1);
    CPPUNIT_TEST(keywords_round_trip);
    CPPUNIT_TEST(keywords_are_limited_to_26);
    CPPUNIT_TEST(subscriptions_v2_use_tab);
    CPPUNIT_TEST(subscriptions_v1_plain);
    CPPUNIT_TEST(mutf7_known_names);
    CPPUNIT_TEST(mutf7_rejects_garbage);
    CPPUNIT_TEST(location_parses_options);
    CPPUNIT_TEST(location_rejects_unknown);
    CPPUNIT_TEST(uidvalidity_allocates_like_dovecot);
    CPPUNIT_TEST_SUITE_END();

public:
    void filename_parses_sizes_and_flags()
    {
        auto f = parse_maildir_filename("1796005290.M651784P21632.vm,S=697,W=721:2,FRSab");
        CPPUNIT_ASSERT_EQUAL(std::string("1796005290.M651784P21632.vm,S=697,W=721"), f.base);
        CPPUNIT_ASSERT_EQUAL(uint64_t(697), *f.size);
        CPPUNIT_ASSERT_EQUAL(uint64_t(721), *f.vsize);
        CPPUNIT_ASSERT(f.has_info);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Flagged | Answered | Seen), f.system_flags);
        CPPUNIT_ASSERT_EQUAL(std::string("ab"), f.keyword_letters);
        auto p = parse_maildir_filename("1.M2P3.host:2,PT");
        CPPUNIT_ASSERT_EQUAL(uint32_t(Deleted), p.system_flags);
        CPPUNIT_ASSERT_EQUAL(std::string("P"), p.unknown_flag_chars);
        CPPUNIT_ASSERT(!p.size.has_value());
    }
    void filename_without_info_has_no_flags()
    {
        auto f = parse_maildir_filename("1796005290.M623570P21632.vm,S=506,W=523");
        CPPUNIT_ASSERT(!f.has_info);
        CPPUNIT_ASSERT_EQUAL(uint32_t(0), f.system_flags);
        CPPUNIT_ASSERT_EQUAL(uint64_t(523), *f.vsize);
        CPPUNIT_ASSERT_EQUAL(std::string("x,S=1"), std::string(maildir_base_name("x,S=1:2,S")));
    }
    void info_is_ascii_sorted()
    {
        CPPUNIT_ASSERT_EQUAL(std::string(":2,FRSab"), format_maildir_info(Seen | Answered | Flagged, "ba"));
        CPPUNIT_ASSERT_EQUAL(std::string(":2,"), format_maildir_info(0, ""));
        CPPUNIT_ASSERT_EQUAL(std::string(":2,DS"), format_maildir_info(Seen | Draft | Recent, ""));
        CPPUNIT_ASSERT_EQUAL(std::string(":2,PT"), format_maildir_info(Deleted, "", "P"));
        CPPUNIT_ASSERT_EQUAL(std::string(":2,de"), format_maildir_info(0, "ed"));
    }
    void sort_uses_seconds_then_usecs()
    {
        CPPUNIT_ASSERT(maildir_filename_sort_cmp("99.M5P1.h", "100.M1P1.h") < 0);
        CPPUNIT_ASSERT(maildir_filename_sort_cmp("100.M20P1.h", "100.M100P1.h") < 0);
        CPPUNIT_ASSERT(maildir_filename_sort_cmp("100.M1P1.a", "100.M1P1.b") < 0);
        CPPUNIT_ASSERT_EQUAL(0, maildir_filename_sort_cmp("100.M1P1.a:2,S", "100.M1P1.a"));
    }
    void uidlist_reads_dovecot_file()
    {
        auto list = parse_uidlist("3 V1796005290 N30 G50ec2a25aadd0c6b8054000083ecc375\n"
                                  "1 :1796005290.M623570P21632.vm,S=506,W=523\n"
                                  "2 :1796005290.M637907P21632.vm,S=536,W=554\n"
                                  "31 :1796005290.M879632P21632.vm,S=332,W=345\n",
                                  "t");
        CPPUNIT_ASSERT_EQUAL(3u, list.header.version);
        CPPUNIT_ASSERT_EQUAL(uint32_t(1796005290), list.header.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(uint32_t(30), list.header.next_uid);
        CPPUNIT_ASSERT_EQUAL(std::string("50ec2a25aadd0c6b8054000083ecc375"), list.header.guid);
        CPPUNIT_ASSERT_EQUAL(size_t(3), list.records.size());
        CPPUNIT_ASSERT_EQUAL(std::string("1796005290.M637907P21632.vm,S=536,W=554"), list.records[1].base_name);
        CPPUNIT_ASSERT_EQUAL(uint32_t(32), list.next_uid());
    }
    void uidlist_next_uid_ignores_stale_n()
    {
        auto list = parse_uidlist("3 V5 N1 G00000000000000000000000000000000\n1 :a\n2 :b\n3 :c\n", "t");
        CPPUNIT_ASSERT_EQUAL(uint32_t(4), list.next_uid());
        auto empty = parse_uidlist("3 V5 N7 G00000000000000000000000000000000\n", "t");
        CPPUNIT_ASSERT_EQUAL(uint32_t(7), empty.next_uid());
    }
    void uidlist_keeps_extensions_and_ignores_partial_line()
    {
        auto list = parse_uidlist("3 V5 N1 Gabcdefabcdefabcdefabcdefabcdefab P1\n4 S100 W102 :x\n5 :y", "t");
        CPPUNIT_ASSERT_EQUAL(std::string("P1"), list.header.extensions);
        CPPUNIT_ASSERT_EQUAL(size_t(1), list.records.size());
        CPPUNIT_ASSERT_EQUAL(std::string("S100 W102"), list.records[0].extensions);
        CPPUNIT_ASSERT_EQUAL(std::string("4 S100 W102 :x\n"), format_uidlist_record(list.records[0]));
    }
    void uidlist_rejects_broken_files()
    {
        auto corrupted = [](const std::string& text) {
            try {
                parse_uidlist(text, "t");
            } catch (const StorageError& e) {
                return e.kind() == StorageError::Kind::Corrupted;
            }
            return false;
        };
        CPPUNIT_ASSERT(corrupted(""));
        CPPUNIT_ASSERT(corrupted("x V1 N1\n"));
        CPPUNIT_ASSERT(corrupted("3 V0 N1\n"));
        CPPUNIT_ASSERT(corrupted("9 V1 N1\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N1 Gzz\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N1\n2 :a\n2 :b\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N1\n0 :a\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N1\n1 :a/b\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N1\n1 s1 :a\n"));
        CPPUNIT_ASSERT(corrupted("3 V1 N99999999999\n"));
    }
    void uidlist_formats_like_dovecot()
    {
        Uidlist list;
        list.header.uidvalidity = 1796005290;
        list.header.next_uid = 1;
        list.header.guid = "50ec2a25aadd0c6b8054000083ecc375";
        CPPUNIT_ASSERT_EQUAL(std::string("3 V1796005290 N1 G50ec2a25aadd0c6b8054000083ecc375\n"), format_uidlist(list));
        list.records.push_back({7, "", "b,S=1,W=2"});
        CPPUNIT_ASSERT_EQUAL(std::string("3 V1796005290 N1 G50ec2a25aadd0c6b8054000083ecc375\n7 :b,S=1,W=2\n"),
                             format_uidlist(list));
        CPPUNIT_ASSERT_EQUAL(size_t(32), generate_mailbox_guid().size());
        CPPUNIT_ASSERT(generate_mailbox_guid() != generate_mailbox_guid());
    }
    void uidlist_reads_version1()
    {
        auto list = parse_uidlist("1 1000 5\n3 a:2,S\n", "t");
        CPPUNIT_ASSERT_EQUAL(uint32_t(1000), list.header.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(std::string("a:2,S"), list.records[0].base_name);
    }
    void keywords_round_trip()
    {
        auto table = KeywordTable::parse("0 $Forwarded\n1 $label1\n2 Junk\n3 NonJunk\n4 $MDNSent\nbogus\n30 x\n");
        CPPUNIT_ASSERT_EQUAL('c', *table.letter_of("junk"));
        CPPUNIT_ASSERT_EQUAL(std::string("$label1"), table.name_of('b'));
        CPPUNIT_ASSERT(table.name_of('z').empty());
        CPPUNIT_ASSERT_EQUAL('f', *table.add("Work"));
        CPPUNIT_ASSERT_EQUAL('a', *table.add("$forwarded"));
        CPPUNIT_ASSERT_EQUAL(std::string("0 $Forwarded\n1 $label1\n2 Junk\n3 NonJunk\n4 $MDNSent\n5 Work\n"),
                             table.format());
        auto holes = KeywordTable::parse("1 b\n");
        CPPUNIT_ASSERT_EQUAL('a', *holes.add("a"));
        CPPUNIT_ASSERT(!is_valid_keyword("\\Seen"));
        CPPUNIT_ASSERT(!is_valid_keyword("a b"));
    }
    void keywords_are_limited_to_26()
    {
        KeywordTable table;
        for (int i = 0; i < 26; i++)
            CPPUNIT_ASSERT(table.add("k" + std::to_string(i)).has_value());
        CPPUNIT_ASSERT(!table.add("one-too-many").has_value());
        CPPUNIT_ASSERT_EQUAL('z', *table.letter_of("k25"));
    }
    void subscriptions_v2_use_tab()
    {
        std::string file = "V\t2\n\nDrafts\nSent\nArchive\t2024\nEntw&APw-rfe\nTrash\n";
        auto names = parse_subscriptions(file, '/');
        CPPUNIT_ASSERT_EQUAL(size_t(5), names.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Archive/2024"), names[2]);
        CPPUNIT_ASSERT_EQUAL(file, format_subscriptions(names, '/'));
    }
    void subscriptions_v1_plain()
    {
        auto names = parse_subscriptions("INBOX\nA.B\n", '.');
        CPPUNIT_ASSERT_EQUAL(std::string("A.B"), names[1]);
        TempDir dir;
        set_subscribed(dir / "subscriptions", '/', "a/b", true);
        set_subscribed(dir / "subscriptions", '/', "Trash", true);
        set_subscribed(dir / "subscriptions", '/', "a/b", true);
        CPPUNIT_ASSERT_EQUAL(std::string("V\t2\n\na\tb\nTrash\n"), storage_test::read_file(dir / "subscriptions"));
        set_subscribed(dir / "subscriptions", '/', "a/b", false);
        set_subscribed(dir / "subscriptions", '/', "a/b", true);
        CPPUNIT_ASSERT_EQUAL(std::string("V\t2\n\nTrash\na\tb\n"), storage_test::read_file(dir / "subscriptions"));
        CPPUNIT_ASSERT(!path_exists(dir / "subscriptions.lock"));
    }
    void mutf7_known_names()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("Entw&APw-rfe"), utf8_to_mutf7("Entw\xC3\xBC" "rfe"));
        CPPUNIT_ASSERT_EQUAL(std::string("Entw\xC3\xBC" "rfe"), mutf7_to_utf8("Entw&APw-rfe"));
        CPPUNIT_ASSERT_EQUAL(std::string("Test &- Co"), utf8_to_mutf7("Test & Co"));
        CPPUNIT_ASSERT_EQUAL(std::string("Test & Co"), mutf7_to_utf8("Test &- Co"));
        // RFC 3501's example: "~peter/mail/日本語/台北"
        std::string japanese = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
        CPPUNIT_ASSERT_EQUAL(std::string("&ZeVnLIqe-"), utf8_to_mutf7(japanese));
        CPPUNIT_ASSERT_EQUAL(japanese, mutf7_to_utf8("&ZeVnLIqe-"));
        std::string emoji = "\xF0\x9F\x98\x80";  // needs a surrogate pair
        CPPUNIT_ASSERT_EQUAL(emoji, mutf7_to_utf8(utf8_to_mutf7(emoji)));
        std::string mixed = "&MOEw,DDr-";
        CPPUNIT_ASSERT_EQUAL(mixed, utf8_to_mutf7(mutf7_to_utf8(mixed)));
    }
    void mutf7_rejects_garbage()
    {
        CPPUNIT_ASSERT(!is_valid_mutf7("&"));
        CPPUNIT_ASSERT(!is_valid_mutf7("&AGE-"));  // encoded printable ASCII 'a'
        CPPUNIT_ASSERT(!is_valid_mutf7("&2D3-"));  // lone surrogate
        CPPUNIT_ASSERT(!is_valid_mutf7("a\xC3\xBC"));
        CPPUNIT_ASSERT_THROW(utf8_to_mutf7("\xC3"), StorageError);
        CPPUNIT_ASSERT_THROW(utf8_to_mutf7("\xC0\xAF"), StorageError);
        CPPUNIT_ASSERT(is_valid_mutf7("plain"));
    }
    void location_parses_options()
    {
        auto loc = MaildirLocation::parse("/home/a/Maildir/:LAYOUT=fs:INBOX=/var/mail/a:CONTROL=/c:INDEX=/i:"
                                          "VOLATILEDIR=/v:UTF-8");
        CPPUNIT_ASSERT_EQUAL(std::string("/home/a/Maildir"), loc.root);
        CPPUNIT_ASSERT(loc.layout_fs);
        CPPUNIT_ASSERT_EQUAL(std::string("/var/mail/a"), loc.inbox);
        CPPUNIT_ASSERT_EQUAL(std::string("/c"), loc.control);
        CPPUNIT_ASSERT_EQUAL(std::string("/i"), loc.index);
        CPPUNIT_ASSERT_EQUAL(std::string("/v"), loc.volatile_dir);
        CPPUNIT_ASSERT(loc.utf8);
        auto plain = MaildirLocation::parse("maildir:/x::y");
        CPPUNIT_ASSERT_EQUAL(std::string("/x:y"), plain.root);
        CPPUNIT_ASSERT(!plain.layout_fs);
    }
    void location_rejects_unknown()
    {
        CPPUNIT_ASSERT_THROW(MaildirLocation::parse("/x:FOO=1"), StorageError);
        CPPUNIT_ASSERT_THROW(MaildirLocation::parse("relative/path"), StorageError);
        CPPUNIT_ASSERT_THROW(MaildirLocation::parse("/x:LAYOUT=index"), StorageError);
    }
    void uidvalidity_allocates_like_dovecot()
    {
        TempDir dir;
        uint32_t before = static_cast<uint32_t>(::time(nullptr));
        uint32_t first = next_uidvalidity(dir.path());
        CPPUNIT_ASSERT(first >= before && first <= before + 2);
        uint32_t second = next_uidvalidity(dir.path());
        CPPUNIT_ASSERT_EQUAL(first + 1, second);
        char hex[16];
        std::snprintf(hex, sizeof(hex), "%08x", second);
        CPPUNIT_ASSERT_EQUAL(std::string(hex), storage_test::read_file(dir / "dovecot-uidvalidity"));
        CPPUNIT_ASSERT(path_exists(dir / ("dovecot-uidvalidity." + std::string(hex))));
        std::snprintf(hex, sizeof(hex), "%08x", first);
        CPPUNIT_ASSERT(!path_exists(dir / ("dovecot-uidvalidity." + std::string(hex))));
        // Lost main file: the companion still says where we were.
        ::unlink((dir / "dovecot-uidvalidity").c_str());
        CPPUNIT_ASSERT_EQUAL(second + 1, next_uidvalidity(dir.path()));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FormatsTest);
