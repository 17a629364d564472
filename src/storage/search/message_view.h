// One message as the search engine sees it: its storage facts plus the parsed pieces
// (header fields, MIME tree, Date:, searchable text), each computed once on first use.
#pragma once

#include "mail/message.h"
#include "mail/mime_parser.h"
#include "storage/mail_types.h"
#include "storage/search/date_header.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage::search {

// A message handed to the engine: storage facts and a loader for the stored bytes
// (LF or CRLF line ends). The loader is called at most once per MessageView.
struct SearchMessage {
    MessageInfo info;
    std::function<std::string()> load;
};

class MessageView {
public:
    explicit MessageView(SearchMessage message);

    const MessageInfo& info() const { return message_.info; }
    const std::string& bytes();
    const std::vector<mail::HeaderField>& header_fields();
    // Raw (undecoded) values of every top-level field with this name, in order.
    std::vector<std::string_view> header_values(std::string_view name);
    std::optional<std::string_view> first_header(std::string_view name);
    // Values as HEADER searches see them: everything after the ':' (leading blanks
    // kept), continuation lines joined without their line breaks.
    std::vector<std::string> raw_header_values(std::string_view name);
    const mail::MessagePart& mime();
    // Parsed Date: header; nullopt if missing or unparseable.
    const std::optional<SentDate>& sent_date();
    // Folded text for BODY (decoded text/* and message/* bodies of every part) and TEXT
    // (also every part's header lines, RFC 2047 decoded).
    const std::string& folded_body_text();
    const std::string& folded_full_text();

private:
    void build_texts();

    SearchMessage message_;
    std::optional<std::string> bytes_;
    std::optional<std::vector<mail::HeaderField>> fields_;
    std::unique_ptr<mail::MessagePart> mime_;
    std::optional<std::optional<SentDate>> sent_date_;
    std::optional<std::string> body_text_;
    std::optional<std::string> full_text_;
};

}  // namespace loft::storage::search
