#include "mail/mime_parser.h"

#include "mail/header_lines.h"
#include "mail/rfc822_tokens.h"

#include <strings.h>

namespace loft::mail {

namespace {

// RFC 2046 allows 70 characters; Dovecot keeps 10 more and ignores the rest.
constexpr size_t kBoundaryMaxLength = 70 + 10;
constexpr size_t kBoundaryLineMaxLength = kBoundaryMaxLength + 2 + 2;

bool name_is(const std::string& name, const char* expected)
{
    // Dovecot compares names as C strings, so a NUL ends the name.
    return strcasecmp(name.c_str(), expected) == 0;
}

bool name_starts_with(const std::string& name, const char* prefix, size_t prefix_len)
{
    return strncasecmp(name.c_str(), prefix, prefix_len) == 0;
}

// A header value as Dovecot stores it for IMAP: NULs become U+FFFD.
std::string header_string(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\0')
            out.append(kNulReplacement);
        else
            out.push_back(c);
    }
    return out;
}

MessageSize measure(std::string_view message, size_t begin, size_t end, char previous)
{
    MessageSize size;
    size.physical_size = end - begin;
    size.virtual_size = end - begin;
    for (size_t i = begin; i < end; i++) {
        if (message[i] != '\n')
            continue;
        size.lines++;
        char before = i == begin ? previous : message[i - 1];
        if (before != '\r')
            size.virtual_size++;
    }
    return size;
}

void add_size(MessageSize& into, const MessageSize& more)
{
    into.physical_size += more.physical_size;
    into.virtual_size += more.virtual_size;
    into.lines += more.lines;
}

void add_envelope_field(Envelope& envelope, const std::string& name, const std::string& value,
                        const MimeLimits& limits)
{
    std::vector<Address>* list = nullptr;
    std::optional<std::string>* text = nullptr;
    if (name_is(name, "Date"))
        text = &envelope.date;
    else if (name_is(name, "Subject"))
        text = &envelope.subject;
    else if (name_is(name, "Message-ID"))
        text = &envelope.message_id;
    else if (name_is(name, "In-Reply-To"))
        text = &envelope.in_reply_to;
    else if (name_is(name, "From"))
        list = &envelope.from;
    else if (name_is(name, "Sender"))
        list = &envelope.sender;
    else if (name_is(name, "Reply-To"))
        list = &envelope.reply_to;
    else if (name_is(name, "To"))
        list = &envelope.to;
    else if (name_is(name, "Cc"))
        list = &envelope.cc;
    else if (name_is(name, "Bcc"))
        list = &envelope.bcc;

    if (text != nullptr) {
        *text = header_string(value);  // the last one wins
    } else if (list != nullptr) {
        // Repeated address headers are merged, as if comma separated.
        size_t room = limits.max_addresses_per_header;
        auto parsed = parse_address_list(value, room);
        for (auto& address : parsed)
            list->push_back(std::move(address));
    }
}

// Content-* fields for BODYSTRUCTURE; each keeps its first occurrence (Dovecot's rules).
class PartDataBuilder {
public:
    explicit PartDataBuilder(PartData& data) : data_(data) {}

    void add(const std::string& name, const std::string& value)
    {
        std::string sub = c_string(name).substr(8);
        switch (sub.empty() ? '\0' : sub[0]) {
        case 'i':
        case 'I':
            if (name_is(sub, "ID") && !data_.content_id)
                data_.content_id = header_string(value);
            break;
        case 'm':
        case 'M':
            if (name_is(sub, "MD5") && !data_.content_md5)
                data_.content_md5 = header_string(value);
            break;
        case 't':
        case 'T':
            if (name_is(sub, "Type") && !data_.content_type)
                parse_content_type(value);
            else if (name_is(sub, "Transfer-Encoding") && !data_.content_transfer_encoding)
                parse_transfer_encoding(value);
            break;
        case 'l':
        case 'L':
            if (name_is(sub, "Language") && !data_.content_language)
                parse_language(value);
            else if (name_is(sub, "Location") && !data_.content_location)
                data_.content_location = header_string(value);
            break;
        case 'd':
        case 'D':
            if (name_is(sub, "Description") && !data_.content_description)
                data_.content_description = header_string(value);
            else if (name_is(sub, "Disposition") && data_.content_disposition_params.empty())
                parse_disposition(value);
            break;
        }
    }

private:
    static std::vector<MimeParam> to_params(MimeParams&& params)
    {
        std::vector<MimeParam> out;
        out.reserve(params.list.size());
        for (auto& [name, value] : params.list)
            out.push_back({std::move(name), std::move(value)});
        return out;
    }

    void parse_content_type(const std::string& value)
    {
        Rfc822Reader reader(value);
        reader.skip_lwsp();
        std::string type;
        int ret = reader.read_content_type(type);
        size_t slash = type.find('/');
        if (slash == std::string::npos) {
            // Broken: keep what was read so the type agrees with the parser's text flag.
            data_.content_type = type;
            data_.content_subtype = "";
        } else {
            data_.content_type = type.substr(0, slash);
            data_.content_subtype = type.substr(slash + 1);
        }
        if (ret < 0)
            return;
        data_.content_type_params = to_params(read_mime_params(reader));
    }

    void parse_transfer_encoding(const std::string& value)
    {
        Rfc822Reader reader(value);
        reader.skip_lwsp();
        std::string token;
        if (reader.read_mime_token(token) >= 0 && reader.skip_lwsp() == 0 && !token.empty())
            data_.content_transfer_encoding = token;
    }

    void parse_disposition(const std::string& value)
    {
        Rfc822Reader reader(value);
        reader.skip_lwsp();
        std::string token;
        if (reader.read_mime_token(token) < 0)
            return;
        data_.content_disposition = token;
        data_.content_disposition_params = to_params(read_mime_params(reader));
    }

    void parse_language(const std::string& value)
    {
        Rfc822Reader reader(value);
        std::vector<std::string> languages;
        std::string token;
        reader.skip_lwsp();
        while (reader.read_atom(token) >= 0) {
            languages.push_back(token);
            token.clear();
            if (reader.at_end() || reader.peek() != ',')
                break;
            reader.advance();
            reader.skip_lwsp();
        }
        if (!languages.empty())
            data_.content_language = std::move(languages);
    }

    PartData& data_;
};

class MimeParser {
public:
    MimeParser(std::string_view message, const MimeLimits& limits)
        : message_(message), limits_(limits)
    {
    }

    std::unique_ptr<MessagePart> run()
    {
        root_ = std::make_unique<MessagePart>();
        part_ = root_.get();
        parse_headers();
        while (state_ != State::Done) {
            switch (state_) {
            case State::BodyToBoundary:
                body_to_boundary();
                break;
            case State::BodyToEnd:
                if (pos_ < message_.size())
                    add_body_block(pos_, message_.size());
                pos_ = message_.size();
                state_ = State::Done;
                break;
            case State::SkipBoundaryLine:
                skip_boundary_line();
                break;
            case State::MimePart:
                append_part();
                part_->flags |= kPartIsMime;
                parse_headers();
                break;
            case State::Rfc822Part:
                append_part();
                parse_headers();
                break;
            case State::Done:
                break;
            }
        }
        while (part_->parent != nullptr)
            finish_part();
        return std::move(root_);
    }

private:
    enum class State { BodyToBoundary, BodyToEnd, SkipBoundaryLine, MimePart, Rfc822Part, Done };

    struct Boundary {
        MessagePart* part;
        std::string text;
        bool epilogue_found = false;
    };

    bool too_many_nested() const { return nested_ + 1 >= limits_.max_nested_parts; }

    void append_part()
    {
        auto child = std::make_unique<MessagePart>();
        child->parent = part_;
        // Where the parent's sizes say the child starts. This is one byte early for the
        // message inside a message/rfc822 whose blank line went to an outer boundary, and
        // Dovecot's BODY[n.HEADER.FIELDS] reads from there, so keep its arithmetic.
        child->physical_pos =
            part_->physical_pos + part_->header_size.physical_size + part_->body_size.physical_size;
        MessagePart* raw = child.get();
        part_->children.push_back(std::move(child));
        part_ = raw;
        nested_++;
        total_++;
    }

    void finish_part()
    {
        nested_--;
        MessagePart* parent = part_->parent;
        add_size(parent->body_size, part_->body_size);
        add_size(parent->body_size, part_->header_size);
        part_ = parent;
    }

    void add_body_block(size_t begin, size_t end)
    {
        if (message_.substr(begin, end - begin).find('\0') != std::string_view::npos)
            part_->flags |= kPartHasNuls;
        add_size(part_->body_size, measure(message_, begin, end, last_chr_));
        last_chr_ = message_[end - 1];
    }

    bool at_end_of_header(size_t pos) const
    {
        return message_.compare(pos, 1, "\n") == 0 || message_.compare(pos, 2, "\r\n") == 0;
    }

    // Index into boundaries_ of the boundary that the line at pos starts, or -1.
    int find_boundary_line(size_t pos)
    {
        if (message_.size() - pos < 2 || message_.compare(pos, 2, "--") != 0)
            return -1;
        if (total_ >= limits_.max_total_parts) {
            part_->flags |= kPartOverflow;
            return -1;
        }
        size_t data = pos + 2;
        size_t size = message_.size() - data;
        size_t lf = message_.find('\n', data);
        size_t find_size = size;
        bool trailing_dashes = false;
        if (lf != std::string_view::npos) {
            find_size = lf - data;
            if (find_size > 0 && message_[data + find_size - 1] == '\r')
                find_size--;
            if (find_size > 2 && message_[data + find_size - 1] == '-' &&
                message_[data + find_size - 2] == '-')
                trailing_dashes = true;
        } else if (find_size > kBoundaryLineMaxLength) {
            find_size = kBoundaryLineMaxLength;
        }
        // Newest first, so nested parts may reuse a boundary; only a prefix must match,
        // and the longest matching prefix wins.
        int best = -1;
        for (int i = static_cast<int>(boundaries_.size()) - 1; i >= 0; i--) {
            const std::string& text = boundaries_[i].text;
            if (text.size() > find_size || message_.compare(data, text.size(), text) != 0)
                continue;
            if (best >= 0 && boundaries_[best].text.size() >= text.size())
                continue;
            best = i;
            if (text.size() == find_size || (text.size() + 2 == find_size && trailing_dashes))
                break;
        }
        if (best < 0)
            return -1;
        size_t len = boundaries_[best].text.size();
        boundaries_[best].epilogue_found =
            size >= len + 2 && message_.compare(data + len, 2, "--") == 0;
        return best;
    }

    void finish_at_boundary(int index, bool first_line)
    {
        MessagePart* owner = boundaries_[index].part;
        size_t len = boundaries_[index].text.size();
        bool epilogue = boundaries_[index].epilogue_found;
        while (part_ != owner)
            finish_part();
        boundaries_.resize(epilogue ? index : index + 1);

        size_t line_size = first_line ? 0 : (message_[pos_] == '\r' ? 2 : 1);
        line_size += 2 + len + (epilogue ? 2 : 0);
        add_body_block(pos_, pos_ + line_size);
        pos_ += line_size;
        state_ = State::SkipBoundaryLine;
    }

    void body_to_boundary()
    {
        if (pos_ >= message_.size()) {
            state_ = State::Done;
            return;
        }
        if (last_chr_ == '\n') {
            int found = find_boundary_line(pos_);
            if (found >= 0) {
                finish_at_boundary(found, true);
                return;
            }
        }
        size_t search = pos_;
        int found = -1;
        size_t boundary_start = 0;
        for (;;) {
            size_t lf = message_.find('\n', search);
            if (lf == std::string_view::npos)
                break;
            boundary_start = lf;
            if (lf > pos_ && message_[lf - 1] == '\r')
                boundary_start--;
            found = find_boundary_line(lf + 1);
            if (found >= 0)
                break;
            search = lf + 1;
        }
        if (found < 0) {
            add_body_block(pos_, message_.size());
            pos_ = message_.size();
            state_ = State::Done;
            return;
        }
        if (boundary_start > pos_)
            add_body_block(pos_, boundary_start);
        pos_ = boundary_start;
        finish_at_boundary(found, false);
    }

    void skip_boundary_line()
    {
        if (pos_ >= message_.size()) {
            state_ = State::Done;
            return;
        }
        size_t lf = message_.find('\n', pos_);
        if (lf == std::string_view::npos) {
            add_body_block(pos_, message_.size());
            pos_ = message_.size();
            state_ = State::Done;
            return;
        }
        add_body_block(pos_, lf + 1);
        pos_ = lf + 1;
        if (boundaries_.empty() || boundaries_.back().part != part_)
            state_ = boundaries_.empty() ? State::BodyToEnd : State::BodyToBoundary;  // epilogue
        else
            state_ = State::MimePart;
    }

    void parse_content_type_flags(const std::string& value)
    {
        Rfc822Reader reader(value);
        reader.skip_lwsp();
        std::string type;
        int ret = reader.read_content_type(type);
        if (strcasecmp(type.c_str(), "message/rfc822") == 0) {
            part_->flags |= kPartMessageRfc822;
        } else if (strncasecmp(type.c_str(), "text", 4) == 0 && (type.size() == 4 || type[4] == '/')) {
            part_->flags |= kPartText;
        } else if (strncasecmp(type.c_str(), "multipart/", 10) == 0) {
            part_->flags |= kPartMultipart;
            if (strcasecmp(type.c_str() + 10, "digest") == 0)
                part_->flags |= kPartMultipartDigest;
        }
        if (ret < 0 || !part_->has(kPartMultipart) || last_boundary_)
            return;
        for (const auto& [name, param_value] : read_mime_params(reader).list) {
            if (strcasecmp(name.c_str(), "boundary") == 0) {
                last_boundary_ = param_value.substr(0, kBoundaryMaxLength);
                break;
            }
        }
    }

    void parse_headers()
    {
        MessagePart& part = *part_;
        bool seen_content_type = false;
        bool header_ended = false;
        unsigned int prev_newline_size = 0;
        std::vector<std::pair<std::string, std::string>> fields;
        size_t kept_bytes = 0;
        bool parent_rfc822 = part.parent != nullptr && part.parent->has(kPartMessageRfc822);

        for (;;) {
            int boundary = -1;
            if (pos_ < message_.size()) {
                if (at_end_of_header(pos_) && last_boundary_ && part.has(kPartIsMime)) {
                    // Register our boundary before looking for one, so that an identical
                    // prefix of an outer boundary cannot steal our first line.
                    if (!too_many_nested()) {
                        boundaries_.push_back({part_, *last_boundary_});
                        last_boundary_.reset();
                        multipart_pending_ = true;
                    } else {
                        part.flags |= kPartOverflow;
                        part.flags &= ~static_cast<uint32_t>(kPartMultipart);
                    }
                }
                if (!boundaries_.empty()) {
                    boundary = find_boundary_line(pos_);
                    if (boundary >= 0 && boundaries_[boundary].part == part_)
                        boundary = -1;
                }
            }
            if (boundary >= 0) {
                // The newline before an outer boundary belongs to the boundary.
                if (prev_newline_size > 0) {
                    part.header_size.lines--;
                    part.header_size.physical_size -= prev_newline_size;
                    part.header_size.virtual_size -= 2;
                    part.parent->body_size.lines++;
                    part.parent->body_size.physical_size += prev_newline_size;
                    part.parent->body_size.virtual_size += 2;
                }
                break;
            }
            if (header_ended || pos_ >= message_.size())
                break;
            HeaderLine line = read_header_line(message_, pos_);
            add_size(part.header_size, measure(message_, line.start, line.end, '\n'));
            prev_newline_size = line.last_newline_size;
            pos_ = line.end;
            if (line.kind == HeaderLine::Kind::EndOfHeader) {
                header_ended = true;
                continue;
            }
            if (message_.substr(line.start, line.end - line.start).find('\0') != std::string_view::npos)
                part.flags |= kPartHasNuls;
            if (name_is(line.name, "Mime-Version")) {
                part.flags |= kPartIsMime;
            } else if (name_is(line.name, "Content-Type")) {
                part.flags |= kPartIsMime;
                if (!seen_content_type) {
                    seen_content_type = true;
                    parse_content_type_flags(line.full_value);
                }
            }
            bool content_field = name_starts_with(line.name, "Content-", 8);
            if ((content_field || parent_rfc822) &&
                kept_bytes + line.full_value.size() <= limits_.max_kept_header_bytes) {
                kept_bytes += line.full_value.size();
                fields.emplace_back(std::move(line.name), std::move(line.full_value));
            }
        }

        // End of the header.
        uint32_t has_nuls = part.flags & kPartHasNuls;
        if (!part.has(kPartIsMime))
            part.flags = has_nuls;  // not MIME: forget what Content-Type said
        last_boundary_.reset();
        if (!seen_content_type || !part.has(kPartIsMime)) {
            if (part.parent != nullptr && part.parent->has(kPartMultipartDigest))
                part.flags |= kPartMessageRfc822;
            else
                part.flags |= kPartText;
        }

        PartDataBuilder builder(part.data);
        for (const auto& [name, value] : fields) {
            if (name_starts_with(name, "Content-", 8))
                builder.add(name, value);
            if (parent_rfc822) {
                if (!part.data.envelope)
                    part.data.envelope = std::make_unique<Envelope>();
                add_envelope_field(*part.data.envelope, name, value, limits_);
            }
        }
        if (!part.has(kPartIsMime)) {
            std::unique_ptr<Envelope> envelope = std::move(part.data.envelope);
            part.data = PartData();
            part.data.envelope = std::move(envelope);
        }

        last_chr_ = '\n';
        if (multipart_pending_) {
            multipart_pending_ = false;
            state_ = State::BodyToBoundary;
        } else if (!part.has(kPartMessageRfc822)) {
            state_ = boundaries_.empty() ? State::BodyToEnd : State::BodyToBoundary;
        } else if (!too_many_nested() && total_ < limits_.max_total_parts) {
            state_ = State::Rfc822Part;
        } else {
            part.flags |= kPartOverflow;
            part.flags &= ~static_cast<uint32_t>(kPartMessageRfc822);
            state_ = boundaries_.empty() ? State::BodyToEnd : State::BodyToBoundary;
        }
    }

    std::string_view message_;
    MimeLimits limits_;
    std::unique_ptr<MessagePart> root_;
    MessagePart* part_ = nullptr;
    size_t pos_ = 0;
    char last_chr_ = '\n';
    std::vector<Boundary> boundaries_;
    std::optional<std::string> last_boundary_;
    bool multipart_pending_ = false;
    unsigned int nested_ = 0;
    unsigned int total_ = 1;
    State state_ = State::Done;
};

}  // namespace

std::unique_ptr<MessagePart> parse_mime(std::string_view message, const MimeLimits& limits)
{
    return MimeParser(message, limits).run();
}

Envelope parse_envelope(std::string_view message, const MimeLimits& limits)
{
    Envelope envelope;
    size_t pos = 0;
    while (pos < message.size()) {
        HeaderLine line = read_header_line(message, pos);
        if (line.kind != HeaderLine::Kind::Field)
            break;
        add_envelope_field(envelope, line.name, line.full_value, limits);
        pos = line.end;
    }
    return envelope;
}

}  // namespace loft::mail
