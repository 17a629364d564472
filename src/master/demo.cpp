#include "master/demo.h"

#include "lib/privilege.h"
#include "lib/system_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <stdexcept>

namespace loft::master {

namespace {
void make_dir(const std::string& path, mode_t mode)
{
    if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        throw_errno("mkdir " + path);
}

std::string existing_user(std::initializer_list<const char*> candidates)
{
    for (const char* name : candidates) {
        if (lookup_user(name))
            return name;
    }
    throw std::runtime_error("the demo needs one of the users dovenull, dovecot or nobody");
}

std::string absolute(const std::string& path)
{
    if (!path.empty() && path[0] == '/')
        return path;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        throw_errno("getcwd");
    return std::string(cwd) + "/" + path;
}
}  // namespace

std::string default_demo_directory()
{
    // As root the mail user must be able to reach the directory, which a home such
    // as /root does not allow.
    return running_as_root() ? "/var/lib/loft-demo" : "loft-demo";
}

DemoSetup prepare_demo(const std::string& requested)
{
    DemoSetup demo;
    demo.directory = absolute(requested);
    Identity owner = current_identity();
    std::string login_user = owner.user, internal_user = owner.user;
    if (running_as_root()) {
        // Virtual mail uid, like most Dovecot sites (no passwd entry needed): the
        // storage daemon runs as it, and nothing else does.
        owner = Identity{"vmail", kDemoMailUid, kDemoMailUid, ""};
        login_user = existing_user({"dovenull", "nobody"});
        internal_user = existing_user({"dovecot", "nobody"});
    }
    demo.mail_user = owner.user;
    make_dir(demo.directory, 0755);
    make_dir(demo.directory + "/run", 0755);
    std::string home = demo.directory + "/home";
    make_dir(home, 0755);
    make_dir(home + "/demo", 0700);
    if (running_as_root() && chown((home + "/demo").c_str(), owner.uid, owner.gid) != 0)
        throw_errno("chown " + home + "/demo");

    std::string users = demo.directory + "/users";
    {
        std::ofstream out(users, std::ios::trunc);
        out << "demo:{PLAIN}demo:" << owner.uid << ":" << owner.gid << "::" << home << "/demo::\n";
        if (!out)
            throw std::runtime_error("cannot write " + users);
    }
    chmod(users.c_str(), 0600);
    if (running_as_root()) {
        // loft-auth reads it as the internal user.
        auto reader = lookup_user(internal_user);
        if (!reader || chown(users.c_str(), reader->uid, reader->gid) != 0)
            throw_errno("chown " + users);
    }

    demo.config_text =
        "# Loft's embedded demo configuration\n"
        "protocols = imap pop3 lmtp\n"
        "listen = 127.0.0.1\n"
        "base_dir = " + demo.directory + "/run\n"
        "ssl = no\n"
        "disable_plaintext_auth = no\n"
        "auth_mechanisms = plain login\n"
        "mail_location = maildir:~/Maildir\n"
        "first_valid_uid = 1\n"
        "default_login_user = " + login_user + "\n"
        "default_internal_user = " + internal_user + "\n"
        "passdb {\n  driver = passwd-file\n  args = " + users + "\n}\n"
        "userdb {\n  driver = passwd-file\n  args = " + users + "\n}\n"
        "service imap-login {\n"
        "  inet_listener imap {\n    address = 127.0.0.1\n    port = " + std::to_string(kDemoImapPort) + "\n  }\n"
        "  inet_listener imaps {\n    port = 0\n  }\n"
        "}\n"
        "service pop3-login {\n"
        "  inet_listener pop3 {\n    address = 127.0.0.1\n    port = " + std::to_string(kDemoPop3Port) + "\n  }\n"
        "  inet_listener pop3s {\n    port = 0\n  }\n"
        "}\n"
        "service lmtp {\n"
        "  inet_listener lmtp {\n    address = 127.0.0.1\n    port = " + std::to_string(kDemoLmtpPort) + "\n  }\n"
        "}\n";
    return demo;
}

}  // namespace loft::master
