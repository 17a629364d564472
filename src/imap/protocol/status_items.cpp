#include "imap/protocol/status_items.h"

#include "lib/strings.h"

#include <array>
#include <string_view>

namespace loft::imap::protocol {

namespace {

struct ItemName {
    std::string_view name;
    StatusItem item;
};
constexpr std::array<ItemName, 9> kItems{{
    {"MESSAGES", kStatusMessages},
    {"RECENT", kStatusRecent},
    {"UIDNEXT", kStatusUidNext},
    {"UIDVALIDITY", kStatusUidValidity},
    {"UNSEEN", kStatusUnseen},
    {"HIGHESTMODSEQ", kStatusHighestModSeq},
    {"SIZE", kStatusSize},
    {"X-SIZE", kStatusXSize},
    {"X-GUID", kStatusXGuid},
}};

}  // namespace

uint16_t parse_status_items(const Arg& list)
{
    if (!list.is_list())
        throw CommandError("Invalid arguments");
    if (list.children.empty())
        throw CommandError("Empty status list");
    uint16_t items = 0;
    for (const Arg& arg : list.children) {
        if (!arg.is_atom())
            throw CommandError("Status list contains non-atoms");
        std::string upper = to_upper(arg.value);
        bool known = false;
        for (const auto& candidate : kItems) {
            if (upper == candidate.name) {
                items |= candidate.item;
                known = true;
            }
        }
        if (!known)
            throw CommandError("Invalid status item " + upper);
    }
    return items;
}

}  // namespace loft::imap::protocol
