#include "storage/maildir/index_file.h"

#include "lib/strings.h"
#include "lib/unique_fd.h"
#include "storage/maildir/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace loft::storage::maildir {

namespace {

constexpr std::string_view magic = "LOFT-MAILDIR-INDEX 1";

void put_stamp(std::string& out, const IndexStamp& s)
{
    out += std::to_string(s.dev) + ' ' + std::to_string(s.ino) + ' ' + std::to_string(s.size) + ' ' +
           std::to_string(s.mtime_sec) + ' ' + std::to_string(s.mtime_nsec) + ' ' + std::to_string(s.ctime_sec) + ' ' +
           std::to_string(s.ctime_nsec);
}

// Reads space-separated integers from a line, advancing pos.
template <typename T>
bool next_number(std::string_view line, size_t& pos, T& value)
{
    while (pos < line.size() && line[pos] == ' ')
        pos++;
    auto [ptr, ec] = std::from_chars(line.data() + pos, line.data() + line.size(), value);
    if (ec != std::errc())
        return false;
    pos = static_cast<size_t>(ptr - line.data());
    return true;
}

bool get_stamp(std::string_view line, size_t& pos, IndexStamp& s)
{
    return next_number(line, pos, s.dev) && next_number(line, pos, s.ino) && next_number(line, pos, s.size) &&
           next_number(line, pos, s.mtime_sec) && next_number(line, pos, s.mtime_nsec) &&
           next_number(line, pos, s.ctime_sec) && next_number(line, pos, s.ctime_nsec);
}

std::vector<std::string> split_words(std::string_view text)
{
    std::vector<std::string> words;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string_view::npos)
            end = text.size();
        if (end > pos)
            words.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return words;
}

}  // namespace

std::string format_index(const IndexData& data)
{
    std::string out(magic);
    out += "\nS ";
    for (const IndexStamp* s : {&data.cur, &data.new_dir, &data.uidlist, &data.keywords}) {
        put_stamp(out, *s);
        out += ' ';
    }
    out += "\nV " + std::to_string(data.uidvalidity) + ' ' + std::to_string(data.next_uid) + ' ' +
           std::to_string(data.highest_modseq) + ' ' + std::to_string(data.expunge_floor) + ' ' +
           (data.guid.empty() ? "-" : data.guid) + '\n';
    if (data.first_recent_uid != 0)
        out += "R " + std::to_string(data.first_recent_uid) + '\n';
    if (!data.extra_keyword_names.empty())
        out += "X " + join(data.extra_keyword_names, " ") + '\n';
    out.reserve(out.size() + data.messages.size() * 96);
    for (const auto& m : data.messages) {
        out += "M " + std::to_string(m.uid) + ' ' + std::to_string(m.mtime) + ' ' + std::to_string(m.size) + ' ' +
               std::to_string(m.vsize) + ' ' + std::to_string(m.modseq) + ' ' + m.filename + '\n';
    }
    for (const auto& [uid, names] : data.extra_keywords)
        out += "K " + std::to_string(uid) + ' ' + join(names, " ") + '\n';
    for (const auto& [modseq, uid] : data.expunged)
        out += "E " + std::to_string(modseq) + ' ' + std::to_string(uid) + '\n';
    out += "END " + std::to_string(data.messages.size()) + ' ' + std::to_string(data.expunged.size()) + '\n';
    return out;
}

std::optional<IndexData> parse_index(std::string_view text)
{
    IndexData data;
    data.messages.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')));
    size_t pos = 0;
    size_t line_no = 0;
    bool ended = false;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            return std::nullopt;  // torn write
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        line_no++;
        if (ended)
            return std::nullopt;
        size_t p = 2;
        if (line_no == 1) {
            if (line != magic)
                return std::nullopt;
        } else if (line.substr(0, 4) == "END ") {
            size_t messages = 0, expunged = 0;
            p = 4;
            if (!next_number(line, p, messages) || !next_number(line, p, expunged) ||
                messages != data.messages.size() || expunged != data.expunged.size())
                return std::nullopt;
            ended = true;
        } else if (line.size() < 2 || line[1] != ' ') {
            return std::nullopt;
        } else if (line[0] == 'S') {
            for (IndexStamp* s : {&data.cur, &data.new_dir, &data.uidlist, &data.keywords})
                if (!get_stamp(line, p, *s))
                    return std::nullopt;
        } else if (line[0] == 'V') {
            if (!next_number(line, p, data.uidvalidity) || !next_number(line, p, data.next_uid) ||
                !next_number(line, p, data.highest_modseq) || !next_number(line, p, data.expunge_floor) ||
                p + 1 >= line.size() || line[p] != ' ')
                return std::nullopt;
            data.guid = std::string(line.substr(p + 1));
            if (data.guid == "-")
                data.guid.clear();
            if (data.guid.size() > 64 || data.guid.find(' ') != std::string::npos)
                return std::nullopt;
        } else if (line[0] == 'M') {
            IndexedMessage m;
            if (!next_number(line, p, m.uid) || !next_number(line, p, m.mtime) || !next_number(line, p, m.size) ||
                !next_number(line, p, m.vsize) || !next_number(line, p, m.modseq) || p + 1 >= line.size() ||
                line[p] != ' ')
                return std::nullopt;
            m.filename = std::string(line.substr(p + 1));
            if ((m.filename.compare(0, 4, "cur/") != 0 && m.filename.compare(0, 4, "new/") != 0) ||
                m.filename.find('/', 4) != std::string::npos ||
                (!data.messages.empty() && data.messages.back().uid >= m.uid))
                return std::nullopt;
            data.messages.push_back(std::move(m));
        } else if (line[0] == 'R') {
            if (!next_number(line, p, data.first_recent_uid))
                return std::nullopt;
        } else if (line[0] == 'X') {
            data.extra_keyword_names = split_words(line.substr(2));
            if (data.extra_keyword_names.size() > max_extra_keywords)
                return std::nullopt;
        } else if (line[0] == 'K') {
            uint32_t uid = 0;
            if (!next_number(line, p, uid) || p >= line.size() ||
                (!data.extra_keywords.empty() && data.extra_keywords.back().first >= uid))
                return std::nullopt;
            auto names = split_words(line.substr(p));
            if (names.empty() || names.size() > max_extra_keywords)
                return std::nullopt;
            data.extra_keywords.emplace_back(uid, std::move(names));
        } else if (line[0] == 'E') {
            uint64_t modseq = 0;
            uint32_t uid = 0;
            if (!next_number(line, p, modseq) || !next_number(line, p, uid))
                return std::nullopt;
            data.expunged.emplace_back(modseq, uid);
        } else {
            return std::nullopt;
        }
    }
    if (!ended)
        return std::nullopt;
    return data;
}

bool save_index_file(const std::string& path, const IndexData& data)
{
    try {
        std::string temp = path + ".tmp." + std::to_string(::getpid());
        UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd)
            return false;
        write_all(fd.get(), format_index(data), temp);
        fd.reset();
        if (::rename(temp.c_str(), path.c_str()) < 0) {
            ::unlink(temp.c_str());
            return false;
        }
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

std::optional<IndexData> load_index_file(const std::string& path)
{
    try {
        auto text = read_file_if_exists(path);
        if (!text)
            return std::nullopt;
        return parse_index(*text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace loft::storage::maildir

namespace loft::storage::maildir {

std::optional<IndexRecentMark> load_index_recent_mark(const std::string& path)
{
    // The header lines come first and are short; a page holds them.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::nullopt;
    char buf[4096];
    ssize_t n = ::pread(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0)
        return std::nullopt;
    std::string_view text(buf, static_cast<size_t>(n));
    IndexRecentMark mark;
    bool have_validity = false;
    size_t pos = 0;
    for (int line_no = 0; line_no < 6 && pos < text.size(); line_no++) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            break;
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line_no == 0 && line != magic)
            return std::nullopt;
        size_t p = 2;
        if (line.substr(0, 2) == "V ")
            have_validity = next_number(line, p, mark.uidvalidity);
        else if (line.substr(0, 2) == "R ")
            next_number(line, p, mark.first_recent_uid);
        else if (line.substr(0, 2) == "M ")
            break;
    }
    if (!have_validity)
        return std::nullopt;
    return mark;
}

}  // namespace loft::storage::maildir
