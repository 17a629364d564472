#include "lib/log.h"

#include <unistd.h>

#include <ctime>

namespace loft {

std::string_view log_level_name(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug: return "Debug";
    case LogLevel::Info: return "Info";
    case LogLevel::Warning: return "Warning";
    case LogLevel::Error: return "Error";
    case LogLevel::Fatal: return "Fatal";
    }
    return "Info";
}

void Logger::log(LogLevel level, std::string_view message) const
{
    std::string line;
    line.reserve(prefix_.size() + message.size() + 32);
    if (timestamps_) {
        char stamp[32];
        time_t now = time(nullptr);
        struct tm tm_now;
        localtime_r(&now, &tm_now);
        size_t n = strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S ", &tm_now);
        line.append(stamp, n);
    }
    line += prefix_;
    line += ": ";
    line += log_level_name(level);
    line += ": ";
    for (char c : message)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    const char* data = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t written = ::write(fd_, data, left);
        if (written <= 0)
            break;
        data += written;
        left -= static_cast<size_t>(written);
    }
}

}  // namespace loft
