#include "storage/maildir/filename.h"

#include "storage/mail_types.h"

#include <algorithm>

namespace loft::storage::maildir {

namespace {

std::optional<uint64_t> base_field(std::string_view base, char key)
{
    // Fields follow the first ',' as ",<key>=<digits>".
    size_t pos = base.find(',');
    while (pos != std::string_view::npos) {
        if (pos + 2 < base.size() && base[pos + 1] == key && base[pos + 2] == '=') {
            uint64_t value = 0;
            size_t i = pos + 3;
            size_t start = i;
            while (i < base.size() && base[i] >= '0' && base[i] <= '9') {
                if (value > (UINT64_MAX - 9) / 10)
                    return std::nullopt;
                value = value * 10 + static_cast<uint64_t>(base[i] - '0');
                i++;
            }
            if (i > start && (i == base.size() || base[i] == ','))
                return value;
        }
        pos = base.find(',', pos + 1);
    }
    return std::nullopt;
}

uint32_t flag_of_letter(char c)
{
    switch (c) {
    case 'D': return Draft;
    case 'F': return Flagged;
    case 'R': return Answered;
    case 'S': return Seen;
    case 'T': return Deleted;
    default: return 0;
    }
}

}  // namespace

std::string_view maildir_base_name(std::string_view name)
{
    size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(0, colon);
}

MaildirFilename parse_maildir_filename(std::string_view name)
{
    MaildirFilename parsed;
    size_t colon = name.find(':');
    std::string_view base = colon == std::string_view::npos ? name : name.substr(0, colon);
    parsed.base = std::string(base);
    parsed.size = base_field(base, 'S');
    parsed.vsize = base_field(base, 'W');
    if (colon != std::string_view::npos) {
        std::string_view info = name.substr(colon + 1);
        if (info.size() >= 2 && info[0] == '2' && info[1] == ',') {
            parsed.has_info = true;
            for (char c : info.substr(2)) {
                if (uint32_t flag = flag_of_letter(c))
                    parsed.system_flags |= flag;
                else if (c >= 'a' && c <= 'z') {
                    if (parsed.keyword_letters.find(c) == std::string::npos)
                        parsed.keyword_letters += c;
                } else if (parsed.unknown_flag_chars.find(c) == std::string::npos)
                    parsed.unknown_flag_chars += c;
            }
            std::sort(parsed.keyword_letters.begin(), parsed.keyword_letters.end());
        }
    }
    return parsed;
}

MaildirInfoFlags parse_maildir_flags(std::string_view name)
{
    MaildirInfoFlags flags;
    size_t colon = name.find(':');
    if (colon == std::string_view::npos)
        return flags;
    std::string_view info = name.substr(colon + 1);
    if (info.size() < 2 || info[0] != '2' || info[1] != ',')
        return flags;
    for (char c : info.substr(2)) {
        if (uint32_t flag = flag_of_letter(c))
            flags.system_flags |= flag;
        else if (c >= 'a' && c <= 'z')
            flags.keyword_mask |= 1u << (c - 'a');
    }
    return flags;
}

std::string format_maildir_info(uint32_t system_flags, std::string_view keyword_letters,
                                std::string_view unknown_flag_chars)
{
    std::string letters(unknown_flag_chars);
    if (system_flags & Draft) letters += 'D';
    if (system_flags & Flagged) letters += 'F';
    if (system_flags & Answered) letters += 'R';
    if (system_flags & Seen) letters += 'S';
    if (system_flags & Deleted) letters += 'T';
    letters += keyword_letters;
    std::sort(letters.begin(), letters.end());
    letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
    return ":2," + letters;
}

int maildir_filename_sort_cmp(std::string_view a, std::string_view b)
{
    auto leading_secs = [](std::string_view s, size_t& i) {
        uint64_t secs = 0;
        for (i = 0; i < s.size() && s[i] >= '0' && s[i] <= '9' && secs < UINT64_MAX / 100; i++)
            secs = secs * 10 + static_cast<uint64_t>(s[i] - '0');
        return secs;
    };
    auto usecs = [](std::string_view rest) -> std::optional<uint64_t> {
        // rest starts after the seconds: ".M<usecs>..." or ".<anything>"
        size_t m = rest.find(".M");
        if (m != 0)
            return std::nullopt;
        uint64_t value = 0;
        size_t i = 2;
        for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && value < UINT64_MAX / 100; i++)
            value = value * 10 + static_cast<uint64_t>(rest[i] - '0');
        if (i == 2)
            return std::nullopt;
        return value;
    };
    size_t ia = 0, ib = 0;
    uint64_t sa = leading_secs(a, ia), sb = leading_secs(b, ib);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    auto ua = usecs(a.substr(ia)), ub = usecs(b.substr(ib));
    if (ua && ub && *ua != *ub)
        return *ua < *ub ? -1 : 1;
    std::string_view ba = maildir_base_name(a.substr(ia)), bb = maildir_base_name(b.substr(ib));
    int c = ba.compare(bb);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace loft::storage::maildir
