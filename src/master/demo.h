// The embedded default: a demo configuration used when loftd finds no config at all.
#pragma once

#include <string>

namespace loft::master {

struct DemoSetup {
    std::string directory;    // where mail, sockets and the users file live
    std::string config_text;  // dovecot.conf syntax
    std::string mail_user;    // owner of the demo mail
};

inline constexpr int kDemoImapPort = 10143;
inline constexpr int kDemoPop3Port = 10110;
inline constexpr int kDemoLmtpPort = 10024;
inline constexpr unsigned kDemoMailUid = 5000;  // as root: the demo mail's owner

// Creates the directory, the users file (demo/demo) and the demo home, and returns the
// config that serves them. As root, mail belongs to an unprivileged user (nobody).
DemoSetup prepare_demo(const std::string& directory);
std::string default_demo_directory();

}  // namespace loft::master
