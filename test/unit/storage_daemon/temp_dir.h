// A scratch directory for the storage daemon's unit tests, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace loft::storage::daemon::test {

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        // Honour TMPDIR so distro builds keep scratch files inside their build area.
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/loft-storage-daemon-XXXXXX";
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed for " + pattern);
        path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace loft::storage::daemon::test
