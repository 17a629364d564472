#include "imap/protocol/command_reader.h"

#include "imap/protocol/syntax.h"
#include "lib/strings.h"

#include <algorithm>
#include <optional>

namespace loft::imap::protocol {

namespace {

// Bytes of a skipped line kept to recognise a trailing literal announcement.
constexpr size_t kSkipTailSize = 32;

struct LiteralHeader {
    uint64_t size = 0;
    bool too_large = false;  // the digits overflowed 64 bits
    bool literal8 = false;
    bool synchronizing = true;
};

// Parses "{n}", "{n+}" or "~{n}" occupying line[start..]; throws CommandError.
LiteralHeader parse_literal_header(std::string_view line, size_t start)
{
    LiteralHeader header;
    size_t pos = start;
    if (line[pos] == '~') {
        header.literal8 = true;
        ++pos;
    }
    ++pos;  // '{'
    size_t digits = 0;
    while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9') {
        uint64_t digit = uint64_t(line[pos] - '0');
        if (header.size > (UINT64_MAX - digit) / 10)
            header.too_large = true;
        else
            header.size = header.size * 10 + digit;
        ++pos;
        ++digits;
    }
    if (pos < line.size() && line[pos] == '+') {
        header.synchronizing = false;
        ++pos;
    }
    if (digits == 0 || pos >= line.size() || line[pos] != '}')
        throw CommandError("Invalid literal size");
    ++pos;
    if (pos != line.size())
        throw CommandError("Missing LF after literal size");
    return header;
}

// The literal a complete line announces at its end, if any (used while skipping).
std::optional<LiteralHeader> trailing_literal(std::string_view line)
{
    size_t open = line.rfind('{');
    if (open == std::string_view::npos || line.empty() || line.back() != '}')
        return std::nullopt;
    if (open > 0 && line[open - 1] == '~')
        --open;
    try {
        return parse_literal_header(line, open);
    } catch (const CommandError&) {
        return std::nullopt;
    }
}

}  // namespace

bool stream_append_messages(const LiteralInfo& info)
{
    if (info.command_name != "APPEND")
        return false;
    // depth 0: the message of APPEND/MULTIAPPEND; depth 1: CATENATE (TEXT {n} ...)
    return info.depth <= 1;
}

std::string error_reply_text(const ReaderEvent& error)
{
    if (error.fatal)
        return error.message;
    if (error.bad_tag)
        return "Error in IMAP tag: " + error.message;
    if (error.command_name.empty())
        return "Error in IMAP command: " + error.message;
    return "Error in IMAP command " + error.command_name + ": " + error.message;
}

CommandReader::CommandReader(ReaderLimits limits, StreamPolicy stream)
    : limits_(limits), stream_(std::move(stream))
{
}

void CommandReader::feed(std::string_view bytes)
{
    if (failed_)
        return;
    compact_input();
    input_.append(bytes);
}

std::optional<std::string> CommandReader::take_line(size_t max_length)
{
    if (failed_ || state_ != State::Line || in_command_)
        return std::nullopt;
    std::string_view available = std::string_view(input_).substr(input_pos_);
    size_t newline = available.find('\n');
    if (newline == std::string_view::npos) {
        if (available.size() > max_length) {
            // Too long to be an answer: skip it like an overlong command line.
            skip_tail_.clear();
            input_pos_ = input_.size();
            state_ = State::SkipLine;
            return std::string();
        }
        return std::nullopt;
    }
    std::string_view line = available.substr(0, newline);
    input_pos_ += newline + 1;
    line_scanned_ = 0;
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line.size() > max_length)
        return std::string();
    return std::string(line);
}

void CommandReader::compact_input()
{
    if (input_pos_ == 0)
        return;
    input_.erase(0, input_pos_);
    input_pos_ = 0;
}

void CommandReader::reset_command()
{
    line_scanned_ = 0;
    in_command_ = false;
    after_literal_ = false;
    tag_.clear();
    name_.clear();
    stack_.clear();
    arg_count_ = 0;
    text_size_ = 0;
    buffered_size_ = 0;
    pending_literal_ = Arg{};
    literal_remaining_ = 0;
    delivered_args_ = 0;
    streamed_literals_ = 0;
    pending_continuation_ = false;
}

ReaderEvent CommandReader::error(std::string message, bool bad_tag)
{
    ReaderEvent event;
    event.kind = ReaderEvent::Kind::Error;
    event.tag = tag_;
    event.command_name = name_;
    event.message = std::move(message);
    event.bad_tag = bad_tag;
    reset_command();
    return event;
}

ReaderEvent CommandReader::fatal(std::string message)
{
    ReaderEvent event = error(std::move(message), false);
    event.fatal = true;
    failed_ = true;
    input_.clear();
    input_pos_ = 0;
    return event;
}

// After an error in a complete line: if the line announced a non-synchronising
// literal, the client sends it anyway and it must be skipped; then the rest of
// that command's text up to its final line end.
void CommandReader::skip_after_line(std::string_view line)
{
    auto literal = trailing_literal(line);
    if (literal && !literal->synchronizing) {
        state_ = State::SkipLiteral;
        skip_remaining_ = literal->size;
        return;
    }
    state_ = State::Line;
}

void CommandReader::abandon_command()
{
    if (!in_command_)
        return;
    bool literal_in_flight = state_ == State::Literal || state_ == State::StreamLiteral;
    bool client_sends_literal = literal_in_flight && !(literal_sync_ && pending_continuation_);
    uint64_t remaining = literal_remaining_;
    reset_command();
    if (client_sends_literal) {
        state_ = State::SkipLiteral;
        skip_remaining_ = remaining;
    } else if (literal_in_flight) {
        state_ = State::Line;  // the client still waits for "+": nothing more comes
    } else {
        state_ = State::SkipLine;
        skip_tail_.clear();
    }
}

// "TAG SP NAME" and "TAG SP UID SP NAME" with exactly one space each, as Dovecot
// insists; arguments may then be separated by any number of spaces.
void CommandReader::parse_tag_and_name(std::string_view line, size_t& pos)
{
    auto word_end = [&](size_t from) {
        size_t end = line.find(' ', from);
        return end == std::string_view::npos ? line.size() : end;
    };
    size_t end = word_end(0);
    std::string_view tag = line.substr(0, end);
    if (!is_valid_tag(tag))
        throw CommandError("Invalid tag");
    tag_ = std::string(tag);
    size_t start = end + 1;
    end = start <= line.size() ? word_end(start) : start;
    std::string_view name = start <= line.size() ? line.substr(start, end - start) : std::string_view();
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_atom_char))
        throw CommandError("Invalid command name");
    name_ = to_upper(name);
    if (name_ == "UID") {
        start = end + 1;
        end = start <= line.size() ? word_end(start) : start;
        std::string_view subcommand = start <= line.size() ? line.substr(start, end - start) : std::string_view();
        if (subcommand.empty() || !std::all_of(subcommand.begin(), subcommand.end(), is_atom_char)) {
            name_.clear();
            throw CommandError("Invalid command name");
        }
        name_ += " " + to_upper(subcommand);
    }
    pos = end;
}

void CommandReader::push_arg(Arg arg)
{
    if (++arg_count_ > limits_.max_args)
        throw CommandError("Too many arguments");
    stack_.back().items.push_back(std::move(arg));
}

// Tokenises one line of command text (the part between the start or the end of a
// literal and the next line end). Returns the literal announced at its end, if any.
std::optional<CommandReader::PendingLiteral> CommandReader::parse_segment(std::string_view line, size_t pos)
{
    bool need_separator = after_literal_;
    after_literal_ = false;
    while (pos < line.size()) {
        char c = line[pos];
        if (c == ' ') {
            need_separator = false;
            ++pos;
            continue;
        }
        if (c == ')') {
            if (stack_.size() == 1)
                throw CommandError("Unexpected ')'");
            Arg list = Arg::list(std::move(stack_.back().items));
            stack_.pop_back();
            push_arg(std::move(list));
            need_separator = false;  // "...)]" in BODY[HEADER.FIELDS (..)] is fine
            ++pos;
            continue;
        }
        if (need_separator)
            throw CommandError("Missing space between arguments");
        if (c == '(') {
            if (depth() >= limits_.max_depth)
                throw CommandError("Too deeply nested lists");
            stack_.push_back(Frame{});
            ++pos;
            continue;
        }
        if (c == '"') {
            std::string value;
            ++pos;
            bool closed = false;
            while (pos < line.size()) {
                char q = line[pos++];
                if (q == '"') {
                    closed = true;
                    break;
                }
                if (q == '\\') {
                    if (pos >= line.size())
                        break;
                    q = line[pos++];
                }
                if (q == '\0')
                    throw CommandError("NULs not allowed in strings");
                value.push_back(q);
            }
            if (!closed)
                throw CommandError("Missing '\"'");
            push_arg(Arg::quoted(std::move(value)));
            need_separator = true;
            continue;
        }
        if (c == '{' || (c == '~' && pos + 1 < line.size() && line[pos + 1] == '{')) {
            LiteralHeader header = parse_literal_header(line, pos);
            PendingLiteral literal;
            literal.size = header.size;
            literal.too_large = header.too_large;
            literal.literal8 = header.literal8;
            literal.synchronizing = header.synchronizing;
            return literal;
        }
        size_t start = pos;
        while (pos < line.size() && line[pos] != ' ' && line[pos] != ')') {
            unsigned char a = static_cast<unsigned char>(line[pos]);
            if (a >= 0x80)
                throw CommandError("8bit data in atom");
            if (!is_lenient_atom_char(static_cast<char>(a)))
                throw CommandError("Invalid characters in atom");
            ++pos;
        }
        push_arg(Arg::atom(std::string(line.substr(start, pos - start))));
        need_separator = true;
    }
    return std::nullopt;
}

// Copies only what the worker has not seen yet, so a long MULTIAPPEND costs
// linear, not quadratic, time.
Command CommandReader::partial_command() const
{
    Command command{tag_, name_, {}};
    std::optional<Arg> inner;
    for (size_t level = stack_.size(); level-- > 1;) {
        ArgList items = stack_[level].items;
        if (inner)
            items.push_back(std::move(*inner));
        inner = Arg::list(std::move(items));
    }
    const ArgList& top = stack_.front().items;
    command.args.assign(top.begin() + ptrdiff_t(std::min(delivered_args_, top.size())), top.end());
    if (inner)
        command.args.push_back(std::move(*inner));
    return command;
}

std::optional<ReaderEvent> CommandReader::on_line(std::string_view line)
{
    bool starts_command = !in_command_;
    if (starts_command) {
        in_command_ = true;
        stack_.assign(1, Frame{});
    }
    text_size_ += line.size();
    std::optional<PendingLiteral> literal;
    try {
        size_t pos = 0;
        if (starts_command) {
            try {
                parse_tag_and_name(line, pos);
            } catch (const CommandError& e) {
                bool bad_tag = tag_.empty();
                ReaderEvent event = error(e.what(), bad_tag);
                skip_after_line(line);
                return event;
            }
        }
        if (text_size_ > limits_.max_line_length)
            throw CommandError("Too long argument");
        literal = parse_segment(line, pos);
        if (!literal) {
            if (stack_.size() > 1)
                throw CommandError("Missing ')'");
            ReaderEvent event;
            event.kind = ReaderEvent::Kind::Command;
            event.command = Command{std::move(tag_), std::move(name_), std::move(stack_.front().items)};
            reset_command();
            return event;
        }
    } catch (const CommandError& e) {
        ReaderEvent event = error(e.what(), false);
        skip_after_line(line);
        return event;
    }
    return start_literal(*literal);
}

std::optional<ReaderEvent> CommandReader::start_literal(const PendingLiteral& literal)
{
    LiteralInfo info;
    info.command_name = name_;
    info.depth = depth();
    info.size = literal.size;
    info.literal8 = literal.literal8;
    info.synchronizing = literal.synchronizing;
    bool stream = !literal.too_large && stream_ && stream_(info);
    uint64_t limit = stream ? limits_.max_streamed_literal_size : limits_.max_literal_size;
    bool fits = !literal.too_large && literal.size <= limit &&
                (stream || buffered_size_ + text_size_ + literal.size <= limits_.max_buffered_size);
    if (!fits) {
        if (!literal.synchronizing)
            return fatal("Literal size too large");
        return error("Literal size too large", false);  // the client sends nothing more
    }
    // Only APPEND takes literal8 (RFC 3516 as Dovecot implements it).
    const char* refusal = nullptr;
    if (literal.literal8 && name_ != "APPEND")
        refusal = "literal8 not allowed here";
    else if (arg_count_ + 1 > limits_.max_args)
        refusal = "Too many arguments";
    else if (stream && streamed_literals_ >= limits_.max_streamed_literals)
        refusal = "Too many literals";
    if (refusal) {
        ReaderEvent event = error(refusal, false);
        if (!literal.synchronizing) {
            state_ = State::SkipLiteral;
            skip_remaining_ = literal.size;
        }
        return event;
    }
    literal_sync_ = literal.synchronizing;
    literal_remaining_ = literal.size;
    pending_continuation_ = literal.synchronizing;
    pending_literal_ = Arg{};
    pending_literal_.type = ArgType::Literal;
    pending_literal_.literal8 = literal.literal8;
    pending_literal_.literal_size = literal.size;
    if (!stream) {
        buffered_size_ += literal.size;
        pending_literal_.value.reserve(literal.size);
        state_ = State::Literal;
        return std::nullopt;
    }
    pending_literal_.streamed = true;
    ++streamed_literals_;
    push_arg(pending_literal_);
    state_ = State::StreamLiteral;
    ReaderEvent event;
    event.kind = ReaderEvent::Kind::LiteralStart;
    event.command = partial_command();
    event.arg_offset = delivered_args_;
    if (depth() == 0)
        delivered_args_ = stack_.front().items.size();
    event.literal = info;
    return event;
}

ReaderEvent CommandReader::next()
{
    while (!failed_) {
        if (pending_continuation_ && (state_ == State::Literal || state_ == State::StreamLiteral)) {
            pending_continuation_ = false;
            ReaderEvent event;
            event.kind = ReaderEvent::Kind::Continuation;
            return event;
        }
        std::string_view available = std::string_view(input_).substr(input_pos_);
        switch (state_) {
        case State::Line: {
            // Bytes already searched are not searched again: a line dripping in
            // byte by byte must not cost quadratic time.
            size_t newline = available.find('\n', line_scanned_);
            if (newline == std::string_view::npos) {
                line_scanned_ = available.size();
                if (text_size_ + available.size() > limits_.max_line_length + 1) {
                    if (!in_command_)
                        guess_tag_and_name(available);
                    ReaderEvent event = error("Too long argument", false);
                    skip_tail_ = std::string(available.substr(available.size() - std::min(available.size(), kSkipTailSize)));
                    input_pos_ = input_.size();
                    line_scanned_ = 0;
                    state_ = State::SkipLine;
                    return event;
                }
                return ReaderEvent{};
            }
            std::string_view line = available.substr(0, newline);
            input_pos_ += newline + 1;
            line_scanned_ = 0;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (auto event = on_line(line))
                return std::move(*event);
            continue;
        }
        case State::Literal: {
            if (literal_remaining_ > 0) {
                if (available.empty())
                    return ReaderEvent{};
                size_t take = size_t(std::min<uint64_t>(literal_remaining_, available.size()));
                pending_literal_.value.append(available.substr(0, take));
                input_pos_ += take;
                literal_remaining_ -= take;
                continue;
            }
            state_ = State::Line;
            after_literal_ = true;
            // NULs would truncate names and strings further on (Dovecot silently cuts
            // at them); message data of APPEND may hold them, as in Dovecot.
            if (!pending_literal_.literal8 && name_ != "APPEND" &&
                pending_literal_.value.find('\0') != std::string::npos) {
                ReaderEvent event = error("NULs not allowed in strings", false);
                state_ = State::SkipLine;
                skip_tail_.clear();
                return event;
            }
            try {
                push_arg(std::move(pending_literal_));
            } catch (const CommandError& e) {
                ReaderEvent event = error(e.what(), false);
                state_ = State::SkipLine;
                skip_tail_.clear();
                return event;
            }
            pending_literal_ = Arg{};
            continue;
        }
        case State::StreamLiteral: {
            ReaderEvent event;
            if (literal_remaining_ == 0) {
                state_ = State::Line;
                after_literal_ = true;
                event.kind = ReaderEvent::Kind::LiteralEnd;
                return event;
            }
            if (available.empty())
                return event;
            size_t take = size_t(std::min<uint64_t>(literal_remaining_, available.size()));
            event.kind = ReaderEvent::Kind::LiteralChunk;
            event.chunk = available.substr(0, take);
            input_pos_ += take;
            literal_remaining_ -= take;
            return event;
        }
        case State::SkipLiteral: {
            if (skip_remaining_ > 0) {
                if (available.empty())
                    return ReaderEvent{};
                size_t take = size_t(std::min<uint64_t>(skip_remaining_, available.size()));
                input_pos_ += take;
                skip_remaining_ -= take;
                continue;
            }
            state_ = State::SkipLine;
            skip_tail_.clear();
            continue;
        }
        case State::SkipLine: {
            size_t newline = available.find('\n');
            if (newline == std::string_view::npos) {
                skip_tail_.append(available);
                if (skip_tail_.size() > kSkipTailSize)
                    skip_tail_.erase(0, skip_tail_.size() - kSkipTailSize);
                input_pos_ = input_.size();
                return ReaderEvent{};
            }
            skip_tail_.append(available.substr(0, newline));
            input_pos_ += newline + 1;
            if (!skip_tail_.empty() && skip_tail_.back() == '\r')
                skip_tail_.pop_back();
            std::string tail = std::move(skip_tail_);
            skip_tail_.clear();
            skip_after_line(tail);
            continue;
        }
        }
    }
    return ReaderEvent{};
}

// For an over-long first line: report the tag and command name when they look valid.
void CommandReader::guess_tag_and_name(std::string_view partial_line)
{
    size_t pos = 0;
    try {
        parse_tag_and_name(partial_line.substr(0, std::min<size_t>(partial_line.size(), 256)), pos);
        if (pos >= std::min<size_t>(partial_line.size(), 256))
            name_.clear();  // the name itself may be cut off
    } catch (const CommandError&) {
    }
}

}  // namespace loft::imap::protocol
