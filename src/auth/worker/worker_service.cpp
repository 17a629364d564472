#include "auth/worker/worker_service.h"

#include "auth/errors.h"
#include "auth/pam_passdb.h"
#include "auth/worker/worker_db.h"

namespace loft::auth::worker {

WorkerService::WorkerService(const config::Settings& settings)
{
    for (const config::Section* section : settings.sections("passdb")) {
        std::string driver = section->get_or("driver", "");
        std::unique_ptr<Passdb> passdb;
        unsigned limit = 0;
        if (passdb_runs_in_worker(driver)) {
            passdb = make_passdb(driver, section->get_or("args", ""));
            if (auto* pam = dynamic_cast<PamPassdb*>(passdb.get()))
                limit = pam->args().max_requests;
        }
        passdbs_.push_back(std::move(passdb));
        pam_limits_.push_back(limit);
    }
    for (const config::Section* section : settings.sections("userdb")) {
        std::string driver = section->get_or("driver", "");
        userdbs_.push_back(userdb_runs_in_worker(driver) ? make_userdb(driver, section->get_or("args", "")) : nullptr);
    }
}

bool WorkerService::needs_root(const config::Settings& settings)
{
    for (const config::Section* section : settings.sections("passdb")) {
        if (passdb_needs_root(section->get_or("driver", "")))
            return true;
    }
    return false;
}

bool WorkerService::needed(const config::Settings& settings)
{
    for (const config::Section* section : settings.sections("passdb")) {
        if (passdb_runs_in_worker(section->get_or("driver", "")))
            return true;
    }
    for (const config::Section* section : settings.sections("userdb")) {
        if (userdb_runs_in_worker(section->get_or("driver", "")))
            return true;
    }
    return false;
}

WorkerReply WorkerService::handle(const WorkerRequest& request)
{
    WorkerReply reply;
    reply.id = request.id;
    try {
        if (request.op == WorkerOp::UserdbLookup) {
            if (request.db_index >= userdbs_.size() || !userdbs_[request.db_index])
                throw AuthError("no such userdb in the worker (index " + std::to_string(request.db_index) + ")");
            UserdbReply found = userdbs_[request.db_index]->lookup(request.request);
            reply.status = static_cast<int>(found.status);
            reply.error = std::move(found.error);
            reply.fields = std::move(found.fields);
            return reply;
        }
        if (request.db_index >= passdbs_.size() || !passdbs_[request.db_index])
            throw AuthError("no such passdb in the worker (index " + std::to_string(request.db_index) + ")");
        Passdb& passdb = *passdbs_[request.db_index];
        PassdbReply found = request.op == WorkerOp::PassdbVerify
                                ? passdb.verify_plain(request.request, request.secret)
                                : passdb.lookup_credentials(request.request, request.secret);
        reply.status = static_cast<int>(found.status);
        reply.error = std::move(found.error);
        reply.credentials = std::move(found.credentials);
        reply.fields = std::move(found.fields);
        if (unsigned limit = pam_limits_[request.db_index]; limit > 0 && ++pam_requests_ >= limit)
            exhausted_ = true;
    } catch (const std::exception& failure) {
        reply.status = request.op == WorkerOp::UserdbLookup ? static_cast<int>(UserdbStatus::InternalFailure)
                                                            : static_cast<int>(PassdbStatus::InternalFailure);
        reply.error = failure.what();
        reply.fields.clear();
        reply.credentials.clear();
    }
    reply.worker_exits = exhausted_;
    return reply;
}

}  // namespace loft::auth::worker
