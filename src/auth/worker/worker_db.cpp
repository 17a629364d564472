#include "auth/worker/worker_db.h"

namespace loft::auth::worker {

bool passdb_runs_in_worker(std::string_view driver)
{
    return driver == "pam" || driver == "shadow" || driver == "sql" || driver == "checkpassword";
}

bool userdb_runs_in_worker(std::string_view driver)
{
    return driver == "sql" || driver == "checkpassword";
}

bool passdb_needs_root(std::string_view driver)
{
    return driver == "pam" || driver == "shadow";
}

WorkerPassdb::WorkerPassdb(std::unique_ptr<Passdb> local, uint32_t index, WorkerPool& pool)
    : local_(std::move(local)), index_(index), pool_(pool)
{
}

PassdbReply WorkerPassdb::verify_plain(const AuthRequest& request, std::string_view password)
{
    return local_->verify_plain(request, password);
}

PassdbReply WorkerPassdb::lookup_credentials(const AuthRequest& request, std::string_view scheme)
{
    return local_->lookup_credentials(request, scheme);
}

Task<PassdbReply> WorkerPassdb::verify_plain_async(const AuthRequest& request, std::string password)
{
    PassdbReply reply = co_await ask(WorkerOp::PassdbVerify, request, std::move(password));
    co_return reply;
}

Task<PassdbReply> WorkerPassdb::lookup_credentials_async(const AuthRequest& request, std::string scheme)
{
    PassdbReply reply = co_await ask(WorkerOp::PassdbCredentials, request, std::move(scheme));
    co_return reply;
}

Task<PassdbReply> WorkerPassdb::ask(WorkerOp op, const AuthRequest& request, std::string secret)
{
    WorkerRequest question;
    question.op = op;
    question.db_index = index_;
    question.request = request;
    question.secret = std::move(secret);
    PassdbReply reply;
    try {
        WorkerReply answer = co_await pool_.ask(std::move(question));
        reply.status = passdb_status_of(answer);
        reply.error = std::move(answer.error);
        reply.credentials = std::move(answer.credentials);
        reply.fields = std::move(answer.fields);
    } catch (const std::exception& failure) {
        // A dead or stuck worker is a temporary failure, never a wrong password.
        reply.status = PassdbStatus::InternalFailure;
        reply.error = failure.what();
    }
    co_return reply;
}

WorkerUserdb::WorkerUserdb(std::unique_ptr<Userdb> local, uint32_t index, WorkerPool& pool)
    : local_(std::move(local)), index_(index), pool_(pool)
{
}

Task<UserdbReply> WorkerUserdb::lookup_async(const AuthRequest& request)
{
    WorkerRequest question;
    question.op = WorkerOp::UserdbLookup;
    question.db_index = index_;
    question.request = request;
    UserdbReply reply;
    try {
        WorkerReply answer = co_await pool_.ask(std::move(question));
        reply.status = userdb_status_of(answer);
        reply.error = std::move(answer.error);
        reply.fields = std::move(answer.fields);
    } catch (const std::exception& failure) {
        reply.status = UserdbStatus::InternalFailure;
        reply.error = failure.what();
    }
    co_return reply;
}

}  // namespace loft::auth::worker
