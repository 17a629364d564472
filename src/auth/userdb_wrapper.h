// A userdb that adds behaviour around another one (the auth cache, debug lines) and
// forwards everything else to it.
#pragma once

#include "auth/passdb.h"

#include <memory>

namespace loft::auth {

class UserdbWrapper : public Userdb {
public:
    explicit UserdbWrapper(std::unique_ptr<Userdb> inner) : inner_(std::move(inner)) {}
    std::string_view driver() const override { return inner_->driver(); }
    bool can_iterate() const override { return inner_->can_iterate(); }
    void iterate(const AuthRequest& request, const std::function<void(const std::string&)>& each_user) override
    {
        inner_->iterate(request, each_user);
    }

protected:
    std::unique_ptr<Userdb> inner_;
};

}  // namespace loft::auth
