// Exception types of the auth library, so callers can tell a broken setup from a bad request.
#pragma once

#include <stdexcept>
#include <string>

namespace loft::auth {

// The library was asked something it cannot do (bad key, unknown scheme when hashing, ...).
class AuthError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace loft::auth
