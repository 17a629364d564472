// Incremental IMAP command reader (no I/O): turns socket bytes in any chunking into
// commands, continuation requests, streamed APPEND literal chunks and errors.
#pragma once

#include "imap/protocol/arg.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace loft::imap::protocol {

// Sent by the worker when the reader asks for a continuation (Dovecot's text).
inline constexpr std::string_view kContinuation = "+ OK\r\n";

struct Command {
    std::string tag;
    std::string name;  // upper-cased; "UID FETCH" etc. when the first word is UID
    ArgList args;
};

// Where a literal is about to start, for deciding whether to stream it.
struct LiteralInfo {
    std::string command_name;       // upper-cased, as in Command::name
    size_t depth = 0;               // 0 = top-level argument, 1 = inside one list ...
    uint64_t size = 0;
    bool literal8 = false;
    bool synchronizing = false;     // {n} (client waits for "+") rather than {n+}
};

struct ReaderLimits {
    size_t max_line_length = 65536;        // command text, literals excluded (imap_max_line_length)
    uint64_t max_literal_size = 65536;     // one literal kept in memory
    size_t max_buffered_size = 1u << 20;   // text plus in-memory literals of one command
    uint64_t max_streamed_literal_size = uint64_t(1) << 32;  // one streamed literal (APPEND)
    size_t max_depth = 32;                 // nested parenthesised lists
    size_t max_args = 10000;               // arguments in one command, all levels
    size_t max_streamed_literals = 1000;   // streamed literals in one command (MULTIAPPEND, CATENATE)
};

// Decides which literals are handed out in chunks instead of being buffered.
using StreamPolicy = std::function<bool(const LiteralInfo&)>;

// The usual policy: stream the message literals of APPEND (and MULTIAPPEND),
// plus CATENATE's TEXT parts, whatever their size.
bool stream_append_messages(const LiteralInfo& info);

struct ReaderEvent {
    enum class Kind {
        NeedMore,       // feed more bytes
        Continuation,   // send kContinuation now; the client waits for it
        Command,        // `command` is complete
        LiteralStart,   // a streamed literal begins; see `command` and `arg_offset`
        LiteralChunk,   // `chunk` is the next piece of the streamed literal
        LiteralEnd,     // the streamed literal is complete
        Error,          // reply BAD (or BYE and close when `fatal`)
    };
    Kind kind = Kind::NeedMore;
    Command command;             // Command: complete. LiteralStart: tag, name and the
                                 // top-level arguments from `arg_offset` on (open lists
                                 // with their items so far), ending in the streamed literal.
    size_t arg_offset = 0;       // LiteralStart: index of command.args[0] in the full command;
                                 // 0 for the first, else just after the previous top-level
                                 // streamed literal (so each MULTIAPPEND message comes alone)
    LiteralInfo literal;         // LiteralStart
    std::string_view chunk;      // LiteralChunk: valid until the next call on the reader
    std::string tag;             // Error: empty when the tag was not readable ("*")
    std::string command_name;    // Error: empty when unknown
    std::string message;         // Error: Dovecot's text, e.g. "Missing ')'"
    bool fatal = false;          // Error: the stream cannot be resynchronised
    bool bad_tag = false;        // Error: the tag itself was invalid
};

// The text of the reply to an Error event, as Dovecot words it. Recoverable:
// "Error in IMAP command STATUS: Missing ')'" / "Error in IMAP tag: Invalid tag",
// sent as "TAG BAD <text> (timing secs)." (tag "*" when empty). Fatal: just the
// message, sent as "* BYE Literal size too large" before closing.
std::string error_reply_text(const ReaderEvent& error);

// Event flow per command:
//   Command                                 simple line
//   Continuation ... Command                {n} literals (send "+ OK" each time)
//   LiteralStart [Continuation] LiteralChunk* LiteralEnd ... Command
//                                           streamed literal (see StreamPolicy)
//   Error                                   the rest of the command is skipped
// Tags/names/arguments of an Error'd command are never delivered.
class CommandReader {
public:
    explicit CommandReader(ReaderLimits limits = {}, StreamPolicy stream = {});

    // Appends bytes; call next() until it returns NeedMore.
    void feed(std::string_view bytes);
    ReaderEvent next();

    // Drops the command being read (e.g. the worker refused an APPEND at
    // LiteralStart). A synchronising literal the client has not been invited to
    // send is forgotten; a non-synchronising one is read and discarded.
    void abandon_command();
    // For AUTHENTICATE continuations and IDLE's DONE: the next raw line (without CRLF)
    // when one is buffered between commands, else nullopt (feed more). A line longer
    // than max_length is dropped whole and returned as an empty string.
    std::optional<std::string> take_line(size_t max_length);

    // True once a fatal error was reported; further input is ignored.
    bool failed() const { return failed_; }

private:
    enum class State {
        Line,            // reading a line of command text
        Literal,         // collecting an in-memory literal
        StreamLiteral,   // handing out a streamed literal
        SkipLiteral,     // discarding the bytes of a literal after an error
        SkipLine,        // discarding up to the end of the current line after an error
    };
    struct Frame {
        ArgList items;
    };
    struct PendingLiteral {
        uint64_t size = 0;
        bool too_large = false;
        bool literal8 = false;
        bool synchronizing = true;
    };

    std::optional<ReaderEvent> on_line(std::string_view line);
    std::optional<ReaderEvent> start_literal(const PendingLiteral& literal);
    std::optional<PendingLiteral> parse_segment(std::string_view line, size_t pos);
    void parse_tag_and_name(std::string_view line, size_t& pos);
    void guess_tag_and_name(std::string_view partial_line);
    void push_arg(Arg arg);
    Command partial_command() const;
    ReaderEvent error(std::string message, bool bad_tag);
    ReaderEvent fatal(std::string message);
    void skip_after_line(std::string_view line);
    void reset_command();
    void compact_input();
    size_t depth() const { return stack_.size() - 1; }

    ReaderLimits limits_;
    StreamPolicy stream_;
    std::string input_;
    size_t input_pos_ = 0;
    size_t line_scanned_ = 0;  // bytes after input_pos_ known to hold no line end
    State state_ = State::Line;
    bool failed_ = false;

    // The command being assembled across lines and literals.
    bool in_command_ = false;
    bool after_literal_ = false;
    std::string tag_;
    std::string name_;
    std::vector<Frame> stack_;
    size_t arg_count_ = 0;
    size_t text_size_ = 0;
    uint64_t buffered_size_ = 0;
    Arg pending_literal_;
    uint64_t literal_remaining_ = 0;
    size_t delivered_args_ = 0;      // top-level arguments already given in a LiteralStart
    size_t streamed_literals_ = 0;
    bool literal_sync_ = false;
    bool pending_continuation_ = false;

    // Error recovery.
    uint64_t skip_remaining_ = 0;
    std::string skip_tail_;  // last bytes of a line being skipped, to spot {n+}
};

}  // namespace loft::imap::protocol
