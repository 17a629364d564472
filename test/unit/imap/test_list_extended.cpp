#include "imap/list_extended.h"
#include "imap/protocol/arg.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::imap;
using loft::imap::protocol::Arg;

namespace {

// A tree like Dovecot's after CREATE a/b/c, p, Sent (special-use) and INBOX.
std::vector<ListedMailbox> sample()
{
    return {{"INBOX", {"\\HasNoChildren"}},
            {"Sent", {"\\HasNoChildren", "\\Sent"}},
            {"a", {"\\Noselect", "\\NonExistent", "\\HasChildren"}},
            {"a/b", {"\\Noselect", "\\NonExistent", "\\HasChildren"}},
            {"a/b/c", {"\\HasNoChildren"}},
            {"p", {"\\HasNoChildren"}}};
}

std::string render(const std::vector<ListLine>& lines)
{
    std::string out;
    for (const auto& line : lines) {
        out += line.name + "(";
        for (size_t i = 0; i < line.attributes.size(); i++)
            out += (i ? " " : "") + line.attributes[i];
        out += ")";
        if (line.child_info_subscribed)
            out += "+CHILDINFO";
        out += ";";
    }
    return out;
}

ListRequest parse(std::vector<Arg> args)
{
    return parse_list_request(args);
}

}  // namespace

class ListExtendedTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ListExtendedTest);
    CPPUNIT_TEST(plain_list_shows_noselect_children_and_special_use);
    CPPUNIT_TEST(return_options_choose_attributes);
    CPPUNIT_TEST(subscribed_selection_and_recursive_match);
    CPPUNIT_TEST(special_use_selection);
    CPPUNIT_TEST(lsub_adds_noselect_parents);
    CPPUNIT_TEST(bad_options_are_errors);
    CPPUNIT_TEST_SUITE_END();

public:
    void plain_list_shows_noselect_children_and_special_use()
    {
        auto request = parse({Arg::quoted(""), Arg::atom("*")});
        CPPUNIT_ASSERT(!request.extended);
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX(\\HasNoChildren);Sent(\\HasNoChildren \\Sent);"
                                         "a(\\Noselect \\HasChildren);a/b(\\Noselect \\HasChildren);"
                                         "a/b/c(\\HasNoChildren);p(\\HasNoChildren);"),
                             render(list_lines(request, sample(), {}, '/')));
    }
    void return_options_choose_attributes()
    {
        auto children = parse({Arg::quoted(""), Arg::atom("%"), Arg::atom("RETURN"), Arg::list({Arg::atom("CHILDREN")})});
        CPPUNIT_ASSERT(children.extended);
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX(\\HasNoChildren);Sent(\\HasNoChildren);a(\\NonExistent \\HasChildren);"
                                         "p(\\HasNoChildren);"),
                             render(list_lines(children, sample(), {}, '/')));
        auto status = parse({Arg::quoted(""), Arg::atom("%"), Arg::atom("RETURN"),
                             Arg::list({Arg::atom("SPECIAL-USE"), Arg::atom("STATUS"),
                                        Arg::list({Arg::atom("MESSAGES"), Arg::atom("SIZE")})})});
        CPPUNIT_ASSERT(status.return_status != 0);
        auto lines = list_lines(status, sample(), {}, '/');
        CPPUNIT_ASSERT_EQUAL(std::string("INBOX();Sent(\\Sent);a(\\NonExistent);p();"), render(lines));
        CPPUNIT_ASSERT(lines[0].selectable && !lines[2].selectable);
    }
    void subscribed_selection_and_recursive_match()
    {
        std::vector<std::string> subscriptions{"a/b/c", "p", "gone"};
        auto request = parse({Arg::list({Arg::atom("SUBSCRIBED")}), Arg::quoted(""), Arg::atom("*")});
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/c(\\Subscribed);p(\\Subscribed);gone(\\Subscribed \\NonExistent);"),
                             render(list_lines(request, sample(), subscriptions, '/')));
        auto recursive = parse({Arg::list({Arg::atom("SUBSCRIBED"), Arg::atom("RECURSIVEMATCH")}), Arg::quoted(""),
                                Arg::atom("%")});
        CPPUNIT_ASSERT_EQUAL(std::string("p(\\Subscribed);gone(\\Subscribed \\NonExistent);a(\\NonExistent)+CHILDINFO;"),
                             render(list_lines(recursive, sample(), subscriptions, '/')));
        auto with_children = parse({Arg::list({Arg::atom("SUBSCRIBED")}), Arg::quoted(""),
                                    Arg::list({Arg::atom("p"), Arg::atom("a/%/%")}), Arg::atom("RETURN"),
                                    Arg::list({Arg::atom("CHILDREN")})});
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/c(\\Subscribed \\HasNoChildren);p(\\Subscribed \\HasNoChildren);"),
                             render(list_lines(with_children, sample(), subscriptions, '/')));
    }
    void special_use_selection()
    {
        auto request = parse({Arg::list({Arg::atom("SPECIAL-USE")}), Arg::quoted(""), Arg::atom("*")});
        CPPUNIT_ASSERT_EQUAL(std::string("Sent(\\Sent);"), render(list_lines(request, sample(), {}, '/')));
    }
    void lsub_adds_noselect_parents()
    {
        std::vector<std::string> subscriptions{"a/b/c", "Sent", "gone"};
        CPPUNIT_ASSERT_EQUAL(std::string("Sent(\\Sent);gone(\\Noselect);a(\\Noselect);"),
                             render(lsub_lines("", "%", sample(), subscriptions, '/')));
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/c();Sent(\\Sent);gone(\\Noselect);"),
                             render(lsub_lines("", "*", sample(), subscriptions, '/')));
    }
    void bad_options_are_errors()
    {
        using loft::imap::protocol::CommandError;
        CPPUNIT_ASSERT_THROW(parse({Arg::list({Arg::atom("BOGUS")}), Arg::quoted(""), Arg::atom("*")}), CommandError);
        CPPUNIT_ASSERT_THROW(parse({Arg::list({Arg::atom("RECURSIVEMATCH")}), Arg::quoted(""), Arg::atom("*")}),
                             CommandError);
        CPPUNIT_ASSERT_THROW(parse({Arg::quoted(""), Arg::atom("*"), Arg::atom("RETURN")}), CommandError);
        CPPUNIT_ASSERT_THROW(parse({Arg::quoted("")}), CommandError);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ListExtendedTest);
