// What loftd tells a child on its command line (identity, chroot, inherited
// listeners), and the privilege drop every child does once it has read its inputs.
#pragma once

#include "lib/log.h"

#include <optional>
#include <string>
#include <vector>

namespace loft {

struct InheritedListener {
    std::string name;  // "imap", "lmtp", ...
    int fd = -1;
    bool ssl = false;
};

struct ChildArgs {
    std::string run_as;  // user to switch to (root only)
    std::string chroot;  // directory to chroot into (root only)
    std::vector<InheritedListener> listeners;
};

// Parses "--run-as U --chroot D --listener name=fd[:ssl]"; throws on anything else.
ChildArgs parse_child_args(int argc, char** argv);

// Switches to args.run_as inside args.chroot (when root). Time zone data is loaded
// first, since the chroot has none.
void enter_sandbox(const ChildArgs& args, const Logger& log);

}  // namespace loft
