// LIST with RFC 5258 selection and return options (SUBSCRIBED, RECURSIVEMATCH,
// SPECIAL-USE, CHILDREN, STATUS) and LSUB, computed from the storage daemon's mailbox
// list and subscriptions the way Dovecot 2.3 answers them.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loft::imap {

struct ListRequest {
    bool extended = false;  // any selection/return option or a pattern list was given
    bool select_subscribed = false;
    bool select_special_use = false;
    bool recursive_match = false;
    bool return_children = false;
    bool return_subscribed = false;
    bool return_special_use = false;
    uint16_t return_status = 0;  // protocol::StatusItem bits; 0 = no STATUS
    std::string reference;
    std::vector<std::string> patterns;
};

// Parses LIST's arguments; throws protocol::CommandError with Dovecot's texts.
ListRequest parse_list_request(const protocol::ArgList& args);

// A mailbox as the storage daemon lists it: attributes are \Noselect, \NonExistent
// (a parent with no folder of its own), \HasChildren/\HasNoChildren and special-use.
struct ListedMailbox {
    std::string name;  // mUTF-7
    std::vector<std::string> attributes;
};

struct ListLine {
    std::string name;
    std::vector<std::string> attributes;
    bool child_info_subscribed = false;  // CHILDINFO ("SUBSCRIBED")
    bool selectable = false;             // STATUS may be asked for it
};

std::vector<ListLine> list_lines(const ListRequest& request, const std::vector<ListedMailbox>& mailboxes,
                                 const std::vector<std::string>& subscriptions, char separator);
// LSUB: subscribed names matching, plus \Noselect parents that only match through a
// subscribed child ("%" patterns, RFC 3501 6.3.9).
std::vector<ListLine> lsub_lines(const std::string& reference, const std::string& pattern,
                                 const std::vector<ListedMailbox>& mailboxes,
                                 const std::vector<std::string>& subscriptions, char separator);

}  // namespace loft::imap
