#include "storage/maildir/mutf7.h"

#include "lib/mutf7.h"
#include "storage/storage_error.h"

namespace loft::storage {

std::string utf8_to_mutf7(std::string_view utf8)
{
    if (auto encoded = loft::utf8_to_mutf7(utf8))
        return *encoded;
    throw StorageError(StorageError::Kind::BadName, "Invalid UTF-8 in mailbox name: " + std::string(utf8));
}

std::string mutf7_to_utf8(std::string_view mutf7)
{
    if (auto decoded = loft::mutf7_to_utf8(mutf7))
        return *decoded;
    throw StorageError(StorageError::Kind::BadName, "Invalid modified UTF-7 mailbox name: " + std::string(mutf7));
}

bool is_valid_mutf7(std::string_view text)
{
    return loft::is_valid_mutf7(text);
}

}  // namespace loft::storage
