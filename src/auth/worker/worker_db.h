// Which passdb/userdb drivers block (and so run in loft-auth-worker), and loft-auth's
// stand-ins for them: awaited look-ups go to a worker, synchronous ones (loftadm-style
// callers, user listing) still use a local instance of the driver.
#pragma once

#include "auth/passdb.h"
#include "auth/worker/worker_pool.h"

#include <memory>
#include <string_view>

namespace loft::auth::worker {

// pam, shadow, sql (sqlite), checkpassword: a look-up can take seconds.
bool passdb_runs_in_worker(std::string_view driver);
bool userdb_runs_in_worker(std::string_view driver);  // sql, checkpassword
// pam (pam_unix reads /etc/shadow) and shadow need the worker to be root.
bool passdb_needs_root(std::string_view driver);

class WorkerPassdb final : public Passdb {
public:
    WorkerPassdb(std::unique_ptr<Passdb> local, uint32_t index, WorkerPool& pool);
    std::string_view driver() const override { return local_->driver(); }
    PassdbReply verify_plain(const AuthRequest& request, std::string_view password) override;
    PassdbReply lookup_credentials(const AuthRequest& request, std::string_view scheme) override;
    Task<PassdbReply> verify_plain_async(const AuthRequest& request, std::string password) override;
    Task<PassdbReply> lookup_credentials_async(const AuthRequest& request, std::string scheme) override;
    bool looks_up_locally() const override { return false; }

protected:
    std::optional<PassdbEntry> lookup(const AuthRequest&) override { return std::nullopt; }

private:
    Task<PassdbReply> ask(WorkerOp op, const AuthRequest& request, std::string secret);
    std::unique_ptr<Passdb> local_;
    uint32_t index_;
    WorkerPool& pool_;
};

class WorkerUserdb final : public Userdb {
public:
    WorkerUserdb(std::unique_ptr<Userdb> local, uint32_t index, WorkerPool& pool);
    std::string_view driver() const override { return local_->driver(); }
    UserdbReply lookup(const AuthRequest& request) override { return local_->lookup(request); }
    Task<UserdbReply> lookup_async(const AuthRequest& request) override;
    bool can_iterate() const override { return local_->can_iterate(); }
    void iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user) override
    {
        local_->iterate(request, each_user);
    }

private:
    std::unique_ptr<Userdb> local_;
    uint32_t index_;
    WorkerPool& pool_;
};

}  // namespace loft::auth::worker
