#include "auth/worker/worker_service.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>
#include <cstdlib>
#include <fstream>

using namespace loft;
using namespace loft::auth;
using namespace loft::auth::worker;

namespace {

config::Settings settings_of(const std::string& text)
{
    auto config = config::Config::load_string(text, "t.conf", "/");
    return config.resolve(config::Filter{});
}

WorkerRequest verify_request(uint32_t index, const std::string& user, const std::string& password)
{
    WorkerRequest request;
    request.id = 9;
    request.op = WorkerOp::PassdbVerify;
    request.db_index = index;
    request.request.user = user;
    request.request.service = "imap";
    request.secret = password;
    return request;
}

// A checkpassword program: "secret" is everyone's password; it writes the reply helper's
// answer (fd 4) itself.
std::string write_checkpassword()
{
    const char* base = std::getenv("TMPDIR");
    std::string path = std::string(base && *base ? base : "/tmp") + "/loft-worker-cp-" + std::to_string(getpid());
    std::ofstream(path) << "#!/bin/sh\n"
                           "pair=$(tr '\\0' '\\n' <&3 | { read -r u; read -r p; echo \"$u:$p\"; })\n"
                           "[ \"${pair#*:}\" = secret ] || exit 1\n"
                           "printf 'user=%s\\t' \"${pair%%:*}\" >&4\n";
    chmod(path.c_str(), 0755);
    return path;
}

}  // namespace

class WorkerServiceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(WorkerServiceTest);
    CPPUNIT_TEST(runs_the_named_blocking_passdb);
    CPPUNIT_TEST(which_configs_need_a_worker_and_root);
    CPPUNIT_TEST_SUITE_END();

public:
    void runs_the_named_blocking_passdb()
    {
        std::string script = write_checkpassword();
        auto settings = settings_of("passdb {\n  driver = static\n  args = password=x\n}\n"
                                    "passdb {\n  driver = checkpassword\n  args = " + script + "\n}\n");
        WorkerService service(settings);
        WorkerReply ok = service.handle(verify_request(1, "alice", "secret"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(9), ok.id);
        CPPUNIT_ASSERT(passdb_status_of(ok) == PassdbStatus::Ok);
        WorkerReply wrong = service.handle(verify_request(1, "alice", "nope"));
        CPPUNIT_ASSERT(passdb_status_of(wrong) == PassdbStatus::PasswordMismatch);
        // The static passdb stays in loft-auth: the worker has none at that place.
        WorkerReply not_here = service.handle(verify_request(0, "alice", "x"));
        CPPUNIT_ASSERT(passdb_status_of(not_here) == PassdbStatus::InternalFailure);
        CPPUNIT_ASSERT(not_here.error.find("no such passdb") != std::string::npos);
        WorkerReply beyond = service.handle(verify_request(7, "alice", "x"));
        CPPUNIT_ASSERT(passdb_status_of(beyond) == PassdbStatus::InternalFailure);
        WorkerRequest userdb = verify_request(0, "alice", "");
        userdb.op = WorkerOp::UserdbLookup;
        CPPUNIT_ASSERT(userdb_status_of(service.handle(userdb)) == UserdbStatus::InternalFailure);
        CPPUNIT_ASSERT(!service.exhausted());
        unlink(script.c_str());
    }

    void which_configs_need_a_worker_and_root()
    {
        auto files = settings_of("passdb {\n  driver = passwd-file\n  args = /nonexistent\n}\n"
                                 "userdb {\n  driver = passwd\n}\n");
        CPPUNIT_ASSERT(!WorkerService::needed(files) && !WorkerService::needs_root(files));
        auto sql = settings_of("passdb {\n  driver = passwd-file\n  args = /nonexistent\n}\n"
                               "userdb {\n  driver = checkpassword\n  args = /bin/true\n}\n");
        CPPUNIT_ASSERT(WorkerService::needed(sql) && !WorkerService::needs_root(sql));
        auto pam = settings_of("passdb {\n  driver = pam\n}\nuserdb {\n  driver = passwd\n}\n");
        CPPUNIT_ASSERT(WorkerService::needed(pam) && WorkerService::needs_root(pam));
        auto shadow = settings_of("passdb {\n  driver = shadow\n}\n");
        CPPUNIT_ASSERT(WorkerService::needs_root(shadow));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WorkerServiceTest);
