// Turning a failed system call into an exception that names what was attempted.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace loft {

[[noreturn]] inline void throw_errno(const std::string& what, int error = errno)
{
    throw std::system_error(error, std::generic_category(), what);
}

}  // namespace loft
