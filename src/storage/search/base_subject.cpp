#include "storage/search/base_subject.h"

#include "mail/rfc2047.h"
#include "storage/search/text_fold.h"

namespace loft::storage::search {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string pack_whitespace(std::string_view text)
{
    std::string out;
    bool last_blank = false;
    for (char c : text) {
        if (is_blank(c)) {
            if (!last_blank)
                out += ' ';
            last_blank = true;
        } else {
            out += c;
            last_blank = false;
        }
    }
    return out;
}

// subj-blob: "[" *(any but "[" "]") "]" plus one optional space. Advances pos on success.
bool skip_blob(const std::string& s, size_t& pos)
{
    if (pos >= s.size() || s[pos] != '[')
        return false;
    size_t i = pos + 1;
    while (i < s.size() && s[i] != '[' && s[i] != ']')
        ++i;
    if (i >= s.size() || s[i] != ']')
        return false;
    ++i;
    if (i < s.size() && s[i] == ' ')
        ++i;
    pos = i;
    return true;
}

void remove_trailers(std::string& s, size_t start, bool& reply)
{
    size_t end = s.size();
    while (end > start) {
        if (s[end - 1] == ' ') {
            --end;
        } else if (end >= 5 && end - 5 >= start && s.compare(end - 5, 5, "(FWD)") == 0) {
            reply = true;
            end -= 5;
        } else {
            break;
        }
    }
    s.resize(end);
}

bool remove_leader(const std::string& s, size_t& start, bool& reply)
{
    bool removed = false;
    size_t pos = start;
    if (pos < s.size() && s[pos] == ' ') {
        ++pos;
        start = pos;
        removed = true;
    }
    while (pos < s.size() && s[pos] == '[')
        if (!skip_blob(s, pos))
            return removed;
    std::string_view rest(s.data() + pos, s.size() - pos);
    if (rest.starts_with("RE"))
        pos += 2;
    else if (rest.starts_with("FWD"))
        pos += 3;
    else if (rest.starts_with("FW"))
        pos += 2;
    else
        return removed;
    if (pos < s.size() && s[pos] == ' ')
        ++pos;
    if (pos < s.size() && s[pos] == '[' && !skip_blob(s, pos))
        return removed;
    if (pos >= s.size() || s[pos] != ':')
        return removed;
    start = pos + 1;
    reply = true;
    return true;
}

bool remove_nonempty_blob(const std::string& s, size_t& start)
{
    size_t pos = start;
    if (skip_blob(s, pos) && pos < s.size()) {
        start = pos;
        return true;
    }
    return false;
}

bool remove_fwd_wrapper(std::string& s, size_t& start, bool& reply)
{
    if (s.compare(start, 5, "[FWD:") != 0 || s.size() < start + 5 || s.back() != ']')
        return false;
    reply = true;
    s.pop_back();
    start += 5;
    return true;
}

}  // namespace

BaseSubject base_subject(std::string_view raw_subject)
{
    BaseSubject result;
    std::string s = pack_whitespace(fold_case(mail::decode_header_text(raw_subject)));
    size_t start = 0;
    do {
        remove_trailers(s, start, result.reply_or_forward);
        bool found = false;
        do {
            found = remove_leader(s, start, result.reply_or_forward);
            found = remove_nonempty_blob(s, start) || found;
        } while (found);
    } while (remove_fwd_wrapper(s, start, result.reply_or_forward));
    result.text = s.substr(std::min(start, s.size()));
    return result;
}

}  // namespace loft::storage::search
