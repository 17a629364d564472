// loftconf: doveconf for Loft. Same options and the same output, so scripts written for
// doveconf keep working; errors are all reported at once, each with file and line.
#include "config.h"  // autoconf: PACKAGE_VERSION

#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/dump.h"
#include "config/registry.h"
#include "lib/strings.h"

namespace {

// doveconf exits with 89 (FATAL_DEFAULT) on configuration errors; scripts check it.
constexpr int kExitFatal = 89;

std::string default_config_path()
{
    if (const char* env = std::getenv("LOFT_CONFIG"))
        return env;
    return std::string(LOFT_SYSCONFDIR) + "/loft/loft.conf";
}

[[noreturn]] void fatal(const std::string& message)
{
    std::fflush(stdout);
    std::cerr << "loftconf: Fatal: " << message << "\n";
    std::exit(kExitFatal);
}

void usage()
{
    std::cerr << "Usage: loftconf [-adnNPx] [-c <config file>] [-f <filter>] [-h] [<setting> [...]]\n";
    std::exit(kExitFatal);
}

// "-f protocol=imap", "-f local=1.2.3.4", "-f remote=...", "-f lname=..." (as doveconf).
void add_filter(loft::config::Filter& filter, const std::string& arg)
{
    auto eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : arg.substr(eq + 1);
    if (key == "service" || key == "protocol")
        filter.protocol = value;
    else if (key == "lname")
        filter.local_name = value;
    else if (key == "local")
        filter.local_ip = value.substr(0, value.find('/'));
    else if (key == "remote")
        filter.remote_ip = value.substr(0, value.find('/'));
    else
        fatal("Unknown filter argument: " + arg);
}

void report_errors(const loft::config::ConfigError& e)
{
    std::fflush(stdout);
    for (const auto& item : e.items()) {
        std::cerr << "loftconf: Error: Error in configuration file " << item.where.file;
        if (item.where.line != 0)
            std::cerr << " line " << item.where.line;
        std::cerr << ": " << item.message << "\n";
    }
    std::cerr << "loftconf: Fatal: Invalid configuration (" << e.items().size()
              << (e.items().size() == 1 ? " error" : " errors") << ")\n";
    std::exit(kExitFatal);
}

}  // namespace

int main(int argc, char* argv[])
{
    using namespace loft::config;
    DumpOptions options;
    std::string path = default_config_path();
    bool hide_key = false, dump_defaults = false;
    int c;
    while ((c = getopt(argc, argv, "ac:df:hnNPx")) != -1) {
        switch (c) {
        case 'a': break;
        case 'c': path = optarg; break;
        case 'd': dump_defaults = true; break;
        case 'f': add_filter(options.filter, optarg); break;
        case 'h': hide_key = true; break;
        case 'n': options.scope = DumpScope::Changed; break;
        case 'N': options.scope = DumpScope::Set; break;
        case 'P': options.hide_passwords = false; break;
        case 'x': options.expanded = true; break;
        default: usage();
        }
    }
    std::vector<std::string> names(argv + optind, argv + argc);
    if (names.empty()) {
        std::cout << "# Loft " << PACKAGE_VERSION << " (Dovecot " << dovecot_version()
                  << " compatible): " << path << "\n";
        std::cout.flush();
    }

    ParseOptions parse_options;
    parse_options.expand_values = options.expanded;
    // Like doveconf, the consistency checks run after the dump is printed (a failing
    // check still fails the command), and not at all for single-setting lookups.
    parse_options.check_settings = false;
    std::optional<Config> config;
    try {
        config = dump_defaults ? Config::load_string("", path, "/", parse_options)
                               : Config::load_file(path, parse_options);
    } catch (const ConfigError& e) {
        report_errors(e);
    }

    for (const auto& warning : config->warnings())
        std::cerr << "loftconf: Warning: " << warning << "\n";

    if (!names.empty()) {
        for (const auto& name : names)
            std::cout << dump_one(*config, options, name, hide_key);
        return 0;
    }
    Settings global = config->resolve({});
    std::cout << os_info_line(global.get("mail_location")) << hostname_line();
    if (options.scope == DumpScope::All)
        std::cout << "# NOTE: Send doveconf -n output instead when asking for help.\n";
    std::cout << dump_settings(*config, options);
    auto problems = config->check(true);
    if (!problems.empty())
        report_errors(ConfigError(std::move(problems)));
    return 0;
}
