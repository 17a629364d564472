#include "storage/mbox/format.h"

#include "lib/strings.h"
#include "storage/storage_error.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

namespace loft::storage::mbox {

namespace {

constexpr std::string_view hidden_headers[] = {"X-IMAPbase", "X-IMAP", "X-UID",     "Status",
                                               "X-Status",   "X-Keywords", "Content-Length"};

constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The header name of a header line, or empty for a continuation or a malformed line.
std::string_view header_name(std::string_view line)
{
    if (line.empty() || line[0] == ' ' || line[0] == '\t')
        return {};
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
        return {};
    return trim(line.substr(0, colon));
}

bool is_hidden(std::string_view name)
{
    for (auto hidden : hidden_headers)
        if (iequals(name, hidden))
            return true;
    return false;
}

bool starts_with_from(std::string_view data, size_t pos)
{
    return data.substr(pos, 5) == "From ";
}

struct BaseHeader {
    uint32_t uidvalidity = 0;
    uint32_t next_uid = 0;
    std::vector<std::string> keywords;
};

std::optional<BaseHeader> parse_base(std::string_view value, const FormatLimits& limits)
{
    auto words = split_words(value);
    if (words.size() < 2)
        return std::nullopt;
    auto uidvalidity = parse_uint(words[0]);
    auto next_uid = parse_uint(words[1]);
    if (!uidvalidity || !next_uid || *uidvalidity == 0 || *uidvalidity > UINT32_MAX || *next_uid > UINT32_MAX)
        return std::nullopt;
    if (words.size() - 2 > limits.max_keywords)
        throw StorageError(StorageError::Kind::Limit, "mbox: too many keywords in X-IMAPbase");
    BaseHeader base;
    base.uidvalidity = static_cast<uint32_t>(*uidvalidity);
    // UW-IMAP's field (and Dovecot's) is the last UID handed out, not the next one.
    if (*next_uid >= UINT32_MAX)
        return std::nullopt;
    base.next_uid = static_cast<uint32_t>(*next_uid) + 1;
    base.keywords.assign(words.begin() + 2, words.end());
    return base;
}

void apply_status(std::string_view value, MboxMessage& message)
{
    for (char c : value) {
        if (c == 'R')
            message.flags.system |= Seen;
        else if (c == 'O')
            message.seen_by_session = true;
    }
}

void apply_x_status(std::string_view value, MboxMessage& message)
{
    for (char c : value) {
        switch (c) {
        case 'A': message.flags.system |= Answered; break;
        case 'F': message.flags.system |= Flagged; break;
        case 'T': message.flags.system |= Draft; break;
        case 'D': message.flags.system |= Deleted; break;
        default: break;
        }
    }
}

std::string format_date_header(int64_t when)
{
    time_t t = static_cast<time_t>(when);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", weekdays[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string format_base_value(uint32_t uidvalidity, uint32_t next_uid, const std::vector<std::string>& keywords)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%u %010u", uidvalidity, next_uid > 0 ? next_uid - 1 : 0);
    std::string value = buf;
    for (const auto& keyword : keywords)
        value += " " + keyword;
    return value;
}

}  // namespace

std::string ctime_utc(int64_t when)
{
    time_t t = static_cast<time_t>(when);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%s %s %02d %02d:%02d:%02d %04d", weekdays[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    return buf;
}

std::optional<int64_t> parse_from_line_date(std::string_view from_line)
{
    auto words = split_words(from_line);
    // Look for "Mon DD HH:MM[:SS] ... YYYY" from the end, so senders with odd words do not confuse us.
    for (size_t i = words.size(); i-- > 1;) {
        int month = -1;
        for (int m = 0; m < 12; m++)
            if (iequals(words[i], months[m]))
                month = m;
        if (month < 0 || i + 2 >= words.size())
            continue;
        auto day = parse_uint(words[i + 1]);
        const std::string& clock = words[i + 2];
        int hour = 0, minute = 0, second = 0;
        if (!day || *day < 1 || *day > 31)
            continue;
        if (sscanf(clock.c_str(), "%d:%d:%d", &hour, &minute, &second) < 2)
            continue;
        std::optional<uint64_t> year;
        int64_t offset = 0;
        for (size_t j = i + 3; j < words.size(); j++) {
            const std::string& word = words[j];
            if ((word[0] == '+' || word[0] == '-') && word.size() == 5) {
                auto hhmm = parse_uint(word.substr(1));
                if (hhmm) {
                    offset = static_cast<int64_t>(*hhmm / 100 * 3600 + *hhmm % 100 * 60);
                    if (word[0] == '-')
                        offset = -offset;
                }
            } else if (auto number = parse_uint(word); number && !year) {
                year = *number < 100 ? *number + (*number < 70 ? 2000 : 1900) : *number;
            }
        }
        if (!year || *year < 1970 || *year > 9999)
            return std::nullopt;
        struct tm tm {};
        tm.tm_year = static_cast<int>(*year) - 1900;
        tm.tm_mon = month;
        tm.tm_mday = static_cast<int>(*day);
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        return static_cast<int64_t>(timegm(&tm)) - offset;
    }
    return std::nullopt;
}

uint64_t crlf_size(std::string_view text)
{
    uint64_t size = text.size();
    for (size_t i = 0; i < text.size(); i++)
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            size++;
    return size;
}

std::string normalize_newlines(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
            continue;
        out += text[i];
    }
    if (out.empty() || out.back() != '\n')
        out += '\n';
    return out;
}

void split_message(std::string_view text, std::string& header, std::string& body)
{
    header.clear();
    body.clear();
    size_t pos = 0;
    bool skipping = false;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        size_t next = end == std::string_view::npos ? text.size() : end + 1;
        std::string_view line = text.substr(pos, next - pos);
        if (line == "\n") {
            body.assign(text.substr(next));
            return;
        }
        std::string_view name = header_name(line);
        if (!name.empty())
            skipping = is_hidden(name);
        else if (line[0] != ' ' && line[0] != '\t')
            skipping = false;
        if (!skipping)
            header.append(line);
        pos = next;
    }
    if (!header.empty() && header.back() != '\n')
        header += '\n';
}

MboxFile parse_mbox(std::string_view data, const FormatLimits& limits)
{
    MboxFile file;
    if (data.empty())
        return file;
    if (!starts_with_from(data, 0))
        throw StorageError(StorageError::Kind::Corrupted, "mbox: file does not start with a \"From \" line");
    size_t pos = 0;
    bool first = true;
    while (pos < data.size()) {
        if (file.messages.size() >= limits.max_messages)
            throw StorageError(StorageError::Kind::Limit, "mbox: too many messages");
        MboxMessage message;
        message.disk.known = true;
        message.disk.offset = pos;
        size_t eol = data.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = data.size();
        message.from_line = std::string(data.substr(pos, eol - pos));
        if (message.from_line.size() > limits.max_header_line)
            throw StorageError(StorageError::Kind::Limit, "mbox: From line too long");
        message.internal_date = parse_from_line_date(std::string_view(message.from_line).substr(5)).value_or(0);
        pos = eol < data.size() ? eol + 1 : eol;

        std::optional<uint64_t> content_length;
        std::optional<BaseHeader> base;
        bool pseudo = false;
        std::string_view current;   // name of the hidden header being collected
        std::string hidden_value;
        auto finish_hidden = [&]() {
            if (current.empty())
                return;
            std::string_view value = trim(hidden_value);
            if (iequals(current, "X-UID")) {
                auto uid = parse_uint(value);
                message.uid = uid && *uid > 0 && *uid <= UINT32_MAX ? static_cast<uint32_t>(*uid) : 0;
            } else if (iequals(current, "Status")) {
                apply_status(value, message);
            } else if (iequals(current, "X-Status")) {
                apply_x_status(value, message);
            } else if (iequals(current, "X-Keywords")) {
                auto words = split_words(value);
                if (words.size() > limits.max_keywords)
                    throw StorageError(StorageError::Kind::Limit, "mbox: too many keywords on one message");
                message.flags.keywords = std::move(words);
            } else if (iequals(current, "Content-Length")) {
                content_length = parse_uint(value);
            } else if (iequals(current, "X-IMAPbase") && first) {
                base = parse_base(value, limits);
            } else if (iequals(current, "X-IMAP") && first) {
                base = parse_base(value, limits);
                pseudo = base.has_value();
            }
            current = {};
            hidden_value.clear();
        };
        bool blank_found = false;
        while (pos < data.size()) {
            size_t end = data.find('\n', pos);
            size_t next = end == std::string_view::npos ? data.size() : end + 1;
            std::string_view line = data.substr(pos, next - pos);
            if (line == "\n") {
                pos = next;
                blank_found = true;
                break;
            }
            std::string_view name = header_name(line);
            if (!name.empty()) {
                finish_hidden();
                if (is_hidden(name)) {
                    current = name;
                    hidden_value = std::string(line.substr(line.find(':') + 1));
                    if (hidden_value.size() > limits.max_header_line)
                        throw StorageError(StorageError::Kind::Limit, "mbox: header line too long");
                } else {
                    message.header.append(line);
                }
            } else if (!current.empty() && (line[0] == ' ' || line[0] == '\t')) {
                hidden_value.append(line);
            } else {
                finish_hidden();
                message.header.append(line);
            }
            pos = next;
        }
        finish_hidden();
        if (!message.header.empty() && message.header.back() != '\n')
            message.header += '\n';

        size_t body_start = pos;
        size_t body_end = data.size();
        size_t next_message = data.size();
        bool length_ok = false;
        if (content_length && blank_found && *content_length <= data.size() - body_start) {
            size_t end = body_start + *content_length;
            if (end == data.size()) {
                length_ok = true;
                body_end = next_message = end;
            } else if (data[end] == '\n' && (end + 1 == data.size() || starts_with_from(data, end + 1))) {
                length_ok = true;
                body_end = end;
                next_message = end + 1;
            }
        }
        if (!length_ok && blank_found) {
            size_t found = data.find("\nFrom ", body_start == 0 ? 0 : body_start - 1);
            if (found != std::string_view::npos) {
                body_end = std::max(found, body_start);
                next_message = found + 1;
            } else {
                body_end = next_message = data.size();
                // The blank line that ends every mbox message is not part of the last one.
                if (body_end > body_start && data[body_end - 1] == '\n' &&
                    (body_end - body_start == 1 || data[body_end - 2] == '\n'))
                    body_end--;
            }
        } else if (!blank_found) {
            body_end = next_message = data.size();
        }
        message.body = std::string(data.substr(body_start, body_end - body_start));
        message.disk.body_offset = body_start;
        message.disk.body_end = body_end;
        message.disk.end = next_message;
        message.disk.uid = message.uid;
        message.disk.flags = message.flags;
        message.disk.seen_by_session = message.seen_by_session;
        pos = next_message;

        if (first && base) {
            file.uidvalidity = base->uidvalidity;
            file.next_uid = base->next_uid;
            file.keywords = std::move(base->keywords);
            file.stored_base = format_base_value(file.uidvalidity, file.next_uid, file.keywords);
            message.disk.carries_base = !pseudo;
        }
        if (first && pseudo) {
            file.has_pseudo = true;
            file.pseudo = std::move(message);
        } else {
            file.messages.push_back(std::move(message));
        }
        first = false;
    }
    return file;
}

std::string base_value(const MboxFile& file)
{
    return format_base_value(file.uidvalidity, file.next_uid, file.keywords);
}

void append_message(std::string& out, const MboxMessage& message, bool recent, std::string_view imapbase)
{
    out += header_block(message, recent, imapbase, kHeaderPadding);
    out += message.body;
    out += "\n";
}

MboxMessage new_pseudo_message(std::string_view hostname, int64_t now)
{
    MboxMessage pseudo;
    pseudo.from_line = "From MAILER_DAEMON  " + ctime_utc(now);
    pseudo.header = "Date: " + format_date_header(now) + "\n";
    pseudo.header += "From: Mail System Internal Data <MAILER-DAEMON@" + std::string(hostname) + ">\n";
    pseudo.header += "Subject: DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA\n";
    pseudo.header += "Message-ID: <" + std::to_string(now) + "@" + std::string(hostname) + ">\n";
    pseudo.body = "This text is part of the internal format of your mail folder, and is not\n"
                  "a real message.  It is created automatically by the mail system software.\n"
                  "If deleted, important folder data will be lost, and it will be re-created\n"
                  "with the data reset to initial values.\n";
    pseudo.flags.system = Seen;
    pseudo.seen_by_session = true;
    return pseudo;
}

std::string pseudo_header_block(const MboxMessage& pseudo, std::string_view base, size_t padding)
{
    std::string out = pseudo.from_line + "\n" + pseudo.header;
    out += "X-IMAP: " + std::string(base) + std::string(padding, ' ') + "\n";
    out += "Status: RO\n\n";
    return out;
}

std::string header_block(const MboxMessage& message, bool recent, std::string_view imapbase, size_t padding)
{
    std::string out;
    out += message.from_line + "\n";
    out += message.header;
    if (!imapbase.empty())
        out += "X-IMAPbase: " + std::string(imapbase) + "\n";
    out += "X-UID: " + std::to_string(message.uid) + "\n";
    out += "Status: ";
    if (message.flags.system & Seen)
        out += 'R';
    if (!recent)
        out += 'O';
    out += "\nX-Keywords:";
    for (const auto& keyword : message.flags.keywords)
        out += " " + keyword;
    out.append(padding, ' ');
    out += "\nContent-Length: " + std::to_string(message.body.size()) + "\n";
    std::string x_status;
    if (message.flags.system & Answered) x_status += 'A';
    if (message.flags.system & Flagged) x_status += 'F';
    if (message.flags.system & Draft) x_status += 'T';
    if (message.flags.system & Deleted) x_status += 'D';
    if (!x_status.empty())
        out += "X-Status: " + x_status + "\n";
    out += "\n";
    return out;
}

std::string format_mbox(const MboxFile& file, const std::vector<uint32_t>& recent, std::string_view hostname)
{
    std::string out;
    std::string base = format_base_value(file.uidvalidity, file.next_uid, file.keywords);
    if (file.has_pseudo || file.messages.empty()) {
        MboxMessage pseudo =
            file.has_pseudo ? file.pseudo : new_pseudo_message(hostname, static_cast<int64_t>(::time(nullptr)));
        out += pseudo_header_block(pseudo, base, kHeaderPadding);
        out += pseudo.body + "\n";
    }
    bool first = !file.has_pseudo;
    for (const auto& message : file.messages) {
        bool is_recent = std::find(recent.begin(), recent.end(), message.uid) != recent.end();
        append_message(out, message, is_recent, first ? base : std::string_view());
        first = false;
    }
    return out;
}

}  // namespace loft::storage::mbox
