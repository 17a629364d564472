#include "auth/worker/worker_protocol.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace loft::auth;
using namespace loft::auth::worker;

namespace {

std::string body_of(const std::string& frame)
{
    CPPUNIT_ASSERT(frame.size() >= kFrameHeader);
    CPPUNIT_ASSERT_EQUAL(frame.size() - kFrameHeader, frame_length(frame.substr(0, kFrameHeader)));
    return frame.substr(kFrameHeader);
}

template <typename F>
bool rejects(F decode)
{
    try {
        decode();
    } catch (const WorkerProtocolError&) {
        return true;
    }
    return false;
}

}  // namespace

class WorkerProtocolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WorkerProtocolTest);
    CPPUNIT_TEST(request_round_trip);
    CPPUNIT_TEST(reply_round_trip);
    CPPUNIT_TEST(malformed_messages_are_rejected);
    CPPUNIT_TEST(limits);
    CPPUNIT_TEST_SUITE_END();

public:
    void request_round_trip()
    {
        WorkerRequest request;
        request.id = 77;
        request.op = WorkerOp::PassdbCredentials;
        request.db_index = 3;
        request.request.user = "alice@example.com";
        request.request.service = "imap";
        request.request.local_ip = "127.0.0.1";
        request.request.remote_ip = "::1";
        request.request.home = "/home/alice";
        request.request.secured = true;
        request.request.passdb_fields = {{"userdb_uid", "1000"}, {"nopassword", ""}};
        request.secret = std::string("pa\0ss\tword\n", 11);
        WorkerRequest back = decode_request(body_of(encode_request(request)));
        CPPUNIT_ASSERT_EQUAL(uint64_t(77), back.id);
        CPPUNIT_ASSERT(back.op == WorkerOp::PassdbCredentials);
        CPPUNIT_ASSERT_EQUAL(uint32_t(3), back.db_index);
        CPPUNIT_ASSERT_EQUAL(request.request.user, back.request.user);
        CPPUNIT_ASSERT_EQUAL(std::string("imap"), back.request.service);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), back.request.local_ip);
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), back.request.remote_ip);
        CPPUNIT_ASSERT_EQUAL(std::string("/home/alice"), back.request.home);
        CPPUNIT_ASSERT(back.request.secured);
        CPPUNIT_ASSERT(back.request.passdb_fields == request.request.passdb_fields);
        CPPUNIT_ASSERT_EQUAL(request.secret, back.secret);
    }

    void reply_round_trip()
    {
        WorkerReply reply;
        reply.id = 5;
        reply.status = static_cast<int>(PassdbStatus::PasswordMismatch);
        reply.error = "Password mismatch";
        reply.credentials = "{CRAM-MD5}abc";
        reply.fields = {{"user", "bob"}};
        reply.worker_exits = true;
        WorkerReply back = decode_reply(body_of(encode_reply(reply)));
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), back.id);
        CPPUNIT_ASSERT(passdb_status_of(back) == PassdbStatus::PasswordMismatch);
        CPPUNIT_ASSERT_EQUAL(reply.error, back.error);
        CPPUNIT_ASSERT_EQUAL(reply.credentials, back.credentials);
        CPPUNIT_ASSERT(back.fields == reply.fields);
        CPPUNIT_ASSERT(back.worker_exits);
        CPPUNIT_ASSERT(!decode_reply(body_of(encode_reply(WorkerReply{}))).worker_exits);
    }

    void malformed_messages_are_rejected()
    {
        WorkerRequest request;
        request.request.user = "alice";
        std::string body = body_of(encode_request(request));
        CPPUNIT_ASSERT(rejects([&] { decode_request(body.substr(0, body.size() - 1)); }));
        CPPUNIT_ASSERT(rejects([&] { decode_request(body + "x"); }));
        CPPUNIT_ASSERT(rejects([&] { decode_request(""); }));
        std::string bad_op = body;
        bad_op[15] = 9;  // the op number's last byte
        CPPUNIT_ASSERT(rejects([&] { decode_request(bad_op); }));
        // A string length pointing past the end.
        std::string long_user = body;
        long_user[24] = 0x7f;
        CPPUNIT_ASSERT(rejects([&] { decode_request(long_user); }));

        WorkerReply reply;
        reply.status = 99;
        CPPUNIT_ASSERT(rejects([&] { decode_reply(body_of(encode_reply(reply))); }));
        reply.status = static_cast<int>(PassdbStatus::InternalFailure);
        WorkerReply beyond_userdb = decode_reply(body_of(encode_reply(reply)));
        CPPUNIT_ASSERT(rejects([&] { userdb_status_of(beyond_userdb); }));
    }

    void limits()
    {
        CPPUNIT_ASSERT(rejects([] { frame_length(std::string("\x7f\0\0\0", 4)); }));
        CPPUNIT_ASSERT(rejects([] { frame_length("abc"); }));
        CPPUNIT_ASSERT_EQUAL(size_t(258), frame_length(std::string("\0\0\x01\x02", 4)));
        WorkerRequest huge;
        huge.secret = std::string(kMaxWorkerFrame + 1, 'x');
        CPPUNIT_ASSERT(rejects([&] { encode_request(huge); }));
        WorkerRequest many;
        for (size_t i = 0; i <= kMaxWorkerFields; i++)
            many.request.passdb_fields["k" + std::to_string(i)] = "v";
        std::string body = body_of(encode_request(many));
        CPPUNIT_ASSERT(rejects([&] { decode_request(body); }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WorkerProtocolTest);
