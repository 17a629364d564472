// Prints the IMAP FETCH data Loft's message engine produces for one stored message, so
// mime_diff.py can compare it with Dovecot's. Usage: mime_fetch FILE ITEM...
// ITEM is ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE or BODY[section]<offset.size>.
// Output per item: "<ITEM> <length>\n<bytes>\n".
#include "mail/imap_structure.h"
#include "mail/message.h"
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

std::string fetch_item(const std::string& message, const loft::mail::MessagePart& root,
                       const std::string& item)
{
    using namespace loft::mail;
    if (item == "ENVELOPE")
        return imap_envelope(message);
    if (item == "BODYSTRUCTURE")
        return imap_bodystructure(root, true);
    if (item == "BODY")
        return imap_bodystructure(root, false);
    if (item == "RFC822.SIZE")
        return std::to_string(crlf_size(message));
    if (item.compare(0, 5, "BODY[") == 0) {
        size_t close = item.rfind(']');
        if (close == std::string::npos)
            throw std::runtime_error("bad item " + item);
        auto section = parse_section(std::string_view(item).substr(5, close - 5));
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
        auto root = loft::mail::parse_mime(message);
        for (int i = 2; i < argc; i++) {
            std::string data = fetch_item(message, *root, argv[i]);
            std::cout << argv[i] << ' ' << data.size() << '\n' << data << '\n';
        }
    } catch (const std::exception& e) {
        std::cerr << "mime_fetch: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
