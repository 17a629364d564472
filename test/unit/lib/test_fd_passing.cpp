#include "lib/child_args.h"
#include "lib/fd_passing.h"

#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

class FdPassingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FdPassingTest);
    CPPUNIT_TEST(message_and_descriptor_arrive_together);
    CPPUNIT_TEST(end_of_stream_is_reported);
    CPPUNIT_TEST(oversized_message_is_refused);
    CPPUNIT_TEST(child_arguments);
    CPPUNIT_TEST_SUITE_END();

public:
    void message_and_descriptor_arrive_together()
    {
        auto [a, b] = loft::make_seqpacket_pair();
        int pipe_fds[2];
        CPPUNIT_ASSERT_EQUAL(0, pipe(pipe_fds));
        loft::UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
        loft::send_message(a.get(), "7 OK", write_end.get());
        loft::send_message(a.get(), "8 FAIL nope");
        auto first = loft::receive_message(b.get());
        CPPUNIT_ASSERT(first && first->fd.valid());
        CPPUNIT_ASSERT_EQUAL(std::string("7 OK"), first->text);
        CPPUNIT_ASSERT_EQUAL(ssize_t(2), write(first->fd.get(), "hi", 2));
        char buffer[2];
        CPPUNIT_ASSERT_EQUAL(ssize_t(2), read(read_end.get(), buffer, 2));
        auto second = loft::receive_message(b.get());
        CPPUNIT_ASSERT(second && !second->fd.valid());
        CPPUNIT_ASSERT_EQUAL(std::string("8 FAIL nope"), second->text);
        CPPUNIT_ASSERT(fcntl(first->fd.get(), F_GETFD) & FD_CLOEXEC);
    }
    void end_of_stream_is_reported()
    {
        auto [a, b] = loft::make_seqpacket_pair();
        a.reset();
        auto end = loft::receive_message(b.get());
        CPPUNIT_ASSERT(end && end->end_of_stream);
    }
    void oversized_message_is_refused()
    {
        auto [a, b] = loft::make_seqpacket_pair();
        CPPUNIT_ASSERT_THROW(loft::send_message(a.get(), std::string(loft::kMaxControlMessage + 1, 'x')),
                             std::length_error);
    }
    void child_arguments()
    {
        const char* argv[] = {"loft-imap", "--run-as", "dovenull", "--chroot", "/run/x",
                              "--listener", "imap=6", "--listener", "imaps=7:ssl"};
        auto args = loft::parse_child_args(9, const_cast<char**>(argv));
        CPPUNIT_ASSERT_EQUAL(std::string("dovenull"), args.run_as);
        CPPUNIT_ASSERT_EQUAL(size_t(2), args.listeners.size());
        CPPUNIT_ASSERT(!args.listeners[0].ssl && args.listeners[1].ssl);
        CPPUNIT_ASSERT_EQUAL(7, args.listeners[1].fd);
        const char* bad[] = {"x", "--listener", "imap=2"};
        CPPUNIT_ASSERT_THROW(loft::parse_child_args(3, const_cast<char**>(bad)), std::invalid_argument);
        const char* unknown[] = {"x", "--frobnicate", "1"};
        CPPUNIT_ASSERT_THROW(loft::parse_child_args(3, const_cast<char**>(unknown)), std::invalid_argument);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FdPassingTest);
