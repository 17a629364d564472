// loft-checkpassword-reply: the program a checkpassword script runs after a successful
// check (argv[1] in the checkpassword convention). It sends USER, HOME and the variables
// named in EXTRA back to loft-auth on fd 4, as Dovecot's checkpassword-reply does.
#include "auth/auth_client_protocol.h"
#include "lib/strings.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

bool write_all(int fd, const std::string& data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t wrote = write(fd, data.data() + done, data.size() - done);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            return false;
        done += static_cast<size_t>(wrote);
    }
    return true;
}

}  // namespace

int main()
{
    std::string reply;
    if (const char* user = std::getenv("USER")) {
        if (std::strchr(user, '\t')) {
            std::cerr << "checkpassword: USER contains TAB\n";
            return 1;
        }
        reply += std::string("user=") + user + "\t";
    }
    if (const char* home = std::getenv("HOME")) {
        if (std::strchr(home, '\t')) {
            std::cerr << "checkpassword: HOME contains TAB\n";
            return 1;
        }
        reply += std::string("userdb_home=") + home + "\t";
    }
    bool have_uid = false, have_gid = false;
    if (const char* extra = std::getenv("EXTRA")) {
        for (const std::string& name : loft::split_words(extra)) {
            const char* value = std::getenv(name.c_str());
            if (!value)
                continue;
            std::string key = loft::to_lower(name);
            have_uid = have_uid || key == "userdb_uid";
            have_gid = have_gid || key == "userdb_gid";
            reply += key + "=" + loft::auth::tab_escape(value) + "\t";
        }
    }
    if (!have_uid)
        reply += "userdb_uid=" + std::to_string(getuid()) + "\t";
    if (!have_gid)
        reply += "userdb_gid=" + std::to_string(getgid()) + "\t";
    if (!write_all(4, reply)) {
        std::cerr << "checkpassword: write to fd 4 failed: " << std::strerror(errno) << "\n";
        return 111;
    }
    const char* authorized = std::getenv("AUTHORIZED");
    return authorized && std::string(authorized) == "2" ? 2 : 0;
}
