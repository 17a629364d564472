// Test helper: runs a CommandReader over input in chosen chunkings and renders the
// events as one transcript line each, so chunking-independence is easy to assert.
#pragma once

#include "imap/protocol/command_reader.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace reader_test {

using loft::imap::protocol::CommandReader;
using loft::imap::protocol::ReaderEvent;

inline std::string render(const ReaderEvent& event)
{
    using Kind = ReaderEvent::Kind;
    switch (event.kind) {
    case Kind::NeedMore:
        return "more";
    case Kind::Continuation:
        return "+";
    case Kind::Command:
        return "cmd " + event.command.tag + " " + event.command.name +
               (event.command.args.empty() ? "" : " " + loft::imap::protocol::describe(event.command.args));
    case Kind::LiteralStart:
        return "start " + event.command.name + (event.arg_offset ? " @" + std::to_string(event.arg_offset) : "") +
               " [" + loft::imap::protocol::describe(event.command.args) + "]";
    case Kind::LiteralChunk:
        return "chunk " + std::string(event.chunk);
    case Kind::LiteralEnd:
        return "end";
    case Kind::Error:
        return std::string(event.fatal ? "FATAL " : "BAD ") + (event.tag.empty() ? "*" : event.tag) + " " +
               loft::imap::protocol::error_reply_text(event);
    }
    return "?";
}

// Feeds `input` in pieces of at most `chunk` bytes; merges adjacent literal chunks
// so the transcript does not depend on chunking.
inline std::vector<std::string> run(CommandReader& reader, const std::string& input, size_t chunk = 0)
{
    std::vector<std::string> out;
    if (chunk == 0)
        chunk = input.size() + 1;
    std::string pending_chunk;
    bool in_chunk = false;
    for (size_t pos = 0; pos <= input.size(); pos += chunk) {
        reader.feed(std::string_view(input).substr(pos, chunk));
        for (;;) {
            ReaderEvent event = reader.next();
            if (event.kind == ReaderEvent::Kind::NeedMore)
                break;
            if (event.kind == ReaderEvent::Kind::LiteralChunk) {
                pending_chunk += std::string(event.chunk);
                in_chunk = true;
                continue;
            }
            if (in_chunk) {
                out.push_back("chunk " + pending_chunk);
                pending_chunk.clear();
                in_chunk = false;
            }
            out.push_back(render(event));
        }
        if (pos >= input.size())
            break;
    }
    if (in_chunk)
        out.push_back("chunk " + pending_chunk);
    return out;
}

inline std::string join(const std::vector<std::string>& lines)
{
    std::string out;
    for (const auto& line : lines)
        out += line + "\n";
    return out;
}

// The arguments of "t X <text>", parsed by a real reader (test inputs are well-formed).
inline loft::imap::protocol::ArgList parse_args(const std::string& text)
{
    CommandReader reader;
    reader.feed("t X " + text + "\r\n");
    ReaderEvent event = reader.next();
    if (event.kind != ReaderEvent::Kind::Command)
        throw std::runtime_error("test input did not parse: " + text + ": " + event.message);
    return event.command.args;
}

}  // namespace reader_test
