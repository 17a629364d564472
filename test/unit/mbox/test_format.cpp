#include "storage/mbox/format.h"
#include "storage/mbox/location.h"
#include "storage/mbox/lock.h"
#include "storage/storage_error.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::storage;
using namespace loft::storage::mbox;

namespace {

// An INBOX as Dovecot 2.3 wrote it (LDA deliveries, STORE, EXPUNGE, APPEND), trimmed padding.
const std::string dovecot_inbox =
    "From MAILER-DAEMON  Mon Nov 30 04:48:45 2026\n"
    "From: sender@example.org\nTo: alice@example.org\nSubject: test 1\n"
    "Message-ID: <1.1796014125.660783@example.org>\n"
    "X-IMAPbase: 1796014125 0000000004 $label1 Foo\nX-UID: 1\nStatus: RO\n"
    "X-Keywords: $label1                                      \nContent-Length: 33\nX-Status: A\n\n"
    "Line one of message 1.\nLine two.\n\n"
    "From MAILER-DAEMON  Mon Nov 30 04:48:45 2026\n"
    "From: sender@example.org\nTo: alice@example.org\nSubject: test 3\n"
    "Message-ID: <3.1796014125.771307@example.org>\n"
    "X-UID: 3\nStatus: O\nX-Keywords:                      \nContent-Length: 33\n\n"
    "Line one of message 3.\nLine two.\n\n"
    "From alice@vm  Thu Feb 01 09:00:00 2024\n"
    "Subject: appended\nX-UID: 4\nStatus: RO\nX-Keywords: Foo         \nContent-Length: 17\n\n"
    "no final newline\n\n";

const std::string dovecot_pseudo =
    "From MAILER_DAEMON  Mon Nov 30 04:48:45 2026\n"
    "Date: Mon, 30 Nov 2026 04:48:45 +0000\n"
    "From: Mail System Internal Data <MAILER-DAEMON@vm>\n"
    "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n"
    "Message-ID: <1796014125@vm>\nX-IMAP: 1796014126 0000000001\nStatus: RO\n\n"
    "This text is part of the internal format of your mail folder, and is not\n"
    "a real message.  It is created automatically by the mail system software.\n"
    "If deleted, important folder data will be lost, and it will be re-created\n"
    "with the data reset to initial values.\n\n";

}  // namespace

class MboxFormatTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MboxFormatTest);
    CPPUNIT_TEST(reads_dovecot_inbox);
    CPPUNIT_TEST(reads_pseudo_message);
    CPPUNIT_TEST(reads_mta_mbox_without_dovecot_headers);
    CPPUNIT_TEST(content_length_protects_from_lines_in_body);
    CPPUNIT_TEST(wrong_content_length_falls_back_to_from_lines);
    CPPUNIT_TEST(format_round_trips);
    CPPUNIT_TEST(empty_mailbox_is_written_as_pseudo_message);
    CPPUNIT_TEST(from_line_dates);
    CPPUNIT_TEST(rejects_non_mbox);
    CPPUNIT_TEST(limits_message_count);
    CPPUNIT_TEST(appended_text_is_normalized);
    CPPUNIT_TEST(location_parsing);
    CPPUNIT_TEST(lock_method_parsing);
    CPPUNIT_TEST_SUITE_END();

public:
    void reads_dovecot_inbox()
    {
        MboxFile file = parse_mbox(dovecot_inbox);
        CPPUNIT_ASSERT_EQUAL(1796014125u, file.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(5u, file.next_uid);  // the header holds the last UID
        CPPUNIT_ASSERT(file.keywords == (std::vector<std::string>{"$label1", "Foo"}));
        CPPUNIT_ASSERT(!file.has_pseudo);
        CPPUNIT_ASSERT_EQUAL(size_t(3), file.messages.size());
        const auto& first = file.messages[0];
        CPPUNIT_ASSERT_EQUAL(1u, first.uid);
        CPPUNIT_ASSERT_EQUAL(uint32_t(Seen | Answered), first.flags.system);
        CPPUNIT_ASSERT(first.flags.keywords == std::vector<std::string>{"$label1"});
        CPPUNIT_ASSERT(first.seen_by_session);
        CPPUNIT_ASSERT_EQUAL(std::string("Line one of message 1.\nLine two.\n"), first.body);
        // Dovecot reported RFC822.SIZE 150 and 39 for these.
        CPPUNIT_ASSERT_EQUAL(uint64_t(150), crlf_size(first.imap_text()));
        CPPUNIT_ASSERT(first.imap_text().find("X-UID") == std::string::npos);
        CPPUNIT_ASSERT(first.imap_text().find("Status") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(3u, file.messages[1].uid);
        CPPUNIT_ASSERT_EQUAL(0u, file.messages[1].flags.system);
        const auto& appended = file.messages[2];
        CPPUNIT_ASSERT_EQUAL(4u, appended.uid);
        CPPUNIT_ASSERT_EQUAL(uint64_t(39), crlf_size(appended.imap_text()));
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), appended.internal_date);
        CPPUNIT_ASSERT_EQUAL(int64_t(1796014125), first.internal_date);
        CPPUNIT_ASSERT(appended.flags.keywords == std::vector<std::string>{"Foo"});
    }

    void reads_pseudo_message()
    {
        MboxFile file = parse_mbox(dovecot_pseudo);
        CPPUNIT_ASSERT(file.has_pseudo);
        CPPUNIT_ASSERT(file.messages.empty());
        CPPUNIT_ASSERT_EQUAL(1796014126u, file.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(2u, file.next_uid);  // Dovecot reports UIDNEXT 2
    }

    void reads_mta_mbox_without_dovecot_headers()
    {
        MboxFile file = parse_mbox(
            "From a@b.example Mon Jan  1 10:00:00 2024\nSubject: one\n\nbody one\n\n"
            "From c@d.example Tue Jan  2 11:00:00 2024\nSubject: two\n\nbody two\nmore\n\n");
        CPPUNIT_ASSERT_EQUAL(0u, file.uidvalidity);
        CPPUNIT_ASSERT_EQUAL(size_t(2), file.messages.size());
        CPPUNIT_ASSERT_EQUAL(0u, file.messages[0].uid);
        CPPUNIT_ASSERT_EQUAL(std::string("body one\n"), file.messages[0].body);
        CPPUNIT_ASSERT_EQUAL(std::string("body two\nmore\n"), file.messages[1].body);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: two\n"), file.messages[1].header);
        CPPUNIT_ASSERT(!file.messages[1].seen_by_session);
        CPPUNIT_ASSERT_EQUAL(int64_t(1704193200), file.messages[1].internal_date);
    }

    void content_length_protects_from_lines_in_body()
    {
        std::string body = "text\n\nFrom the beginning of a line.\n";
        MboxFile file = parse_mbox("From x  Mon Jan  1 10:00:00 2024\nSubject: s\nX-UID: 1\nContent-Length: " +
                                   std::to_string(body.size()) + "\n\n" + body + "\n");
        CPPUNIT_ASSERT_EQUAL(size_t(1), file.messages.size());
        CPPUNIT_ASSERT_EQUAL(body, file.messages[0].body);
    }

    void wrong_content_length_falls_back_to_from_lines()
    {
        MboxFile file = parse_mbox("From x  Mon Jan  1 10:00:00 2024\nContent-Length: 3\n\nabcdef\n\n"
                                   "From y  Mon Jan  1 10:00:00 2024\nSubject: 2\n\nz\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), file.messages.size());
        CPPUNIT_ASSERT_EQUAL(std::string("abcdef\n"), file.messages[0].body);
        CPPUNIT_ASSERT_EQUAL(std::string("z\n"), file.messages[1].body);
    }

    void format_round_trips()
    {
        MboxFile file = parse_mbox(dovecot_inbox);
        file.messages[1].flags.system = Flagged | Deleted | Draft;
        file.messages[1].flags.keywords = {"Junk"};
        file.keywords.push_back("Junk");
        std::string text = format_mbox(file, {4}, "host");
        CPPUNIT_ASSERT(text.find("X-IMAPbase: 1796014125 0000000004 $label1 Foo Junk\n") != std::string::npos);
        CPPUNIT_ASSERT(text.find("X-Status: FTD\n") != std::string::npos);
        MboxFile again = parse_mbox(text);
        CPPUNIT_ASSERT_EQUAL(size_t(3), again.messages.size());
        for (size_t i = 0; i < 3; i++) {
            CPPUNIT_ASSERT_EQUAL(file.messages[i].uid, again.messages[i].uid);
            CPPUNIT_ASSERT(file.messages[i].flags == again.messages[i].flags);
            CPPUNIT_ASSERT_EQUAL(file.messages[i].imap_text(), again.messages[i].imap_text());
            CPPUNIT_ASSERT_EQUAL(file.messages[i].from_line, again.messages[i].from_line);
        }
        CPPUNIT_ASSERT(again.messages[0].seen_by_session);
        CPPUNIT_ASSERT(!again.messages[2].seen_by_session);  // listed as recent
    }

    void empty_mailbox_is_written_as_pseudo_message()
    {
        MboxFile file;
        file.uidvalidity = 77;
        file.next_uid = 12;
        std::string text = format_mbox(file, {}, "host");
        CPPUNIT_ASSERT(text.rfind("From MAILER_DAEMON  ", 0) == 0);
        CPPUNIT_ASSERT(text.find("X-IMAP: 77 0000000011 ") != std::string::npos);
        MboxFile again = parse_mbox(text);
        CPPUNIT_ASSERT(again.has_pseudo);
        CPPUNIT_ASSERT(again.messages.empty());
        CPPUNIT_ASSERT_EQUAL(12u, again.next_uid);
    }

    void from_line_dates()
    {
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), *parse_from_line_date("alice@vm  Thu Feb 01 09:00:00 2024"));
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), *parse_from_line_date("a@b Thu Feb  1 10:00:00 2024 +0100"));
        CPPUNIT_ASSERT_EQUAL(int64_t(1706778000), *parse_from_line_date("a@b Thu Feb  1 09:00 2024"));
        CPPUNIT_ASSERT(!parse_from_line_date("garbage"));
        CPPUNIT_ASSERT_EQUAL(std::string("Thu Feb 01 09:00:00 2024"), ctime_utc(1706778000));
    }

    void rejects_non_mbox()
    {
        CPPUNIT_ASSERT_THROW(parse_mbox("Subject: not an mbox\n\nbody\n"), StorageError);
        CPPUNIT_ASSERT(parse_mbox("").messages.empty());
    }

    void limits_message_count()
    {
        std::string text;
        for (int i = 0; i < 5; i++)
            text += "From x  Mon Jan  1 10:00:00 2024\nSubject: s\n\nb\n\n";
        FormatLimits limits;
        limits.max_messages = 4;
        try {
            parse_mbox(text, limits);
            CPPUNIT_FAIL("limit not enforced");
        } catch (const StorageError& e) {
            CPPUNIT_ASSERT(e.kind() == StorageError::Kind::Limit);
        }
    }

    void appended_text_is_normalized()
    {
        std::string header, body;
        split_message(normalize_newlines("Subject: x\r\nX-UID: 99\r\nStatus: RO\r\n\r\nno newline"), header, body);
        CPPUNIT_ASSERT_EQUAL(std::string("Subject: x\n"), header);
        CPPUNIT_ASSERT_EQUAL(std::string("no newline\n"), body);
    }

    void location_parsing()
    {
        auto location = MboxLocation::parse("mbox:/home/a/mail:INBOX=/var/mail/a:INDEX=/var/idx/a");
        CPPUNIT_ASSERT_EQUAL(std::string("/home/a/mail"), location.root);
        CPPUNIT_ASSERT_EQUAL(std::string("/var/mail/a"), location.inbox);
        CPPUNIT_ASSERT_EQUAL(std::string("/var/idx/a"), location.index_root());
        CPPUNIT_ASSERT_EQUAL(std::string("/home/a/mail/.subscriptions"), location.subscriptions_path());
        auto plain = MboxLocation::parse("/home/a/mail/");
        CPPUNIT_ASSERT_EQUAL(std::string("/home/a/mail/inbox"), plain.inbox);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/a/mail/.imap"), plain.index_root());
        CPPUNIT_ASSERT_THROW(MboxLocation::parse("/x:LAYOUT=maildir++"), StorageError);
        CPPUNIT_ASSERT_THROW(MboxLocation::parse("relative/path"), StorageError);
        CPPUNIT_ASSERT_THROW(MboxLocation::parse("/x:BOGUS=1"), StorageError);
    }

    void lock_method_parsing()
    {
        auto methods = parse_lock_methods("dotlock fcntl flock lockf dotlock_try");
        CPPUNIT_ASSERT_EQUAL(size_t(5), methods.size());
        CPPUNIT_ASSERT(methods[0] == LockMethod::Dotlock && methods[4] == LockMethod::DotlockTry);
        CPPUNIT_ASSERT_THROW(parse_lock_methods("fcntl bogus"), StorageError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MboxFormatTest);
