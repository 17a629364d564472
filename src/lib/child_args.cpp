#include "lib/child_args.h"

#include "lib/privilege.h"
#include "lib/strings.h"

#include <ctime>
#include <stdexcept>

namespace loft {

ChildArgs parse_child_args(int argc, char** argv)
{
    ChildArgs args;
    for (int i = 1; i < argc; i++) {
        std::string option = argv[i];
        if (i + 1 >= argc)
            throw std::invalid_argument("option " + option + " needs a value");
        std::string value = argv[++i];
        if (option == "--run-as") {
            args.run_as = value;
        } else if (option == "--chroot") {
            args.chroot = value;
        } else if (option == "--listener") {
            InheritedListener listener;
            auto equals = value.find('=');
            if (equals == std::string::npos)
                throw std::invalid_argument("bad --listener " + value);
            listener.name = value.substr(0, equals);
            std::string rest = value.substr(equals + 1);
            if (rest.size() > 4 && rest.substr(rest.size() - 4) == ":ssl") {
                listener.ssl = true;
                rest.resize(rest.size() - 4);
            }
            auto fd = parse_uint(rest);
            if (!fd || *fd < 3 || *fd > 1024)
                throw std::invalid_argument("bad --listener fd " + rest);
            listener.fd = static_cast<int>(*fd);
            args.listeners.push_back(listener);
        } else {
            throw std::invalid_argument("unknown option " + option);
        }
    }
    return args;
}

void enter_sandbox(const ChildArgs& args, const Logger& log)
{
    tzset();
    time_t now = time(nullptr);
    struct tm local;
    localtime_r(&now, &local);  // loads /etc/localtime before it disappears
    if (!running_as_root())
        return;
    if (args.run_as.empty())
        throw std::runtime_error("started as root without --run-as");
    auto identity = lookup_user(args.run_as);
    if (!identity)
        throw std::runtime_error("user " + args.run_as + " does not exist");
    drop_privileges(*identity, args.chroot);
    log.debug("running as " + identity->user + (args.chroot.empty() ? "" : " in chroot " + args.chroot));
}

}  // namespace loft
