#include "storage/maildir/uidlist.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "lib/unique_fd.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <unistd.h>

#include <limits>

namespace loft::storage::maildir {

namespace {

constexpr size_t max_line_length = 64 * 1024;

[[noreturn]] void corrupted(const std::string& path, size_t line_no, const std::string& why)
{
    throw StorageError(StorageError::Kind::Corrupted,
                       "Broken file " + path + " line " + std::to_string(line_no) + ": " + why);
}

uint32_t parse_u32(std::string_view text, const std::string& path, size_t line_no, const char* what)
{
    auto value = parse_uint(text);
    if (!value || *value > std::numeric_limits<uint32_t>::max())
        corrupted(path, line_no, std::string("invalid ") + what + " '" + std::string(text) + "'");
    return static_cast<uint32_t>(*value);
}

bool is_hex(std::string_view text)
{
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    return true;
}

void parse_header(std::string_view line, Uidlist& list, const std::string& path)
{
    if (line.size() < 2 || line[0] < '0' || line[0] > '9' || line[1] != ' ')
        corrupted(path, 1, "invalid version number");
    list.header.version = static_cast<unsigned>(line[0] - '0');
    std::string_view rest = line.substr(2);
    if (list.header.version == 1) {
        auto words = split_words(rest);
        if (words.size() != 2)
            corrupted(path, 1, "version 1 header needs uidvalidity and next uid");
        list.header.uidvalidity = parse_u32(words[0], path, 1, "uidvalidity");
        list.header.next_uid = parse_u32(words[1], path, 1, "next uid");
    } else if (list.header.version == 3) {
        for (const auto& field : split_words(rest)) {
            char key = field[0];
            std::string_view value = std::string_view(field).substr(1);
            if (key == 'V')
                list.header.uidvalidity = parse_u32(value, path, 1, "uidvalidity");
            else if (key == 'N')
                list.header.next_uid = parse_u32(value, path, 1, "next uid");
            else if (key == 'G') {
                if (value.size() != 32 || !is_hex(value))
                    corrupted(path, 1, "invalid mailbox GUID");
                list.header.guid = to_lower(value);
            } else {
                if (!list.header.extensions.empty())
                    list.header.extensions += ' ';
                list.header.extensions += field;
            }
        }
    } else {
        corrupted(path, 1, "unsupported version " + std::to_string(list.header.version));
    }
    if (list.header.uidvalidity == 0 || list.header.next_uid == 0)
        corrupted(path, 1, "uidvalidity and next uid must be non-zero");
}

UidlistRecord parse_record(std::string_view line, unsigned version, const std::string& path, size_t line_no)
{
    UidlistRecord record;
    size_t i = 0;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9')
        i++;
    if (i == 0 || i >= line.size() || line[i] != ' ')
        corrupted(path, line_no, "invalid record");
    record.uid = parse_u32(line.substr(0, i), path, line_no, "uid");
    if (record.uid == 0 || record.uid == std::numeric_limits<uint32_t>::max())
        corrupted(path, line_no, "invalid uid");
    while (i < line.size() && line[i] == ' ')
        i++;
    std::string_view rest = line.substr(i);
    if (version == 3) {
        // Extension fields ("<A-Z><value>") until the ':' that introduces the name.
        while (!rest.empty() && rest[0] != ':') {
            size_t end = rest.find(' ');
            std::string_view field = rest.substr(0, end);
            if (field[0] < 'A' || field[0] > 'Z')
                corrupted(path, line_no, "invalid extension field");
            if (!record.extensions.empty())
                record.extensions += ' ';
            record.extensions += field;
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
            while (!rest.empty() && rest[0] == ' ')
                rest.remove_prefix(1);
        }
        if (rest.empty())
            corrupted(path, line_no, "record has no file name");
        rest.remove_prefix(1);
    }
    if (rest.empty() || rest.find('/') != std::string_view::npos)
        corrupted(path, line_no, "invalid file name");
    record.base_name = std::string(rest);
    return record;
}

}  // namespace

uint32_t Uidlist::next_uid() const
{
    uint32_t next = header.next_uid;
    if (!records.empty() && records.back().uid >= next)
        next = records.back().uid + 1;
    return next;
}

Uidlist parse_uidlist(std::string_view content, const std::string& path)
{
    Uidlist list;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < content.size()) {
        size_t end = content.find('\n', pos);
        if (end == std::string_view::npos)
            break;  // partial line being appended by someone else
        std::string_view line = content.substr(pos, end - pos);
        pos = end + 1;
        line_no++;
        if (line.size() > max_line_length)
            corrupted(path, line_no, "line too long");
        if (line_no == 1) {
            parse_header(line, list, path);
            continue;
        }
        if (line.empty())
            continue;
        UidlistRecord record = parse_record(line, list.header.version, path, line_no);
        if (!list.records.empty() && record.uid <= list.records.back().uid)
            corrupted(path, line_no, "UIDs not ordered");
        list.records.push_back(std::move(record));
    }
    if (line_no == 0)
        throw StorageError(StorageError::Kind::Corrupted, "Broken file " + path + ": no header");
    return list;
}

std::string format_uidlist_header(const UidlistHeader& header)
{
    std::string line = "3 V" + std::to_string(header.uidvalidity) + " N" + std::to_string(header.next_uid) +
                       " G" + header.guid;
    if (!header.extensions.empty())
        line += " " + header.extensions;
    return line + "\n";
}

std::string format_uidlist_record(const UidlistRecord& record)
{
    std::string line = std::to_string(record.uid);
    if (!record.extensions.empty())
        line += " " + record.extensions;
    return line + " :" + record.base_name + "\n";
}

std::string format_uidlist(const Uidlist& uidlist)
{
    std::string text = format_uidlist_header(uidlist.header);
    for (const auto& record : uidlist.records)
        text += format_uidlist_record(record);
    return text;
}

std::string generate_mailbox_guid()
{
    unsigned char bytes[16];
    UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    if (!fd || ::read(fd.get(), bytes, sizeof(bytes)) != static_cast<ssize_t>(sizeof(bytes)))
        throw_errno("read(/dev/urandom)");
    static constexpr char hex[] = "0123456789abcdef";
    std::string guid;
    for (unsigned char b : bytes) {
        guid += hex[b >> 4];
        guid += hex[b & 15];
    }
    return guid;
}

}  // namespace loft::storage::maildir
