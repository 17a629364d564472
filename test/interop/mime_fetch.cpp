// Prints the IMAP FETCH data Loft's message engine produces for one stored message, so
// mime_diff.py can compare it with Dovecot's. Usage: mime_fetch FILE ITEM...
// ITEM is ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE, BODY[section]<offset.size>,
// BINARY[section]<offset.size> or BINARY.SIZE[section].
// Output per item: "<ITEM> <length>\n<bytes>\n", or "<ITEM> ERROR\n" where Dovecot says NO.
#include "mail/binary.h"
#include "mail/imap_structure.h"
#include "mail/message.h"
#include "mail/message_cache.h"
#include "mail/mime_parser.h"
#include "mail/section.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace {

std::string read_file(const char* path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(std::string("cannot open ") + path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Everything goes through a serialized cache record, so the differential test also
// covers what a storage cache would hand back.
std::string fetch_item(const std::string& message, const loft::mail::MessageCacheRecord& record,
                       const std::string& item)
{
    using namespace loft::mail;
    const MessagePart& root = *record.parts;
    if (item == "ENVELOPE")
        return record.envelope;
    if (item == "BODYSTRUCTURE")
        return record.bodystructure;
    if (item == "BODY")
        return record.body;
    if (item == "RFC822.SIZE")
        return std::to_string(record.rfc822_size);
    size_t open = item.find('[');
    std::string kind = item.substr(0, open);
    if (open != std::string::npos && (kind == "BODY" || kind == "BINARY" || kind == "BINARY.SIZE")) {
        size_t close = item.rfind(']');
        if (close == std::string::npos || close < open)
            throw std::runtime_error("bad item " + item);
        auto section = parse_section(std::string_view(item).substr(open + 1, close - open - 1));
        if (!section)
            throw std::runtime_error("bad section " + item);
        Partial partial;
        if (close + 1 < item.size()) {
            unsigned long long offset = 0, size = 0;
            char dot = 0;
            std::istringstream in(item.substr(close + 2));
            in >> offset >> dot >> size;
            partial.offset = offset;
            partial.size = size;
        }
        if (kind == "BINARY")
            return fetch_binary(message, root, *section, partial);
        if (kind == "BINARY.SIZE")
            return std::to_string(fetch_binary_size(message, root, *section));
        return fetch_section(message, root, *section, partial);
    }
    throw std::runtime_error("unknown item " + item);
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: mime_fetch FILE ITEM...\n";
        return 2;
    }
    try {
        std::string message = read_file(argv[1]);
        auto record = loft::mail::deserialize_cache_record(
            loft::mail::serialize_cache_record(loft::mail::build_cache_record(message)));
        for (int i = 2; i < argc; i++) {
            try {
                std::string data = fetch_item(message, record, argv[i]);
                std::cout << argv[i] << ' ' << data.size() << '\n' << data << '\n';
            } catch (const loft::mail::BinaryDecodeError&) {
                std::cout << argv[i] << " ERROR\n";
            }
        }
    } catch (const std::exception& e) {
        std::cerr << "mime_fetch: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
