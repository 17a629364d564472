// Log lines in Dovecot's shape ("imap-login: Info: ..."), so existing log parsers keep working.
#pragma once

#include <string>
#include <string_view>

namespace loft {

enum class LogLevel { Debug, Info, Warning, Error, Fatal };

// One per process, created in main() and handed to whoever logs. Writes whole lines
// with one write(2) to its fd, so lines from several processes sharing a log file
// do not interleave.
class Logger {
public:
    explicit Logger(std::string prefix, int fd = 2) : prefix_(std::move(prefix)), fd_(fd) {}

    void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }
    const std::string& prefix() const { return prefix_; }
    void set_fd(int fd) { fd_ = fd; }
    void set_debug(bool enabled) { debug_ = enabled; }
    bool debug_enabled() const { return debug_; }
    // Adds a timestamp before each line, as Dovecot does when log_path is a file.
    void set_timestamps(bool enabled) { timestamps_ = enabled; }

    void log(LogLevel level, std::string_view message) const;
    void debug(std::string_view message) const
    {
        if (debug_)
            log(LogLevel::Debug, message);
    }
    void info(std::string_view message) const { log(LogLevel::Info, message); }
    void warning(std::string_view message) const { log(LogLevel::Warning, message); }
    void error(std::string_view message) const { log(LogLevel::Error, message); }
    void fatal(std::string_view message) const { log(LogLevel::Fatal, message); }

    // The same logger with a narrower prefix, e.g. "imap(alice)<4242>".
    Logger with_prefix(std::string prefix) const
    {
        Logger copy = *this;
        copy.prefix_ = std::move(prefix);
        return copy;
    }

private:
    std::string prefix_;
    int fd_;
    bool debug_ = false;
    bool timestamps_ = false;
};

std::string_view log_level_name(LogLevel level);

}  // namespace loft
